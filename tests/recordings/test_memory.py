"""Decoding a call for the pipeline holds it once (filled in place), not twice. Measured
with tracemalloc (numpy reports its buffers to it) on ten minutes of 8 kHz stereo."""

from __future__ import annotations

import numpy as np


def test_load_audio_holds_the_call_once(long_call, peak_mb) -> None:  # type: ignore[no-untyped-def]
    from callscope.recordings.audio import iter_audio, load_audio

    audio, peak = peak_mb(lambda: load_audio(long_call.path))
    assert audio.samples.shape == (2, long_call.rate * 60 * long_call.minutes) and audio.samples.flags["C_CONTIGUOUS"]
    assert peak < 1.35 * long_call.float32_mb, f"{peak:.0f} MB to decode a {long_call.float32_mb:.0f} MB call"
    first = next(iter_audio(long_call.path, chunk_s=5.0))
    assert np.array_equal(audio.samples[:, : first.frames], np.clip(first.samples, -1, 1))
