"""Insights across calls: common issues with trends and example calls.

Issue *mining* (grouping callers' reasons into issues) is done by
:mod:`callscope.analysis.issues`; this module stores its result (one issue per call,
in the call summaries) and aggregates it over a time window for the dashboard.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from callscope.analysis.answer_generator import load_answer_generator
from callscope.analysis.faq import draft_faqs, faq_id_for
from callscope.analysis.issues import CallRecord, IssueMiningResult, MinedIssue, call_record_from_dict, mine_issues
from callscope.analysis.topic_names import name_issues
from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.domain import FaqEntry, Issue
from callscope.errors import ConfigError
from callscope.insights.faq_review import FaqRepository
from callscope.insights.tables import FaqDraftRow, IssueRow
from callscope.ivr.impact import PublishImpact, publish_impact
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base
from callscope.ivr.preview import PublishPreview, preview_publish
from callscope.ivr.tables import IvrCallRow, IvrEventRow
from callscope.progress import Hook, no_progress
from callscope.recordings.tables import ArtifactRow, RecordingRow
from callscope.search.tables import CallSummaryRow
from callscope.settings import Settings

log = logging.getLogger(__name__)

_mining_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class TrendPoint:
    date: date  # first day of the bucket
    count: int


@dataclass(frozen=True, slots=True)
class ExampleCall:
    id: str
    name: str
    created_at: datetime
    reason: str | None


@dataclass(frozen=True, slots=True)
class IssueStats:
    """One issue over a time window."""

    id: str
    label: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]  # representative quotes
    count: int
    share: float  # of the analysed calls in the window
    trend: tuple[TrendPoint, ...]
    calls: tuple[ExampleCall, ...]
    labels: dict[str, str] = field(default_factory=dict)  # the topic's name in each of its calls' languages

    @property
    def other_labels(self) -> tuple[str, ...]:
        """The topic's names in its calls' other languages (an issue of English and Mandarin calls
        named 网络故障 is also "Internet outage")."""
        return tuple(dict.fromkeys(name for name in self.labels.values() if name and name != self.label))


@dataclass(frozen=True, slots=True)
class IssueReport:
    since: datetime
    until: datetime
    bucket_days: int
    calls: int  # analysed calls in the window
    issues: tuple[IssueStats, ...] = field(default_factory=tuple)
    mined_at: datetime | None = None


def _bucket_days(span: timedelta) -> int:
    days = max(1, span.days)
    return 1 if days <= 31 else 7 if days <= 120 else 30


def issue_report(ctx: Context, *, since: datetime, until: datetime | None = None, examples: int = 5,
                 limit: int = 20) -> IssueReport:
    """Issues of the calls recorded between ``since`` and ``until``, most frequent first.

    Args:
        ctx: the application context.
        since: window start (naive UTC).
        until: window end (default: now).
        examples: example calls per issue (most recent first).
        limit: most issues returned.

    Returns:
        Counts, shares, a trend per day/week/month bucket, and example calls.
    """

    until = until or utcnow()
    bucket = _bucket_days(until - since)
    with ctx.sessions() as session:
        rows = session.execute(
            select(CallSummaryRow.issue_id, CallSummaryRow.issue_label, CallSummaryRow.reason, RecordingRow.id,
                   RecordingRow.original_name, RecordingRow.created_at)
            .join(RecordingRow, RecordingRow.id == CallSummaryRow.recording_id)
            .where(RecordingRow.created_at >= since, RecordingRow.created_at < until,
                   CallSummaryRow.caller_emotion.is_not(None))
            .order_by(RecordingRow.created_at.desc())
        ).all()
        mined = {row.id: row for row in session.scalars(select(IssueRow))}
        mined_at = session.scalar(select(func.max(IssueRow.mined_at)))
    analysed = len(rows)
    members: dict[str, list] = defaultdict(list)
    labels: dict[str, str] = {}
    for issue_id, label, reason, rid, name, created in rows:
        if issue_id:
            members[issue_id].append((rid, name, created, reason))
            labels.setdefault(issue_id, label or issue_id)
    n_buckets = max(1, -(-max(1, (until - since).days) // bucket))
    start_day = until.date() - timedelta(days=n_buckets * bucket - 1)  # the last bucket ends today
    stats = []
    for issue_id, calls in sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:limit]:
        counts = Counter(min(n_buckets - 1, max(0, (c[2].date() - start_day).days // bucket)) for c in calls)
        trend = tuple(TrendPoint(start_day + timedelta(days=i * bucket), counts.get(i, 0)) for i in range(n_buckets))
        info = mined.get(issue_id)
        quotes = tuple(info.examples[:3]) if info is not None and info.examples else tuple(
            dict.fromkeys(c[3] for c in calls if c[3]))[:3]
        stats.append(IssueStats(
            id=issue_id, label=info.label if info is not None else labels[issue_id],
            keywords=tuple(info.keywords) if info is not None else (), examples=quotes, count=len(calls),
            share=round(len(calls) / analysed, 4) if analysed else 0.0, trend=trend,
            calls=tuple(ExampleCall(c[0], c[1], c[2], c[3]) for c in calls[:examples]),
            labels=dict(info.labels or {}) if info is not None else {},
        ))
    return IssueReport(since, until, bucket, analysed, tuple(stats), mined_at)


def save_mined_issues(ctx: Context, issues: Sequence[Issue | MinedIssue]) -> int:
    """Store a mining result: the issues, and each member call's issue (for list filters).

    Members that are not stored recordings (e.g. text rows) are ignored. Calls that
    belong to no issue any more lose their old assignment.

    Returns:
        How many calls were assigned an issue.
    """

    rows = []
    for item in issues:
        if isinstance(item, MinedIssue):
            rows.append(item.to_dict())
        else:
            rows.append({"id": item.id, "label": item.label, "keywords": list(item.keywords),
                         "members": list(item.members), "examples": list(item.examples), "share": item.share,
                         "frequency": len(item.members)})
    FaqRepository(ctx.sessions).save_issues(rows)
    membership: dict[str, tuple[str, str]] = {}
    for row in rows:
        for member in row["members"]:
            membership.setdefault(member, (row["id"][:128], row["label"]))
    assigned = 0
    with transaction(ctx.sessions) as session:
        for summary in session.scalars(select(CallSummaryRow)):
            found = membership.get(summary.recording_id)
            if found is not None:
                summary.issue_id, summary.issue_label = found
                assigned += 1
            elif summary.issue_id is not None:
                summary.issue_id, summary.issue_label = None, None
    return assigned


def containment_since_publish(ctx: Context, *, since: datetime | None = None) -> PublishImpact | None:
    """Like-with-like effect of the latest FAQ publish in the window: the containment of
    the IVR calls that asked what the entry covers, before vs after it was published
    (:func:`callscope.ivr.impact.publish_impact`).

    Returns:
        A :class:`~callscope.ivr.impact.PublishImpact`, or None when nothing was published
        in the window or no IVR call asked about the entry.
    """
    with ctx.sessions() as session:
        query = select(FaqDraftRow).where(FaqDraftRow.published_at.is_not(None))
        if since is not None:
            query = query.where(FaqDraftRow.published_at >= since)
        latest = session.scalars(query.order_by(FaqDraftRow.published_at.desc()).limit(1)).first()
        if latest is None:
            return None
        impact = publish_impact(session, latest.to_entry(), latest.published_at, since=since)
    if not impact.before.calls and not impact.after.calls:
        return None
    return impact


# ------------------------------------------------------------------------- mining

_REMINE_EVERY = timedelta(minutes=10)
_mined_state: dict[str, tuple[tuple[int, datetime | None], datetime]] = {}


def _watermark(ctx: Context) -> tuple[int, datetime | None]:
    with ctx.sessions() as session:
        count, newest = session.execute(
            select(func.count(), func.max(CallSummaryRow.indexed_at)).where(CallSummaryRow.reason.is_not(None))
        ).one()
    return int(count or 0), newest


def analysed_calls(ctx: Context, *, skipped: Callable[[str], None] | None = None) -> list[CallRecord]:
    """Every analysed call in the store as the issue/FAQ miners' ``CallRecord`` (id =
    recording id), oldest first. A call's time is when it was stored and its handle time
    the audio's length, unless its analysis says otherwise.

    Args:
        skipped: told the reason for each stored analysis that cannot be read (default: a
            logged warning); such calls are left out.
    """
    rows_query = (
        select(ArtifactRow.recording_id, ArtifactRow.data, RecordingRow.created_at, RecordingRow.duration_s,
               RecordingRow.original_name)
        .join(RecordingRow, RecordingRow.id == ArtifactRow.recording_id)
        .where(ArtifactRow.kind == "analysis")
        .order_by(RecordingRow.created_at)
    )
    with ctx.sessions() as session:
        rows = session.execute(rows_query).all()
    records = []
    for rid, data, created, duration, name in rows:
        try:
            record = call_record_from_dict(dict(data or {}), rid, source=f"recording {name or rid[:12]}")
        except ConfigError as exc:
            if skipped is None:
                log.warning("issue mining skips %s", exc)
            else:
                skipped(str(exc))
            continue
        records.append(replace(record, recorded_at=record.recorded_at or created,
                               handle_time_s=record.handle_time_s or duration))
    return records


def mine_call_issues(ctx: Context, *, force: bool = False, hook: Hook = no_progress) -> bool:
    """Mine common issues over the stored calls (and draft FAQ entries) when calls changed.

    Without ``force``, mining runs at most every 10 minutes per process (it embeds every
    call's reason). Issues are kept by :func:`save_mined_issues`; FAQ drafts go to the
    FAQ review queue (entries already reviewed are left alone; drafts whose issue is
    gone are superseded).

    Returns:
        True when mining ran.

    Raises:
        ModelNotFoundError: a sentence encoder is not installed.
    """

    key = ctx.settings.resolved_database_url
    with _mining_lock:
        mark = _watermark(ctx)
        last = _mined_state.get(key)
        if last is not None and not force and (last[0] == mark or utcnow() - last[1] < _REMINE_EVERY):
            return False
        records = [r for r in analysed_calls(ctx) if r.reason.strip()]
        if len(records) >= 2:
            items = [r.to_item() for r in records]
            result = name_issues(mine_issues(items, hook=hook), items)
            save_mined_issues(ctx, result.issues)
            _draft_faqs(ctx, records, result)
        _mined_state[key] = (_watermark(ctx), utcnow())
        log.info("mined issues over %d calls", len(records))
        return True


def kb_entries(settings: Settings) -> list[FaqEntry]:
    """The entries of the knowledge base the IVR uses (CALLSCOPE_KB_PATH or the bundled one);
    the FAQ quality gate compares drafts with them. Empty when it cannot be read."""
    path = Path(settings.kb_path) if settings.kb_path else BUNDLED_KB
    try:
        return list(load_knowledge_base(path))
    except (ConfigError, OSError) as exc:
        log.warning("FAQ quality gate: cannot read the knowledge base %s (%s); comparing drafts with each other only", path, exc)
        return []


PREVIEW_PHRASINGS = 5000  # the newest IVR inputs, and as many call reasons, a publish preview reads


def publish_preview(ctx: Context, entry: FaqEntry) -> tuple[PublishPreview, int]:
    """What publishing ``entry`` would change in the knowledge base the IVR uses, judged on
    what callers said to the IVR (inputs and unanswered questions) and why they called (call
    reasons); returns the preview and how many entries the live knowledge base holds.

    Raises:
        ConfigError: the knowledge-base file exists but cannot be read.
    """
    kb_path = ctx.settings.kb_path or BUNDLED_KB
    live = load_knowledge_base(kb_path).entries if kb_path.exists() else []
    with ctx.sessions() as session:
        said = session.execute(
            select(IvrEventRow.data, IvrCallRow.language).join(IvrCallRow, IvrCallRow.call_sid == IvrEventRow.call_sid)
            .where(IvrEventRow.kind.in_(("input", "no_match"))).order_by(IvrEventRow.id.desc()).limit(PREVIEW_PHRASINGS)).all()
        reasons = session.execute(select(CallSummaryRow.reason, CallSummaryRow.language)
                                  .where(CallSummaryRow.reason.is_not(None)).limit(PREVIEW_PHRASINGS)).all()
    phrasings = [(str(d.get("text") or ""), d.get("language") or lang or "en") for d, lang in said]
    phrasings += [(r, lang or "en") for r, lang in reasons if r]
    return preview_publish(entry, live, phrasings), len(live)


def issue_count(ctx: Context) -> int:
    """How many common issues the last mining kept."""
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(IssueRow)) or 0)


def _draft_faqs(ctx: Context, records: list, result: IssueMiningResult) -> list[str]:  # type: ignore[type-arg]
    """Draft a FAQ entry per frequent issue into the review queue; returns the ids saved."""

    try:
        generator = load_answer_generator(ctx.settings.faq_generator)
    except ConfigError as exc:  # background mining keeps going with extractive answers
        log.error("FAQ answers stay extractive: %s", exc)
        generator = None
    drafts = draft_faqs(records, result, generator=generator, kb_entries=kb_entries(ctx.settings))
    issue_of = {faq_id_for(mined): mined.id for mined in result.issues}
    # mining saw every analysed call: drafts whose issue it no longer finds are superseded
    sync = FaqRepository(ctx.sessions).sync_mined_drafts(drafts, [issue_of.get(d.id) for d in drafts])
    log.info("FAQ drafts: %d new or refreshed of %d, %d superseded", len(sync.saved), len(drafts),
             len(sync.superseded))
    return list(sync.saved)
