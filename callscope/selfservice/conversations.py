"""The conversation store shared by every channel.

A :class:`~callscope.selfservice.tables.ConversationRow` is one exchange with a
customer on a channel; its messages record what was asked and how the knowledge base
answered. Inbound question kinds say what the matcher made of them:

* ``question``: answered from the knowledge base (``entry_id`` set);
* ``unclear``: the customer was offered "did you mean" options;
* ``unanswered``: nothing in the knowledge base fits (the input of the FAQ gap analysis);
* ``text``: an imported chat / e-mail / survey text (not put to the knowledge base).

Channels: ``sms``, ``whatsapp``, ``web`` (help-center searches), ``chat``, ``email`` and
``survey`` (texts imported from files), and ``voice`` (the IVR's calls, which keep their
own tables; :func:`questions` reads their unanswered questions too).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.db import utcnow
from callscope.ivr.tables import IvrCallRow, IvrEventRow
from callscope.selfservice.tables import ConversationMessageRow, ConversationRow

CHANNELS = ("voice", "sms", "whatsapp", "web", "chat", "email", "survey")
TEXT_CHANNELS = ("sms", "whatsapp", "web", "chat", "email", "survey")
QUESTION_KINDS = ("question", "unclear", "unanswered", "text")
CONVERSATION_WINDOW = timedelta(hours=24)
"""A text from the same number within this time continues the same conversation."""


def new_conversation(
    session: Session, channel: str, contact: str = "", *, language: str | None = None, at: datetime | None = None
) -> ConversationRow:
    """Start a conversation (added to ``session``)."""
    now = at or utcnow()
    row = ConversationRow(
        id=f"{channel}-{uuid.uuid4().hex[:24]}",
        channel=channel,
        contact=contact[:128],
        language=language,
        status="open",
        answered=False,
        handover=False,
        started_at=now,
        updated_at=now,
        data={},
    )
    session.add(row)
    return row


def current_conversation(
    session: Session, channel: str, contact: str, *, window: timedelta = CONVERSATION_WINDOW
) -> ConversationRow | None:
    """The contact's latest conversation on ``channel`` if it is still going (updated within
    ``window`` and not closed), else None."""
    if not contact:
        return None
    row = session.scalars(
        select(ConversationRow)
        .where(ConversationRow.channel == channel, ConversationRow.contact == contact)
        .order_by(ConversationRow.updated_at.desc())
        .limit(1)
    ).first()
    if row is None or row.status == "closed" or utcnow() - row.updated_at > window:
        return None
    if row.data is None:
        row.data = {}
    return row


def add_message(
    session: Session,
    conversation: ConversationRow,
    direction: str,
    kind: str,
    text: str = "",
    *,
    entry_id: str | None = None,
    score: float | None = None,
    external_id: str | None = None,
    at: datetime | None = None,
) -> ConversationMessageRow:
    """Append a message to ``conversation`` (and touch its ``updated_at``)."""
    now = at or utcnow()
    row = ConversationMessageRow(
        conversation_id=conversation.id,
        at=now,
        direction=direction,
        kind=kind,
        text=text,
        entry_id=entry_id,
        score=score,
        external_id=(external_id or None) and external_id[:64],
    )
    session.add(row)
    conversation.updated_at = now
    return row


def messages(session: Session, conversation_id: str) -> list[ConversationMessageRow]:
    """The messages of a conversation, oldest first."""
    return list(
        session.scalars(
            select(ConversationMessageRow)
            .where(ConversationMessageRow.conversation_id == conversation_id)
            .order_by(ConversationMessageRow.id)
        )
    )


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question a customer asked on some channel, and whether the knowledge base answered it."""

    text: str
    channel: str
    language: str | None
    at: datetime
    conversation_id: str
    answered: bool | None  # None: an imported text nobody put to the knowledge base
    entry_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "channel": self.channel,
            "language": self.language,
            "at": self.at.isoformat(timespec="seconds"),
            "conversation_id": self.conversation_id,
            "answered": self.answered,
            "entry_id": self.entry_id,
        }


