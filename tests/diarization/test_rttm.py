"""RTTM files and pyannote.core interop."""

from __future__ import annotations

import pytest
from pyannote.core import Annotation, Segment

from callscope.diarization.evaluation import score
from callscope.diarization.rttm import from_annotation, read_rttm, to_annotation, write_rttm
from callscope.domain import Diarization, Role, SpeakerTurn
from callscope.errors import ConfigError


def test_round_trip_keeps_turns(calls_dir, tmp_path):
    reference = read_rttm(calls_dir / "s_en_03.rttm")
    assert len(reference.turns) == 12
    assert reference.roles == {"agent": Role.AGENT, "caller": Role.CALLER}
    path = write_rttm(reference, tmp_path / "out.rttm", uri="s_en_03")
    lines = path.read_text().splitlines()
    assert lines[0] == "SPEAKER s_en_03 1 0.761 3.691 <NA> <NA> agent <NA> <NA>"
    again = read_rttm(path)

    def rows(d: Diarization) -> list[tuple[float, float, str]]:
        return [(round(t.start, 3), round(t.end, 3), t.speaker) for t in d.turns]

    assert rows(again) == rows(reference)
    assert score(reference, again).der == 0.0


def test_annotation_interop(calls_dir):
    reference = read_rttm(calls_dir / "s_en_01.rttm")
    annotation = to_annotation(reference, uri="s_en_01")
    assert isinstance(annotation, Annotation)
    assert sorted(annotation.labels()) == ["agent", "caller"]
    assert annotation.label_duration("caller") == pytest.approx(23.487, abs=0.01)  # scenario speech_s
    back = from_annotation(annotation, method="rttm")
    assert len(back.turns) == len(reference.turns)
    assert back.roles["agent"] is Role.AGENT

    external = Annotation(uri="x")
    external[Segment(0.5, 2.0)] = "SPEAKER_00"
    external[Segment(1.5, 3.0)] = "SPEAKER_01"
    converted = from_annotation(external)
    assert converted.speakers == ("SPEAKER_00", "SPEAKER_01")
    assert converted.method == "pyannote" and converted.roles == {}


def test_labels_and_uris_with_spaces_stay_one_field(tmp_path):
    diarization = Diarization(turns=(SpeakerTurn(1.0, 2.5, "Agent Smith"),))
    path = write_rttm(diarization, tmp_path / "a.rttm", uri="call 7")
    assert path.read_text().split()[1] == "call_7"
    assert read_rttm(path).speakers == ("Agent_Smith",)


def test_malformed_and_ambiguous_files(tmp_path):
    bad = tmp_path / "bad.rttm"
    bad.write_text("SPEAKER x 1 zero 1.0 <NA> <NA> a <NA> <NA>\n")
    with pytest.raises(ConfigError, match="bad.rttm:1"):
        read_rttm(bad)
    two = tmp_path / "two.rttm"
    two.write_text("SPEAKER a 1 0 1 <NA> <NA> s <NA> <NA>\nSPEAKER b 1 0 1 <NA> <NA> s <NA> <NA>\n")
    with pytest.raises(ConfigError, match="pass uri"):
        read_rttm(two)
    assert read_rttm(two, uri="b").speakers == ("s",)
    with pytest.raises(ConfigError):
        read_rttm(tmp_path / "missing.rttm")
    empty = tmp_path / "empty.rttm"
    empty.write_text("")
    assert read_rttm(empty).turns == ()


def test_der_counts_errors():
    reference = Diarization(turns=(SpeakerTurn(0, 10, "a"), SpeakerTurn(10, 20, "b")))
    swapped = Diarization(turns=(SpeakerTurn(0, 10, "x"), SpeakerTurn(10, 20, "y")))
    merged = Diarization(turns=(SpeakerTurn(0, 20, "x"),))
    assert score(reference, swapped).der == 0.0  # labels are mapped optimally
    assert score(reference, merged, collar=0.0).der == pytest.approx(0.5)
    assert score(reference, Diarization(turns=()), collar=0.0).missed_s == pytest.approx(20.0)
