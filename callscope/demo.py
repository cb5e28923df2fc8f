"""``callscope demo``: the product's story on the bundled sample calls, end to end.

Simulated callers phone the IVR → the calls it transfers are recorded and arrive through
Twilio's recording callback → the pipeline processes them with the other sample calls →
common issues and FAQ drafts → the most frequent question the knowledge base lacks is
approved and published → a second round of callers is answered by the IVR, and
containment rises. The CLI then serves the dashboard.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from callscope.auth import service as auth
from callscope.closed_loop import (
    PUBLIC_BASE,
    DeliveredRecording,
    LoopIvr,
    close_the_gap,
    default_callers_file,
    default_samples_dir,
    load_callers,
    print_containment,
    print_delivered,
    print_fix,
    print_round,
    recording_label,
)
from callscope.context import Context
from callscope.domain import FaqStatus, JobState
from callscope.errors import ConfigError, StorageError
from callscope.insights.faq_review import FaqRepository
from callscope.insights.mining import issue_report, mine_call_issues
from callscope.ivr.kb import BUNDLED_KB
from callscope.ivr.security import local_auth_token
from callscope.jobs.queue import InProcessQueue
from callscope.jobs.runner import get_job, jobs_for
from callscope.recordings.paths import expand_audio_paths
from callscope.recordings.tables import RecordingRow
from callscope.selfservice import loop as text_loop

log = logging.getLogger(__name__)

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    recordings: int
    failed: int
    issues: int
    drafts: int
    containment_before: float | None = None
    containment_after: float | None = None
    published: str | None = None  # the FAQ entry the closed loop published
    kb_path: Path | None = None  # the demo's knowledge base (the IVR serves it)


def demo_kb_path(ctx: Context) -> Path:
    """The demo's own knowledge base: ``<data_dir>/demo/knowledge_base.yaml``."""
    return Path(ctx.settings.data_dir) / "demo" / "knowledge_base.yaml"


def demo_ivr_token(ctx: Context) -> str:
    """The auth token the served demo IVR validates signatures with: the configured
    TWILIO_AUTH_TOKEN, else a random one kept in the data dir (so ``callscope ivr simulate
    --url`` can sign its requests)."""
    return local_auth_token(ctx.settings)


def reset_demo_kb(ctx: Context) -> Path:
    """Start the demo from the knowledge base as shipped (a fresh copy in the data dir;
    the packaged file and ``CALLSCOPE_KB_PATH`` are never written)."""
    import shutil

    target = demo_kb_path(ctx)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(BUNDLED_KB, target)
    except OSError as exc:
        raise StorageError(f"cannot write the demo knowledge base {target}: {exc.strerror or exc}") from exc
    return target


def run_demo(ctx: Context, calls_dir: Path, echo: Echo, *, callers_file: Path | None = None) -> DemoResult:
    """The product's story: IVR calls → recordings → pipeline → issues → FAQ → IVR.

    Round one of simulated callers meets the knowledge base as shipped; the calls it
    transfers arrive as recordings through Twilio's recording callback and are processed
    with the other sample calls; the most frequent question the knowledge base lacks
    gets its FAQ draft approved and published; round two of callers, asking the same
    things in other words, is answered by the IVR. Without the caller scripts (an
    installed package has no ``samples/``) only the calls are processed.
    """

    files, _ = expand_audio_paths([calls_dir])
    if not files:
        raise ConfigError(f"no audio files in {calls_dir}; pass --calls DIR")
    callers_file = callers_file or default_callers_file()
    callers = load_callers(callers_file) if callers_file.is_file() else None
    queue = InProcessQueue(ctx, workers=1)
    result = None
    try:
        if callers is None:
            echo(f"(no caller scripts at {callers_file}: the IVR part of the demo is skipped)")
            return _process_and_report(ctx, files, calls_dir, queue, echo, steps=4)
        kb_path = reset_demo_kb(ctx)
        with LoopIvr(ctx.settings, kb_path, queue) as ivr:
            echo(f"1/6  IVR, round one: {len(callers.before)} simulated callers "
                 f"(knowledge base as shipped: {kb_path})")
            before = ivr.run_round("before", callers.before)
            print_round(before, echo)
            texts = text_loop.text_before(ivr.client, PUBLIC_BASE, ivr.token, ivr.sessions)  # the same gap, by SMS
            delivered = ivr.deliver_recordings(before, default_samples_dir())
            echo(f"     {len(delivered)} transferred call(s) recorded with the agent; "
                 "Twilio's recording callback delivers each one:")
            print_delivered(delivered, echo)
            result = _process_and_report(ctx, files, calls_dir, queue, echo, steps=6, first=2, delivered=delivered)
            echo("5/6  closing the gap: the most frequent question the knowledge base cannot answer")
            fix = close_the_gap(ctx, kb_path, echo=echo)
            print_fix(fix, kb_path, echo)
            echo(f"6/6  IVR, round two: {len(callers.after)} callers ask the same kinds of things in other words")
            after = ivr.run_round("after", callers.after)
            print_round(after, echo)
            if fix is not None:
                outage = [c for c in after.calls if fix.entry.id in c.answered]
                if outage:
                    echo(f"     the IVR now answers {len(outage)} of them with {fix.entry.id}, "
                         f"e.g. \"{outage[0].script.says[0]}\"")
            print_containment(before, after, echo)
            if fix is not None:
                texts = text_loop.text_after(texts, ivr.client, PUBLIC_BASE, ivr.token, ivr.sessions, fix.entry.id)
            text_loop.print_text_loop(texts, echo)
        return replace(result, containment_before=before.containment, containment_after=after.containment,
                       published=fix.entry.id if fix else None, kb_path=kb_path)
    finally:
        queue.shutdown()


