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


def test_a_spooled_call_reads_back_exactly_what_load_audio_holds(long_call, peak_mb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from callscope.recordings.audio import load_audio, spool_audio

    audio = load_audio(long_call.path)
    spooled, peak = peak_mb(lambda: spool_audio(long_call.path, directory=tmp_path))
    with spooled:
        assert peak < 0.3 * long_call.float32_mb, f"{peak:.1f} MB to spool a {long_call.float32_mb:.0f} MB call"
        assert (spooled.channels, spooled.frames, spooled.sample_rate) == (2, audio.frames, audio.sample_rate)
        assert np.array_equal(spooled.read(12_345, 12_345 + 70 * 8000), audio.samples[:, 12_345 : 12_345 + 70 * 8000])
        assert spooled.read(audio.frames - 10, audio.frames + 99).shape == (2, 10)
        blocks = list(spooled.blocks(45.0))
        assert [b.frames for b in blocks[:2]] == [45 * 8000] * 2 and sum(b.frames for b in blocks) == audio.frames
        assert np.array_equal(blocks[-1].samples, audio.samples[:, -blocks[-1].frames :])
        assert not any(tmp_path.iterdir())  # a file without a name: nothing is left behind by a crash
