"""Fixtures for diarization tests: real calls and clips from tests/data, decoded once."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from callscope.domain import Audio, Segment, Transcript, Word

CALLS = ("s_en_01", "s_en_03", "s_zh_01")


@pytest.fixture(scope="session")
def calls_dir(data_dir: Path) -> Path:
    return data_dir / "calls"


@pytest.fixture(scope="session")
def stereo_calls(calls_dir: Path) -> dict[str, Audio]:
    from callscope.recordings.audio import load_audio

    return {stem: load_audio(calls_dir / f"{stem}.stereo.wav") for stem in CALLS}


@pytest.fixture(scope="session")
def mono_calls(calls_dir: Path) -> dict[str, Audio]:
    from callscope.recordings.audio import load_audio

    return {stem: load_audio(calls_dir / f"{stem}.mono.wav") for stem in CALLS}


@pytest.fixture(scope="session")
def mono_diarizations(mono_calls: dict[str, Audio]):
    """The default mono method."""
    from callscope.diarization import diarize

    return {stem: diarize(audio) for stem, audio in mono_calls.items()}


@pytest.fixture(scope="session")
def resemblyzer_diarizations(mono_calls: dict[str, Audio]):
    """The resemblyzer path (``method="embeddings"``)."""
    from callscope.diarization import DiarizeOptions, diarize

    return {stem: diarize(audio, DiarizeOptions(method="embeddings")) for stem, audio in mono_calls.items()}


@pytest.fixture(scope="session")
def mono_method() -> str:
    """What ``method="auto"`` picks for mono audio here (neural where its weights are installed)."""
    from callscope.diarization import mono

    return "neural" if mono.neural_preferred() else "embeddings"


def transcript_from_scenario(path: Path) -> Transcript:
    """A transcript built from a call's scenario json: each turn's text, words spread
    evenly over the turn's speech regions (the timing an ASR would give, roughly)."""
    scenario = json.loads(path.read_text(encoding="utf-8"))
    language = scenario["language"]
    segments = []
    for turn in scenario["turns"]:
        text = turn["text"]
        tokens = list(text.replace(" ", "")) if language == "zh" else text.split()
        regions = turn["speech_regions"]
        speech = sum(e - s for s, e in regions)
        words = []
        for i, token in enumerate(tokens):
            offset = (i + 0.5) * speech / len(tokens)
            for s, e in regions:  # map speech time to clock time
                if offset <= e - s:
                    centre = s + offset
                    break
                offset -= e - s
            else:
                centre = regions[-1][1]
            half = 0.4 * speech / len(tokens)
            words.append(Word(centre - half, centre + half, token if language == "zh" else f" {token}", 0.9))
        segments.append(Segment(turn["start"], turn["end"], text, words=tuple(words)))
    return Transcript(
        language=language,
        segments=tuple(segments),
        duration_s=scenario["duration"],
        model="reference",
        engine="scenario",
    )


@pytest.fixture(scope="session")
def scenario_transcripts(calls_dir: Path) -> dict[str, Transcript]:
    return {stem: transcript_from_scenario(calls_dir / f"{stem}.json") for stem in CALLS}


@pytest.fixture(scope="session")
def make_transcript():
    """transcript_from_scenario, for tests that need another call's script."""
    return transcript_from_scenario


@pytest.fixture(scope="session")
def quiet_audio():
    """silence(seconds, rate, channels, noise_db): line noise or digital zeros."""
    return silence


def silence(seconds: float, rate: int = 8000, channels: int = 1, noise_db: float | None = -60.0) -> Audio:
    """Line-noise 'silence' (or digital zeros with noise_db=None)."""
    frames = int(seconds * rate)
    if noise_db is None:
        return Audio(np.zeros((channels, frames), np.float32), rate)
    rng = np.random.default_rng(7)
    return Audio((rng.standard_normal((channels, frames)) * 10 ** (noise_db / 20)).astype(np.float32), rate)
