"""Words get speakers; speakers get roles (agent/caller)."""

from __future__ import annotations

import logging

import pytest

from callscope.diarization import assign_roles, assign_speakers, diarize
from callscope.diarization.rttm import read_rttm
from callscope.domain import Diarization, Role, Segment, SpeakerTurn, Transcript, Word

CALLS = ("s_en_01", "s_en_03", "s_zh_01")


def test_words_get_the_reference_speaker(calls_dir, scenario_transcripts):
    transcript = scenario_transcripts["s_en_03"]
    labelled = assign_speakers(transcript, read_rttm(calls_dir / "s_en_03.rttm"))
    import json

    scenario = json.loads((calls_dir / "s_en_03.json").read_text())
    for segment, turn in zip(labelled.segments, scenario["turns"]):
        assert segment.speaker == turn["speaker"]
        share = sum(w.speaker == turn["speaker"] for w in segment.words) / len(segment.words)
        assert share > 0.85  # words inside an overlap may go to the other speaker
    assert transcript.segments[0].speaker is None  # the input is not modified


def test_mono_diarization_labels_words(mono_diarizations, scenario_transcripts):
    labelled = assign_speakers(scenario_transcripts["s_en_01"], mono_diarizations["s_en_01"])
    speakers = [s.speaker for s in labelled.segments]
    assert set(speakers) == {"SPEAKER_00", "SPEAKER_01"}
    assert speakers[0] != speakers[1]  # agent greets, caller answers


def test_dual_channel_segments_keep_their_speaker():
    diarization = Diarization(
        turns=(SpeakerTurn(0, 5, "agent", Role.AGENT, channel=1), SpeakerTurn(0, 5, "caller", Role.CALLER, channel=0)),
        method="channels",
    )
    words = (Word(1.0, 1.5, " hello", 0.9),)
    transcript = Transcript(
        "en",
        (
            Segment(1.0, 1.5, "hello", words, channel=0, speaker="caller"),
            Segment(1.0, 1.5, "hello", words, channel=1),  # channel only: mapped through the turns
        ),
        5.0,
        "m",
        "e",
    )
    labelled = assign_speakers(transcript, diarization)
    assert [s.speaker for s in labelled.segments] == ["caller", "agent"]
    assert labelled.segments[1].words[0].speaker == "agent"


def test_words_outside_any_turn():
    diarization = Diarization(turns=(SpeakerTurn(0, 2, "A"),))
    transcript = Transcript(
        "en", (Segment(2.3, 2.6, "late", (Word(2.3, 2.6, " late", 1.0),)), Segment(9, 10, "far")), 10, "m", "e"
    )
    labelled = assign_speakers(transcript, diarization)
    assert labelled.segments[0].speaker == "A"  # within 1 s of A's turn
    assert labelled.segments[1].speaker is None


@pytest.mark.parametrize("stem", CALLS)
def test_agent_found_on_mono_calls_from_the_script(stem, mono_diarizations, scenario_transcripts, calls_dir):
    result = assign_roles(mono_diarizations[stem], scenario_transcripts[stem], company_names=("Brightwave",))
    reference = read_rttm(calls_dir / f"{stem}.rttm")
    agent = next(s for s, r in result.roles.items() if r is Role.AGENT)
    caller = next(s for s, r in result.roles.items() if r is Role.CALLER)
    # the agent label covers the reference agent's speech
    agent_time = sum(t.duration_s for t in result.turns if t.speaker == agent)
    assert agent_time == pytest.approx(sum(t.duration_s for t in reference.turns if t.speaker == "agent"), rel=0.1)
    assert result.role_confidence[agent] > 0.95
    assert all(t.role is Role.CALLER for t in result.turns if t.speaker == caller)


def test_roles_without_transcript_use_timing_hints(mono_diarizations):
    result = assign_roles(mono_diarizations["s_en_03"])
    first = min(result.turns, key=lambda t: t.start)
    assert first.role is Role.AGENT  # the agent answers the call
    assert 0.5 < result.role_confidence[first.speaker] < 0.8  # weak evidence, said so


def test_swapped_channels_are_overturned_by_the_script(stereo_calls, scenario_transcripts, caplog):
    from callscope.diarization import DiarizeOptions

    wrong = diarize(stereo_calls["s_en_01"], DiarizeOptions(channel_roles=("agent", "caller")))
    transcript = scenario_transcripts["s_en_01"]
    with caplog.at_level(logging.WARNING):
        fixed = assign_roles(wrong, transcript, company_names=("Brightwave",))
    assert fixed.roles["caller"] is Role.AGENT  # the channel labelled "caller" greets as the agent
    assert "channel_roles" in caplog.text
    right = assign_roles(diarize(stereo_calls["s_en_01"]), transcript)
    assert right.roles == {"agent": Role.AGENT, "caller": Role.CALLER}
    assert right.role_confidence["agent"] > 0.99


def test_one_voice_is_not_forced_into_a_role():
    lone = Diarization(turns=(SpeakerTurn(0, 30, "SPEAKER_00"),), method="embeddings")
    assert assign_roles(lone).roles == {"SPEAKER_00": Role.UNKNOWN}
    greeting = Transcript("en", (Segment(0, 3, "Thank you for calling Brightwave, how can I help?"),), 30, "m", "e")
    assert assign_roles(lone, greeting).roles == {"SPEAKER_00": Role.AGENT}
    assert assign_roles(Diarization(turns=())).roles == {}


def test_mandarin_script_cues(scenario_transcripts, mono_diarizations):
    transcript = scenario_transcripts["s_zh_01"]  # 您好，欢迎致电光澜通信，我是客服小李，请问有什么可以帮您？
    result = assign_roles(mono_diarizations["s_zh_01"], transcript)
    first = min(result.turns, key=lambda t: t.start)
    assert result.roles[first.speaker] is Role.AGENT
    assert result.role_confidence[first.speaker] > 0.95
