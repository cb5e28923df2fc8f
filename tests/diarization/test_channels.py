"""Dual-channel diarization against the calls' exact reference RTTMs."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.diarization import DiarizeOptions, diarize
from callscope.diarization.evaluation import score
from callscope.diarization.rttm import read_rttm
from callscope.domain import Audio, Role

CALLS = ("s_en_01", "s_en_03", "s_zh_01")


@pytest.mark.parametrize("stem", CALLS)
def test_channel_diarization_is_near_exact(stem, stereo_calls, calls_dir):
    result = diarize(stereo_calls[stem])
    reference = read_rttm(calls_dir / f"{stem}.rttm")
    assert result.method == "channels"
    assert set(result.speakers) == {"agent", "caller"}
    assert result.roles == {"agent": Role.AGENT, "caller": Role.CALLER}
    assert {t.channel for t in result.turns if t.speaker == "caller"} == {0}
    assert score(reference, result).der < 0.03
    assert score(reference, result, collar=0.0).der < 0.05


def test_overlaps_are_kept(stereo_calls, calls_dir):
    # s_en_03: the caller barges in at 19.02 s while the agent talks until 19.62 s
    result = diarize(stereo_calls["s_en_03"])
    agent = [t for t in result.turns if t.speaker == "agent" and t.start < 19.3 < t.end]
    caller = [t for t in result.turns if t.speaker == "caller" and t.start < 19.3 < t.end]
    assert agent and caller
    assert abs(caller[0].start - 19.02) < 0.1 and abs(agent[0].end - 19.62) < 0.1


def test_dtmf_key_tones_are_not_speech(stereo_calls):
    # s_en_03: the caller keys 7394 between 33.1 and 35.1 s; nobody speaks then
    result = diarize(stereo_calls["s_en_03"])
    assert not [t for t in result.turns if t.start < 35.0 and t.end > 33.2]


@pytest.mark.parametrize("leak_db", [-30.0, -15.0])
def test_echo_leaking_between_channels_is_not_speech(leak_db, stereo_calls, calls_dir):
    audio = stereo_calls["s_en_01"]
    samples = audio.samples.copy()
    gain, delay = 10 ** (leak_db / 20), int(0.06 * audio.sample_rate)
    samples[0, delay:] += gain * audio.samples[1, :-delay]  # agent echo on the caller leg
    samples[1, delay:] += gain * audio.samples[0, :-delay]
    result = diarize(Audio(samples, audio.sample_rate))
    assert score(read_rttm(calls_dir / "s_en_01.rttm"), result).der < 0.03


def test_channel_roles_follow_the_option(stereo_calls):
    result = diarize(stereo_calls["s_en_01"], DiarizeOptions(channel_roles=("agent", "caller")))
    first = min(result.turns, key=lambda t: t.start)
    assert first.speaker == "caller" and first.channel == 1  # the agent's greeting, now labelled caller


def test_dead_channel_is_treated_as_mono(stereo_calls, mono_method):
    audio = stereo_calls["s_en_01"]
    samples = audio.samples.copy()
    samples[0] = np.random.default_rng(0).standard_normal(audio.frames).astype(np.float32) * 1e-3
    result = diarize(Audio(samples, audio.sample_rate))
    assert result.method == mono_method
    assert result.speakers == ("SPEAKER_00",)  # one voice on the live (agent) channel
    assert 30 < sum(t.duration_s for t in result.turns) < 45  # the agent talks 37 s


def test_both_channels_carrying_the_mix_is_mono(mono_calls, mono_method):
    mix = mono_calls["s_en_01"]
    result = diarize(Audio(np.repeat(mix.samples, 2, axis=0), mix.sample_rate))
    assert result.method == mono_method
    assert len(result.speakers) == 2
