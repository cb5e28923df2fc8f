"""Self-service deflection per channel, side by side.

* **voice**: IVR containment (:func:`callscope.ivr.metrics.compute_ivr_metrics`: ended in
  the IVR without a transfer, not an early hang-up, no repeat call within 24 h);
* **sms** / **whatsapp**: conversations with a question or an agent request that got a
  knowledge-base answer and were not handed over to an agent;
* **web**: help-center searches that ended without contacting an agent (the "contact an
  agent" link of the search's pages was not followed).

Greetings, STOP/HELP keywords and imported chat/e-mail/survey texts are not counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callscope.ivr.metrics import compute_ivr_metrics
from callscope.selfservice.conversations import questions
from callscope.selfservice.tables import ConversationRow, HelpFeedbackRow

DEFINITIONS = {
    "voice": "IVR calls contained (no transfer, no early hang-up, no repeat call within 24 h)",
    "sms": "SMS conversations answered from the knowledge base without a handover",
    "whatsapp": "WhatsApp conversations answered from the knowledge base without a handover",
    "web": "help-center searches that ended without contacting an agent",
}
CHANNEL_ORDER = ("voice", "sms", "whatsapp", "web")


@dataclass(frozen=True, slots=True)
class ChannelDeflection:
    channel: str
    contacts: int  # calls, text conversations with a question, or searches
    deflected: int
    handovers: int  # transferred / handed over / contacted an agent
    unanswered: int  # contacts with a question the knowledge base could not answer
    rate: float | None  # deflected / contacts
    definition: str


@dataclass(frozen=True, slots=True)
class DeflectionReport:
    since: datetime | None
    channels: dict[str, ChannelDeflection]
    overall_rate: float | None  # deflected / contacts over every channel
    feedback: dict[str, int] = field(default_factory=dict)  # help-center votes: helpful, not_helpful
    feedback_by_entry: dict[str, dict[str, int]] = field(default_factory=dict)  # entry id -> votes, least helpful first
    unanswered_questions: tuple[dict[str, Any], ...] = ()  # newest first, text channels and voice

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "channels": {k: asdict(v) for k, v in self.channels.items()},
            "overall_rate": self.overall_rate,
            "feedback": dict(self.feedback),
            "feedback_by_entry": {k: dict(v) for k, v in self.feedback_by_entry.items()},
            "unanswered_questions": list(self.unanswered_questions),
        }


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def compute_deflection(session: Session, since: datetime | None = None, *, unanswered_limit: int = 50) -> DeflectionReport:
    """Deflection per channel over contacts that started at or after ``since`` (all if None)."""
    ivr = compute_ivr_metrics(session, since)
    channels: dict[str, ChannelDeflection] = {
        "voice": ChannelDeflection(
            "voice", ivr.calls, ivr.contained, ivr.transferred,
            len({u.call_sid for u in ivr.unanswered}), _rate(ivr.contained, ivr.calls), DEFINITIONS["voice"],
        )
    }

    query = select(ConversationRow).where(ConversationRow.channel.in_(("sms", "whatsapp", "web")))
    if since is not None:
        query = query.where(ConversationRow.started_at >= since)
    counted: dict[str, list[int]] = {ch: [0, 0, 0, 0] for ch in ("sms", "whatsapp", "web")}
    for conv in session.scalars(query):
        asked = conv.answered or conv.handover or conv.status == "unanswered"
        if not asked:
            continue  # only a greeting, a keyword, or a bare "did you mean" still open
        row = counted[conv.channel]
        row[0] += 1
        row[1] += int(conv.answered and not conv.handover) if conv.channel != "web" else int(not conv.handover)
        row[2] += int(conv.handover)
        row[3] += int(not conv.answered)
    for ch, (n, deflected, handovers, unanswered) in counted.items():
        channels[ch] = ChannelDeflection(ch, n, deflected, handovers, unanswered, _rate(deflected, n), DEFINITIONS[ch])

    total = sum(c.contacts for c in channels.values())
    overall = _rate(sum(c.deflected for c in channels.values()), total)

    votes = select(HelpFeedbackRow.entry_id, HelpFeedbackRow.helpful, func.count()).group_by(
        HelpFeedbackRow.entry_id, HelpFeedbackRow.helpful
    )
    if since is not None:
        votes = votes.where(HelpFeedbackRow.at >= since)
    feedback = {"helpful": 0, "not_helpful": 0}
    by_entry: dict[str, dict[str, int]] = {}
    for entry_id, helpful, n in session.execute(votes):
        key = "helpful" if helpful else "not_helpful"
        feedback[key] += n
        by_entry.setdefault(entry_id, {"helpful": 0, "not_helpful": 0})[key] += n
    ranked = sorted(by_entry.items(), key=lambda kv: (kv[1]["helpful"] - kv[1]["not_helpful"], kv[0]))

    missed = questions(session, since=since, unanswered_only=True)
    missed.sort(key=lambda q: q.at, reverse=True)
    return DeflectionReport(
        since=since,
        channels={ch: channels[ch] for ch in CHANNEL_ORDER if ch in channels},
        overall_rate=overall,
        feedback=feedback,
        feedback_by_entry=dict(ranked),
        unanswered_questions=tuple(q.to_dict() for q in missed[:unanswered_limit]),
    )
