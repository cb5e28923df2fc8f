"""``callscope demo``: the product's story on the bundled sample calls.

Ingest the sample calls → process them (transcribe, diarize, analyse) → print a summary
per call → mine common issues and draft FAQ entries → show what the IVR's knowledge
base does not cover yet. The CLI then serves the dashboard.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from callscope.context import Context
from callscope.jobs.queue import InProcessQueue
from callscope.jobs.runner import get_job
from callscope.models import FaqStatus, JobState
from callscope.recordings.paths import expand_audio_paths

log = logging.getLogger(__name__)

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DemoResult:
    recordings: int
    failed: int
    issues: int
    drafts: int


def default_samples_dir() -> Path:
    """``samples/calls`` of a source checkout."""
    return Path(__file__).resolve().parent.parent / "samples" / "calls"


def run_demo(ctx: Context, calls_dir: Path, echo: Echo) -> DemoResult:
    """Process the sample calls and print what callscope found in them."""
    files, _ = expand_audio_paths([calls_dir])
    if not files:
        from callscope.errors import ConfigError

        raise ConfigError(f"no audio files in {calls_dir}; pass --calls DIR")
    echo(f"1/4  storing {len(files)} sample calls from {calls_dir}")
    recordings = [ctx.store.ingest_file(path, source="demo").recording for path in files]

    todo = [r for r in recordings if ctx.store.get_artifact(r.id, "analysis") is None]
    echo(f"2/4  transcribing, diarizing and analysing {len(todo)} call(s) "
         f"({sum(r.duration_s for r in todo) / 60:.1f} min of audio; {len(recordings) - len(todo)} already done)")
    queue = InProcessQueue(ctx, workers=1)
    started = time.perf_counter()
    job_ids = [queue.submit(r.id) for r in todo]
    for done, job_id in enumerate(job_ids, start=1):
        while get_job(ctx, job_id).state in (JobState.QUEUED, JobState.RUNNING):
            time.sleep(0.5)
        job = get_job(ctx, job_id)
        echo(f"     [{done}/{len(job_ids)}] {job.state}{' — ' + job.error if job.error else ''}")
    queue.shutdown()
    if job_ids:
        echo(f"     done in {time.perf_counter() - started:.0f} s")
    failed = sum(1 for j in job_ids if get_job(ctx, j).state == JobState.FAILED)

    echo("3/4  calls")
    echo(f"     {'call':<22} {'lang':<4} {'min':>4}  {'caller':<10} {'talk agent/caller':<18} reason")
    for rec in recordings:
        analysis = ctx.store.get_artifact(rec.id, "analysis")
        if analysis is None:
            continue
        metrics = analysis.get("metrics") or {}
        ratio = metrics.get("talk_ratio") or {}
        talk = f"{ratio.get('agent', 0):.0%} / {ratio.get('caller', 0):.0%}"
        echo(f"     {Path(rec.original_name).stem[:22]:<22} {analysis['language']:<4} {rec.duration_s / 60:4.1f}  "
             f"{analysis['caller_emotion']:<10} {talk:<18} {analysis['reason'][:70]}")

    echo("4/4  common issues and FAQ drafts (the closed loop: calls → FAQ → IVR)")
    from callscope.analysis.tables import FaqRepository
    from callscope.api.insights import issue_report, mine_call_issues

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
    from callscope.api import auth

    if auth.list_users(ctx):
        return
    password = secrets.token_urlsafe(9)
    auth.create_user(ctx, "admin", password, auth.UserRole.parse("admin"))
    echo(f"dashboard login: admin / {password}")
