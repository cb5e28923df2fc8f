"""Automatic QA results in the database, reviewer overrides, and the active scorecard."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.domain import QaResult
from callscope.errors import NotFoundError
from callscope.qa.evaluate import Evaluator, PhraseMatcher, conversation_from_dict
from callscope.qa.rules import DEFAULT_SCORECARD, QaRuleError, ScorecardRules, load_scorecard, parse_scorecard_text
from callscope.qa.tables import QaOverrideRow, QaResultRow, QaRulesRow
from callscope.recordings.tables import ArtifactRow, RecordingRow


@dataclass(frozen=True, slots=True)
class ActiveScorecard:
    rules: ScorecardRules
    source: str  # the YAML/JSON text
    origin: str  # "dashboard", a file path, or "default"
    author: str | None = None
    saved_at: datetime | None = None


def active_scorecard(ctx: Context) -> ActiveScorecard:
    """The newest scorecard saved in the dashboard, else ``settings.qa_scorecard``, else the default."""
    with ctx.sessions() as session:
        row = session.scalars(select(QaRulesRow).order_by(QaRulesRow.id.desc()).limit(1)).first()
    if row is not None:
        return ActiveScorecard(parse_scorecard_text(row.source, "the saved scorecard"), row.source, "dashboard",
                               row.author, row.created_at)
    rules = load_scorecard(ctx.settings.qa_scorecard)
    path = ctx.settings.qa_scorecard
    source = (path or DEFAULT_SCORECARD).read_text(encoding="utf-8")
    return ActiveScorecard(rules, source, str(path) if path else "default")


def save_scorecard(ctx: Context, source: str, author: str) -> ActiveScorecard:
    """Validate and store a scorecard as the active one (older versions are kept).

    Raises:
        QaRuleError: the text does not parse; nothing is stored.
    """
    if len(source) > 200_000:
        raise QaRuleError("the scorecard is too long (200,000 characters at most)")
    rules = parse_scorecard_text(source, "scorecard")
    with transaction(ctx.sessions) as session:
        row = QaRulesRow(scorecard=rules.id, source=source, author=author, created_at=utcnow())
        session.add(row)
    return ActiveScorecard(rules, source, "dashboard", author, row.created_at)


def save_result(ctx: Context, recording_id: str, result: QaResult) -> None:
    """Store (or replace) a call's automatic verdicts; reviewer overrides stay."""
    failed = [i.id for i in result.items if i.passed is False]
    with transaction(ctx.sessions) as session:
        row = session.get(QaResultRow, recording_id)
        if row is None:
            row = QaResultRow(recording_id=recording_id)
            session.add(row)
        row.scorecard, row.score, row.failed, row.result = result.scorecard, result.score, failed, result.to_dict()
        row.evaluated_at = utcnow()


def _overrides(session: Any, recording_ids: Iterable[str]) -> dict[str, dict[str, tuple[bool, str, str]]]:
    ids = list(recording_ids)
    out: dict[str, dict[str, tuple[bool, str, str]]] = {}
    if not ids:
        return out
    rows = session.scalars(select(QaOverrideRow).where(QaOverrideRow.recording_id.in_(ids))
                           .order_by(QaOverrideRow.id))
    for row in rows:  # the newest per criterion wins; passed=None clears
        per = out.setdefault(row.recording_id, {})
        if row.passed is None:
            per.pop(row.criterion, None)
        else:
            per[row.criterion] = (row.passed, row.reviewer, row.note or "")
    return out


def get_result(ctx: Context, recording_id: str) -> QaResult | None:
    """A call's QA result with reviewer overrides applied (None when not scored yet)."""
    with ctx.sessions() as session:
        row = session.get(QaResultRow, recording_id)
        if row is None:
            return None
        overrides = _overrides(session, [recording_id]).get(recording_id, {})
        return QaResult.from_dict(row.result).with_overrides(overrides)


def results(ctx: Context, recording_ids: Iterable[str] | None = None) -> dict[str, QaResult]:
    """Results (overrides applied) of the given calls, or of every scored call."""
    query = select(QaResultRow)
    ids = None if recording_ids is None else list(recording_ids)
    if ids is not None:
        query = query.where(QaResultRow.recording_id.in_(ids))
    with ctx.sessions() as session:
        rows = list(session.scalars(query))
        overrides = _overrides(session, [r.recording_id for r in rows])
    return {r.recording_id: QaResult.from_dict(r.result).with_overrides(overrides.get(r.recording_id, {}))
            for r in rows}


