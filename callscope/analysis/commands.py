"""``callscope`` subcommands for analysis: redact (and insights/faq, added alongside)."""

from __future__ import annotations

import sys

import typer


def register(app: typer.Typer) -> None:
    @app.command("redact")
    def redact_command(
        language: str = typer.Option(None, "--language", help="en or zh (default: detect)."),
    ) -> None:
        """Redact PII (cards, phones, emails, IDs, spoken digits) from text on stdin to stdout."""
        from callscope.analysis.pii import redact_text

        text = sys.stdin.read()
        sys.stdout.write(redact_text(text, language=language).text)
