"""Resampling a decoded call for Whisper goes piece by piece (no second copy of the call)
and gives exactly what resampling the whole would. Measured with
tracemalloc (numpy reports its buffers to it) on ten minutes of 8 kHz stereo."""

from __future__ import annotations

import numpy as np


def test_resampling_for_whisper_streams_in_pieces_and_equals_the_whole(long_call, peak_mb) -> None:  # type: ignore[no-untyped-def]
    from scipy.signal import resample_poly

    from callscope.recordings.audio import load_audio
    from callscope.transcription.transcriber import _audio_chunks, resample_chunks

    audio = load_audio(long_call.path)

    def consume() -> int:
        return sum(chunk.shape[1] for chunk in _audio_chunks(audio))

    frames, peak = peak_mb(consume)
    assert frames == 2 * audio.frames
    assert peak < 0.5 * long_call.float32_mb, f"{peak:.0f} MB extra to resample a {long_call.float32_mb:.0f} MB call"
    short = audio.samples[:, : long_call.rate * 20]
    for rate, target in ((8000, 16000), (11025, 16000), (44100, 16000)):
        joined = np.concatenate(list(resample_chunks(short, rate, target, 3.0)), axis=1)
        whole = resample_poly(short, target // np.gcd(rate, target), rate // np.gcd(rate, target), axis=1)
        assert joined.shape == whole.shape and np.allclose(joined, whole, atol=1e-6)
