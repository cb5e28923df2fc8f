"""Hold music on one leg of a dual-channel call is not that party's speech.

Fixture: tests/data/diarization/hold_music_01.* rendered with shared/tools/make_calls.py
--hold-music (a 10 s hold, 15.98-25.98 s, with the generator's melody on the agent leg).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from callscope.diarization import DiarizeOptions, diarize
from callscope.diarization.evaluation import score
from callscope.diarization.rttm import read_rttm
from callscope.domain import Audio
from callscope.recordings.audio import load_audio


@pytest.fixture(scope="module")
def hold_call(data_dir):
    folder = data_dir / "diarization"
    scenario = json.loads((folder / "hold_music_01.json").read_text(encoding="utf-8"))
    (hold,) = scenario["holds"]
    assert hold["music"]
    return load_audio(folder / "hold_music_01.stereo.wav"), read_rttm(folder / "hold_music_01.rttm"), hold


def _speech_during(result, start: float, end: float) -> float:
    return sum(max(0.0, min(t.end, end) - max(t.start, start)) for t in result.turns)


@pytest.mark.slow
def test_hold_music_is_not_agent_speech(hold_call):
    audio, reference, hold = hold_call
    result = diarize(audio)
    assert result.method == "channels"
    assert _speech_during(result, hold["start"], hold["end"]) < 0.3
    assert score(reference, result).der < 0.02


@pytest.mark.slow
def test_energy_alone_counts_the_music(hold_call):
    # the check is what removes it: without Silero the melody is 'agent' speech
    audio, reference, hold = hold_call
    result = diarize(audio, DiarizeOptions(check_channel_speech=False))
    assert _speech_during(result, hold["start"], hold["end"]) > 0.8 * (hold["end"] - hold["start"])
    assert score(reference, result).der > 0.3


@pytest.mark.slow
def test_richer_music_is_rejected_too(hold_call):
    # a different tune than the generator's: sustained chords with harmonics and vibrato
    audio, reference, hold = hold_call
    samples = audio.samples.copy()
    rate = audio.sample_rate
    first, last = int(hold["start"] * rate), int(hold["end"] * rate)
    t = np.arange(last - first) / rate
    chords = ((261.6, 329.6, 392.0), (220.0, 261.6, 329.6), (174.6, 220.0, 261.6), (196.0, 246.9, 293.7))
    music = np.zeros_like(t)
    vibrato = 0.005 * np.sin(2 * np.pi * 5 * t) / (2 * np.pi * 5)  # +-0.5 % at 5 Hz
    for i, chord in enumerate(chords * 4):
        on = (t >= i * 0.8) & (t < (i + 1) * 0.8)
        for f in chord:
            for h in (1, 2, 3):
                music[on] += np.sin(2 * np.pi * f * h * (t[on] + vibrato[on])) / h
    samples[1, first:last] = 0.03 * music / np.max(np.abs(music))
    result = diarize(Audio(samples.astype(np.float32), rate))
    assert _speech_during(result, hold["start"], hold["end"]) < 0.5
    assert score(reference, result).der < 0.03


@pytest.mark.slow
def test_real_speech_is_kept(stereo_calls, calls_dir):
    # the check must not cut the parties' speech: same DER with and without it
    for stem in ("s_en_01", "s_zh_01"):
        reference = read_rttm(calls_dir / f"{stem}.rttm")
        checked = score(reference, diarize(stereo_calls[stem])).der
        unchecked = score(reference, diarize(stereo_calls[stem], DiarizeOptions(check_channel_speech=False))).der
        assert checked <= unchecked + 0.002, stem


@pytest.mark.slow
def test_check_streams_across_chunk_boundaries(hold_call):
    from callscope.diarization import channels, speech_check

    audio, _, hold = hold_call
    activity = channels.channel_activity(channels.features(audio), DiarizeOptions())
    whole = speech_check.reject_non_speech(audio.blocks(60.0), activity)
    pieces = speech_check.reject_non_speech(audio.blocks(0.7), activity)
    assert whole == pieces or all(
        len(a) == len(b) and all(abs(x - y) < 0.1 for p, q in zip(a, b) for x, y in zip(p, q))
        for a, b in zip(whole, pieces)
    )
    agent = whole[1]
    assert not [iv for iv in agent if iv[0] < hold["end"] - 1.0 and iv[1] > hold["start"] + 1.0]


@pytest.mark.slow
def test_short_turns_survive_a_cut_elsewhere(hold_call):
    from callscope.diarization import channels, speech_check

    audio, _, hold = hold_call
    activity = channels.channel_activity(channels.features(audio), DiarizeOptions())
    blip = (0.05, 0.25)  # a 0.2 s "mm" before the agent's greeting
    activity[1] = [blip, *activity[1]]
    checked = speech_check.reject_non_speech(audio.blocks(30.0), activity)
    assert blip in checked[1]
    assert sum(e - s for s, e in checked[1]) < sum(e - s for s, e in activity[1]) - 8.0  # the music went


@pytest.mark.slow
def test_mono_mix_ignores_the_music(data_dir, hold_call, mono_method):
    # the mono path's Silero VAD already treats the melody as non-speech
    _, reference, hold = hold_call
    result = diarize(load_audio(data_dir / "diarization" / "hold_music_01.mono.wav"))
    assert result.method == mono_method
    assert _speech_during(result, hold["start"] + 0.5, hold["end"] - 0.5) < 0.5
    assert score(reference, result).false_alarm_s < 1.0
