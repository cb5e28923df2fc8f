"""QA scorecards: a reviewer's scores and comments for one call, exportable as CSV/JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.errors import CallscopeError, NotFoundError
from callscope.qa.tables import ScorecardRow
from callscope.recordings.tables import RecordingRow


class ScorecardError(CallscopeError):
    """Scores that do not fit the rubric."""


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    label: str
    description: str
    max_score: int = 5


RUBRIC: tuple[Criterion, ...] = (
    Criterion("greeting", "Greeting", "Opened with the company name, own name and an offer to help."),
    Criterion("verification", "Verification", "Checked identity before account details, per policy."),
    Criterion("understanding", "Understanding", "Found the real reason for the call; asked good questions."),
    Criterion("empathy", "Empathy & tone", "Acknowledged feelings, stayed calm and polite, no blame."),
    Criterion("resolution", "Resolution", "Solved the issue or set a clear next step and timeline."),
    Criterion("accuracy", "Accuracy", "Information given was correct and complete."),
    Criterion("compliance", "Compliance", "No PII read back unnecessarily; required disclosures given."),
    Criterion("closing", "Closing", "Summarised, checked for other needs, closed politely."),
)
_BY_KEY = {c.key: c for c in RUBRIC}
_MAX_TOTAL = sum(c.max_score for c in RUBRIC)


@dataclass(frozen=True, slots=True)
class Scorecard:
    id: int
    recording_id: str
    reviewer: str
    scores: dict[str, int]
    total: float  # percent of the maximum over the scored criteria
    comments: str
    created_at: datetime
    updated_at: datetime
    recording_name: str | None = None


def validate_scores(scores: Mapping[str, Any]) -> dict[str, int]:
    """Check scores against :data:`RUBRIC` (unscored criteria may be left out).

    Raises:
        ScorecardError: unknown criterion, not an integer, or out of range.
    """
    if not scores:
        raise ScorecardError("score at least one criterion")
    out: dict[str, int] = {}
    for key, value in scores.items():
        criterion = _BY_KEY.get(key)
        if criterion is None:
            raise ScorecardError(f"unknown criterion {key!r}; use {', '.join(_BY_KEY)}")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ScorecardError(f"{key}: the score must be a whole number")
        if not 0 <= value <= criterion.max_score:
            raise ScorecardError(f"{key}: the score must be between 0 and {criterion.max_score}")
        out[key] = value
    return out


def _percent(scores: Mapping[str, int]) -> float:
    possible = sum(_BY_KEY[k].max_score for k in scores)
    return round(100.0 * sum(scores.values()) / possible, 1) if possible else 0.0


def _to_scorecard(row: Any, name: str | None = None) -> Scorecard:
    return Scorecard(row.id, row.recording_id, row.reviewer, dict(row.scores), row.total, row.comments or "",
                     row.created_at, row.updated_at, name)


def add_scorecard(ctx: Context, recording_id: str, reviewer: str, scores: Mapping[str, Any], comments: str) -> Scorecard:
    """Store a new scorecard.

    Raises:
        NotFoundError: no such recording.
        ScorecardError: invalid scores.
    """

    clean = validate_scores(scores)
    recording = ctx.store.get(recording_id)
    now = utcnow()
    with transaction(ctx.sessions) as session:
        row = ScorecardRow(recording_id=recording.id, reviewer=reviewer, scores=clean, total=_percent(clean),
                           comments=comments.strip(), created_at=now, updated_at=now)
        session.add(row)
        session.flush()
        return _to_scorecard(row, recording.original_name)


def update_scorecard(ctx: Context, scorecard_id: int, scores: Mapping[str, Any], comments: str) -> Scorecard:
    """Replace a scorecard's scores and comments. Raises: NotFoundError, ScorecardError."""

    clean = validate_scores(scores)
    with transaction(ctx.sessions) as session:
        row = session.get(ScorecardRow, scorecard_id)
        if row is None:
            raise NotFoundError(f"no scorecard with id {scorecard_id}")
        row.scores, row.total, row.comments, row.updated_at = clean, _percent(clean), comments.strip(), utcnow()
        return _to_scorecard(row)


def get_scorecard(ctx: Context, scorecard_id: int) -> Scorecard:
    with ctx.sessions() as session:
        row = session.get(ScorecardRow, scorecard_id)
        if row is None:
            raise NotFoundError(f"no scorecard with id {scorecard_id}")
        return _to_scorecard(row)


def delete_scorecard(ctx: Context, scorecard_id: int) -> None:
    with transaction(ctx.sessions) as session:
        row = session.get(ScorecardRow, scorecard_id)
        if row is None:
            raise NotFoundError(f"no scorecard with id {scorecard_id}")
        session.delete(row)


def list_scorecards(
    ctx: Context, *, recording_id: str | None = None, reviewer: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
) -> list[Scorecard]:
    query = select(ScorecardRow, RecordingRow.original_name).join(
        RecordingRow, RecordingRow.id == ScorecardRow.recording_id
    )
    if recording_id:
        query = query.where(ScorecardRow.recording_id == recording_id)
    if reviewer:
        query = query.where(ScorecardRow.reviewer == reviewer)
    if since:
        query = query.where(ScorecardRow.created_at >= since)
    if until:
        query = query.where(ScorecardRow.created_at < until)
    with ctx.sessions() as session:
        return [_to_scorecard(r, n) for r, n in session.execute(query.order_by(ScorecardRow.created_at.desc()))]


def delete_for_recording(ctx: Context, recording_id: str) -> None:
    from sqlalchemy import delete

    with transaction(ctx.sessions) as session:
        session.execute(delete(ScorecardRow).where(ScorecardRow.recording_id == recording_id))


# -------------------------------------------------------------------------- export


def export_json(cards: Iterable[Scorecard]) -> str:
    return json.dumps(
        [
            {
                "id": c.id, "recording_id": c.recording_id, "recording": c.recording_name, "reviewer": c.reviewer,
                "scores": c.scores, "total_percent": c.total, "comments": c.comments,
                "created_at": c.created_at.isoformat(), "updated_at": c.updated_at.isoformat(),
            }
            for c in cards
        ],
        ensure_ascii=False, indent=2,
    )


def _cell(value: str) -> str:
    # keep spreadsheets from running a comment that starts like a formula
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(cards: Iterable[Scorecard]) -> str:
    """One row per scorecard, one column per rubric criterion (UTF-8, header row)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "recording_id", "recording", "reviewer", "created_at", *[c.key for c in RUBRIC],
                     "total_percent", "comments"])
    for card in cards:
        writer.writerow([
            card.id, card.recording_id, _cell(card.recording_name or ""), _cell(card.reviewer),
            card.created_at.isoformat(timespec="seconds"),
            *[card.scores.get(c.key, "") for c in RUBRIC], card.total, _cell(card.comments),
        ])
    return buffer.getvalue()
