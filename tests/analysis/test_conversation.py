"""Conversation metrics on real calls against their reference RTTM and scenario json."""

from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pytest

from callscope.analysis.conversation import aggregate_metrics, compute_metrics
from callscope.diarization import assign_roles, diarize
from callscope.diarization.rttm import read_rttm
from callscope.domain import Audio, Segment, Transcript, Word
from callscope.recordings.audio import load_audio


@pytest.fixture(scope="module")
def s_en_03(data_dir):
    folder = data_dir / "calls"
    audio = load_audio(folder / "s_en_03.stereo.wav")
    scenario = json.loads((folder / "s_en_03.json").read_text())
    return audio, scenario, read_rttm(folder / "s_en_03.rttm")


def _transcript(scenario: dict) -> Transcript:
    """Words spread evenly over each scripted turn (roughly what ASR timestamps give)."""
    zh = scenario["language"] == "zh"
    segments = []
    for turn in scenario["turns"]:
        tokens = list(turn["text"].replace(" ", "")) if zh else turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(tokens)
        words = tuple(
            Word(turn["start"] + i * step, turn["start"] + (i + 0.8) * step, t if zh else f" {t}", 0.9)
            for i, t in enumerate(tokens)
        )
        segments.append(Segment(turn["start"], turn["end"], turn["text"], words))
    return Transcript(scenario["language"], tuple(segments), scenario["duration"], "reference", "scenario")


def test_dual_channel_call_matches_the_reference(s_en_03):
    audio, scenario, reference = s_en_03
    metrics = compute_metrics(diarize(audio), audio, language="en")
    truth = compute_metrics(reference, language="en")
    for party in ("agent", "caller"):
        assert metrics.talk_time_s[party] == pytest.approx(scenario["speech_s"][party], abs=0.5)
        assert metrics.talk_ratio[party] == pytest.approx(truth.talk_ratio[party], abs=0.01)
        assert metrics.loudness_dbfs[party] == pytest.approx(scenario["legs"][party]["speech_rms_dbfs"], abs=2.0)
    assert metrics.handle_time_s == pytest.approx(scenario["duration"], abs=0.01)
    overlap = sum(o["duration"] for o in scenario["overlaps"])  # 0.601 s: the caller barges in
    assert truth.overtalk_time_s == pytest.approx(overlap, abs=0.01)
    assert metrics.overtalk_time_s == pytest.approx(overlap, abs=0.15)
    barge_ins = {p: sum(t["barge_in"] and t["speaker"] == p for t in scenario["turns"]) for p in ("agent", "caller")}
    assert metrics.interruptions == truth.interruptions == barge_ins == {"agent": 0, "caller": 1}
    assert metrics.turn_count == truth.turn_count == scenario["n_turns"]
    assert metrics.time_to_first_agent_s == pytest.approx(scenario["turns"][0]["start"], abs=0.05)
    assert metrics.hold_count == 0 and metrics.hold_time_s == 0.0
    assert metrics.longest_silence_s == pytest.approx(truth.longest_silence_s, abs=0.2)
    assert metrics.non_talk_time_s == pytest.approx(
        audio.duration_s - sum(truth.talk_time_s.values()) + truth.overtalk_time_s, abs=1.0
    )


def test_backchannels_are_not_interruptions(data_dir):
    reference = read_rttm(data_dir / "calls" / "s_en_01.rttm")  # the caller says "Right." mid-turn
    metrics = compute_metrics(reference)
    assert metrics.overtalk_time_s == pytest.approx(0.489, abs=0.01)
    assert metrics.interruptions == {"agent": 0, "caller": 0}


def test_hold_from_the_reference_turns(data_dir):
    folder = data_dir / "diarization"
    scenario = json.loads((folder / "s_en_02.json").read_text())
    metrics = compute_metrics(read_rttm(folder / "s_en_02.rttm"), language="en")
    hold = scenario["holds"][0]  # the agent checks the order for 18.9 s
    assert metrics.hold_count == len(scenario["holds"]) == 1
    assert metrics.hold_time_s == pytest.approx(hold["duration"], abs=1.5)
    assert metrics.longest_silence_s == pytest.approx(metrics.hold_time_s)


