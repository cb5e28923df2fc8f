"""The call flow: from the greeting to an answer, a transfer or a survey.

:class:`IvrFlow` is independent of HTTP: each webhook hands it the call row (state
persisted per CallSid) and the Twilio form fields, and gets back the TwiML to send.
Every step is appended to ``Turn.events`` (stored as call events by the routes).

Steps (the ``step`` query parameter of each Gather action URL):

``greeting``  language choice (1 / 2, or detected from speech), opt-out (9), or a question
``ask``       the caller's question            ``confirm``  "Did you mean ...?"
``menu``      reprompt with numbered options   ``more``     "Anything else?"
``action``    input for a dynamic answer (order number)
``survey_csat`` / ``survey_nps``  the optional post-call survey
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from twilio.twiml.voice_response import VoiceResponse

from callscope.db import utcnow
from callscope.domain import FaqEntry, FaqStatus
from callscope.ivr import phrases, twiml
from callscope.ivr.actions import ActionInput, ActionStatus, IvrAction
from callscope.ivr.context import build_context, context_token
from callscope.ivr.frustration import FrustrationDetector
from callscope.ivr.kb import KnowledgeBase
from callscope.ivr.matcher import Candidate, IntentMatcher, MatchLevel, MatchResult
from callscope.ivr.prompts import prompt, spoken_list
from callscope.ivr.tables import IvrCallRow
from callscope.language import detect_text_language, has_cjk

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh")
MAX_UTTERANCES = 30
_HINTS: dict[tuple[int, int, str], str] = {}  # Gather hints per knowledge-base version and language


@dataclass(frozen=True, slots=True)
class IvrOptions:
    """How the IVR behaves (built from Settings by :func:`options_from_settings`)."""

    company: str = "Brightwave"
    agent_dial: str = "+15550100"
    default_language: str = "en"
    max_reprompts: int = 2  # then transfer
    menu_size: int = 5
    record_calls: bool = True
    record_from: str = "transfer"  # "transfer": the agent conversation; "start": the whole call
    survey: bool = True
    dial_timeout_s: int = 30
    gather_timeout_s: int = 5
    min_asr_confidence: float = 0.4  # below this, a confident KB match is confirmed first
    priority_queue_suffix: str = "-priority"
    public_base_url: str | None = None
    context_secret: str = ""  # signs /ivr/context links; default: the Twilio auth token
    voices: twiml.VoiceOptions = field(default_factory=twiml.VoiceOptions)


@dataclass
class Turn:
    """One webhook request being handled."""

    call: IvrCallRow
    form: dict[str, str]
    base_url: str  # scheme://host Twilio used (for absolute links given to agents)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def event(self, kind: str, /, **data: Any) -> None:
        self.events.append((kind, data))

    @property
    def data(self) -> dict[str, Any]:
        if self.call.data is None:
            self.call.data = {}
        return self.call.data


class IvrFlow:
    """Decides what the caller hears next."""

    def __init__(
        self,
        matcher: IntentMatcher,
        actions: dict[str, IvrAction],
        frustration: FrustrationDetector,
        options: IvrOptions,
    ) -> None:
        self.matcher = matcher
        self.actions = actions
        self.frustration = frustration
        self.options = options

    # ----------------------------------------------------------------- URLs

    def _url(self, turn: Turn, path: str, **params: Any) -> str:
        """An absolute URL on the base Twilio used for this request (the one its signature
        was checked against), so the next request is signed for the same URL."""
        base = (self.options.public_base_url or turn.base_url or "").rstrip("/")
        return base + twiml.with_query(path, **params)

    _abs_url = _url

    def _action(self, turn: Turn, step: str) -> str:
        call = turn.call
        return self._url(
            turn, "/ivr/gather", step=step, lang=call.language or self.options.default_language, t=call.turn
        )

    # -------------------------------------------------------------- prompts

    def _lang(self, turn: Turn) -> str:
        return turn.call.language or self.options.default_language

    def _say(self, target: Any, turn: Turn, text: str, language: str | None = None) -> None:
        twiml.say(target, text, language or self._lang(turn), self.options.voices)

    def _p(self, turn: Turn, name: str, /, **values: str) -> str:
        return prompt(self._lang(turn), name, company=self.options.company, **values)

    def _hints(self, kb: KnowledgeBase, language: str) -> str:
        key = (id(kb), len(kb.entries), language)
        cached = _HINTS.get(key)
        if cached is not None:
            return cached
        hints: list[str] = []
        for entry in kb.entries:
            if entry.status != FaqStatus.PUBLISHED:
                continue
            hints.append(kb.label(entry, language))
            hints.extend(entry.tags)
            hints.extend(q for q in entry.questions.get(language, ()) if len(q) <= 100)
        hints.extend(["agent", "representative"] if language == "en" else ["人工", "人工服务"])
        seen: dict[str, None] = {}
        for h in hints:
            h = h.replace(",", " ").strip()
            if h and len(h) <= 100:
                seen.setdefault(h, None)
        value = ",".join(list(seen)[:500])
        if len(_HINTS) > 64:
            _HINTS.clear()
        _HINTS[key] = value
        return value

    def _gather(
        self,
        resp: VoiceResponse,
        turn: Turn,
        step: str,
        texts: list[str],
        *,
        num_digits: int | None = 1,
        finish_on_key: str | None = None,
    ) -> None:
        """Say ``texts`` inside a Gather for ``step``; silence redirects back as no-input."""
        lang = self._lang(turn)
        turn.call.step = step
        g = twiml.gather(
            resp,
            self._action(turn, step),
            lang,
            self.options.voices,
            hints=self._hints(self.matcher.knowledge_base(), lang),
            num_digits=num_digits,
            finish_on_key=finish_on_key,
            timeout_s=self.options.gather_timeout_s,
        )
        for text in texts:
            self._say(g, turn, text)
        turn.data["last_prompt"] = [t for t in texts if t]
        resp.redirect(self._url(turn, "/ivr/gather", step=step, lang=lang, t=turn.call.turn, noinput=1), method="POST")

    # ---------------------------------------------------------------- entry

    def incoming(self, turn: Turn, remembered_language: str | None) -> VoiceResponse:
        """The greeting for a new call: language choice, recording notice, first question."""
        call = turn.call
        call.language = remembered_language if remembered_language in LANGUAGES else self.options.default_language
        turn.event("call_started", language=call.language, remembered=remembered_language is not None)
        resp = VoiceResponse()
        if self._recording_on(call) and self.options.record_from == "start":
            twiml.start_recording(resp, self._url(turn, "/ivr/recording-status"))
            turn.event("recording_started")
        self._greeting(resp, turn, notice=True)
        return resp

    def _greeting(self, resp: VoiceResponse, turn: Turn, *, notice: bool) -> None:
        first = self._lang(turn)
        other = "zh" if first == "en" else "en"
        texts = [self._p(turn, "welcome")] if notice else []
        if notice and self.options.record_calls:
            texts.append(self._p(turn, "recording_notice"))
        lang = turn.call.language
        turn.call.step = "greeting"
        g = twiml.gather(
            resp,
            self._action(turn, "greeting"),
            first,
            self.options.voices,
            hints=self._hints(self.matcher.knowledge_base(), first) + ",English,Mandarin,普通话,中文",
            num_digits=1,
            timeout_s=self.options.gather_timeout_s,
        )
        for text in texts:
            self._say(g, turn, text)
        for code in (first, other) if first == "en" else (other, first):
            self._say(g, turn, prompt(code, "language_choice"), code)
        self._say(g, turn, prompt(first, "how_help"), first)
        turn.data["last_prompt"] = [prompt(first, "how_help")]
        resp.redirect(
            self._url(turn, "/ivr/gather", step="greeting", lang=lang, t=turn.call.turn, noinput=1), method="POST"
        )

    def handle(self, turn: Turn, step: str, *, noinput: bool) -> VoiceResponse:
        """A Gather result (or a no-input redirect) for ``step``."""
        call = turn.call
        text = phrases.clean_utterance(turn.form.get("SpeechResult"))
        digits = "".join(ch for ch in (turn.form.get("Digits") or "") if ch in "0123456789*#")[:32]
        if noinput or (not text and not digits):
            return self._no_input(turn, step)
        if text:
            self._remember(turn, step, text)
        turn.event(
            "input",
            step=step,
            text=phrases.mask_card_numbers(text),
            digits=phrases.mask_card_numbers(digits),
            confidence=_asr_confidence(turn.form),
        )

        if step.startswith("survey"):
            return self._survey(turn, step, text, digits)

        if step == "greeting" and text:
            asked = phrases.language_request(text)
            detected = asked or detect_text_language(text, default=self._lang(turn))
            self._set_language(turn, detected, "speech")
            short = len(text) <= 8 if has_cjk(text) else len(text.split()) <= 4
            if asked and short:  # just "English" / "普通话": ask the question in that language
                resp = VoiceResponse()
                self._gather(resp, turn, "ask", [self._p(turn, "how_help")])
                return resp

        if text:
            assessment = self.frustration.assess(text, self._lang(turn), call.failures)
            if assessment.frustrated:
                call.frustrated = True
                turn.data["frustration_reasons"] = list(assessment.reasons)
                turn.event(
                    "frustration",
                    score=assessment.score,
                    reasons=list(assessment.reasons),
                    sentiment=assessment.sentiment,
                )
                return self._transfer(turn, "frustrated", priority=True)
        if digits == "0" or (text and phrases.is_agent_request(text)):
            turn.event("agent_requested", via="keypad" if digits == "0" else "speech")
            return self._transfer(turn, "caller_request")

        if text and step != "more" and phrases.is_closing(text, thanks=step not in ("greeting", "confirm")):
            return self._closing(turn, step)

        if step == "greeting":
            return self._greeting_input(turn, text, digits)
        if step == "confirm":
            return self._confirm(turn, text, digits)
        if step == "more":
            return self._more(turn, text, digits)
        if step == "menu":
            return self._menu_input(turn, text, digits)
        if step == "action":
            return self._action_input(turn, text, digits)
        return self._question_or_keys(turn, text, digits)

    # --------------------------------------------------------------- steps

    def _remember(self, turn: Turn, step: str, text: str) -> None:
        utterances = list(turn.data.get("utterances", []))
        utterances.append(
            {
                "text": phrases.mask_card_numbers(text),
                "lang": self._lang(turn),
                "step": step,
                "at": utcnow().isoformat(timespec="seconds"),
            }
        )
        turn.data["utterances"] = utterances[-MAX_UTTERANCES:]

    def _set_language(self, turn: Turn, language: str, via: str) -> None:
        if language not in LANGUAGES:
            language = self._lang(turn)
        if language != turn.call.language or not turn.data.get("language_chosen"):
            turn.call.language = language
            turn.data["language_chosen"] = True
            turn.event("language", language=language, via=via)

    def _greeting_input(self, turn: Turn, text: str, digits: str) -> VoiceResponse:
        if digits:
            key = digits[:1]
            if key in ("1", "2"):
                self._set_language(turn, "en" if key == "1" else "zh", "keypad")
                resp = VoiceResponse()
                self._gather(resp, turn, "ask", [self._p(turn, "how_help")])
                return resp
            if key == "9":
                return self._opt_out(turn)
            return self._failure(turn, "not_understood", None)
        return self._question(turn, text)

    def _opt_out(self, turn: Turn) -> VoiceResponse:
        call = turn.call
        resp = VoiceResponse()
        if not call.record_opt_out:
            call.record_opt_out = True
            turn.event("recording_opt_out")
            if self.options.record_calls and self.options.record_from == "start":
                twiml.stop_recording(resp)
        self._say(resp, turn, self._p(turn, "opted_out"))
        self._greeting(resp, turn, notice=False)
        return resp

    def _question_or_keys(self, turn: Turn, text: str, digits: str) -> VoiceResponse:
        if text:
            return self._question(turn, text)
        if digits[:1] == "9" and not turn.call.record_opt_out:
            return self._opt_out(turn)
        options = turn.data.get("options") or {}
        if digits[:1] in options:
            return self._menu_input(turn, "", digits)
        return self._failure(turn, "not_understood", None)

    def _question(self, turn: Turn, text: str) -> VoiceResponse:
        call = turn.call
        lang = self._lang(turn)
        if has_cjk(text) and lang != "zh":
            self._set_language(turn, "zh", "speech")
        elif not has_cjk(text) and lang == "zh" and len(text.split()) >= 3:
            self._set_language(turn, "en", "speech")
        if phrases.is_repeat_request(text):
            resp = VoiceResponse()
            self._gather(
                resp,
                turn,
                call.step if call.step in ("ask", "more", "menu") else "ask",
                list(turn.data.get("last_prompt") or [self._p(turn, "how_help")]),
            )
            return resp
        if not phrases.has_content(text):  # "hello?", "um", "yes": not a question, so not an unanswered one
            return self._failure(turn, "not_understood", None)
        result = self.matcher.match(text, self._lang(turn), exclude=turn.data.get("rejected", ()))
        best = result.best
        turn.event(
            "match",
            text=phrases.mask_card_numbers(text),
            language=self._lang(turn),
            level=result.level.value,
            intent=best.entry.id if best else None,
            score=best.score if best else 0.0,
            candidates=[[c.entry.id, c.score] for c in result.candidates],
        )
        level = result.level
        asr = _asr_confidence(turn.form)
        unsure_asr = asr is not None and asr < self.options.min_asr_confidence
        if level == MatchLevel.HIGH and unsure_asr:
            level = MatchLevel.MEDIUM  # the recogniser was unsure what it heard: confirm first
        if level == MatchLevel.NONE and unsure_asr:
            level = MatchLevel.LOW  # maybe misheard, not out of scope: ask again
        if level == MatchLevel.NONE:
            # nothing in the knowledge base answers it: say so and connect, rather than guess
            self._no_match(turn, text, best)
            turn.event("out_of_scope", text=phrases.mask_card_numbers(text))
            return self._transfer(turn, "out_of_scope")
        if best is not None and level == MatchLevel.HIGH:
            return self._deliver(turn, best.entry, text=text)
        if best is not None and level == MatchLevel.MEDIUM:
            kb = self.matcher.knowledge_base()
            turn.data["pending"] = best.entry.id
            turn.data["pending_text"] = text
            resp = VoiceResponse()
            self._gather(
                resp, turn, "confirm", [self._p(turn, "did_you_mean", label=kb.label(best.entry, self._lang(turn)))]
            )
            return resp
        self._no_match(turn, text, best)
        return self._failure(turn, "no_match", result)

    def _no_match(self, turn: Turn, text: str, best: Candidate | None) -> None:
        """The event of a question the knowledge base did not answer (its text, card numbers masked)."""
        turn.event(
            "no_match",
            text=phrases.mask_card_numbers(text),
            language=self._lang(turn),
            best=best.entry.id if best else None,
            score=best.score if best else 0.0,
        )

    def _deliver(self, turn: Turn, entry: FaqEntry, *, text: str = "") -> VoiceResponse:
        call = turn.call
        kb = self.matcher.knowledge_base()
        lang = self._lang(turn)
        call.intent = entry.id
        turn.data["intent_label"] = kb.label(entry, "en")
        turn.data.pop("pending", None)
        answer, answer_lang = _answer(entry, lang)
        if entry.action:
            action = self.actions.get(entry.action)
            if action is None:
                log.error(
                    "knowledge-base entry %s names unknown action %r; reading its answer instead",
                    entry.id,
                    entry.action,
                )
            else:
                turn.data["action"] = {"name": entry.action, "entry": entry.id, "tries": 0}
                if text:
                    result = action.run(ActionInput(text=text, language=lang, caller=call.from_number))
                    if result.status == ActionStatus.ANSWERED:
                        return self._action_answered(turn, entry, result.message, result.data)
                resp = VoiceResponse()
                ask = answer if answer_lang == lang else action.prompt(lang)
                self._gather(resp, turn, "action", [ask], num_digits=action.input_digits, finish_on_key="#")
                return resp
        if not entry.self_service:
            turn.event("answered", intent=entry.id, self_service=False)
            resp = VoiceResponse()
            self._say(resp, turn, answer, answer_lang)
            return self._transfer(turn, "needs_agent", response=resp, announce=False)
        self._mark_answered(turn, entry.id)
        resp = VoiceResponse()
        self._say(resp, turn, answer, answer_lang)
        self._gather(resp, turn, "more", [self._p(turn, "anything_else")])
        return resp

    def _mark_answered(self, turn: Turn, entry_id: str, **extra: Any) -> None:
        answered = list(turn.data.get("answered", []))
        answered.append(entry_id)
        turn.data["answered"] = answered
        turn.data["rejected"] = []
        turn.event("answered", intent=entry_id, self_service=True, **extra)

    def _action_answered(self, turn: Turn, entry: FaqEntry, message: str, data: dict[str, Any]) -> VoiceResponse:
        details = dict(turn.data.get("details", {}))
        details.update({k: v for k, v in data.items() if isinstance(v, (str, int, float))})
        turn.data["details"] = details
        turn.data.pop("action", None)
        self._mark_answered(
            turn, entry.id, action=entry.action, **{k: v for k, v in data.items() if k == "order_status"}
        )
        resp = VoiceResponse()
        self._say(resp, turn, message)
        self._gather(resp, turn, "more", [self._p(turn, "anything_else")])
        return resp

    def _action_input(self, turn: Turn, text: str, digits: str) -> VoiceResponse:
        state = dict(turn.data.get("action") or {})
        kb = self.matcher.knowledge_base()
        entry = kb.get(state.get("entry", "")) if state else None
        action = self.actions.get(state.get("name", "")) if state else None
        if entry is None or action is None:
            return self._question_or_keys(turn, text, digits)
        result = action.run(
            ActionInput(text=text, digits=digits, language=self._lang(turn), caller=turn.call.from_number)
        )
        turn.event(
            "action",
            name=action.name,
            status=result.status.value,
            **{k: v for k, v in result.data.items() if isinstance(v, str)},
        )
        if result.status == ActionStatus.ANSWERED:
            return self._action_answered(turn, entry, result.message, result.data)
        sentence = len(text) >= 6 if has_cjk(text) else len(text.split()) >= 3
        if result.status == ActionStatus.NEED_INPUT and text and sentence:
            # not a number: maybe a different question ("actually, when do you open?")
            match = self.matcher.match(text, self._lang(turn))
            if match.best is not None and match.level == MatchLevel.HIGH and match.best.entry.id != entry.id:
                turn.data.pop("action", None)
                return self._deliver(turn, match.best.entry, text=text)
        if result.status == ActionStatus.TRANSFER:
            return self._transfer(turn, "action_failed")
        state["tries"] = int(state.get("tries", 0)) + 1
        turn.data["action"] = state
        turn.call.failures += 1
        if state["tries"] >= 2 or turn.call.failures > self.options.max_reprompts:
            resp = VoiceResponse()
            self._say(resp, turn, self._p(turn, "action_failed"))
            return self._transfer(turn, "action_failed", response=resp)
        resp = VoiceResponse()
        self._gather(
            resp,
            turn,
            "action",
            [result.message or action.prompt(self._lang(turn))],
            num_digits=action.input_digits,
            finish_on_key="#",
        )
        return resp

    def _confirm(self, turn: Turn, text: str, digits: str) -> VoiceResponse:
        kb = self.matcher.knowledge_base()
        pending = kb.get(turn.data.get("pending") or "")
        answer = phrases.yes_no(text, digits)
        if pending is not None and answer is True:
            turn.event("confirmed", intent=pending.id)
            return self._deliver(turn, pending, text=turn.data.get("pending_text", ""))
        if answer is False or pending is None:
            if pending is not None:
                rejected = list(turn.data.get("rejected", []))
                rejected.append(pending.id)
                turn.data["rejected"] = rejected
                turn.event("rejected", intent=pending.id)
                turn.event(
                    "no_match",
                    text=turn.data.get("pending_text", ""),
                    language=self._lang(turn),
                    best=pending.id,
                    score=None,
                )
            turn.data.pop("pending", None)
            result = None
            if turn.data.get("pending_text"):
                result = self.matcher.match(
                    turn.data["pending_text"], self._lang(turn), exclude=turn.data.get("rejected", ())
                )
            return self._failure(turn, "rejected", result)
        if text:
            return self._question(turn, text)
        return self._failure(turn, "not_understood", None)

    def _closing(self, turn: Turn, step: str) -> VoiceResponse:
        """The caller ended the conversation ("that's all", "bye", "没有了") at a question step:
        say goodbye (after the survey), without counting it as a failure or an unanswered question."""
        turn.event("closing", step=step)
        pending_text = turn.data.get("pending_text") if step == "confirm" and turn.data.get("pending") else None
        if pending_text:  # they left without an answer to the question being confirmed
            turn.event("no_match", text=pending_text, language=self._lang(turn), best=turn.data["pending"], score=None)
        turn.data.pop("pending", None)
        turn.data.pop("action", None)
        return self._finish(turn)

    def _more(self, turn: Turn, text: str, digits: str) -> VoiceResponse:
        if phrases.is_done(text, digits):
            turn.event("closing", step="more")
            return self._finish(turn)
        if digits[:1] == "1" or (text and phrases.yes_no(text) is True and len(text.split()) <= 3):
            resp = VoiceResponse()
            self._gather(resp, turn, "ask", [self._p(turn, "how_help")])
            return resp
        return self._question_or_keys(turn, text, digits)

    def _menu_input(self, turn: Turn, text: str, digits: str) -> VoiceResponse:
        if text:
            return self._question(turn, text)
        options: dict[str, str] = turn.data.get("options") or {}
        entry_id = options.get(digits[:1])
        kb = self.matcher.knowledge_base()
        entry = kb.get(entry_id) if entry_id else None
        if entry is None:
            return self._failure(turn, "not_understood", None)
        turn.event("menu_choice", intent=entry.id, key=digits[:1])
        return self._deliver(turn, entry)

    # -------------------------------------------------------- failures, end

    def _no_input(self, turn: Turn, step: str) -> VoiceResponse:
        call = turn.call
        turn.event("no_input", step=step)
        if step.startswith("survey"):
            return self._goodbye(turn, survey_done=True)
        if step == "more":
            misses = int(turn.data.get("more_silence", 0)) + 1
            turn.data["more_silence"] = misses
            if misses >= 2:
                return self._finish(turn)
            resp = VoiceResponse()
            self._gather(resp, turn, "more", [self._p(turn, "anything_else")])
            return resp
        if step == "action":
            state = turn.data.get("action") or {}
            action = self.actions.get(state.get("name", ""))
            call.failures += 1
            if action is None or call.failures > self.options.max_reprompts:
                return self._transfer(turn, "no_input")
            resp = VoiceResponse()
            self._gather(
                resp,
                turn,
                "action",
                [self._p(turn, "no_input"), action.prompt(self._lang(turn))],
                num_digits=action.input_digits,
                finish_on_key="#",
            )
            return resp
        return self._failure(turn, "no_input", None)

    def _failure(self, turn: Turn, kind: str, result: MatchResult | None) -> VoiceResponse:
        """Count a failed turn and offer the next stage, never the same one twice:

        1. the closest topics (after a "no" to "Did you mean ...?": the next two candidates,
           "Was it A or B?"; after an unclear question: the top three);
        2. the keypad menu of the most asked topics;
        3. a transfer to an agent.
        """
        call = turn.call
        call.failures += 1
        turn.event("failure", kind=kind, failures=call.failures)
        if call.failures > self.options.max_reprompts:
            return self._transfer(turn, "no_input" if kind == "no_input" else "no_match")
        kb = self.matcher.knowledge_base()
        lang = self._lang(turn)
        rejected = set(turn.data.get("rejected", ()))
        offered: list[list[str]] = [list(o) for o in turn.data.get("offered", [])]
        texts: list[str] = []
        entries: list[FaqEntry] = []
        stage = "menu"
        if call.failures == 1 and result is not None:
            size = 2 if kind == "rejected" else 3
            entries = [c.entry for c in result.candidates if c.entry.id not in rejected][:size]
            if entries and [e.id for e in entries] not in offered:
                stage = "options"
        if stage == "options":
            labels = [kb.label(e, lang) for e in entries]
            if kind == "rejected":
                texts.append(self._p(turn, "alternatives", options=spoken_list(labels, lang)))
            else:
                texts.append(self._p(turn, "no_input" if kind == "no_input" else "not_understood"))
                texts.append(self._p(turn, "options_intro", options=spoken_list(labels, lang)))
            texts += [self._p(turn, "option_key", label=label, key=str(i + 1)) for i, label in enumerate(labels)]
            texts += [self._p(turn, "rephrase_short"), self._p(turn, "agent_key")]
        else:
            entries = [e for e in kb.menu(self.options.menu_size + len(rejected)) if e.id not in rejected]
            entries = entries[: self.options.menu_size]
            keypad = [e.id for e in entries] if entries else ["(rephrase)"]
            if keypad in offered or turn.data.get("keypad_offered"):
                return self._transfer(turn, "no_input" if kind == "no_input" else "no_match")
            turn.data["keypad_offered"] = True  # the last stage before an agent
            lead = "no_input" if kind == "no_input" else "not_understood"
            texts = [self._p(turn, lead) if kind != "rejected" else ""]
            if entries:
                texts.append(self._p(turn, "menu_intro"))
                texts += [
                    self._p(turn, "option_key", label=kb.label(e, lang), key=str(i + 1)) for i, e in enumerate(entries)
                ]
            else:  # an empty knowledge base: nothing to offer but another try
                texts.append(self._p(turn, "rephrase"))
            texts += [self._p(turn, "agent_key")]
        turn.data["options"] = {str(i + 1): e.id for i, e in enumerate(entries)}
        turn.data["offered"] = [*offered, [e.id for e in entries] or ["(rephrase)"]]
        turn.event("reprompt", options=list(turn.data["options"].values()), failures=call.failures, stage=stage)
        resp = VoiceResponse()
        self._gather(resp, turn, "menu", [t for t in texts if t])
        return resp

    def _finish(self, turn: Turn) -> VoiceResponse:
        if self.options.survey and turn.call.csat is None and not turn.data.get("survey_offered"):
            turn.data["survey_offered"] = True
            turn.event("survey_offered")
            resp = VoiceResponse()
            self._gather(resp, turn, "survey_csat", [self._p(turn, "survey_csat")])
            return resp
        return self._goodbye(turn)

    def _goodbye(self, turn: Turn, *, survey_done: bool = False) -> VoiceResponse:
        call = turn.call
        if not call.transferred:
            call.outcome = call.outcome or ("contained" if turn.data.get("answered") else "ended")
        call.step = "ended"
        turn.event("goodbye", outcome=call.outcome)
        resp = VoiceResponse()
        self._say(resp, turn, self._p(turn, "survey_thanks" if survey_done and call.csat is not None else "goodbye"))
        resp.hangup()
        return resp

    def _survey(self, turn: Turn, step: str, text: str, digits: str) -> VoiceResponse:
        call = turn.call
        if step == "survey_csat":
            value = phrases.parse_rating(text, digits, 1, 5)
            call.csat = value
            turn.event("survey", csat=value)
            resp = VoiceResponse()
            self._gather(resp, turn, "survey_nps", [self._p(turn, "survey_nps")], num_digits=2, finish_on_key="#")
            return resp
        value = phrases.parse_rating(text, digits, 0, 10)
        call.nps = value
        turn.event("survey", nps=value)
        return self._goodbye(turn, survey_done=True)

    # ------------------------------------------------------------ transfer

    def _recording_on(self, call: IvrCallRow) -> bool:
        return self.options.record_calls and not call.record_opt_out

    def _transfer(
        self,
        turn: Turn,
        reason: str,
        *,
        priority: bool = False,
        response: VoiceResponse | None = None,
        announce: bool = True,
    ) -> VoiceResponse:
        call = turn.call
        resp = response or VoiceResponse()
        call.transferred = True
        call.transfer_reason = reason
        call.priority = bool(call.priority or priority)
        call.transferred_at = utcnow()
        call.status = "transferred"
        call.outcome = "transferred"
        call.step = "transferred"
        if announce:
            key = {"error": "transfer_error", "out_of_scope": "out_of_scope"}.get(reason, "transfer")
            key = "transfer_priority" if priority else key
            self._say(resp, turn, self._p(turn, key))
        context = build_context(call)
        turn.event("transfer", reason=reason, priority=call.priority, context=context.to_dict())
        secret = self.options.context_secret
        context_url = self._abs_url(
            turn, f"/ivr/context/{call.call_sid}", token=context_token(secret, call.call_sid) if secret else None
        )
        headers = {
            "CallSid": call.call_sid,
            "Language": call.language or "en",
            "Intent": call.intent or "",
            "Reason": reason,
            "Priority": "1" if call.priority else "0",
            "Failures": str(call.failures),
            "Context": context_url,
        }
        if not self.options.agent_dial.strip():
            log.error("no agent to transfer call %s to: set CALLSCOPE_AGENT_DIAL", call.call_sid)
            self._say(resp, turn, self._p(turn, "agents_busy"))
            resp.hangup()
            return resp
        record_cb = None
        if self._recording_on(call) and self.options.record_from == "transfer":
            record_cb = self._url(turn, "/ivr/recording-status")
        twiml.transfer(
            resp,
            twiml.TransferTarget.parse(self.options.agent_dial),
            action=self._url(turn, "/ivr/dial-status", lang=self._lang(turn)),
            headers=headers,
            whisper_url=self._abs_url(turn, "/ivr/whisper", CallSid=call.call_sid),
            priority=call.priority,
            record_callback=record_cb,
            timeout_s=self.options.dial_timeout_s,
            priority_queue_suffix=self.options.priority_queue_suffix,
        )
        return resp

    def transfer_on_error(self, turn: Turn) -> VoiceResponse:
        """The fallback when handling failed: apologise and transfer."""
        return self._transfer(turn, "error")

    def dial_done(self, turn: Turn) -> VoiceResponse:
        """After <Dial>/<Enqueue>: survey when the agent talked to the caller, else apologise."""
        form = turn.form
        dial_status = (form.get("DialCallStatus") or "").lower()
        queue_result = (form.get("QueueResult") or "").lower()
        connected = dial_status in ("completed", "answered") or queue_result in ("bridged", "bridging-in-process")
        abandoned = queue_result == "hangup"
        turn.data["agent_connected"] = connected
        turn.event(
            "dial_result",
            dial_status=dial_status or None,
            queue_result=queue_result or None,
            connected=connected,
            abandoned=abandoned,
            duration_s=form.get("DialCallDuration") or form.get("QueueTime"),
        )
        resp = VoiceResponse()
        if abandoned:
            return resp
        if connected:
            turn.call.step = "after_agent"
            return self._finish(turn)
        self._say(resp, turn, self._p(turn, "agents_busy"))
        resp.hangup()
        return resp

    def call_status(self, turn: Turn) -> None:
        """A call status callback: mark the call ended (idempotent)."""
        call = turn.call
        status = (turn.form.get("CallStatus") or "").lower()
        if status in ("completed", "busy", "failed", "no-answer", "canceled") and call.ended_at is None:
            call.ended_at = utcnow()
            call.status = "ended"
            if not call.transferred and call.outcome is None:
                call.outcome = "contained" if turn.data.get("answered") else "abandoned"
            turn.event("call_ended", call_status=status, duration_s=turn.form.get("CallDuration"), outcome=call.outcome)


def _asr_confidence(form: dict[str, str]) -> float | None:
    """Twilio's speech ``Confidence`` (0-1), or None when missing or malformed."""
    try:
        value = float(form.get("Confidence") or "")
    except ValueError:
        return None
    return value if 0.0 <= value <= 1.0 else None


def _answer(entry: FaqEntry, language: str) -> tuple[str, str]:
    """The entry's answer in ``language``, else in another language it has (read in that
    language's voice, e.g. a newly published English-only FAQ for a Mandarin caller)."""
    if entry.answers.get(language):
        return entry.answers[language], language
    for other in (*LANGUAGES, *entry.answers):
        if entry.answers.get(other):
            return entry.answers[other], other
    return "", language
