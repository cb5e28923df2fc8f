"""Decoding a call for the pipeline holds it once (filled in place), not twice. Measured
with tracemalloc (numpy reports its buffers to it) on ten minutes of 8 kHz stereo."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


RATE = 8000
MINUTES = 10
CALL_MB = 2 * RATE * 60 * MINUTES * 4 / 2**20  # float32 stereo: 36.6 MB


def _peak_mb(fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    try:
        result = fn()
        return result, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def long_call(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("memory") / "ten_minutes.flac"
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", RATE, 2, "PCM_16", format="FLAC") as handle:
        for _ in range(MINUTES):
            handle.write((rng.standard_normal((RATE * 60, 2)) * 300).astype(np.int16))
    return path


def test_load_audio_holds_the_call_once(long_call: Path) -> None:
    from callscope.recordings.audio import iter_audio, load_audio

    audio, peak = _peak_mb(lambda: load_audio(long_call))
    assert audio.samples.shape == (2, RATE * 60 * MINUTES) and audio.samples.flags["C_CONTIGUOUS"]
    assert peak < 1.35 * CALL_MB, f"{peak:.0f} MB to decode a {CALL_MB:.0f} MB call"
    first = next(iter_audio(long_call, chunk_s=5.0))
    assert np.array_equal(audio.samples[:, : first.frames], np.clip(first.samples, -1, 1))
