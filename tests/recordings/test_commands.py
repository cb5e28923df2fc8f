"""``callscope ingest`` / ``callscope recordings`` through the real CLI app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from callscope.cli import app

runner = CliRunner()


def test_ingest_stores_good_files_and_reports_bad_ones(settings, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = data_dir / "calls" / "s_en_01.stereo.wav"
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")

    nothing = runner.invoke(app, ["recordings"])
    assert nothing.exit_code == 0 and "no recordings stored yet" in nothing.stderr

    result = runner.invoke(app, ["ingest", str(good), str(broken), str(empty), "--json"])

    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    stored = [line for line in lines if "id" in line]
    assert len(stored) == 1 and stored[0]["channels"] == 2 and stored[0]["created"] is True
    assert {Path(line["file"]).name for line in lines if "error" in line} == {"broken.wav", "empty.wav"}
    assert "2 file(s) failed:" in result.stderr
    assert "broken.wav" in result.stderr and "empty.wav" in result.stderr

    listed = runner.invoke(app, ["recordings", "--json"])
    assert listed.exit_code == 0
    assert [r["id"] for r in json.loads(listed.stdout)] == [stored[0]["id"]]


def test_ingest_same_file_twice_is_one_recording(settings, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "copy.wav"
    shutil.copy(data_dir / "calls" / "s_en_01.stereo.wav", copy)

    first = runner.invoke(app, ["ingest", str(data_dir / "calls" / "s_en_01.stereo.wav")])
    second = runner.invoke(app, ["ingest", str(copy)])

    assert first.exit_code == second.exit_code == 0
    assert first.stdout.startswith("stored:") and second.stdout.startswith("already stored:")
