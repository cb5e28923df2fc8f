"""Small terminal helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePath

import typer


def failure_line(name: str, reason: str) -> str:
    """``name: reason``, without saying the name twice when the reason starts with it (audio
    errors name their file)."""
    for prefix in (f"{name}: ", f"{PurePath(name).name}: "):
        if reason.startswith(prefix):
            reason = reason[len(prefix) :]
            break
    return f"{name}: {reason}"


def exit_on_failures(failures: Sequence[tuple[str, str]], noun: str = "file") -> None:
    """Print ``N file(s) failed:`` with each name and reason to stderr and exit 1; no-op if none."""
    if not failures:
        return
    typer.echo(f"{len(failures)} {noun}(s) failed:", err=True)
    for name, reason in failures:
        typer.echo(f"  {failure_line(name, reason)}", err=True)
    raise typer.Exit(code=1)