def _insert(audio: Audio, at_s: float, filler: np.ndarray) -> Audio:
    cut = int(at_s * audio.sample_rate)
    return Audio(np.concatenate([audio.samples[:, :cut], filler, audio.samples[:, cut:]], axis=1), audio.sample_rate)


def test_silent_and_music_holds_in_audio(data_dir):
    audio = load_audio(data_dir / "calls" / "s_en_01.mono.wav")
    rate = audio.sample_rate
    rng = np.random.default_rng(3)
    quiet = (rng.standard_normal((1, 14 * rate)) * 10 ** (-55 / 20)).astype(np.float32)
    held = _insert(audio, 13.7, quiet)  # after the caller's first turn
    metrics = compute_metrics(assign_roles(diarize(held)), held)
    assert metrics.hold_count == 1
    assert 14.0 <= metrics.hold_time_s <= 16.0

    t = np.arange(6 * rate) / rate  # 6 s of a steady three-note chord: hold music
    chord = sum(np.sin(2 * np.pi * f * t) for f in (392.0, 493.9, 587.3)) * 0.05
    music = _insert(audio, 13.7, chord[None, :].astype(np.float32))
    result = diarize(music)
    assert not [turn for turn in result.turns if 14.2 < turn.start < 19.2]  # music is nobody's speech
    metrics = compute_metrics(result, music)
    assert metrics.hold_count == 1
    assert 6.0 <= metrics.hold_time_s <= 8.0


def test_speaking_rate_and_roles_on_a_mono_call(data_dir):
    folder = data_dir / "calls"
    scenario = json.loads((folder / "s_en_03.json").read_text())
    transcript = _transcript(scenario)
    audio = load_audio(folder / "s_en_03.mono.wav")
    roles = assign_roles(diarize(audio), transcript, company_names=("Brightwave",))
    metrics = compute_metrics(roles, audio, transcript)
    for party in ("agent", "caller"):
        assert metrics.talk_time_s[party] == pytest.approx(scenario["speech_s"][party], rel=0.08)
        words = sum(len(t["text"].split()) for t in scenario["turns"] if t["speaker"] == party)
        expected = words / (scenario["speech_s"][party] / 60)
        assert metrics.speaking_rate[party] == pytest.approx(expected, rel=0.12)
        assert 100 < metrics.speaking_rate[party] < 260  # words per minute


def test_mandarin_rate_counts_characters(data_dir):
    folder = data_dir / "calls"
    scenario = json.loads((folder / "s_zh_01.json").read_text())
    metrics = compute_metrics(read_rttm(folder / "s_zh_01.rttm"), transcript=_transcript(scenario), language="zh")
    assert 150 < metrics.speaking_rate["agent"] < 400  # characters per minute


def test_aggregate_by_agent_day_language(s_en_03, data_dir):
    first = compute_metrics(s_en_03[2])
    second = compute_metrics(read_rttm(data_dir / "calls" / "s_zh_01.rttm"))
    rows = [
        ({"agent": "emma", "day": datetime(2025, 3, 1, 9, 30), "language": "en", "issue": "password"}, first),
        ({"agent": "emma", "day": datetime(2025, 3, 2, 14, 0), "language": "zh"}, second),
    ]
    by_agent = aggregate_metrics(rows, "agent")
    assert by_agent["emma"]["calls"] == 2
    assert by_agent["emma"]["total"]["handle_time_s"] == pytest.approx(first.handle_time_s + second.handle_time_s)
    assert by_agent["emma"]["mean"]["talk_ratio"]["agent"] == pytest.approx(
        (first.talk_ratio["agent"] + second.talk_ratio["agent"]) / 2, abs=1e-3
    )
    assert (
        by_agent["emma"]["total"]["interruptions"]["caller"]
        == first.interruptions["caller"] + second.interruptions["caller"]
    )
    assert sorted(aggregate_metrics(rows, "day")) == ["2025-03-01", "2025-03-02"]
    assert sorted(aggregate_metrics(rows, "issue")) == ["password", "unknown"]
    assert aggregate_metrics([], "agent") == {}


def test_empty_diarization():
    from callscope.domain import Diarization

    metrics = compute_metrics(Diarization(turns=(), duration_s=30.0))
    assert metrics.handle_time_s == 30.0 and metrics.non_talk_time_s == 30.0
    assert metrics.talk_time_s == {} and metrics.time_to_first_agent_s is None and metrics.hold_count == 0
