"""``callscope qa``: check a scorecard file, score analysis files, re-score stored calls."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from callscope.console import exit_on_failures
from callscope.context import Context
from callscope.qa.evaluate import Evaluator, conversation_from_dict
from callscope.qa.rules import load_scorecard
from callscope.qa.store import active_scorecard, rescore
from callscope.settings import get_settings
from callscope.storage_io import atomic_write_text

app = typer.Typer()
qa = typer.Typer(help="Automatic QA scorecards (rules in YAML/JSON).", no_args_is_help=True)
app.add_typer(qa, name="qa")


@qa.command("check")
def check_command(path: Path = typer.Argument(None, help="Scorecard file; default: the shipped one.")) -> None:
    """Validate a scorecard and list its criteria and categories."""
    rules = load_scorecard(path)
    typer.echo(f"{rules.id}: {rules.name} — {len(rules.criteria)} criteria, {len(rules.categories)} categories")
    for c in rules.criteria:
        typer.echo(f"  {c.id:<28} {c.name}" + (" (when …)" if c.when else ""))
    for c in rules.categories:
        typer.echo(f"  [category] {c.id:<17} {c.name}")


@qa.command("score")
def score_command(
    files: list[Path] = typer.Argument(..., help="*.analysis.json files written by `callscope analyze`."),
    scorecard: Path = typer.Option(None, "--scorecard", help="Rules file; default: CALLSCOPE_QA_SCORECARD or the shipped one."),
    write: bool = typer.Option(False, "--write", help="Store the result as `qa` in each file."),
) -> None:
    """Score analysis files with a scorecard (prints pass/fail per criterion with evidence)."""
    rules = load_scorecard(scorecard or get_settings().qa_scorecard)
    evaluator = Evaluator(rules)
    failures = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("turns"), list):
                raise ValueError("not an analysis file (no turns)")
        except (OSError, ValueError) as exc:
            failures.append((str(path), f"cannot read it: {exc}"))
            continue
        result = evaluator.evaluate(conversation_from_dict(data))
        score = "—" if result.score is None else f"{result.score:.0f}%"
        typer.echo(f"{path.name}: {score} ({rules.name})")
        for item in result.items:
            mark = {True: "pass", False: "FAIL", None: "n/a "}[item.passed]
            typer.echo(f"  {mark}  {item.name}: {item.detail}")
        if result.categories:
            typer.echo("  categories: " + ", ".join(c.name for c in result.categories))
        if write:
            atomic_write_text(path, json.dumps({**data, "qa": result.to_dict()}, ensure_ascii=False, indent=2))
    exit_on_failures(failures)


@qa.command("rescore")
def rescore_command() -> None:
    """Re-score every stored call with the active scorecard (dashboard, file or default)."""
    ctx = Context(get_settings())
    try:
        active = active_scorecard(ctx)
        typer.echo(f"{rescore(ctx, active.rules)} calls scored with {active.rules.name} ({active.origin})")
    finally:
        ctx.close()
