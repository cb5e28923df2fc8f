"""``callscope qa check|score`` on the shipped scorecard and a real analysis file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from callscope.cli import app

ANALYSIS = Path(__file__).parent.parent / "data" / "analysis" / "calls" / "s_zh_01.analysis.json"


def test_check_lists_the_criteria(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["qa", "check"])
    assert result.exit_code == 0, result.output
    assert "Greeting and name in the first 15 s" in result.output and "[category]" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("criteria:\n  - id: a\n    rule: {metric: {name: hold_time_s}}\n")
    failed = CliRunner().invoke(app, ["qa", "check", str(bad)])
    assert "bad.yaml: criteria[0].rule.metric: give min, max or both" in str(failed.exception)  # main() prints it


def test_score_writes_qa_into_the_file(tmp_path: Path) -> None:
    path = tmp_path / ANALYSIS.name
    shutil.copy(ANALYSIS, path)
    result = CliRunner().invoke(app, ["qa", "score", str(path), str(tmp_path / "missing.json"), "--write"])
    assert result.exit_code == 1  # the missing file is reported, the good one still scored
    assert "pass  Offered further help before closing" in result.output
    assert "missing.json: cannot read it" in result.output
    qa = json.loads(path.read_text(encoding="utf-8"))["qa"]
    assert qa["scorecard"] == "default" and {"id", "name", "passed", "evidence"} <= set(qa["items"][0])
