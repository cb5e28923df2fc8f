"""Bad or odd input: sensible results or a clear error, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.diarization import DiarizeOptions, diarize
from callscope.domain import Audio
from callscope.errors import ConfigError, InvalidAudioError


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("noise_db", [None, -60.0])
def test_silence_only_gives_no_turns(channels, noise_db, quiet_audio):
    result = diarize(quiet_audio(20.0, channels=channels, noise_db=noise_db))
    assert result.turns == ()
    assert result.duration_s == pytest.approx(20.0)


def test_one_second_file(mono_calls):
    audio = mono_calls["s_en_01"]
    start = int(2.0 * audio.sample_rate)  # inside the agent's greeting
    clip = Audio(audio.samples[:, start : start + audio.sample_rate], audio.sample_rate)
    result = diarize(clip)
    assert result.speakers == ("SPEAKER_00",)
    assert all(0 <= t.start < t.end <= 1.0 for t in result.turns)


def test_tiny_and_empty_audio():
    assert diarize(Audio(np.zeros((1, 10), np.float32), 8000)).turns == ()
    with pytest.raises(InvalidAudioError):
        diarize(Audio(np.zeros((1, 0), np.float32), 8000))
    with pytest.raises(InvalidAudioError):
        diarize(Audio(np.zeros((2, 0), np.float32), 8000))


def test_8khz_and_16khz_give_the_same_turns(mono_calls):
    import soxr

    audio = mono_calls["s_zh_01"]  # 8 kHz mu-law
    upsampled = Audio(soxr.resample(audio.samples[0], 8000, 16000)[None, :].astype(np.float32), 16000)
    narrow, wide = diarize(audio), diarize(upsampled)
    assert len(narrow.speakers) == len(wide.speakers) == 2
    from callscope.diarization.evaluation import score

    assert score(narrow, wide).der < 0.05


def test_white_noise_burst_is_not_a_speaker(mono_calls):
    audio = mono_calls["s_en_01"]
    samples = audio.samples.copy()
    noise = np.random.default_rng(1).standard_normal(samples.shape[1]) * 0.05
    start, end = int(62.0 * 8000), int(62.3 * 8000)
    samples[0, start:end] += noise[start:end].astype(np.float32)  # a 0.3 s click/crackle
    assert len(diarize(Audio(samples, 8000)).speakers) == 2


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError):
        DiarizeOptions(num_speakers=0)
    with pytest.raises(ConfigError):
        DiarizeOptions(min_speakers=3, max_speakers=2)
    with pytest.raises(ConfigError):
        DiarizeOptions(channel_roles=("agent",))
    with pytest.raises(ConfigError):
        DiarizeOptions(method="magic")  # type: ignore[arg-type]
