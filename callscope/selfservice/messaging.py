"""SMS and WhatsApp answers from the knowledge base (the logic behind ``POST /messaging/incoming``).

One text in, at most one text out. In order:

1. carrier keywords: STOP (and UNSUBSCRIBE, CANCEL, END, QUIT, 退订, TD ...) records an
   opt-out and confirms once; START/UNSTOP opts back in; HELP/INFO says who we are and
   how to stop. When Twilio's Advanced Opt-Out already answered the keyword (the
   webhook carries ``OptOutType``), it is recorded and nothing more is sent. Nothing is
   ever sent to an opted-out number;
2. "agent" / "人工" (the IVR's lexicon) hands the conversation over to an agent queue;
3. a digit answers the last "did you mean" list;
4. an order number answers a pending order-status question (the IVR's actions);
5. anything else is matched by the IVR's :class:`~callscope.ivr.matcher.IntentMatcher`:
   a confident match is answered, a medium one gets "did you mean" with numbered
   options, a miss is stored as an unanswered question and offered the nearest topics.

Replies are in the sender's language (detected per text; a bare digit keeps the
conversation's language). Everything is stored in the conversation store.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.db import utcnow
from callscope.domain import FaqEntry, FaqStatus
from callscope.ivr import phrases
from callscope.ivr.actions import ActionInput, ActionStatus, IvrAction, extract_order_id
from callscope.ivr.matcher import IntentMatcher, MatchLevel
from callscope.language import detect_text_language
from callscope.selfservice import conversations as store
from callscope.selfservice.messages import capitalised, message, numbered, written_answer
from callscope.selfservice.notify import support_phone
from callscope.selfservice.tables import ConversationMessageRow, ConversationRow, MessagingOptOutRow
from callscope.settings import Settings

log = logging.getLogger(__name__)

STOP_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "TD", "退订", "取消订阅"}
)
START_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})
HELP_WORDS = frozenset({"HELP", "INFO", "帮助"})
MAX_MESSAGE_CHARS = 1600
"""Twilio's limit for one outgoing message body (it splits it into segments itself)."""

_CHOICE = re.compile(r"^\s*#?\s*(\d{1,2})\s*[.)]?\s*$")


@dataclass(frozen=True, slots=True)
class InboundText:
    """An incoming SMS/WhatsApp message (Twilio Messaging webhook fields)."""

    sender: str  # From: "+15005550006" or "whatsapp:+15005550006"
    body: str
    to: str = ""
    message_sid: str = ""
    opt_out_type: str = ""  # set by Twilio Advanced Opt-Out when it handled STOP/START/HELP itself

    @classmethod
    def from_form(cls, form: dict[str, str]) -> InboundText:
        return cls(
            sender=(form.get("From") or "").strip()[:128],
            body=form.get("Body") or "",
            to=(form.get("To") or "").strip()[:128],
            message_sid=(form.get("MessageSid") or form.get("SmsSid") or "").strip()[:64],
            opt_out_type=(form.get("OptOutType") or "").strip().upper(),
        )

    @property
    def channel(self) -> str:
        return "whatsapp" if self.sender.lower().startswith("whatsapp:") else "sms"


@dataclass(frozen=True, slots=True)
class Reply:
    """What to text back (``text`` None: nothing) and what happened."""

    text: str | None
    kind: str
    conversation_id: str | None = None
    handover: bool = False  # notify the agent queue


@dataclass(frozen=True, slots=True)
class MessagingOptions:
    company: str = "Brightwave"
    support_phone: str = ""  # shown in HELP and handover texts ("" = not shown)
    default_language: str = "en"
    action_tries: int = 2  # wrong order numbers before handing over


def keyword_of(text: str) -> str | None:
    """ "stop", "start" or "help" when the whole text is that carrier keyword, else None."""
    word = phrases.normalise(text).replace(" ", "").upper()
    if word in STOP_WORDS:
        return "stop"
    if word in START_WORDS:
        return "start"
    if word in HELP_WORDS:
        return "help"
    return None


