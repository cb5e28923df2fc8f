"""``callscope ingest`` and ``callscope recordings``."""

from __future__ import annotations

import json

import typer

from callscope.console import exit_on_failures
from callscope.context import Context
from callscope.errors import CallscopeError
from callscope.recordings.paths import expand_audio_paths
from callscope.settings import get_settings

app = typer.Typer()


@app.command("ingest")
def ingest_command(
    paths: list[str] = typer.Argument(..., help="Audio files, folders (recursive) or globs."),
    source: str = typer.Option("cli", help="Where the recordings come from."),
    agent: str = typer.Option(None, help="Agent name or id for these recordings."),
    language: str = typer.Option(None, help="Language of the calls (en, zh), if known."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON line per file."),
) -> None:
    """Store recordings once (content-addressed), with their metadata."""

    ctx = Context(get_settings())
    files, missing = expand_audio_paths(paths)
    failures = [(p, "no such file or folder") for p in missing]
    for path in files:
        try:
            result = ctx.store.ingest_file(path, source=source, agent=agent, language=language)
        except CallscopeError as exc:
            failures.append((str(path), str(exc)))
            if as_json:
                typer.echo(json.dumps({"file": str(path), "error": str(exc)}))
            continue
        rec = result.recording
        if as_json:
            typer.echo(json.dumps({"file": str(path), "id": rec.id, "created": result.created,
                                   "duration_s": round(rec.duration_s, 3), "channels": rec.channels}))
        else:
            state = "stored" if result.created else "already stored"
            typer.echo(f"{state}: {path} -> {rec.id[:12]} ({rec.duration_s:.1f} s, {rec.channels} ch, {rec.codec})")
    exit_on_failures(failures)


@app.command("recordings")
def list_command(
    limit: int = typer.Option(20, help="How many to show (newest first)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List stored recordings."""

    recs = Context(get_settings()).store.list(limit=limit)
    if as_json:
        typer.echo(json.dumps([{"id": r.id, "name": r.original_name, "duration_s": r.duration_s,
                                "channels": r.channels, "source": r.source,
                                "created_at": r.created_at.isoformat()} for r in recs], indent=2))
        return
    if not recs:
        typer.echo("no recordings stored yet: `callscope ingest FILES` stores some", err=True)
    for r in recs:
        typer.echo(f"{r.id[:12]}  {r.created_at:%Y-%m-%d %H:%M}  {r.duration_s:7.1f}s  {r.channels}ch  {r.original_name}")
