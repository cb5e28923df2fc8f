"""Analytics over time: call volume, handle time, caller mood, QA score, IVR containment
and transfer causes per day or week, and a per-agent view. Each bucket carries the
date range the dashboard links to (the call list filtered to it)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select

from callscope.context import Context
from callscope.ivr.metrics import compute_ivr_metrics
from callscope.qa.tables import QaResultRow
from callscope.recordings.tables import ArtifactRow, RecordingRow
from callscope.search.tables import CallSummaryRow

Period = Literal["day", "week"]


@dataclass(frozen=True, slots=True)
class Bucket:
    start: date
    end: date  # exclusive
    calls: int
    avg_handle_time_s: float | None
    emotions: dict[str, int]  # caller emotion -> calls
    avg_caller_sentiment: float | None
    qa_calls: int
    avg_qa_score: float | None
    top_issues: list[dict[str, Any]]  # [{id, label, calls}]
    ivr_calls: int = 0
    ivr_containment: float | None = None
    transfer_causes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AgentStats:
    agent: str
    calls: int
    avg_handle_time_s: float | None
    avg_agent_talk_share: float | None
    avg_qa_score: float | None
    avg_caller_sentiment: float | None
    negative_calls: int  # calls whose caller emotion was frustrated or anxious


@dataclass(frozen=True, slots=True)
class TrendReport:
    since: date
    until: date  # exclusive
    period: Period
    buckets: tuple[Bucket, ...]
    agents: tuple[AgentStats, ...]

    def to_dict(self) -> dict[str, Any]:
        def d(obj: Any) -> Any:
            out = asdict(obj)
            for key in ("start", "end"):
                if key in out:
                    out[key] = out[key].isoformat()
            return out

        return {"since": self.since.isoformat(), "until": self.until.isoformat(), "period": self.period,
                "buckets": [d(b) for b in self.buckets], "agents": [asdict(a) for a in self.agents]}


def _mean(values: list[float], digits: int = 1) -> float | None:
    return round(statistics.fmean(values), digits) if values else None


def _bucket_start(day: date, period: Period) -> date:
    return day - timedelta(days=day.weekday()) if period == "week" else day


def call_trends(ctx: Context, *, since: date, until: date, period: Period = "day") -> TrendReport:
    """Per-bucket and per-agent figures of the calls recorded in ``[since, until)``."""
    start_dt, end_dt = datetime.combine(since, datetime.min.time()), datetime.combine(until, datetime.min.time())
    with ctx.sessions() as session:
        rows = session.execute(
            select(RecordingRow.id, RecordingRow.created_at, RecordingRow.agent, RecordingRow.duration_s,
                   CallSummaryRow.caller_emotion, CallSummaryRow.issue_id, CallSummaryRow.issue_label,
                   QaResultRow.score, ArtifactRow.data)
            .join(ArtifactRow, (ArtifactRow.recording_id == RecordingRow.id) & (ArtifactRow.kind == "analysis"))
            .outerjoin(CallSummaryRow, CallSummaryRow.recording_id == RecordingRow.id)
            .outerjoin(QaResultRow, QaResultRow.recording_id == RecordingRow.id)
            .where(RecordingRow.created_at >= start_dt, RecordingRow.created_at < end_dt)
        ).all()
    per_bucket: dict[date, list[Any]] = defaultdict(list)
    per_agent: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        per_bucket[_bucket_start(row.created_at.date(), period)].append(row)
        per_agent[row.agent or "unassigned"].append(row)

    def handle(row: Any) -> float:
        return float(((row.data or {}).get("metrics") or {}).get("handle_time_s") or row.duration_s or 0.0)

    def sentiment(row: Any) -> float | None:
        detail = (row.data or {}).get("caller_emotion_detail") or {}
        value = detail.get("sentiment")
        return None if value is None else float(value)

    def emotion(row: Any) -> str:
        return row.caller_emotion or str((row.data or {}).get("caller_emotion") or "unknown")

    buckets = []
    day = _bucket_start(since, period)
    step = timedelta(days=7 if period == "week" else 1)
    while day < until:
        members = per_bucket.get(day, [])
        b_start, b_end = max(day, since), min(day + step, until)
        issues = Counter((r.issue_id, r.issue_label) for r in members if r.issue_id)
        with ctx.sessions() as session:
            ivr = compute_ivr_metrics(session, since=datetime.combine(b_start, datetime.min.time()),
                                      until=datetime.combine(b_end, datetime.min.time()))
        buckets.append(Bucket(
            start=b_start, end=b_end, calls=len(members),
            avg_handle_time_s=_mean([handle(r) for r in members]),
            emotions=dict(Counter(emotion(r) for r in members)),
            avg_caller_sentiment=_mean([s for s in (sentiment(r) for r in members) if s is not None], 2),
            qa_calls=sum(r.score is not None for r in members),
            avg_qa_score=_mean([r.score for r in members if r.score is not None]),
            top_issues=[{"id": i, "label": label or i, "calls": n} for (i, label), n in issues.most_common(3)],
            ivr_calls=ivr.calls, ivr_containment=ivr.containment_rate if ivr.calls else None,
            transfer_causes=dict(ivr.transfer_causes),
        ))
        day += step
    agents = []
    for agent, members in sorted(per_agent.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        shares = [float(((r.data or {}).get("metrics") or {}).get("talk_ratio", {}).get("agent"))
                  for r in members if (((r.data or {}).get("metrics") or {}).get("talk_ratio") or {}).get("agent") is not None]
        agents.append(AgentStats(
            agent=agent, calls=len(members), avg_handle_time_s=_mean([handle(r) for r in members]),
            avg_agent_talk_share=_mean(shares, 3),
            avg_qa_score=_mean([r.score for r in members if r.score is not None]),
            avg_caller_sentiment=_mean([s for s in (sentiment(r) for r in members) if s is not None], 2),
            negative_calls=sum(emotion(r) in ("frustrated", "anxious") for r in members),
        ))
    return TrendReport(since, until, period, tuple(buckets), tuple(agents))
