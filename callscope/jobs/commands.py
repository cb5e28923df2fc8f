"""``callscope worker`` (an RQ worker) and ``callscope jobs …`` (list, submit, retry, recover)."""

from __future__ import annotations

import json

import typer

from callscope.console import exit_on_failures
from callscope.context import Context
from callscope.domain import JobState
from callscope.errors import CallscopeError, ConfigError
from callscope.jobs.queue import InProcessQueue, RqQueue, make_queue, submit_waiting, wait_for_jobs
from callscope.jobs.runner import due_jobs, get_job, queue_latency_s, recover_stale_jobs, retry_failed
from callscope.jobs.tables import JobRow
from callscope.jobs.worker import run_worker
from callscope.recordings.paths import expand_audio_paths
from callscope.settings import get_settings

app = typer.Typer()


@app.command("worker")
def worker_command(
    burst: bool = typer.Option(False, help="Exit when the queue is empty."),
    name: str = typer.Option(None, help="Worker name in RQ (default: generated)."),
) -> None:
    """Run a queue worker (CALLSCOPE_QUEUE=rq, Redis at CALLSCOPE_REDIS_URL).

    Start one per `cores / CALLSCOPE_CPU_THREADS` on each host; stop with SIGTERM
    (finishes the current job) — a killed worker's job is picked up by another.
    """

    if get_settings().queue != "rq":
        raise ConfigError("`callscope worker` serves the Redis queue: set CALLSCOPE_QUEUE=rq "
                          "(the default in-process queue needs no worker)")
    run_worker(burst=burst, name=name)

jobs_app = typer.Typer(help="Processing jobs: list, submit, retry, recover.", invoke_without_command=True,
                       no_args_is_help=False)
app.add_typer(jobs_app, name="jobs")


@jobs_app.callback()
def jobs_command(
    typer_ctx: typer.Context,
    recording: str = typer.Option(None, help="Only the jobs of this recording id (or prefix)."),
    state: str = typer.Option(None, help="Only jobs in this state: queued, running, done, failed."),
    limit: int = typer.Option(200, help="How many to show (newest first)."),
    retry_failed: bool = typer.Option(False, "--retry-failed", help="Queue failed jobs again."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Show processing jobs (state, stage, progress, attempts, error)."""
    if typer_ctx.invoked_subcommand is not None:
        return
    if retry_failed:
        _retry(None)
        return
    _list_jobs(recording, state, limit, as_json)


@jobs_app.command("submit")
def jobs_submit_command(
    paths: list[str] = typer.Argument(..., help="Audio files, folders (recursive) or globs."),
    wait: bool = typer.Option(None, "--wait/--no-wait",
                              help="Wait until the jobs finish (default: yes in-process, no with rq)."),
    full_wait_s: float = typer.Option(None, "--full-wait", help="When the queue is full, wait this many "
                                      "seconds for room before giving up (default: wait as long as needed)."),
    source: str = typer.Option("cli", help="Where the recordings come from."),
) -> None:
    """Store recordings and queue them for processing (transcribe, diarize, analyze)."""

    ctx = Context(get_settings())
    _ = ctx.engine  # a clear error before anything else if the database is unreachable
    queue = make_queue(ctx)
    in_process = isinstance(queue, InProcessQueue)
    files, missing = expand_audio_paths(paths)
    failures = [(name, "no such file or folder") for name in missing]
    job_ids: dict[str, str] = {}
    try:
        for path in files:
            try:
                recording = ctx.store.ingest_file(path, source=source).recording
                job_ids[submit_waiting(queue, recording.id, full_wait_s)] = str(path)
            except CallscopeError as exc:
                failures.append((str(path), str(exc)))
        typer.echo(f"queued {len(job_ids)} job(s)" + (" on Redis" if not in_process else ""))
        if wait if wait is not None else in_process:
            failures += _wait_for(ctx, job_ids)
    finally:
        queue.shutdown()
    exit_on_failures(failures)


@jobs_app.command("retry")
def jobs_retry_command(
    job_ids: list[str] = typer.Argument(None, help="Job ids (default: every failed job)."),
) -> None:
    """Queue failed jobs again, with fresh attempts (after fixing their cause)."""
    _retry(job_ids or None)


@jobs_app.command("recover")
def jobs_recover_command() -> None:
    """Queue again the jobs of dead workers and (rq) the queued jobs Redis lost."""

    ctx = Context(get_settings())
    if ctx.settings.queue == "rq":
        added = RqQueue(ctx).maintain()
        typer.echo(f"queued {len(added)} job(s) on Redis")
        return
    report = recover_stale_jobs(ctx)
    typer.echo(f"recovered {len(report.requeued)} job(s), failed {len(report.failed)}; "
               f"{len(due_jobs(ctx, grace_s=0))} queued job(s) run when `callscope serve` or "
               "`callscope jobs submit` next starts")


def _list_jobs(recording: str | None, state: str | None, limit: int, as_json: bool) -> None:
    from sqlalchemy import select

    ctx = Context(get_settings())
    with ctx.sessions() as session:
        query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
        if recording:
            query = query.where(JobRow.recording_id.startswith(recording))
        if state:
            query = query.where(JobRow.state == state.lower())
        rows = list(session.scalars(query))
    if as_json:
        typer.echo(json.dumps([{
            "id": r.id, "recording_id": r.recording_id, "state": r.state, "stage": r.stage,
            "progress": round(r.progress or 0.0, 4), "attempts": r.attempts, "worker": r.worker, "error": r.error,
            "created_at": r.created_at.isoformat() if r.created_at else None,
            "started_at": r.started_at.isoformat() if r.started_at else None,
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "queue_latency_s": queue_latency_s(r),
        } for r in rows], indent=2))
        return
    if not rows:
        typer.echo("no jobs")
        return
    for r in rows:
        typer.echo(f"{r.id[:8]}  {r.recording_id[:12]}  {r.state:<8} {r.stage or '-':<10} {r.progress or 0.0:4.0%}  "
                   f"try {r.attempts}  {r.error or ''}".rstrip())


def _retry(job_ids: list[str] | None) -> None:
    ctx = Context(get_settings())
    requeued = retry_failed(ctx, job_ids)
    if not requeued:
        typer.echo("no failed jobs to retry")
        return
    queue = make_queue(ctx)
    for job_id in requeued:
        typer.echo(f"retrying {job_id[:8]} ({get_job(ctx, job_id).recording_id[:12]})")
    queue.resume_pending()
    try:
        if isinstance(queue, InProcessQueue):  # the jobs run here
            _wait_for(ctx, {job_id: job_id[:8] for job_id in requeued})
    finally:
        queue.shutdown()


def _wait_for(ctx: Context, job_ids: dict[str, str]) -> list[tuple[str, str]]:
    """Wait until the jobs end; print one line each; returns (name, reason) of failed ones."""

    failures = []
    for job in wait_for_jobs(ctx, job_ids, poll_s=1.0):
        name = job_ids[job.id]
        typer.echo(f"{name}: {job.state}" + (f" — {job.error}" if job.error else ""))
        if job.state == JobState.FAILED:
            failures.append((name, job.error or "failed"))
    return failures
