"""Mono diarization on real audio: the resemblyzer path (Silero VAD + embeddings + clustering)
and, where not pinned, the default mono method."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.diarization import DiarizeOptions, diarize
from callscope.diarization.evaluation import score
from callscope.diarization.rttm import read_rttm
from callscope.recordings.audio import load_audio

CALLS = ("s_en_01", "s_en_03", "s_zh_01")

# Measured (collar 0.25 s): s_en_01 1.6 %, s_en_03 2.6 %, s_zh_01 2.6 %; the benchmark
# has all 16 calls. The bound leaves room for CPU-dependent numerics, not for regressions.
MONO_DER_BOUND = 0.06


@pytest.mark.parametrize("stem", CALLS)
def test_mono_mix_der(stem, resemblyzer_diarizations, calls_dir):
    result = resemblyzer_diarizations[stem]
    reference = read_rttm(calls_dir / f"{stem}.rttm")
    assert result.method == "embeddings"
    assert len(result.speakers) == 2
    assert score(reference, result).der < MONO_DER_BOUND


def test_one_speaker_stays_one(stereo_calls):
    for stem in ("s_en_01", "s_zh_01"):
        for channel in (0, 1):
            result = diarize(stereo_calls[stem].channel(channel))
            assert result.speakers == ("SPEAKER_00",), (stem, channel)


def test_real_four_speaker_clip(data_dir):
    folder = data_dir / "diarization"
    audio = load_audio(folder / "paa_diarizationExample.wav")  # 16 kHz, 4 speakers, 42 s
    reference = read_rttm(folder / "paa_diarizationExample.rttm")
    result = diarize(audio)
    assert 3 <= len(result.speakers) <= 5
    assert score(reference, result).der < 0.35  # measured 25 %


def test_speaker_count_overrides(mono_calls):
    audio = mono_calls["s_en_03"]
    assert len(diarize(audio, DiarizeOptions(num_speakers=3)).speakers) == 3
    assert len(diarize(audio, DiarizeOptions(max_speakers=1)).speakers) == 1
    assert len(diarize(audio, DiarizeOptions(min_speakers=2, max_speakers=2)).speakers) == 2


def test_turns_are_ordered_and_inside_the_call(mono_diarizations, mono_calls):
    for stem, result in mono_diarizations.items():
        starts = [t.start for t in result.turns]
        assert starts == sorted(starts)
        assert all(0 <= t.start < t.end <= mono_calls[stem].duration_s + 1e-6 for t in result.turns)


def test_pauseless_speaker_change_is_an_overlap():
    from callscope.diarization.mono import add_overlaps, pauseless_changes
    from callscope.domain import SpeakerTurn

    rng = np.random.default_rng(3)
    energy = -60.0 + rng.normal(0, 1, 600)  # 6 s of 10 ms frames: line noise at -60 dB
    energy[50:550] = -20.0 + rng.normal(0, 2, 500)  # speech from 0.5 s to 5.5 s, no pause
    turns = [SpeakerTurn(0.5, 3.0, "SPEAKER_00"), SpeakerTurn(3.0, 5.5, "SPEAKER_01")]
    assert pauseless_changes(turns, energy) == [0]
    both = add_overlaps(turns, energy, 6.0)
    assert both[0].end > 3.0 > both[1].start  # both speakers active around the change
    paused = energy.copy()
    paused[280:310] = -60.0  # a 0.3 s pause right before the change: a normal turn-taking
    assert pauseless_changes(turns, paused) == []
    assert add_overlaps(turns, paused, 6.0) == turns


def test_mono_overlap_option_finds_the_barge_in(mono_calls, calls_dir):
    # s_en_03: the caller barges in at 19.02 s while the agent talks until 19.62 s
    result = diarize(mono_calls["s_en_03"], DiarizeOptions(method="embeddings", mono_overlap=True))
    assert len(result.speakers) == 2
    active = {t.speaker for t in result.turns if t.start < 19.1 < t.end}
    assert len(active) == 2
    default = diarize(mono_calls["s_en_03"], DiarizeOptions(method="embeddings"))
    assert not [(a, b) for a, b in zip(default.turns, default.turns[1:]) if b.start < a.end - 1e-6]


def test_changes_move_into_a_pause_not_a_single_quiet_frame():
    from callscope.diarization.mono import _snap

    quiet = np.zeros(200, bool)
    quiet[90] = True  # one quiet 10 ms frame (a stop closure inside a word)
    quiet[115:135] = True  # a 0.2 s pause
    assert 115 <= _snap(100, quiet, 0, 200) < 135
    assert _snap(100, np.zeros(200, bool), 0, 200) == 100  # no pause nearby: keep the change
    assert _snap(100, quiet, 0, 112) == 90  # only the short quiet run is within reach
