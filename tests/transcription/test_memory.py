"""Resampling a decoded call for Whisper goes piece by piece (no second copy of the call)
and gives exactly what resampling the whole would. Measured with
tracemalloc (numpy reports its buffers to it) on ten minutes of 8 kHz stereo."""

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


def test_resampling_for_whisper_streams_in_pieces_and_equals_the_whole(long_call: Path) -> None:
    from scipy.signal import resample_poly

    from callscope.recordings.audio import load_audio
    from callscope.transcription.transcriber import _audio_chunks, resample_chunks

    audio = load_audio(long_call)

    def consume() -> int:
        return sum(chunk.shape[1] for chunk in _audio_chunks(audio))

    frames, peak = _peak_mb(consume)
    assert frames == 2 * audio.frames
    assert peak < 0.5 * CALL_MB, f"{peak:.0f} MB extra to resample a {CALL_MB:.0f} MB call"
    short = audio.samples[:, : RATE * 20]
    for rate, target in ((8000, 16000), (11025, 16000), (44100, 16000)):
        joined = np.concatenate(list(resample_chunks(short, rate, target, 3.0)), axis=1)
        whole = resample_poly(short, target // np.gcd(rate, target), rate // np.gcd(rate, target), axis=1)
        assert joined.shape == whole.shape and np.allclose(joined, whole, atol=1e-6)
