"""Pipeline-level subcommands: ``analyze``, ``worker``, ``jobs``, ``db``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from callscope.console import exit_on_failures


def register(app: typer.Typer) -> None:
    @app.command("analyze")
    def analyze_command(
        paths: list[str] = typer.Argument(..., help="Audio files, folders (recursive) or globs."),
        output_dir: Path = typer.Option(Path("."), "--output-dir", "-o", help="Where <stem>.analysis.json goes."),
        language: str = typer.Option(None, "--language", help="Force the language (en, zh); default: detect."),
        transcripts: bool = typer.Option(False, "--transcripts", help="Also write <stem>.json transcripts."),
    ) -> None:
        """Transcribe, diarize and analyse calls: emotion, reason for calling, metrics."""
        from callscope.errors import CallscopeError
        from callscope.pipeline import CallProcessor, analysis_to_dict, file_stem
        from callscope.recordings.paths import expand_audio_paths
        from callscope.settings import get_settings
        from callscope.storage_io import atomic_write_text

        settings = get_settings()
        if language:
            settings = settings.model_copy(update={"languages": [language]})
        files, missing = expand_audio_paths(paths)
        failures = [(name, "no such file or folder") for name in missing]
        processor = CallProcessor(settings)
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from callscope.errors import StorageError

            raise StorageError(f"cannot create the output folder {output_dir}: {exc.strerror or exc}") from exc
        for path in files:
            try:
                result = processor.process(path, recording_id=file_stem(path))
            except CallscopeError as exc:
                failures.append((str(path), str(exc)))
                continue
            stem = file_stem(path)
            data = analysis_to_dict(result.analysis, name=stem, duration_s=result.transcript.duration_s)
            atomic_write_text(output_dir / f"{stem}.analysis.json", json.dumps(data, ensure_ascii=False, indent=2))
            if transcripts:
                atomic_write_text(output_dir / f"{stem}.json", json.dumps(result.transcript.to_dict(), ensure_ascii=False, indent=2))
            emotion = result.analysis.caller_emotion
            typer.echo(f"{stem}: [{result.analysis.language}] caller {emotion.label} ({emotion.confidence:.2f}) — {result.analysis.reason[:90]}")
        exit_on_failures(failures)

    @app.command("demo")
    def demo_command(
        calls: Path = typer.Option(None, "--calls", help="Folder of sample calls (default: samples/calls)."),
        host: str = typer.Option("127.0.0.1", help="Dashboard interface."),
        port: int = typer.Option(8000, help="Dashboard port."),
        serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the dashboard afterwards."),
    ) -> None:
        """The closed loop on the sample calls (IVR calls → recordings → issues → FAQ → IVR), then the dashboard."""
        from callscope.closed_loop import default_samples_dir
        from callscope.context import Context
        from callscope.demo import ensure_demo_admin, run_demo
        from callscope.settings import get_settings

        ctx = Context(get_settings())
        result = run_demo(ctx, calls or default_samples_dir(), typer.echo)
        summary = f"{result.recordings} calls, {result.failed} failed, {result.issues} issues, {result.drafts} FAQ drafts"
        if result.containment_before is not None and result.containment_after is not None:
            summary += (f"; IVR containment {result.containment_before:.0%} → {result.containment_after:.0%}"
                        f"{' after publishing ' + result.published if result.published else ''}")
        typer.echo(summary)
        if not serve:
            raise typer.Exit(code=1 if result.failed else 0)
        import uvicorn

        from callscope.api.app import create_app

        ensure_demo_admin(ctx, typer.echo)
        settings = ctx.settings
        if settings.kb_path is None and result.kb_path is not None:  # serve the KB the demo published to
            settings = settings.model_copy(update={"kb_path": result.kb_path})
        typer.echo(f"dashboard: http://{host}:{port}/  (Ctrl+C to stop)")
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")

    @app.command("worker")
    def worker_command(
        burst: bool = typer.Option(False, help="Exit when the queue is empty."),
        name: str = typer.Option(None, help="Worker name in RQ (default: generated)."),
    ) -> None:
        """Run a queue worker (CALLSCOPE_QUEUE=rq, Redis at CALLSCOPE_REDIS_URL).

        Start one per `cores / CALLSCOPE_CPU_THREADS` on each host; stop with SIGTERM
        (finishes the current job) — a killed worker's job is picked up by another.
        """
        from callscope.errors import ConfigError
        from callscope.jobs.worker import run_worker
        from callscope.settings import get_settings

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
        from callscope.context import Context
        from callscope.errors import CallscopeError
        from callscope.jobs.queue import InProcessQueue, make_queue, submit_waiting
        from callscope.recordings.paths import expand_audio_paths
        from callscope.settings import get_settings

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
                failures += _wait_for(ctx, queue, job_ids)
        finally:
            shutdown = getattr(queue, "shutdown", None)
            if callable(shutdown):
                shutdown()
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
        from callscope.context import Context
        from callscope.jobs.queue import RqQueue
        from callscope.jobs.runner import due_jobs, recover_stale_jobs
        from callscope.settings import get_settings

        ctx = Context(get_settings())
        if ctx.settings.queue == "rq":
            added = RqQueue(ctx).maintain()
            typer.echo(f"queued {len(added)} job(s) on Redis")
            return
        report = recover_stale_jobs(ctx)
        typer.echo(f"recovered {len(report.requeued)} job(s), failed {len(report.failed)}; "
                   f"{len(due_jobs(ctx, grace_s=0))} queued job(s) run when `callscope serve` or "
                   "`callscope jobs submit` next starts")

    @app.command("db")
    def db_command(action: str = typer.Argument("upgrade", help="upgrade: apply migrations")) -> None:
        """Create or upgrade the database schema (also done automatically at start-up)."""
        from callscope.context import Context
        from callscope.settings import get_settings

        ctx = Context(get_settings())
        _ = ctx.engine  # connecting runs the migrations
        typer.echo(f"database ready: {ctx.engine.url.render_as_string(hide_password=True)}")


def _list_jobs(recording: str | None, state: str | None, limit: int, as_json: bool) -> None:
    from sqlalchemy import select

    from callscope.context import Context
    from callscope.jobs.runner import queue_latency_s
    from callscope.jobs.tables import JobRow
    from callscope.settings import get_settings

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
    from callscope.context import Context
    from callscope.jobs.queue import make_queue
    from callscope.jobs.runner import get_job, retry_failed
    from callscope.settings import get_settings

    ctx = Context(get_settings())
    requeued = retry_failed(ctx, job_ids)
    if not requeued:
        typer.echo("no failed jobs to retry")
        return
    queue = make_queue(ctx)
    for job_id in requeued:
        typer.echo(f"retrying {job_id[:8]} ({get_job(ctx, job_id).recording_id[:12]})")
    queue.resume_pending()
    wait = getattr(queue, "wait", None)
    if callable(wait):  # in-process: the jobs run here
        _wait_for(ctx, queue, {job_id: job_id[:8] for job_id in requeued})
        queue.shutdown()  # type: ignore[attr-defined]


def _wait_for(ctx, queue, job_ids: dict[str, str]) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Wait until the jobs end; print one line each; returns (name, reason) of failed ones."""
    import time

    from callscope.domain import JobState
    from callscope.jobs.runner import get_job

    wait = getattr(queue, "wait", None)
    if callable(wait):
        wait()
    failures = []
    pending = dict(job_ids)
    while pending:
        for job_id, name in list(pending.items()):
            job = get_job(ctx, job_id)
            if job.state in (JobState.DONE, JobState.FAILED):
                del pending[job_id]
                typer.echo(f"{name}: {job.state}" + (f" — {job.error}" if job.error else ""))
                if job.state == JobState.FAILED:
                    failures.append((name, job.error or "failed"))
        if pending:
            time.sleep(1.0)
    return failures
