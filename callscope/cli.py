"""The ``callscope`` command: one entry point, one subcommand per job.

Each unit contributes its subcommands through its ``commands.py``, a module with a
Typer ``app`` that is added here; heavy libraries (models) are imported inside the
command bodies so ``callscope --help`` stays fast. Errors from the library end as
``error: <message>`` and exit status 1.
"""

from __future__ import annotations

import logging
import sys

import click
import typer

from callscope import commands as pipeline_commands
from callscope.analysis import commands as analysis_commands
from callscope.api import commands as api_commands
from callscope.diarization import commands as diarization_commands
from callscope.errors import CallscopeError
from callscope.ivr import commands as ivr_commands
from callscope.jobs import commands as jobs_commands
from callscope.migrations import commands as db_commands
from callscope.qa import commands as qa_commands
from callscope.recordings import commands as recordings_commands
from callscope.selfservice import commands as selfservice_commands
from callscope.transcription import commands as transcription_commands

UNIT_APPS = (
    recordings_commands.app,
    transcription_commands.app,
    diarization_commands.app,
    analysis_commands.app,
    ivr_commands.app,
    selfservice_commands.app,
    qa_commands.app,
    api_commands.app,
    pipeline_commands.app,
    jobs_commands.app,
    db_commands.app,
)

app = typer.Typer(
    name="callscope",
    help="Self-hosted call-center speech analytics and voice IVR (offline, English and Mandarin).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details.")) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


for unit_app in UNIT_APPS:
    app.add_typer(unit_app)


# click's usage errors, and those of the copy of click that newer typer releases ship inside typer
USAGE_ERRORS: tuple[type[Exception], ...] = (click.ClickException,) + (
    (typer.TyperException,) if hasattr(typer, "TyperException") else ()
)


def main() -> None:
    """Console-script entry point: run the app, turning callscope errors into messages."""
    try:
        # standalone_mode=False makes click return typer.Exit's code instead of exiting
        code = app(standalone_mode=False)
    except CallscopeError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # usage errors carry their own message and exit code
        if isinstance(exc, USAGE_ERRORS):
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            else:
                typer.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
