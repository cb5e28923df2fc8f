"""``callscope`` subcommands for analysis: redact, insights (common issues) and faq (drafts, review, publish)."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

from callscope.analysis.embeddings import ENCODERS
from callscope.analysis.faq import FaqOptions, draft_faqs, export_faqs, faq_id_for, faq_to_dict, kb_gaps
from callscope.analysis.issues import (
    ANALYSIS_SUFFIX,
    CallRecord,
    IssueMiningResult,
    IssueModel,
    IssueOptions,
    assign_issues,
    call_record_from_dict,
    load_call_record,
    load_text_items,
    mine_issues,
    since_filter,
)
from callscope.analysis.pii import redact_text
from callscope.analysis.topic_names import name_issues
from callscope.context import Context
from callscope.db import transaction
from callscope.domain import FaqStatus
from callscope.errors import CallscopeError
from callscope.insights.faq_review import FaqRepository
from callscope.insights.mining import analysed_calls, kb_entries
from callscope.ivr.kb import load_knowledge_base
from callscope.pipeline import analyze_file
from callscope.selfservice.conversations import questions
from callscope.selfservice.gaps import conversation_items
from callscope.settings import Settings, get_settings

AUDIO_SUFFIXES = (".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".mp4", ".aac", ".webm", ".amr", ".wma")


def _parse_since(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value).date() if "T" in value or " " in value else date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD") from exc


def _expand_inputs(paths: list[Path]) -> list[Path]:
    """Audio files and *.analysis.json files; a folder contributes its *.analysis.json files."""

    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob(f"*{ANALYSIS_SUFFIX}") if p.is_file())
            if not found:
                typer.echo(f"warning: {path}: no *{ANALYSIS_SUFFIX} files", err=True)
            out.extend(found)
        else:
            out.append(path)
    return out


def _load_records(paths: list[Path], settings: Settings) -> tuple[list[CallRecord], int]:
    """Read analysis files (analysing audio files first); returns (records, failures)."""

    records: list[CallRecord] = []
    failures = 0
    seen: set[str] = set()
    for path in _expand_inputs(paths):
        try:
            if not path.exists():
                raise FileNotFoundError(path)
            if path.name.endswith(ANALYSIS_SUFFIX) or path.suffix.lower() == ".json":
                record = load_call_record(path)
            elif path.suffix.lower() in AUDIO_SUFFIXES:
                record = call_record_from_dict(analyze_file(path, settings), path.stem, source=str(path))
            else:
                typer.echo(f"error: {path}: not an audio file or a *{ANALYSIS_SUFFIX} file; skipped", err=True)
                failures += 1
                continue
        except FileNotFoundError:
            typer.echo(f"error: {path}: file not found; skipped", err=True)
            failures += 1
            continue
        except CallscopeError as exc:
            typer.echo(f"error: {exc}; skipped", err=True)
            failures += 1
            continue
        if record.id in seen:
            typer.echo(f"error: {path}: a call named {record.id!r} was already read; skipped", err=True)
            failures += 1
            continue
        seen.add(record.id)
        records.append(record)
    return records, failures


def _issue_options(encoders: str) -> Any:
    names = tuple(n.strip() for n in encoders.split(",") if n.strip())
    unknown = [n for n in names if n not in ENCODERS]
    if not names or unknown:
        raise typer.BadParameter(
            f"unknown encoder(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(ENCODERS)}"
        )
    return IssueOptions(encoders=names)


TEXT_PREFIX = "text:"


def _split_members(ids: tuple[str, ...] | list[str]) -> dict[str, list[Any]]:
    """Member ids by kind: call stems, and text rows (ids ``text:<row>``) as ints."""
    out: dict[str, list[Any]] = {"calls": [], "texts": []}
    for member in ids:
        if member.startswith(TEXT_PREFIX):
            out["texts"].append(int(member[len(TEXT_PREFIX) :]))
        else:
            out["calls"].append(member)
    return out


def _print_insights(result: IssueMiningResult, fmt: str, keys: tuple[str, ...]) -> None:
    """Print issues; ``keys`` names the member lists shown ("calls", "texts" or both)."""
    if fmt == "json":
        issues = []
        for issue in result.issues:
            d = issue.to_dict()
            d.pop("members", None)
            split = _split_members(issue.issue.members)
            issues.append({"label": d["label"], "keywords": d["keywords"], **{k: split[k] for k in keys}, **d})
        left = _split_members(result.unclustered)
        unclustered: Any = left[keys[0]] if len(keys) == 1 else {k: left[k] for k in keys}
        out = {"issues": issues, "unclustered": unclustered, "n_items": result.n_items}
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(result.issues)} issues from {result.n_items} items")
    for column in ("#", "issue", "keywords", "count", "share", "handle time", "sentiment", "members"):
        table.add_column(column)
    for n, issue in enumerate(result.issues, start=1):
        aht = "" if issue.avg_handle_time_s is None else f"{issue.avg_handle_time_s:.0f} s"
        sent = "" if issue.avg_sentiment is None else f"{issue.avg_sentiment:+.2f}"
        ids = list(issue.issue.members)
        table.add_row(
            str(n), issue.label, ", ".join(issue.issue.keywords[:5]), str(issue.frequency),
            f"{issue.issue.share:.0%}", aht, sent, ", ".join(ids[:6]) + (" …" if len(ids) > 6 else ""),
        )  # fmt: skip
    if result.unclustered:
        table.add_row(
            "-", "(unclustered)", "", str(len(result.unclustered)), "", "", "", ", ".join(result.unclustered[:6])
        )
    Console().print(table)


def _repository(settings: Settings) -> FaqRepository:
    return FaqRepository(Context(settings).sessions)


def _kb_path(kb: Path | None, settings: Settings) -> Path:
    path = kb or settings.kb_path
    if path is None:
        raise typer.BadParameter("no knowledge base file: pass --kb FILE or set CALLSCOPE_KB_PATH")
    return Path(path)


def _faq_rows(entries: list[Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(entries)} FAQ entries")
    for column in ("id", "status", "calls", "self-service", "question", "answer"):
        table.add_column(column)
    for e in entries:
        question = next((qs[0] for qs in e.questions.values() if qs), "")
        answer = next(iter(e.answers.values()), "")
        table.add_row(e.id, e.status.value, str(e.frequency), "yes" if e.self_service else "no", question, answer)
    Console().print(table)


app = typer.Typer()


@app.command("redact")
def redact_command(
    language: str = typer.Option(None, "--language", help="en or zh (default: detect)."),
) -> None:
    """Redact PII (cards, phones, emails, IDs, spoken digits, names, street addresses) from stdin to stdout."""

    text = sys.stdin.read()
    sys.stdout.write(redact_text(text, language=language).text)


@app.command("insights")
def insights_command(
    inputs: list[Path] = typer.Argument(None, help="Audio files, *.analysis.json files, or folders of them."),
    fmt: str = typer.Option("table", "--format", help="json or table."),
    since: str = typer.Option(None, "--since", help="Only calls recorded on/after this date (YYYY-MM-DD)."),
    text_file: Path = typer.Option(
        None, "--text-file", help="Mine a CSV/JSONL of chats, e-mails or survey comments."
    ),
    text_column: str = typer.Option("text", "--text-column", help="The text column of --text-file."),
    encoders: str = typer.Option(
        "use-multilingual,e5-small", "--encoders", help="Sentence encoders, comma-separated."
    ),
    save: bool = typer.Option(False, "--save", help="Store the issues in the database."),
    save_model: Path = typer.Option(
        None, "--save-model", help="Write the fitted issue model to FILE (.npz) for later --model runs."
    ),
    model_file: Path = typer.Option(
        None,
        "--model",
        help="Assign the inputs to the issues of a model saved with --save-model instead of re-clustering; "
        "inputs that fit no known issue are listed as unclustered (run without --model to re-cluster).",
    ),
) -> None:
    """Mine the common issues callers raise (no preset number of issues)."""
    from dataclasses import replace

    if fmt not in ("json", "table"):
        raise typer.BadParameter("--format must be json or table")
    if not inputs and text_file is None:
        raise typer.BadParameter("give audio/analysis files or folders, or --text-file FILE")
    options = _issue_options(encoders)
    model = IssueModel.load(model_file) if model_file is not None else None
    since_day = _parse_since(since)
    settings = get_settings()
    failures = 0
    items = []
    keys: tuple[str, ...] = ()
    if inputs:
        records, failures = _load_records(list(inputs), settings)
        if since_day is not None:
            undated = sum(r.recorded_at is None for r in records)
            if undated:
                typer.echo(f"warning: {undated} call(s) have no recording date; kept", err=True)
        items += [r.to_item() for r in records]
        keys += ("calls",)
    if text_file is not None:
        # Chats, e-mails and survey comments are mined into the same issues as the calls.
        texts = load_text_items(text_file, text_column)
        items += [replace(t, id=f"{TEXT_PREFIX}{t.id}") for t in texts]
        keys += ("texts",)
    if not items and failures:
        typer.echo("nothing to mine: none of the inputs could be read", err=True)
        raise typer.Exit(code=1)
    selected = since_filter(items, since_day)
    if model is not None:
        result = assign_issues(model, selected, options)
        if result.unclustered:
            typer.echo(
                f"note: {len(result.unclustered)} of {result.n_items} item(s) fit none of the model's "
                f"{len(model.issue_ids)} issues; run without --model to re-cluster (and --save-model to keep it)",
                err=True,
            )
    else:
        result = name_issues(mine_issues(selected, options), selected)
    _print_insights(result, fmt, keys)
    if save_model is not None:
        result.model.save(save_model)
        typer.echo(f"issue model ({len(result.model.issue_ids)} issues) written to {save_model}", err=True)
    if save:
        _repository(settings).save_issues(i.to_dict() for i in result.issues)
    if failures:
        raise typer.Exit(code=1)

faq_app = typer.Typer(help="FAQ drafts from calls: draft, review (approve/reject), publish to the IVR KB, export.")
app.add_typer(faq_app, name="faq")


@faq_app.command("draft")
def faq_draft_command(
    inputs: list[Path] = typer.Argument(None, help="Audio files, *.analysis.json files, or folders of them."),
    from_db: bool = typer.Option(False, "--from-db", help="Also use the analysed calls stored in the database."),
    min_frequency: int = typer.Option(2, "--min-frequency", help="Draft issues asked in at least this many calls."),
    encoders: str = typer.Option(
        "use-multilingual,e5-small", "--encoders", help="Sentence encoders for issue mining."
    ),
    fmt: str = typer.Option("table", "--format", help="json or table."),
) -> None:
    """Mine issues from calls and store FAQ drafts (status draft) in the database."""

    if not inputs and not from_db:
        raise typer.BadParameter("give analysis files or folders, and/or --from-db")
    settings = get_settings()
    records, failures = _load_records(list(inputs or []), settings)
    if from_db:
        known = {r.id for r in records}
        stored = analysed_calls(Context(settings), skipped=lambda reason: typer.echo(f"error: {reason}; skipped", err=True))
        records += [r for r in stored if r.id not in known]
    items = [r.to_item() for r in records]
    result = name_issues(mine_issues(items, _issue_options(encoders)), items)
    drafts = draft_faqs(records, result, FaqOptions(min_frequency=min_frequency, generator=settings.faq_generator),
                        kb_entries=kb_entries(settings))
    issue_of = {faq_id_for(i): i.id for i in result.issues}
    repo = _repository(settings)
    repo.save_issues(i.to_dict() for i in result.issues)
    issue_ids = [issue_of.get(d.id) for d in drafts]
    superseded: dict[str, str | None] = {}
    if from_db:  # the run saw every stored call: drafts whose issue is gone are superseded
        sync = repo.sync_mined_drafts(drafts, issue_ids)
        changed, superseded = set(sync.saved), sync.superseded
    else:
        changed = set(repo.save_drafts(drafts, issue_ids))
    if fmt == "json":
        typer.echo(json.dumps([faq_to_dict(d) for d in drafts], ensure_ascii=False, indent=2))
    else:
        _faq_rows(drafts)
        kept = len(drafts) - len(changed)
        if kept:
            typer.echo(f"{kept} entr{'y' if kept == 1 else 'ies'} already under review were left unchanged")
        if superseded:
            typer.echo(
                f"{len(superseded)} older draft(s) superseded (see 'callscope faq list --status superseded')"
            )
    if failures:
        raise typer.Exit(code=1)


@faq_app.command("list")
def faq_list_command(
    status: str = typer.Option(
        None, "--status", help="draft, approved, published, rejected or superseded (default: all but superseded)."
    ),
    fmt: str = typer.Option("table", "--format", help="json or table."),
) -> None:
    """List FAQ entries under review (superseded drafts only with --status superseded)."""

    try:
        wanted = FaqStatus(status) if status else None
    except ValueError as exc:
        raise typer.BadParameter("--status must be draft, approved, published, rejected or superseded") from exc
    entries = _repository(get_settings()).entries(wanted)
    if fmt == "json":
        typer.echo(json.dumps([faq_to_dict(e) for e in entries], ensure_ascii=False, indent=2))
    else:
        _faq_rows(entries)


def _review(ids: list[str], action: str, reviewer: str | None, note: str | None = None) -> None:
    repo = _repository(get_settings())
    failed = 0
    for entry_id in ids:
        try:
            if action == "approve":
                entry = repo.approve(entry_id, reviewer=reviewer)
            elif action == "reject":
                entry = repo.reject(entry_id, reviewer=reviewer, note=note)
            else:
                entry = repo.reopen(entry_id)
        except CallscopeError as exc:
            typer.echo(f"error: {exc}", err=True)
            failed += 1
            continue
        typer.echo(f"{entry.id}: {entry.status.value}")
    if failed:
        raise typer.Exit(code=1)


@faq_app.command("approve")
def faq_approve_command(
    ids: list[str] = typer.Argument(..., help="FAQ entry ids."),
    reviewer: str = typer.Option(None, "--reviewer", help="Who approved it."),
) -> None:
    """Approve draft entries (they can then be published)."""
    _review(ids, "approve", reviewer)


@faq_app.command("reject")
def faq_reject_command(
    ids: list[str] = typer.Argument(..., help="FAQ entry ids."),
    reviewer: str = typer.Option(None, "--reviewer", help="Who rejected it."),
    note: str = typer.Option(None, "--note", help="Why."),
) -> None:
    """Reject entries (reopen them later with 'faq reopen')."""
    _review(ids, "reject", reviewer, note)


@faq_app.command("reopen")
def faq_reopen_command(ids: list[str] = typer.Argument(..., help="FAQ entry ids.")) -> None:
    """Send entries back to draft."""
    _review(ids, "reopen", None)


@faq_app.command("publish")
def faq_publish_command(
    ids: list[str] = typer.Argument(None, help="Approved entry ids (default: every approved entry)."),
    kb: Path = typer.Option(None, "--kb", help="Knowledge-base file (default: CALLSCOPE_KB_PATH)."),
) -> None:
    """Write approved entries into the IVR knowledge base and mark them published."""

    settings = get_settings()
    published = _repository(settings).publish(_kb_path(kb, settings), ids or None, author=f"cli:{getpass.getuser()}").entries
    if not published:
        typer.echo("nothing to publish: approve entries first ('callscope faq approve ID')")
        return
    for entry in published:
        typer.echo(f"{entry.id}: published")
    typer.echo(f"{len(published)} entr{'y' if len(published) == 1 else 'ies'} written to {_kb_path(kb, settings)}")


@faq_app.command("export")
def faq_export_command(
    fmt: str = typer.Option("md", "--format", help="md, csv or json."),
    status: str = typer.Option(None, "--status", help="Only entries with this status."),
    output: Path = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Export FAQ entries as Markdown, CSV or JSON."""

    if fmt not in ("md", "markdown", "csv", "json"):
        raise typer.BadParameter("--format must be md, csv or json")
    try:
        wanted = FaqStatus(status) if status else None
    except ValueError as exc:
        raise typer.BadParameter("--status must be draft, approved, published, rejected or superseded") from exc
    text = export_faqs(_repository(get_settings()).entries(wanted), fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@faq_app.command("gaps")
def faq_gaps_command(
    inputs: list[Path] = typer.Argument(..., help="Audio files, *.analysis.json files, or folders of them."),
    kb: Path = typer.Option(None, "--kb", help="Knowledge-base file (default: CALLSCOPE_KB_PATH)."),
    ivr_failures: Path = typer.Option(
        None,
        "--ivr-failures",
        help="Utterances the IVR left unanswered/transferred: one per line, or CSV/JSONL with a text column.",
    ),
    since: str = typer.Option(None, "--since", help="Staleness period start (YYYY-MM-DD)."),
    encoders: str = typer.Option(
        "use-multilingual,e5-small", "--encoders", help="Sentence encoders for issue mining."
    ),
    conversations: bool = typer.Option(
        False, "--conversations",
        help="Also the stored questions no channel answered (IVR, SMS, WhatsApp, help center, imported texts).",
    ),
) -> None:
    """Gap analysis: frequent questions the KB lacks, entries the IVR failed to contain, stale entries."""

    settings = get_settings()
    knowledge = load_knowledge_base(_kb_path(kb, settings))
    records, failures = _load_records(list(inputs), settings)
    items = since_filter([r.to_item() for r in records], _parse_since(since))
    failures_text: list[str] = []
    if conversations:  # questions asked on any channel that the knowledge base could not answer
        with transaction(Context(settings).sessions) as session:
            asked = [q for q in questions(session) if q.answered is not True]
        items += since_filter(conversation_items(asked), _parse_since(since))
        failures_text += [q.text for q in asked if q.answered is False]
    result = mine_issues(items, _issue_options(encoders))
    if ivr_failures is not None:
        if ivr_failures.suffix.lower() in (".csv", ".tsv", ".jsonl", ".ndjson"):
            failures_text += [i.text for i in load_text_items(ivr_failures) if i.text.strip()]
        else:
            failures_text += [
                line.strip() for line in ivr_failures.read_text(encoding="utf-8").splitlines() if line.strip()
            ]
    report = kb_gaps(
        result.issues,
        knowledge.entries,
        ivr_failures=failures_text,
        period_questions=[i.text for i in items if i.text],
        member_texts={i.id: i.text for i in items},
    )
    typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    if failures:
        raise typer.Exit(code=1)
