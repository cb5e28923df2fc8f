"""Whole-pipeline subcommands: ``analyze`` (files to analyses, no database) and ``demo``."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from pydantic import SecretStr

from callscope.api.app import create_app
from callscope.closed_loop import default_samples_dir
from callscope.console import exit_on_failures
from callscope.context import Context
from callscope.demo import demo_ivr_token, ensure_demo_admin, run_demo
from callscope.errors import CallscopeError, StorageError
from callscope.pipeline import CallProcessor, analysis_to_dict, file_stem
from callscope.recordings.paths import expand_audio_paths
from callscope.settings import get_settings
from callscope.storage_io import atomic_write_text

app = typer.Typer()


@app.command("analyze")
def analyze_command(
    paths: list[str] = typer.Argument(..., help="Audio files, folders (recursive) or globs."),
    output_dir: Path = typer.Option(Path("."), "--output-dir", "-o", help="Where <stem>.analysis.json goes."),
    language: str = typer.Option(None, "--language", help="Force the language (en, zh); default: detect."),
    transcripts: bool = typer.Option(False, "--transcripts", help="Also write <stem>.json transcripts."),
) -> None:
    """Transcribe, diarize and analyse calls: emotion, reason for calling, metrics."""

    settings = get_settings()
    if language:
        settings = settings.model_copy(update={"languages": [language]})
    files, missing = expand_audio_paths(paths)
    failures = [(name, "no such file or folder") for name in missing]
    processor = CallProcessor(settings)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the output folder {output_dir}: {exc.strerror or exc}") from exc
    for path in files:
        try:
            result = processor.process(path, recording_id=file_stem(path))
        except CallscopeError as exc:
            failures.append((str(path), str(exc)))
            continue
        except MemoryError:
            failures.append((str(path), "ran out of memory; lower CALLSCOPE_MAX_DURATION_S or free memory"))
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

    ctx = Context(get_settings())
    result = run_demo(ctx, calls or default_samples_dir(), typer.echo)
    typer.echo(result.summary())
    if not serve:
        raise typer.Exit(code=1 if result.calls.failed else 0)
    import uvicorn

    ensure_demo_admin(ctx, typer.echo)
    settings = ctx.settings
    if settings.kb_path is None and result.kb_path is not None:  # serve the KB the demo published to
        settings = settings.model_copy(update={"kb_path": result.kb_path})
    if not settings.twilio_auth_token.get_secret_value():  # sign-able by `callscope ivr simulate --url`
        token = demo_ivr_token(ctx)
        settings = settings.model_copy(update={"twilio_auth_token": SecretStr(token)})
        typer.echo(f"IVR webhooks: http://{host}:{port}/ivr/voice, Twilio auth token {token}")
    typer.echo(f'try a call: callscope ivr simulate --url http://{host}:{port} --say "where is my order"')
    typer.echo(f"dashboard: http://{host}:{port}/  (Ctrl+C to stop)")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", proxy_headers=False)
