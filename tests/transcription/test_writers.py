"""Output files in the openai-whisper CLI formats, with speakers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from callscope.domain import Segment, Transcript, Word
from callscope.errors import ConfigError
from callscope.transcription.writers import (
    FORMATS,
    format_timestamp,
    parse_formats,
    write_outputs,
)

SRT_TIME = r"\d{2}:\d{2}:\d{2},\d{3}"
VTT_TIME = r"(?:\d{2}:)?\d{2}:\d{2}\.\d{3}"


def call_transcript() -> Transcript:
    return Transcript(
        language="en",
        segments=(
            Segment(1.24, 6.52, "Good morning, thank you for calling.", (Word(1.24, 1.6, " Good", 0.9, "agent"), Word(1.6, 2.0, " morning,", 0.8, "agent")), channel=1, speaker="agent"),
            Segment(6.87, 11.09, "Hi Emma.\tI just wanted to check.", channel=0, speaker="caller", avg_logprob=-0.3),
            Segment(3725.5, 3727.25, "Bye now.", channel=0, speaker="caller", flags=("low_confidence",)),
        ),
        duration_s=3728.0,
        model="base",
        engine="faster-whisper",
    )


def test_format_timestamp_matches_whisper() -> None:
    assert format_timestamp(1.24) == "00:01.240"
    assert format_timestamp(3725.5, always_include_hours=True, decimal_marker=",") == "01:02:05,500"
    assert format_timestamp(3725.5) == "01:02:05.500"


def test_write_all_formats(tmp_path: Path) -> None:
    paths = write_outputs(call_transcript(), tmp_path / "out", "s_en_01", "all")
    assert [p.name for p in paths] == [f"s_en_01.{ext}" for ext in FORMATS]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temp files left

    txt = (tmp_path / "out" / "s_en_01.txt").read_text(encoding="utf-8").splitlines()
    assert txt == ["agent: Good morning, thank you for calling.", "caller: Hi Emma. I just wanted to check.", "caller: Bye now."]

    srt = (tmp_path / "out" / "s_en_01.srt").read_text(encoding="utf-8")
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == 3
    for index, block in enumerate(blocks, start=1):
        number, timing, text = block.split("\n")
        assert number == str(index)
        assert re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", timing)
        assert text.startswith(("agent: ", "caller: "))
    assert "01:02:05,500 --> 01:02:07,250" in srt

    vtt = (tmp_path / "out" / "s_en_01.vtt").read_text(encoding="utf-8")
    assert vtt.startswith("WEBVTT\n\n")
    cues = vtt.strip().split("\n\n")[1:]
    assert len(cues) == 3
    for cue in cues:
        timing, text = cue.split("\n")
        assert re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", timing)
        assert re.match(r"<v (agent|caller)>\S", text)

    tsv = (tmp_path / "out" / "s_en_01.tsv").read_text(encoding="utf-8").splitlines()
    assert tsv[0] == "start\tend\ttext"
    assert tsv[1].split("\t") == ["1240", "6520", "Good morning, thank you for calling."]
    assert all(len(row.split("\t")) == 3 for row in tsv)


def test_json_is_the_transcript_contract(tmp_path: Path) -> None:
    (path,) = write_outputs(call_transcript(), tmp_path, "call", ["json"])
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["language"] == "en"
    first = data["segments"][0]
    assert {"start", "end", "text", "speaker", "channel", "words"} <= set(first)
    assert first["words"][0] == {"start": 1.24, "end": 1.6, "word": " Good", "probability": 0.9, "speaker": "agent"}
    assert data["segments"][2]["flags"] == ["low_confidence"]
    assert Transcript.from_dict(data).segments[1].text == "Hi Emma.\tI just wanted to check."


def test_mono_transcript_has_no_prefixes(tmp_path: Path) -> None:
    transcript = Transcript("zh", (Segment(0.0, 1.5, "我认为跑步最重要"),), 1.5, "base", "faster-whisper")
    write_outputs(transcript, tmp_path, "zh", "txt,srt")
    assert (tmp_path / "zh.txt").read_text(encoding="utf-8") == "我认为跑步最重要\n"
    assert "\n我认为跑步最重要\n" in (tmp_path / "zh.srt").read_text(encoding="utf-8")


def test_parse_formats() -> None:
    assert parse_formats("all") == FORMATS
    assert parse_formats("srt, json") == ("srt", "json")
    with pytest.raises(ConfigError, match="unknown output format 'docx'"):
        parse_formats("docx")
