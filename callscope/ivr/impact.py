"""What publishing one FAQ entry changed, comparing like with like.

Only the IVR calls that asked what the entry covers count: calls whose caller inputs
the entry's questions match (the IVR matcher, run on that entry alone), or that the
IVR answered with the entry. Their containment before the publish (from ``since``) is
compared with after it, each side with its call count and date range, so a change in
the rest of the IVR traffic is not credited to the entry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callscope.domain import FaqEntry
from callscope.ivr.kb import KnowledgeBase
from callscope.ivr.matcher import IntentMatcher, MatchLevel
from callscope.ivr.metrics import REPEAT_WINDOW
from callscope.ivr.tables import IvrCallRow, IvrEventRow


@dataclass(frozen=True, slots=True)
class ImpactSide:
    """The covered calls on one side of the publish."""

    start: datetime | None  # first covered call
    end: datetime | None  # last covered call
    calls: int
    contained: int
    transferred: int
    examples: tuple[str, ...] = ()  # what those callers said

    @property
    def containment_rate(self) -> float:
        return round(self.contained / self.calls, 4) if self.calls else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(timespec="seconds") if self.start else None,
            "to": self.end.isoformat(timespec="seconds") if self.end else None,
            "calls": self.calls, "contained": self.contained, "transferred": self.transferred,
            "containment_rate": self.containment_rate, "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class PublishImpact:
    entry_id: str
    published_at: datetime
    questions: tuple[str, ...]
    before: ImpactSide
    after: ImpactSide

    def to_dict(self) -> dict[str, Any]:
        return {"entry_id": self.entry_id, "published_at": self.published_at.isoformat(timespec="seconds"),
                "questions": list(self.questions), "scope": "calls that asked what this entry covers",
                "before": self.before.to_dict(), "after": self.after.to_dict()}


def covered_texts(entry: FaqEntry, texts: list[str], matcher_factory: Any = None) -> set[str]:
    """The caller utterances that ``entry`` answers (matcher confidence medium or high)."""
    if not texts:
        return set()
    matcher = (matcher_factory or IntentMatcher)(KnowledgeBase(entries=[entry]))
    found = set()
    for text in dict.fromkeys(texts):
        result = matcher.match(text, "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en")
        if result.best is not None and result.level in (MatchLevel.HIGH, MatchLevel.MEDIUM):
            found.add(text)
    return found


def publish_impact(session: Session, entry: FaqEntry, published_at: datetime, *,
                   since: datetime | None = None, matcher_factory: Any = None) -> PublishImpact:
    """Containment of the calls about ``entry``'s questions, before vs after ``published_at``."""
    query = select(IvrCallRow).order_by(IvrCallRow.started_at)
    if since is not None:
        query = query.where(IvrCallRow.started_at >= since)
    calls = list(session.scalars(query))
    said: dict[str, list[str]] = defaultdict(list)
    answered_with: dict[str, set[str]] = defaultdict(set)
    had_input: set[str] = set()
    repeat_numbers: dict[str, list[datetime]] = defaultdict(list)
    for call in calls:
        if call.from_number:
            repeat_numbers[call.from_number].append(call.started_at)
    sids = [c.call_sid for c in calls]
    for start in range(0, len(sids), 500):
        for ev in session.scalars(select(IvrEventRow).where(
                IvrEventRow.call_sid.in_(sids[start:start + 500]),
                IvrEventRow.kind.in_(("input", "no_match", "answered")))):
            if ev.kind == "input":
                had_input.add(ev.call_sid)  # speech or keys: the caller did not hang up at once
            if ev.kind == "answered" and ev.data.get("intent"):
                answered_with[ev.call_sid].add(str(ev.data["intent"]))
            elif (ev.data.get("text") or "").strip():
                said[ev.call_sid].append(str(ev.data["text"]).strip())
    covered = covered_texts(entry, [t for texts in said.values() for t in texts], matcher_factory)

    def about_entry(call: IvrCallRow) -> str | None:
        if call.intent == entry.id or entry.id in answered_with[call.call_sid]:
            return next(iter(said[call.call_sid]), entry.id)
        return next((t for t in said[call.call_sid] if t in covered), None)

    def contained(call: IvrCallRow) -> bool:
        if call.transferred or call.call_sid not in had_input:  # transferred, or an early hang-up
            return False
        later = [t for t in repeat_numbers.get(call.from_number, ()) if call.started_at < t <= call.started_at + REPEAT_WINDOW]
        return not later

    sides: dict[bool, list[tuple[IvrCallRow, str]]] = {False: [], True: []}
    for call in calls:
        text = about_entry(call)
        if text is not None:
            sides[call.started_at >= published_at].append((call, text))

    def side(members: list[tuple[IvrCallRow, str]]) -> ImpactSide:
        return ImpactSide(
            start=members[0][0].started_at if members else None, end=members[-1][0].started_at if members else None,
            calls=len(members), contained=sum(contained(c) for c, _ in members),
            transferred=sum(bool(c.transferred) for c, _ in members),
            examples=tuple(dict.fromkeys(t for _, t in members))[:3],
        )

    questions = tuple(q for qs in entry.questions.values() for q in qs)
    return PublishImpact(entry.id, published_at, questions, side(sides[False]), side(sides[True]))
