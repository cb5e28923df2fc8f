"""``callscope ivr ...`` commands through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from callscope.ivr import commands as ivr_commands


def cli() -> typer.Typer:
    # only the IVR commands: these tests do not depend on other subpackages importing
    app = typer.Typer()
    app.add_typer(ivr_commands.app)

    @app.command("version")
    def _version() -> None:  # a second command keeps "ivr" a sub-command group
        pass

    return app


def test_simulate_in_process_with_scripted_caller(ivr_settings, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("callscope.ivr.deps._sentiment", lambda: None)  # phrases only: keeps the test fast
    runner = CliRunner()
    script = tmp_path / "call.txt"
    script.write_text("# a Mandarin caller\npress 2\n我想退货\n没有了\n5\n10#\n", encoding="utf-8")
    result = runner.invoke(cli(), ["ivr", "simulate", "--script", str(script)])
    assert result.exit_code == 0, result.output
    assert "普通话服务请按2" in result.output and "三十天" in result.output
    assert 'caller: "我想退货"' in result.output and result.output.strip().endswith("-- hangup")

    result = runner.invoke(
        cli(), ["ivr", "simulate", "--from", "+15005550199", "--say", "press 1", "--say", "agent", "--json"]
    )
    data = json.loads(result.output)
    assert data["outcome"] == "dial" and data["turns"][-1]["answer"] is None

    result = runner.invoke(cli(), ["ivr", "metrics", "--json"])
    metrics = json.loads(result.output)
    assert metrics["calls"] == 2 and metrics["transferred"] == 1 and metrics["contained"] == 1


def test_simulate_interactive_reads_stdin(ivr_settings, monkeypatch) -> None:
    monkeypatch.setattr("callscope.ivr.deps._sentiment", lambda: None)
    result = CliRunner().invoke(cli(), ["ivr", "simulate"], input="1\nhow do I reset my password\n2\n")
    assert result.exit_code == 0, result.output
    assert "forgot password link" in result.output


def test_check_kb(tmp_path: Path, kb_file: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli(), ["ivr", "check-kb", str(kb_file)])
    assert ok.exit_code == 0 and "9 entries OK" in ok.output
    bad = tmp_path / "bad.json"
    bad.write_text('[{"id": "x", "questions": {"en": ["q"]}, "answers": {}}]')
    result = runner.invoke(cli(), ["ivr", "check-kb", str(bad)])
    assert result.exit_code != 0
    assert "entry 0 (id 'x'): no answer for language en" in str(result.exception)


def test_recordings_list_is_empty_without_callbacks(ivr_settings) -> None:
    result = CliRunner().invoke(cli(), ["ivr", "recordings"])
    assert result.exit_code == 0 and result.output == ""