def _process_and_report(
    ctx: Context, files: list[Path], calls_dir: Path, queue: InProcessQueue, echo: Echo, *, steps: int, first: int = 1,
    delivered: Sequence[DeliveredRecording] = (),
) -> DemoResult:
    """Store the sample calls, process what is not processed yet, print calls, issues and drafts."""

    n = first
    echo(f"{n}/{steps}  storing {len(files)} sample calls from {calls_dir}")
    recordings = [ctx.store.ingest_file(path, source="demo").recording for path in files]
    known = {r.id for r in recordings}
    with ctx.sessions() as session:  # recordings the IVR delivered (maybe not among the samples)
        twilio = list(session.scalars(select(RecordingRow.id).where(RecordingRow.source == "twilio")))
    recordings += [ctx.store.get(rid) for rid in twilio if rid not in known]
    todo = [r for r in recordings if ctx.store.get_artifact(r.id, "analysis") is None]
    echo(f"     transcribing, diarizing and analysing {len(todo)} call(s) "
         f"({sum(r.duration_s for r in todo) / 60:.1f} min of audio; {len(recordings) - len(todo)} already done)")
    started = time.perf_counter()
    job_ids = []
    for rec in todo:
        active = [j for j in jobs_for(ctx, rec.id) if j.state in (JobState.QUEUED, JobState.RUNNING)]
        job_ids.append(active[-1].id if active else queue.submit(rec.id))  # the IVR's are queued already
    for done, job_id in enumerate(job_ids, start=1):
        while get_job(ctx, job_id).state in (JobState.QUEUED, JobState.RUNNING):
            time.sleep(0.5)
        job = get_job(ctx, job_id)
        echo(f"     [{done}/{len(job_ids)}] {job.state}{' — ' + job.error if job.error else ''}")
    if job_ids:
        echo(f"     done in {time.perf_counter() - started:.0f} s")
    failed = sum(1 for j in job_ids if get_job(ctx, j).state == JobState.FAILED)

    n += 1
    echo(f"{n}/{steps}  calls")
    echo(f"     {'call':<30} {'lang':<4} {'min':>4}  {'caller':<10} {'talk agent/caller':<18} reason")
    by_recording = {d.recording_id: d for d in delivered if d.recording_id}
    for rec in recordings:
        analysis = ctx.store.get_artifact(rec.id, "analysis")
        if analysis is None:
            continue
        metrics = analysis.get("metrics") or {}
        ratio = metrics.get("talk_ratio") or {}
        talk = f"{ratio.get('agent', 0):.0%} / {ratio.get('caller', 0):.0%}"
        name = recording_label(rec.original_name, call_sid=rec.call_id, delivered=by_recording.get(rec.id))
        echo(f"     {name[:30]:<30} {analysis['language']:<4} {rec.duration_s / 60:4.1f}  "
             f"{analysis['caller_emotion']:<10} {talk:<18} {analysis['reason'][:70]}")

    n += 1
    echo(f"{n}/{steps}  common issues and FAQ drafts (the closed loop: calls → FAQ → IVR)")

    mine_call_issues(ctx, force=True)
    report = issue_report(ctx, since=datetime(1970, 1, 1))
    for issue in report.issues:
        echo(f"     {issue.count:>2} call(s)  {issue.label}   [{', '.join(issue.keywords[:5])}]")
    drafts = FaqRepository(ctx.sessions).entries(FaqStatus.DRAFT)
    for draft in drafts:
        lang = "en" if draft.questions.get("en") else "zh"
        question = (draft.questions.get(lang) or ("?",))[0]
        answer = draft.answers.get(lang, "")
        echo(f"     FAQ draft {draft.id}: Q: {question[:70]}")
        echo(f"        A: {answer[:100]}{'…' if len(answer) > 100 else ''}  "
             f"({'self-service' if draft.self_service else 'needs an agent'}, {draft.frequency} call(s))")
    echo("     review, approve and publish them to the IVR knowledge base on the dashboard's Insights page")
    return DemoResult(len(recordings), failed, len(report.issues), len(drafts))


def ensure_demo_admin(ctx: Context, echo: Echo) -> None:
    """Create an ``admin`` user with a fresh password when the database has no user."""

    if auth.list_users(ctx):
        return
    password = secrets.token_urlsafe(9)
    auth.create_user(ctx, "admin", password, auth.UserRole.parse("admin"))
    echo(f"dashboard login: admin / {password}")
