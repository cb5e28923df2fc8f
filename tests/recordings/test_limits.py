"""Resource bounds on hostile audio: absurd headers, tiny files that expand to hours of
audio, headers that lie about their length. Everything is rejected with an error naming
the file, before (or while) decoding, and the store stays empty."""

from __future__ import annotations

import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callscope.db import session_factory
from callscope.errors import InvalidAudioError
from callscope.recordings import audio as audio_module
from callscope.recordings.store import RecordingStore

HOUR = 3600.0


def _wav(rate: int, bits: int, channels: int = 1, payload: bytes = b"\0" * 1600) -> bytes:
    block = channels * max(bits, 8) // 8
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    return b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVE" + b"fmt " + fmt + b"data" \
        + struct.pack("<I", len(payload)) + payload


def _silent_flac(path: Path, seconds: float, rate: int = 8000) -> Path:
    """Silence compresses ~500x in FLAC: hours of audio in a few hundred KB."""
    block = np.zeros(rate * 600, dtype=np.int16)
    remaining = int(seconds * rate)
    with sf.SoundFile(path, "w", rate, 1, "PCM_16", format="FLAC") as handle:
        while remaining > 0:
            handle.write(block[: min(remaining, block.size)])
            remaining -= block.size
    return path


def _hide_length(path: Path) -> Path:
    """Zero the total-samples field of the FLAC STREAMINFO block (legal: 'unknown')."""
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC"
    data[8 + 13] &= 0xF0
    data[8 + 14 : 8 + 18] = b"\0\0\0\0"
    out = path.with_name("nolength_" + path.name)
    out.write_bytes(bytes(data))
    return out


@pytest.fixture
def store(tmp_path: Path, db_engine) -> RecordingStore:  # type: ignore[no-untyped-def]
    return RecordingStore(tmp_path / "audio", session_factory(db_engine), max_duration_s=2 * HOUR)


def _assert_empty(store: RecordingStore) -> None:
    assert store.count() == 0
    assert not any(p.is_file() for p in store.audio_dir.rglob("*")) if store.audio_dir.exists() else True


def test_absurd_sample_rate_is_rejected_naming_the_file(store: RecordingStore) -> None:
    with pytest.raises(InvalidAudioError, match=r"huge\.wav: sample rate 2147483647 Hz"):
        store.ingest_bytes(_wav(2_147_483_647, 16), original_name="huge.wav", source="upload")
    _assert_empty(store)


def test_wav_with_zero_bits_per_sample_is_invalid_audio(store: RecordingStore) -> None:
    with pytest.raises(InvalidAudioError, match=r"zero\.wav: "):
        store.ingest_bytes(_wav(8000, 0), original_name="zero.wav", source="upload")
    _assert_empty(store)


def test_hours_of_compressed_silence_are_refused_before_decoding(
    store: RecordingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _silent_flac(tmp_path / "silence.flac", 3 * HOUR)
    assert path.stat().st_size < 1_000_000  # 3 h of audio in under 1 MB

    def no_decoding(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("decoded a file whose header already exceeds the cap")

    monkeypatch.setattr("callscope.recordings.store.iter_audio", no_decoding)
    with pytest.raises(InvalidAudioError, match=r"silence\.flac: 3 h 00 min of audio is longer than the maximum "
                                                 r"of 2 h 00 min \(CALLSCOPE_MAX_DURATION_S\)"):
        store.ingest_file(path)
    _assert_empty(store)


def test_a_header_that_hides_the_length_is_stopped_while_streaming(tmp_path: Path, db_engine) -> None:  # type: ignore[no-untyped-def]
    path = _hide_length(_silent_flac(tmp_path / "call.flac", 180))
    assert audio_module.probe(path).duration_s == 0.0  # the container gives no duration
    small = RecordingStore(tmp_path / "audio", session_factory(db_engine), max_duration_s=60)
    with pytest.raises(InvalidAudioError, match=r"nolength_call\.flac: decodes to more than the maximum of 1 min 00 s"):
        small.ingest_file(path)
    assert small.count() == 0
    # the same file under a larger cap is a valid 3-minute recording
    roomy = RecordingStore(tmp_path / "audio", session_factory(db_engine), max_duration_s=600)
    assert roomy.ingest_file(path).recording.duration_s == pytest.approx(180.0)


def test_load_audio_respects_the_cap(tmp_path: Path) -> None:
    path = _silent_flac(tmp_path / "long.flac", 300)
    with pytest.raises(InvalidAudioError, match=r"long\.flac: 5 min 00 s of audio is longer"):
        audio_module.load_audio(path, max_duration_s=120)
    assert audio_module.load_audio(path, max_duration_s=600).duration_s == pytest.approx(300.0)


_MEASURE = """
import resource, sys
from pathlib import Path
from callscope.recordings.store import _validate
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
duration, info = _validate(Path(sys.argv[1]), "x.flac", 4 * 3600)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(duration, (after - before) / 1024)
"""


def test_validating_a_long_call_streams_in_flat_memory(tmp_path: Path) -> None:
    path = _silent_flac(tmp_path / "long.flac", 2 * HOUR)  # 2 h at 8 kHz: 230 MB as float32
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    duration, grown_mb = map(float, out.stdout.split())
    assert duration == pytest.approx(2 * HOUR)
    assert grown_mb < 60, f"peak memory grew {grown_mb:.0f} MB while validating 2 h of audio"
    assert time.monotonic() - started < 120


def test_the_pipeline_decodes_at_most_16_khz_and_enforces_the_cap(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from callscope.pipeline import CallProcessor

    rng = np.random.default_rng(0)
    wide = tmp_path / "wide.wav"
    sf.write(wide, (rng.standard_normal((48000 * 5, 2)) * 0.1).astype(np.float32), 48000, subtype="PCM_16")
    audio = CallProcessor(settings).load(wide)
    assert audio.sample_rate == 16000 and audio.channels == 2 and audio.duration_s == pytest.approx(5.0, abs=0.01)
    narrow = _silent_flac(tmp_path / "narrow.flac", 4)
    assert CallProcessor(settings).load(narrow).sample_rate == 8000  # telephone audio is not upsampled
    capped = CallProcessor(settings.model_copy(update={"max_duration_s": 3.0}))
    with pytest.raises(InvalidAudioError, match=r"narrow\.flac: 4 s of audio is longer than the maximum of 3 s"):
        capped.load(narrow)


def test_analyze_names_the_file_with_an_absurd_header(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from callscope.cli import app as cli

    bad = tmp_path / "huge_rate.wav"
    bad.write_bytes(_wav(2_147_483_647, 16))
    result = CliRunner().invoke(cli, ["analyze", str(bad), "-o", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "huge_rate.wav: sample rate 2147483647 Hz" in result.output + str(result.exception)