def override(ctx: Context, recording_id: str, criterion: str, passed: bool | None, note: str,
             reviewer: str) -> QaResult:
    """Record a reviewer's verdict on one criterion (None: back to the automatic one).

    Raises:
        NotFoundError: the call has no QA result, or the scorecard has no such criterion.
    """
    with transaction(ctx.sessions) as session:
        row = session.get(QaResultRow, recording_id)
        if row is None:
            raise NotFoundError("this call has no QA result yet; wait for its analysis")
        ids = [i["id"] for i in row.result.get("items", ())]
        if criterion not in ids:
            raise NotFoundError(f"the scorecard has no criterion {criterion!r}; use {', '.join(ids)}")
        session.add(QaOverrideRow(recording_id=recording_id, criterion=criterion, passed=passed,
                                  note=note.strip()[:2000], reviewer=reviewer, created_at=utcnow()))
    result = get_result(ctx, recording_id)
    assert result is not None
    return result


def override_history(ctx: Context, recording_id: str) -> list[dict[str, Any]]:
    with ctx.sessions() as session:
        rows = session.scalars(select(QaOverrideRow).where(QaOverrideRow.recording_id == recording_id)
                               .order_by(QaOverrideRow.id))
        return [{"criterion": r.criterion, "passed": r.passed, "note": r.note, "reviewer": r.reviewer,
                 "at": r.created_at.isoformat()} for r in rows]


def delete_for_recording(ctx: Context, recording_id: str) -> None:
    with transaction(ctx.sessions) as session:
        session.execute(delete(QaResultRow).where(QaResultRow.recording_id == recording_id))
        session.execute(delete(QaOverrideRow).where(QaOverrideRow.recording_id == recording_id))


def rescore(ctx: Context, rules: ScorecardRules | None = None, matcher: Any = None) -> int:
    """Evaluate ``rules`` (default: the active scorecard) on every analysed call; returns how many.

    The stored ``analysis`` artifacts get the new ``qa`` too, so exports agree.
    """
    rules = rules or active_scorecard(ctx).rules
    evaluator = Evaluator(rules, matcher or shared_matcher())
    with ctx.sessions() as session:
        ids = list(session.scalars(select(ArtifactRow.recording_id).where(ArtifactRow.kind == "analysis")))
    done = 0
    for rid in ids:
        analysis = ctx.store.get_artifact(rid, "analysis")
        if not analysis:
            continue
        result = evaluator.evaluate(conversation_from_dict(analysis))
        ctx.store.save_artifact(rid, "analysis", {**analysis, "qa": result.to_dict()})
        save_result(ctx, rid, result)
        done += 1
    return done


_matcher = None


def shared_matcher():  # type: ignore[no-untyped-def]
    """One phrase matcher per process (it caches embeddings and thresholds)."""
    global _matcher
    if _matcher is None:
        _matcher = PhraseMatcher()
    return _matcher


# -------------------------------------------------------------------------- export


def export_rows(ctx: Context) -> list[dict[str, Any]]:
    """One row per scored call: name, score, and each criterion's verdict (overrides applied)."""
    found = results(ctx)
    with ctx.sessions() as session:
        names = dict(session.execute(select(RecordingRow.id, RecordingRow.original_name)
                                     .where(RecordingRow.id.in_(list(found)))).all())
    return [{"recording_id": rid, "recording": names.get(rid), **result.to_dict()} for rid, result in found.items()]


def export_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(rows: list[dict[str, Any]]) -> str:
    """One row per call; a pass/fail/n/a column per criterion, ``*`` marking reviewer overrides."""
    criteria: list[str] = []
    for row in rows:
        for item in row["items"]:
            if item["id"] not in criteria:
                criteria.append(item["id"])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["recording_id", "recording", "scorecard", "score", *criteria, "categories"])
    for row in rows:
        verdicts = {}
        for item in row["items"]:
            text = {True: "pass", False: "fail", None: "n/a"}[item["passed"]]
            verdicts[item["id"]] = text + ("*" if "override" in item else "")
        writer.writerow([row["recording_id"], _cell(row["recording"] or ""), row["scorecard"],
                         "" if row["score"] is None else row["score"], *[verdicts.get(c, "") for c in criteria],
                         " ".join(c["id"] for c in row["categories"])])
    return buffer.getvalue()


__all__ = ["ActiveScorecard", "QaRuleError", "active_scorecard", "get_result", "override", "rescore", "results",
           "save_result", "save_scorecard"]
