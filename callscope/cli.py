"""The ``callscope`` command: one entry point, one subcommand per job.

Each subpackage contributes its subcommands through ``<pkg>/commands.py``, a module
with ``register(app)``; heavy libraries are imported inside the command bodies so
``callscope --help`` stays fast. Errors from the library end as ``error: <message>``
and exit status 1.
"""

from __future__ import annotations

import importlib
import logging
import sys

import typer

from callscope.errors import CallscopeError

COMMAND_MODULES = (
    "callscope.recordings.commands",
    "callscope.transcription.commands",
    "callscope.diarization.commands",
    "callscope.analysis.commands",
    "callscope.ivr.commands",
    "callscope.selfservice.commands",
    "callscope.api.commands",
    "callscope.commands",
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


def _register_all() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


_register_all()


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
    except Exception as exc:  # click usage errors carry their own exit codes
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise
    sys.exit(code if isinstance(code, int) else 0)
