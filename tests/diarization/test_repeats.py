"""Repeated audio: fingerprints of real speech (callscope.diarization.repeats)."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.diarization import campplus, repeats
from callscope.diarization.mono import resampled_chunks
from callscope.diarization.rttm import read_rttm
from callscope.recordings.audio import load_audio


@pytest.fixture(scope="module")
def turns(data_dir) -> list[tuple[str, np.ndarray]]:
    """The six turns (reader, 16 kHz samples) of two LibriSpeech readers on an 8 kHz line (tests/data/SOURCES.md)."""
    folder = data_dir / "diarization"
    audio = load_audio(folder / "librispeech_call_8k.wav")
    samples = np.concatenate(list(resampled_chunks([audio])))
    rate = 16000
    return [(t.speaker, samples[int(t.start * rate) : int(t.end * rate)])
            for t in read_rttm(folder / "librispeech_call_8k.rttm").turns]


def _print(samples: np.ndarray) -> np.ndarray:
    return repeats.fingerprint(campplus.fbank(samples))


def test_a_copy_cut_elsewhere_is_the_same_sound_and_other_speech_is_not(turns):
    rng = np.random.default_rng(0)
    for index, (reader, samples) in enumerate(turns):
        for _ in range(3):  # cut at arbitrary samples: the 10 ms frame grids of the two copies do not line up
            a, b = rng.integers(0, 8000, 2)
            assert repeats.same_sound(_print(samples[a:]), _print(samples[b : len(samples) - a]))
        for other_reader, other in turns[index + 1 :]:  # the same reader's other turns too
            assert not repeats.same_sound(_print(samples), _print(other)), (reader, other_reader)


def test_too_short_to_compare_is_never_a_copy(turns):
    samples = turns[0][1]
    short = _print(samples[: int(0.4 * 16000)])
    assert 0 < len(short) < repeats.MIN_FRAMES
    assert not repeats.same_sound(short, _print(samples))
    assert len(repeats.fingerprint(np.zeros((3, campplus.FBANK_BINS), np.float32))) == 0
