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
    data = json.loads(result.stdout)
    assert data["outcome"] == "dial" and data["turns"][-1]["answer"] is None
    assert data["caller"] == "+15005550199"

    result = runner.invoke(cli(), ["ivr", "metrics", "--json"])
    metrics = json.loads(result.stdout)
    assert metrics["calls"] == 2 and metrics["transferred"] == 1 and metrics["contained"] == 1


def test_simulate_gives_each_call_a_fresh_caller(ivr_settings, monkeypatch) -> None:
    # a Mandarin call must not make the next simulated call (no --from) open in Mandarin
    monkeypatch.setattr("callscope.ivr.deps._sentiment", lambda: None)
    runner = CliRunner()
    first = runner.invoke(cli(), ["ivr", "simulate", "--say", "press 2", "--say", "没有了", "--json"])
    second = runner.invoke(cli(), ["ivr", "simulate", "--say", "silence", "--json"])
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["caller"] != b["caller"]
    assert b["turns"][0]["said"][0] == "Thanks for calling Brightwave."


def test_simulate_names_the_knowledge_base_and_warns_about_the_placeholder_agent(
    ivr_settings, kb_file: Path, monkeypatch
) -> None:
    monkeypatch.setattr("callscope.ivr.deps._sentiment", lambda: None)
    monkeypatch.delenv("CALLSCOPE_AGENT_DIAL", raising=False)
    result = CliRunner().invoke(cli(), ["ivr", "simulate", "--say", "press 1", "--say", "agent"])
    assert result.exit_code == 0, result.output
    assert f"knowledge base: {kb_file} (9 entries; CALLSCOPE_KB_PATH)" in result.stderr
    assert "-- dial: agent at +15550100" in result.stdout and "<Dial" not in result.stdout
    assert "no agent number is configured" in result.stderr and "CALLSCOPE_AGENT_DIAL" in result.stderr


def test_simulate_uses_the_demo_knowledge_base_after_make_demo(ivr_settings, kb_file: Path, monkeypatch) -> None:
    from callscope.settings import get_settings

    monkeypatch.setattr("callscope.ivr.deps._sentiment", lambda: None)
    monkeypatch.delenv("CALLSCOPE_KB_PATH")
    get_settings.cache_clear()
    demo = Path(get_settings().data_dir) / "demo" / "knowledge_base.yaml"
    demo.parent.mkdir(parents=True)
    demo.write_text(kb_file.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(cli(), ["ivr", "simulate", "--say", "silence"])
    assert f"knowledge base: {demo} (9 entries; the demo's knowledge base (make demo))" in result.stderr


def test_demo_token_is_kept_and_read_back(tmp_path: Path, monkeypatch) -> None:
    from callscope.context import Context
    from callscope.demo import demo_ivr_token
    from callscope.ivr.security import read_local_auth_token as read_demo_ivr_token
    from callscope.settings import Settings

    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    settings = Settings(data_dir=tmp_path)
    assert read_demo_ivr_token(settings) is None
    token = demo_ivr_token(Context(settings))
    assert len(token) == 32 and demo_ivr_token(Context(settings)) == token
    assert read_demo_ivr_token(settings) == token


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
