"""Pipeline-level subcommands: ``analyze``, ``worker``, ``jobs``, ``db``."""

from __future__ import annotations

import json
from pathlib import Path

import typer


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
        output_dir.mkdir(parents=True, exist_ok=True)
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
        if failures:
            typer.echo(f"{len(failures)} file(s) failed:", err=True)
            for name, reason in failures:
                typer.echo(f"  {name}: {reason}", err=True)
            raise typer.Exit(code=1)

    @app.command("worker")
    def worker_command(
        burst: bool = typer.Option(False, help="Exit when the queue is empty."),
        name: str = typer.Option(None, help="Worker name (default: host:pid)."),
    ) -> None:
        """Run a queue worker (CALLSCOPE_QUEUE=rq, Redis at CALLSCOPE_REDIS_URL)."""
        from callscope.errors import ConfigError
        from callscope.jobs.worker import run_worker
        from callscope.settings import get_settings

        if get_settings().queue != "rq":
            raise ConfigError("`callscope worker` serves the Redis queue: set CALLSCOPE_QUEUE=rq "
                              "(the default in-process queue needs no worker)")
        run_worker(burst=burst, name=name)

    @app.command("jobs")
    def jobs_command(
        recording: str = typer.Option(None, help="Only the jobs of this recording id."),
        retry_failed: bool = typer.Option(False, "--retry-failed", help="Queue failed jobs again."),
        as_json: bool = typer.Option(False, "--json"),
    ) -> None:
        """Show processing jobs (state, stage, progress, error)."""
        from sqlalchemy import select

        from callscope.context import Context
        from callscope.jobs.queue import make_queue
        from callscope.jobs.tables import JobRow
        from callscope.models import JobState
        from callscope.settings import get_settings

        ctx = Context(get_settings())
        with ctx.sessions() as session:
            query = select(JobRow).order_by(JobRow.created_at.desc()).limit(200)
            if recording:
                query = query.where(JobRow.recording_id.startswith(recording))
            rows = list(session.scalars(query))
        if retry_failed:
            queue = make_queue(ctx)
            for row in rows:
                if row.state == JobState.FAILED:
                    typer.echo(f"retrying {row.recording_id[:12]} (was: {row.error})")
                    queue.submit(row.recording_id)
            return
        if as_json:
            typer.echo(json.dumps([{"id": r.id, "recording_id": r.recording_id, "state": r.state, "stage": r.stage,
                                    "progress": r.progress, "attempts": r.attempts, "error": r.error} for r in rows], indent=2))
            return
        for r in rows:
            typer.echo(f"{r.id[:8]}  {r.recording_id[:12]}  {r.state:<8} {r.stage or '-':<10} {r.progress:4.0%}  {r.error or ''}")

    @app.command("db")
    def db_command(action: str = typer.Argument("upgrade", help="upgrade: apply migrations")) -> None:
        """Create or upgrade the database schema (also done automatically at start-up)."""
        from callscope.context import Context
        from callscope.settings import get_settings

        ctx = Context(get_settings())
        _ = ctx.engine  # connecting runs the migrations
        typer.echo(f"database ready: {ctx.engine.url.render_as_string(hide_password=True)}")
