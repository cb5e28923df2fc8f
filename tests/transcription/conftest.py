"""Fixtures for transcription tests: one loaded model per session, shared model cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from callscope.domain import Audio

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The shared model cache (same place as the ``settings`` fixture uses), kept across runs."""
    path = Path(
        os.environ.get("CALLSCOPE_MODEL_DIR")
        or os.environ.get("CALLSCOPE_TEST_MODEL_CACHE", ROOT / ".callscope" / "models")
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def transcriber(model_dir: Path):
    """callscope's default transcriber (faster-whisper int8, Whisper base), loaded once."""
    from callscope.transcription import TranscribeOptions, Transcriber

    t = Transcriber(TranscribeOptions(cpu_threads=2), model_dir)
    t.load()
    return t


@pytest.fixture(scope="session")
def call_audio(data_dir: Path) -> dict[str, Audio]:
    """The three test calls decoded (8 kHz stereo)."""
    from callscope.recordings.audio import load_audio

    return {name: load_audio(data_dir / "calls" / f"{name}.stereo.wav") for name in ("s_en_01", "s_en_03", "s_zh_01")}
