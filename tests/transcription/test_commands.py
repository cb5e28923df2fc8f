"""``callscope transcribe`` batches and ``callscope models``, through the real CLI app."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(settings):
    from callscope.cli import app

    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def inbox(tmp_path: Path, data_dir: Path) -> Path:
    folder = tmp_path / "inbox"
    (folder / "day1").mkdir(parents=True)
    shutil.copy(data_dir / "asr" / "librispeech-1272-128104-0000_picovoice.wav", folder / "day1" / "good.wav")
    (folder / "empty.wav").write_bytes(b"")
    (folder / "corrupt.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(np.random.default_rng(0).integers(0, 255, 4000, dtype=np.uint8)))
    (folder / "notes.wav").write_text("call notes: customer wants a refund\n")
    (folder / "readme.txt").write_text("not audio, and not picked from a folder")
    import soundfile  # a Twilio-style mu-law WAV cut short: its header still announces 5.9 s

    clip, rate = soundfile.read(folder / "day1" / "good.wav", dtype="float32")
    soundfile.write(tmp_path / "mulaw.wav", clip[::2], rate // 2, subtype="ULAW")
    whole = (tmp_path / "mulaw.wav").read_bytes()
    (folder / "truncated.wav").write_bytes(whole[: len(whole) // 3])
    return folder


def test_batch_with_bad_files(cli, inbox: Path, tmp_path: Path, data_dir: Path) -> None:
    wrong_ext = tmp_path / "call.xyz"
    shutil.copy(data_dir / "asr" / "paddlespeech_zh.wav", wrong_ext)
    out = tmp_path / "out"
    result = cli("transcribe", inbox, wrong_ext, tmp_path / "missing.wav", "--output-dir", out, "--output-format", "json")
    assert result.exit_code == 1, result.output
    assert "2 transcribed" in result.output and "5 failed" in result.output
    assert "truncated.wav: decoded 1.9 s of the 5.9 s its header announces" in result.output.split("warnings:")[1]
    failures = result.output.split("failures:")[1]
    assert "empty.wav: the file is empty" in failures
    assert "corrupt.wav: " in failures and "notes.wav: not a readable audio file" in failures
    assert "call.xyz: unsupported file type '.xyz'" in failures
    assert "missing.wav: no such file or folder" in failures
    assert "notes.wav: notes.wav" not in failures and "Errno" not in failures  # each name once, FFmpeg's words

    data = json.loads((out / "day1" / "good.json").read_text(encoding="utf-8"))  # folder layout kept
    assert data["language"] == "en"
    segment = data["segments"][0]
    assert {"start", "end", "text", "words"} <= set(segment)
    assert set(segment["words"][0]) == {"start", "end", "word", "probability"}
    assert "Quilter" in data["text"]
    assert not (out / "empty.json").exists()


def test_resume_skips_done_files(cli, inbox: Path, tmp_path: Path, data_dir: Path) -> None:
    good = inbox / "day1" / "good.wav"
    out = tmp_path / "out"
    first = cli("transcribe", good, "-o", out, "-f", "all")
    assert first.exit_code == 0, first.output
    written = sorted(p.name for p in out.iterdir())
    assert written == [".callscope-transcribe.json", "good.json", "good.srt", "good.tsv", "good.txt", "good.vtt"]
    mtime = (out / "good.srt").stat().st_mtime_ns

    again = cli("transcribe", good, "-o", out, "-f", "srt")
    assert again.exit_code == 0 and "0 transcribed" in again.output and "1 skipped" in again.output
    assert (out / "good.srt").stat().st_mtime_ns == mtime

    redo = cli("transcribe", good, "-o", out, "-f", "srt", "--no-resume")
    assert redo.exit_code == 0 and "1 transcribed" in redo.output
    assert (out / "good.srt").stat().st_mtime_ns != mtime
    changed = cli("transcribe", good, "-o", out, "-f", "srt", "--language", "en")  # other settings: redone
    assert "1 transcribed" in changed.output
    shutil.copy(data_dir / "asr" / "paddlespeech_zh.wav", good)  # same name, new content: redone
    replaced = cli("transcribe", good, "-o", out, "-f", "txt")
    assert "1 transcribed" in replaced.output
    assert "身体健康" in (out / "good.txt").read_text(encoding="utf-8")


def test_diarize_writes_rttm(cli, tmp_path: Path, call_audio) -> None:
    pytest.importorskip("callscope.diarization.rttm")
    import soundfile

    call = call_audio["s_en_01"]
    excerpt = tmp_path / "excerpt.wav"
    soundfile.write(excerpt, call.samples[:, : 24 * call.sample_rate].T, call.sample_rate)
    out = tmp_path / "out"
    result = cli("transcribe", excerpt, "-o", out, "-f", "json", "--diarize")
    assert result.exit_code == 0, result.output
    rttm = (out / "excerpt.rttm").read_text()
    assert rttm.startswith("SPEAKER excerpt ")
    data = json.loads((out / "excerpt.json").read_text())
    assert {s.get("speaker") for s in data["segments"]} >= {"agent", "caller"}


def test_models_commands(cli) -> None:
    listed = cli("models", "list")
    assert listed.exit_code == 0
    assert "base     installed" in listed.output
    assert "tiny.en" in listed.output
    verified = cli("models", "verify", "base")
    assert verified.exit_code == 0 and "base: ok" in verified.output
    installed = cli("models", "install", "base", "--engine", "openai-whisper")
    assert installed.exit_code == 0 and installed.output.strip().endswith("model.pt")
    unknown = cli("models", "verify", "huge")
    assert unknown.exit_code == 2


def test_missing_model_stops_the_batch_with_a_fix(cli, inbox: Path, tmp_path: Path) -> None:
    result = cli("transcribe", inbox / "day1" / "good.wav", "-o", tmp_path / "out", "--model", tmp_path / "nope")
    assert result.exit_code == 1
    assert "CALLSCOPE_WHISPER_MODEL" in result.output