def _fit(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"


class MessagingService:
    """Answers texts from the knowledge base the IVR uses.

    Args:
        matcher: the IVR's intent matcher (its knowledge base reloads itself).
        actions: the IVR's dynamic actions (order status).
        options: company name, support phone, default language.
    """

    def __init__(
        self, matcher: IntentMatcher, actions: dict[str, IvrAction], options: MessagingOptions | None = None
    ) -> None:
        self.matcher = matcher
        self.actions = actions
        self.options = options or MessagingOptions()

    # ------------------------------------------------------------------ entry

    def handle(self, session: Session, inbound: InboundText) -> Reply:
        """Answer one incoming text, storing it and the reply (the caller commits)."""
        if not inbound.sender:
            return Reply(None, "ignored")
        replayed = self._replayed(session, inbound)
        if replayed is not None:
            return replayed
        text = phrases.clean_utterance(inbound.body)
        keyword = keyword_of(text) or {"STOP": "stop", "START": "start", "HELP": "help"}.get(inbound.opt_out_type)
        opted_out = session.get(MessagingOptOutRow, inbound.sender)
        if keyword is not None or opted_out is not None:
            handled = self._keyword(session, inbound, text, keyword, opted_out)
            if handled is not None:
                return handled

        conv = store.current_conversation(session, inbound.channel, inbound.sender)
        if conv is None:
            conv = store.new_conversation(session, inbound.channel, inbound.sender)
        lang = detect_text_language(text, default=conv.language or self.options.default_language)
        lang = lang if lang in ("en", "zh") else "en"
        conv.language = lang
        sid = inbound.message_sid
        if conv.status == "handover":  # an agent owns the conversation now: pass the text on, say nothing
            store.add_message(session, conv, "in", "to_agent", phrases.mask_card_numbers(text), external_id=sid)
            return Reply(None, "to_agent", conv.id)
        if not text:  # e.g. a photo without a caption
            store.add_message(session, conv, "in", "greeting", "", external_id=sid)
            return self._out(session, conv, "greeting", message(lang, "greeting", company=self.options.company))
        if phrases.is_agent_request(text):
            store.add_message(session, conv, "in", "agent", text, external_id=sid)
            return self._handover(session, conv, "requested")
        choice = _CHOICE.match(text)
        options = list(conv.data.get("options") or [])
        if choice and options:
            return self._choice(session, conv, int(choice.group(1)), options, text, sid)
        if options and phrases.yes_no(text) is False:  # "no" to "did you mean": none of those
            store.add_message(session, conv, "in", "choice", text, external_id=sid)
            conv.data = {k: v for k, v in conv.data.items() if k not in ("options", "asked")}
            return self._out(session, conv, "no_match", message(lang, "no_match_plain"))
        pending = conv.data.get("action")
        if pending and extract_order_id(text) is not None:
            return self._action_input(session, conv, pending, text, sid)
        if phrases.is_closing(text, thanks=True, negative=True):
            store.add_message(session, conv, "in", "closing", text, external_id=sid)
            conv.status = "closed" if not conv.handover else conv.status
            conv.data = {k: v for k, v in conv.data.items() if k not in ("options", "action")}
            return self._out(session, conv, "closing", message(lang, "closing"))
        if choice or not phrases.has_content(text):
            store.add_message(session, conv, "in", "greeting", text, external_id=sid)
            return self._out(session, conv, "greeting", message(lang, "greeting", company=self.options.company))
        return self._question(session, conv, text, sid)

    # ---------------------------------------------------------------- helpers

    def _replayed(self, session: Session, inbound: InboundText) -> Reply | None:
        """Twilio retried a message we already answered: send the same reply, store nothing."""
        if not inbound.message_sid:
            return None
        first = session.scalars(
            select(ConversationMessageRow)
            .where(ConversationMessageRow.external_id == inbound.message_sid, ConversationMessageRow.direction == "in")
            .limit(1)
        ).first()
        if first is None:
            return None
        out = session.scalars(
            select(ConversationMessageRow)
            .where(
                ConversationMessageRow.conversation_id == first.conversation_id,
                ConversationMessageRow.direction == "out",
                ConversationMessageRow.id > first.id,
            )
            .order_by(ConversationMessageRow.id)
            .limit(1)
        ).first()
        return Reply(out.text if out is not None else None, "replayed", first.conversation_id)

    def _keyword(
        self, session: Session, inbound: InboundText, text: str, keyword: str | None, opted_out: Any
    ) -> Reply | None:
        lang = "zh" if any(w in text for w in ("退订", "帮助", "取消订阅")) or text.upper() == "TD" else "en"
        if lang == "en":
            last = store.current_conversation(session, inbound.channel, inbound.sender)
            lang = last.language if last is not None and last.language in ("en", "zh") else lang
        company = self.options.company
        twilio_answered = bool(inbound.opt_out_type)  # Advanced Opt-Out already sent the carrier text
        if keyword == "stop":
            if opted_out is None:
                session.add(MessagingOptOutRow(contact=inbound.sender, channel=inbound.channel, at=utcnow()))
            conv = store.current_conversation(session, inbound.channel, inbound.sender)
            if conv is not None:
                conv.status = "closed"
            return Reply(None if twilio_answered else message(lang, "stop", company=company), "stop")
        if keyword == "start" or (opted_out is not None and text.strip().upper() == "YES"):
            if opted_out is not None:
                session.delete(opted_out)
            return Reply(None if twilio_answered else message(lang, "start", company=company), "start")
        if opted_out is not None:
            return Reply(None, "opted_out")  # never text an opted-out number
        if keyword == "help":
            phone = self.options.support_phone
            call = message(lang, "help_call", phone=phone) if phone else ""
            return Reply(None if twilio_answered else message(lang, "help", company=company, call=call), "help")
        return None

    def _out(self, session: Session, conv: ConversationRow, kind: str, text: str, entry_id: str | None = None) -> Reply:
        text = _fit(text)
        store.add_message(session, conv, "out", kind, text, entry_id=entry_id)
        return Reply(text, kind, conv.id, handover=kind == "handover")

    def _labels(self, entries: list[FaqEntry], lang: str) -> list[str]:
        kb = self.matcher.knowledge_base()
        return [capitalised(kb.label(e, lang)) for e in entries]

    # ---------------------------------------------------------------- turns

    def _question(self, session: Session, conv: ConversationRow, text: str, sid: str) -> Reply:
        lang = conv.language or "en"
        result = self.matcher.match(text, lang, )
        best = result.best
        masked = phrases.mask_card_numbers(text)
        conv.data = {k: v for k, v in conv.data.items() if k not in ("options", "action")}
        if best is not None and result.level == MatchLevel.HIGH:
            store.add_message(session, conv, "in", "question", masked, entry_id=best.entry.id, score=best.score,
                              external_id=sid)
            return self._deliver(session, conv, best.entry, text)
        candidates = [c.entry for c in result.candidates]
        if best is not None and result.level == MatchLevel.MEDIUM:
            store.add_message(session, conv, "in", "unclear", masked, entry_id=best.entry.id, score=best.score,
                              external_id=sid)
            conv.data = {**conv.data, "options": [e.id for e in candidates], "asked": masked}
            if not conv.answered:
                conv.status = "unanswered"  # until the customer picks an option
            reply = message(lang, "did_you_mean", options=numbered(self._labels(candidates, lang)))
            return self._out(session, conv, "did_you_mean", reply)
        store.add_message(session, conv, "in", "unanswered", masked, entry_id=best.entry.id if best else None,
                          score=best.score if best else None, external_id=sid)
        if not conv.answered:
            conv.status = "unanswered"
        offer = candidates or self.matcher.knowledge_base().menu(3)
        if not offer:
            return self._out(session, conv, "no_match", message(lang, "no_match_plain"))
        conv.data = {**conv.data, "options": [e.id for e in offer], "asked": masked}
        return self._out(session, conv, "no_match", message(lang, "no_match", options=numbered(self._labels(offer, lang))))

    def _choice(
        self, session: Session, conv: ConversationRow, number: int, options: list[str], text: str, sid: str
    ) -> Reply:
        lang = conv.language or "en"
        kb = self.matcher.knowledge_base()
        entry = kb.get(options[number - 1]) if 1 <= number <= len(options) else None
        if entry is None or entry.status != FaqStatus.PUBLISHED:
            store.add_message(session, conv, "in", "choice", text, external_id=sid)
            return self._out(session, conv, "bad_choice", message(lang, "bad_choice", n=str(len(options))))
        store.add_message(session, conv, "in", "choice", text, entry_id=entry.id, external_id=sid)
        conv.data = {k: v for k, v in conv.data.items() if k not in ("options", "asked")}
        return self._deliver(session, conv, entry, "")

    def _deliver(self, session: Session, conv: ConversationRow, entry: FaqEntry, text: str) -> Reply:
        lang = conv.language or "en"
        answer, _ = written_answer(self.matcher.knowledge_base(), entry, lang)
        conv.intent = entry.id
        if entry.action:
            action = self.actions.get(entry.action)
            if action is None:
                log.error("knowledge-base entry %s names unknown action %r; sending its answer", entry.id, entry.action)
            else:
                if text:
                    result = action.run(ActionInput(text=text, language=lang, caller=conv.contact))
                    if result.status == ActionStatus.ANSWERED:
                        return self._answered(session, conv, entry, result.message)
                conv.data = {**conv.data, "action": {"name": entry.action, "entry": entry.id, "tries": 0}}
                ask = message(lang, "order_ask") if entry.action == "order_status" else action.prompt(lang)
                return self._out(session, conv, "action", ask, entry.id)
        if not entry.self_service:
            self._mark_handover(conv, "needs_agent")
            return self._out(session, conv, "handover", answer + "\n\n" + message(lang, "needs_agent"), entry.id)
        return self._answered(session, conv, entry, answer)

    def _answered(self, session: Session, conv: ConversationRow, entry: FaqEntry, text: str) -> Reply:
        conv.answered = True
        conv.status = "answered"
        conv.intent = entry.id
        conv.data = {k: v for k, v in conv.data.items() if k not in ("options", "action", "asked")}
        return self._out(session, conv, "answer", text, entry.id)

    def _action_input(
        self, session: Session, conv: ConversationRow, pending: dict[str, Any], text: str, sid: str
    ) -> Reply:
        lang = conv.language or "en"
        kb = self.matcher.knowledge_base()
        entry = kb.get(str(pending.get("entry", "")))
        action = self.actions.get(str(pending.get("name", "")))
        store.add_message(session, conv, "in", "action_input", phrases.mask_card_numbers(text),
                          entry_id=entry.id if entry else None, external_id=sid)
        if entry is None or action is None:
            conv.data = {k: v for k, v in conv.data.items() if k != "action"}
            return self._handover(session, conv, "action_failed")
        result = action.run(ActionInput(text=text, language=lang, caller=conv.contact))
        if result.status == ActionStatus.ANSWERED:
            return self._answered(session, conv, entry, result.message)
        tries = int(pending.get("tries", 0)) + 1
        if result.status == ActionStatus.TRANSFER or tries >= self.options.action_tries:
            conv.data = {k: v for k, v in conv.data.items() if k != "action"}
            return self._handover(session, conv, "action_failed")
        conv.data = {**conv.data, "action": {**pending, "tries": tries}}
        order_id = str(result.data.get("order_id") or extract_order_id(text) or "")
        reply = message(lang, "order_not_found", id=order_id) if order_id else message(lang, "order_ask")
        return self._out(session, conv, "action", reply, entry.id)

    def _mark_handover(self, conv: ConversationRow, reason: str) -> None:
        conv.handover = True
        conv.status = "handover"
        conv.data = {
            **{k: v for k, v in conv.data.items() if k not in ("options", "action")},
            "handover": {"reason": reason, "at": utcnow().isoformat(timespec="seconds")},
        }

    def _handover(self, session: Session, conv: ConversationRow, reason: str) -> Reply:
        lang = conv.language or "en"
        self._mark_handover(conv, reason)
        phone = self.options.support_phone
        text = message(lang, "handover") + (message(lang, "handover_call", phone=phone) if phone else "")
        return self._out(session, conv, "handover", text)


def messaging_options(settings: Settings) -> MessagingOptions:
    """The messaging knobs from :class:`~callscope.settings.Settings`."""
    languages = [lang for lang in settings.languages if lang in ("en", "zh")]
    return MessagingOptions(
        company=settings.company_name,
        support_phone=support_phone(settings),
        default_language=languages[0] if languages else "en",
    )
