"""Small terminal helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Sequence

import typer


def exit_on_failures(failures: Sequence[tuple[str, str]], noun: str = "file") -> None:
    """Print ``N file(s) failed:`` with each name and reason to stderr and exit 1; no-op if none."""
    if not failures:
        return
    typer.echo(f"{len(failures)} {noun}(s) failed:", err=True)
    for name, reason in failures:
        typer.echo(f"  {name}: {reason}", err=True)
    raise typer.Exit(code=1)
