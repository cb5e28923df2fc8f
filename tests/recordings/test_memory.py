"""Decoding a call for the pipeline holds it once (filled in place), not twice. Measured
with tracemalloc (numpy reports its buffers to it) on ten minutes of 8 kHz stereo."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.errors import InvalidAudioError
from callscope.recordings import audio as audio_module
from callscope.recordings.audio import iter_audio, load_audio, spool_audio


def test_load_audio_holds_the_call_once(long_call, peak_mb) -> None:  # type: ignore[no-untyped-def]
    audio, peak = peak_mb(lambda: load_audio(long_call.path))
    assert audio.samples.shape == (2, long_call.rate * 60 * long_call.minutes) and audio.samples.flags["C_CONTIGUOUS"]
    assert peak < 1.35 * long_call.float32_mb, f"{peak:.0f} MB to decode a {long_call.float32_mb:.0f} MB call"
    first = next(iter_audio(long_call.path, chunk_s=5.0))
    assert np.array_equal(audio.samples[:, : first.frames], np.clip(first.samples, -1, 1))


def test_a_spooled_call_reads_back_exactly_what_load_audio_holds(long_call, peak_mb, tmp_path) -> None:  # type: ignore[no-untyped-def]
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


def test_a_call_that_fails_while_decoding_leaves_no_temporary_file(long_call, open_files_in, tmp_path,  # type: ignore[no-untyped-def]
                                                                   monkeypatch) -> None:
    decode = audio_module.iter_audio
    seen: list[list[str]] = []

    def breaks_after_two_chunks(*args, **kwargs):  # type: ignore[no-untyped-def]
        for index, chunk in enumerate(decode(*args, **kwargs)):
            if index == 2:
                seen.append(open_files_in(tmp_path))
                raise InvalidAudioError("ten_minutes.flac: corrupt frame")
            yield chunk

    monkeypatch.setattr(audio_module, "iter_audio", breaks_after_two_chunks)
    with pytest.raises(InvalidAudioError, match="corrupt frame") as failed:
        audio_module.spool_audio(long_call.path, directory=tmp_path)
    assert failed.tb is not None  # the traceback (and the frame holding the file) is still alive here
    assert [len(files) for files in seen] == [1]  # the temporary file was being written...
    assert open_files_in(tmp_path) == [] and not any(tmp_path.iterdir())  # ...and is closed and gone


def test_a_spooled_call_is_closed_by_its_context_manager(long_call, open_files_in, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError, match="a stage broke"), spool_audio(long_call.path, directory=tmp_path) as spooled:
        assert len(open_files_in(tmp_path)) == 1 and spooled.read(0, 10).shape == (2, 10)
        raise RuntimeError("a stage broke")
    assert open_files_in(tmp_path) == [] and not any(tmp_path.iterdir())