def questions(
    session: Session,
    *,
    since: datetime | None = None,
    channels: Sequence[str] | None = None,
    unanswered_only: bool = False,
    include_voice: bool = True,
) -> list[AskedQuestion]:
    """Questions asked on every channel, oldest first.

    Text channels come from the conversation store: a question answered from the knowledge
    base, or one the customer resolved by picking a "did you mean" option, is answered; an
    unsure or unmatched one left at that is not. ``voice`` comes from the IVR's event log
    (its ``no_match`` events are the unanswered ones, confident matches the answered ones).

    Args:
        since: only questions at or after this time.
        channels: only these channels (default: all).
        unanswered_only: only questions the knowledge base could not answer.
        include_voice: read the IVR's calls too (when ``channels`` allows ``voice``).
    """
    wanted = set(channels or CHANNELS)
    query = (
        select(ConversationMessageRow, ConversationRow)
        .join(ConversationRow, ConversationRow.id == ConversationMessageRow.conversation_id)
        .where(ConversationMessageRow.direction == "in", ConversationMessageRow.kind.in_((*QUESTION_KINDS, "choice")))
        .where(ConversationRow.channel.in_(sorted(wanted)))
        .order_by(ConversationMessageRow.conversation_id, ConversationMessageRow.id)
    )
    if since is not None:
        query = query.where(ConversationMessageRow.at >= since)
    found: list[AskedQuestion] = []
    pending: dict[str, int] = {}  # conversation -> index in found of a question awaiting a "did you mean" choice
    for msg, conv in session.execute(query):
        if msg.kind == "choice":
            # a digit answering "did you mean" resolves the question before it (a topic picked
            # after a miss is a new question: the missed one stays unanswered)
            k = pending.pop(conv.id, None)
            if k is not None and msg.entry_id:
                found[k] = replace(found[k], answered=True, entry_id=msg.entry_id)
            continue
        pending.pop(conv.id, None)
        if not msg.text.strip():
            continue
        answered = None if msg.kind == "text" else msg.kind == "question"
        found.append(AskedQuestion(msg.text, conv.channel, conv.language, msg.at, conv.id, answered,
                                   msg.entry_id if answered else None))
        if msg.kind == "unclear":  # picking a "did you mean" option says what it was about
            pending[conv.id] = len(found) - 1
    if unanswered_only:
        found = [q for q in found if q.answered is False]
    found.sort(key=lambda q: q.at)
    if include_voice and "voice" in wanted:
        found += _voice_questions(session, since, unanswered_only)
        found.sort(key=lambda q: q.at)
    return found


def _voice_questions(session: Session, since: datetime | None, unanswered_only: bool) -> list[AskedQuestion]:
    kinds = ("no_match",) if unanswered_only else ("no_match", "match")
    query = (
        select(IvrEventRow, IvrCallRow.language)
        .join(IvrCallRow, IvrCallRow.call_sid == IvrEventRow.call_sid)
        .where(IvrEventRow.kind.in_(kinds))
        .order_by(IvrEventRow.at, IvrEventRow.id)
    )
    if since is not None:
        query = query.where(IvrEventRow.at >= since)
    out: list[AskedQuestion] = []
    for event, call_language in session.execute(query):
        data = event.data or {}
        text = str(data.get("text") or "").strip()
        if not text:
            continue
        if event.kind == "match" and data.get("level") != "high":
            continue  # the no_match / confirmation that follows decides
        out.append(
            AskedQuestion(
                text=text,
                channel="voice",
                language=data.get("language") or call_language,
                at=event.at,
                conversation_id=event.call_sid,
                answered=event.kind == "match",
                entry_id=data.get("intent") if event.kind == "match" else None,
            )
        )
    return out


def store_texts(session: Session, items: Iterable[Any], *, channel: str | None = None) -> int:
    """Store chat / e-mail / survey texts (``IssueItem``s from ``load_text_items``) as
    one-message conversations, so they are mined and gap-analysed with the other channels.

    Args:
        items: objects with ``text``, ``language``, ``channel`` and ``timestamp``.
        channel: the channel of every item (default: each item's own; unknown ones become "chat").

    Returns:
        The number of conversations stored (empty texts are skipped).
    """
    stored = 0
    for item in items:
        text = str(getattr(item, "text", "") or "").strip()
        if not text:
            continue
        ch = channel or getattr(item, "channel", None) or "chat"
        ch = "chat" if ch not in CHANNELS else ch
        at = getattr(item, "timestamp", None) or utcnow()
        if getattr(at, "tzinfo", None) is not None:
            at = at.replace(tzinfo=None)
        conv = new_conversation(session, ch, language=getattr(item, "language", None), at=at)
        conv.status = "closed"
        add_message(session, conv, "in", "text", text, at=at)
        stored += 1
    return stored


def handover_queue(session: Session, *, limit: int = 100) -> list[ConversationRow]:
    """Text conversations (SMS, WhatsApp) waiting for an agent (handed over, not closed), oldest first."""
    return list(
        session.scalars(
            select(ConversationRow)
            .where(ConversationRow.handover.is_(True), ConversationRow.status == "handover")
            .where(ConversationRow.channel.in_(("sms", "whatsapp")))
            .order_by(ConversationRow.updated_at)
            .limit(limit)
        )
    )
