"""``callscope selfservice ...``: deflection per channel, the agent queue of text
conversations, importing chat/e-mail/survey texts, cross-channel FAQ gaps."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import typer

from callscope.analysis.commands import _issue_options, _load_records
from callscope.analysis.issues import load_text_items
from callscope.db import transaction, utcnow
from callscope.context import Context
from callscope.ivr.deps import kb_path
from callscope.ivr.kb import load_knowledge_base
from callscope.selfservice.conversations import handover_queue, store_texts
from callscope.selfservice.gaps import cross_channel_gaps
from callscope.selfservice.metrics import compute_deflection
from callscope.selfservice.notify import handover_payload
from callscope.settings import get_settings

app = typer.Typer()
selfservice_app = typer.Typer(
    help="Self-service beyond the phone: help center, SMS/WhatsApp, deflection per channel.", no_args_is_help=True
)
app.add_typer(selfservice_app, name="selfservice")


def _factory():  # type: ignore[no-untyped-def]
    return Context(get_settings()).sessions


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@selfservice_app.command("metrics")
def metrics_command(
    days: float = typer.Option(None, "--days", help="Only contacts from the last N days."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Deflection per channel: IVR containment, texts answered without handover, searches without agent contact."""
    since = utcnow() - timedelta(days=days) if days else None
    with transaction(_factory()) as session:
        report = compute_deflection(session, since)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(f"{'channel':<10}{'contacts':>9}{'deflected':>11}{'rate':>8}{'handovers':>11}{'unanswered':>12}  definition")
    for c in report.channels.values():
        typer.echo(
            f"{c.channel:<10}{c.contacts:>9}{c.deflected:>11}{_pct(c.rate):>8}{c.handovers:>11}{c.unanswered:>12}  {c.definition}"
        )
    typer.echo(f"overall deflection {_pct(report.overall_rate)}; help-center votes: "
               f"{report.feedback.get('helpful', 0)} helpful, {report.feedback.get('not_helpful', 0)} not helpful")
    unhelpful = [(k, v) for k, v in report.feedback_by_entry.items() if v["not_helpful"]]
    if unhelpful:
        typer.echo("help-center entries voted not helpful: " + ", ".join(
            f"{k} ({v['not_helpful']} of {v['helpful'] + v['not_helpful']})" for k, v in unhelpful[:10]))
    if report.unanswered_questions:
        typer.echo("unanswered questions (newest first):")
        for q in report.unanswered_questions[:20]:
            typer.echo(f"  [{q['channel']}/{q['language'] or '?'}] {q['text']}")


@selfservice_app.command("queue")
def queue_command(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Text conversations waiting for an agent, oldest first, with their messages."""
    with transaction(_factory()) as session:
        payloads = [handover_payload(session, c.id) for c in handover_queue(session)]
    payloads = [p for p in payloads if p is not None]
    if as_json:
        typer.echo(json.dumps(payloads, ensure_ascii=False, indent=2))
        return
    if not payloads:
        typer.echo("no conversations waiting for an agent")
    for p in payloads:
        c = p["conversation"]
        typer.echo(f"{c['id']}  {c['channel']} {c['contact']} ({c['language']}) since {c['started_at']}, reason: {c['reason']}")
        for m in p["messages"]:
            if m["text"]:
                typer.echo(f"    {'>' if m['direction'] == 'in' else '<'} {m['text']}")


@selfservice_app.command("import")
def import_command(
    text_file: Path = typer.Argument(..., help="CSV/TSV/JSONL of chats, e-mails or survey comments."),
    text_column: str = typer.Option("text", "--text-column", help="The column holding the text."),
    channel: str = typer.Option(None, "--channel", help="chat, email or survey (default: each row's channel column)."),
) -> None:
    """Store chat / e-mail / survey texts (as mined by insights --text-file) as conversations."""
    if channel is not None and channel not in ("chat", "email", "survey"):
        raise typer.BadParameter("--channel must be chat, email or survey")
    items = load_text_items(text_file, text_column)
    with transaction(_factory()) as session:
        stored = store_texts(session, items, channel=channel)
    typer.echo(f"stored {stored} conversation(s) from {text_file}")


@selfservice_app.command("gaps")
def gaps_command(
    inputs: list[Path] = typer.Argument(None, help="Also these calls: audio, *.analysis.json files or folders."),
    kb: Path = typer.Option(None, "--kb", help="Knowledge-base file (default: CALLSCOPE_KB_PATH / the bundled demo)."),
    days: float = typer.Option(None, "--days", help="Only questions from the last N days."),
    encoders: str = typer.Option("use-multilingual,e5-small", "--encoders", help="Sentence encoders for issue mining."),
) -> None:
    """FAQ gaps across channels: unanswered questions of calls, texts and searches, mined into issues (JSON)."""
    settings = get_settings()
    knowledge = load_knowledge_base(kb or kb_path(settings))
    call_items = []
    failures = 0
    if inputs:
        records, failures = _load_records(list(inputs), settings)
        call_items = [r.to_item() for r in records]
    since = utcnow() - timedelta(days=days) if days else None
    with transaction(_factory()) as session:
        gaps = cross_channel_gaps(session, knowledge.entries, call_items=call_items, since=since,
                                  issue_options=_issue_options(encoders))
    typer.echo(json.dumps(gaps.to_dict(), ensure_ascii=False, indent=2))
    if failures:
        raise typer.Exit(code=1)
