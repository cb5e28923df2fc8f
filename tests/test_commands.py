"""``callscope analyze``: the per-call interface contract, through the real CLI and models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import app
from callscope.domain import Emotion

runner = CliRunner()


@pytest.mark.slow
def test_analyze_writes_the_contract_and_reports_bad_files(settings, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    calls = [data_dir / "calls" / "s_en_03.stereo.wav", data_dir / "calls" / "s_zh_01.stereo.wav"]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"not audio at all")
    out = tmp_path / "out"

    result = runner.invoke(app, ["analyze", *map(str, calls), str(broken), "--output-dir", str(out)])

    assert result.exit_code == 1  # one file failed, the others were analysed
    assert "1 file(s) failed:" in result.stderr and "broken.wav" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["s_en_03.stereo.analysis.json", "s_zh_01.stereo.analysis.json"]
    labels = {e.value for e in Emotion}
    for path, language in zip(sorted(out.iterdir()), ("en", "zh"), strict=True):
        data = json.loads(path.read_text())
        assert data["language"] == language
        assert data["caller_emotion"] in labels
        assert isinstance(data["reason"], str) and data["reason"].strip()
        assert data["metrics"]["handle_time_s"] > 60
        turns = data["turns"]
        assert {t["speaker"] for t in turns} == {"agent", "caller"}  # dual-channel: roles by channel
        for turn in turns:
            assert {"speaker", "start", "end", "text", "emotion", "sentiment"} <= turn.keys()
            assert 0 <= turn["start"] <= turn["end"]
        assert [t["start"] for t in turns] == sorted(t["start"] for t in turns)
    english = json.loads((out / "s_en_03.stereo.analysis.json").read_text())
    assert any(word in english["reason"].lower() for word in ("password", "log", "locked", "account"))
    chinese = json.loads((out / "s_zh_01.stereo.analysis.json").read_text())
    assert any(word in chinese["reason"] for word in ("营业", "几点", "时间", "开门", "周末"))
    # the automatic QA scorecard: the Mandarin agent asks whether there is anything else (请问还有其他…)
    qa = {i["id"]: i for i in chinese["qa"]["items"]}
    assert chinese["qa"]["scorecard"] == "default" and chinese["qa"]["score"] is not None
    assert qa["further_help"]["passed"] is True and qa["further_help"]["evidence"][0]["start"] > 40
    assert {i["id"]: i["passed"] for i in english["qa"]["items"]}["further_help"] is False


def test_a_mistyped_command_line_gets_usage_help_not_a_traceback(monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from callscope.cli import main

    monkeypatch.setattr("sys.argv", ["callscope", "ivr", "simulate", "what time do you close", "yes"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "Usage:" in err and "ivr simulate [OPTIONS]" in err and "unexpected extra argument" in err
    assert "Traceback" not in err
