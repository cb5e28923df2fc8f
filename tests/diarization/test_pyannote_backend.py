"""The pyannote.audio backend: clear errors without it, offline in-memory use with it.

pyannote.audio is not installed in the test environment (it pulls a CUDA torchaudio);
the interop test injects a stand-in ``pyannote.audio`` module, as a fake client.
"""

from __future__ import annotations

import os
import sys
import types

import pytest
from pyannote.core import Annotation, Segment

from callscope.diarization import DiarizeOptions, diarize, pyannote_backend
from callscope.errors import ModelNotFoundError


@pytest.fixture(autouse=True)
def _fresh_cache():
    pyannote_backend.load_pipeline.cache_clear()
    yield
    pyannote_backend.load_pipeline.cache_clear()


def _pipeline_folder(tmp_path):
    folder = tmp_path / "pipeline"
    folder.mkdir()
    (folder / "config.yaml").write_text("pipeline:\n  name: pyannote.audio.pipelines.SpeakerDiarization\n")
    return folder


def test_missing_package_says_how_to_install(mono_calls, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)  # import fails
    options = DiarizeOptions(pyannote_pipeline=_pipeline_folder(tmp_path))
    with pytest.raises(ModelNotFoundError, match="pip install pyannote.audio"):
        diarize(mono_calls["s_en_01"], options)


def test_missing_folder_is_named(mono_calls, tmp_path):
    with pytest.raises(ModelNotFoundError, match="config.yaml"):
        diarize(mono_calls["s_en_01"], DiarizeOptions(pyannote_pipeline=tmp_path / "nowhere"))
    with pytest.raises(ModelNotFoundError):
        diarize(mono_calls["s_en_01"], DiarizeOptions(method="pyannote"))


def test_pipeline_gets_waveform_in_memory_offline(mono_calls, tmp_path, monkeypatch):
    calls = {}

    class FakePipeline:
        @classmethod
        def from_pretrained(cls, path):
            calls["path"] = path
            calls["telemetry_env"] = os.environ.get("PYANNOTE_METRICS_ENABLED")
            return cls()

        def __call__(self, file, **kwargs):
            calls["file"], calls["kwargs"] = file, kwargs
            annotation = Annotation()
            annotation[Segment(1.5, 6.7)] = "SPEAKER_01"
            annotation[Segment(7.0, 13.3)] = "SPEAKER_00"
            return types.SimpleNamespace(speaker_diarization=annotation)  # pyannote.audio 4 output

    fake = types.ModuleType("pyannote.audio")
    fake.Pipeline = FakePipeline
    monkeypatch.setitem(sys.modules, "pyannote.audio", fake)
    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "true")
    folder = _pipeline_folder(tmp_path)
    audio = mono_calls["s_en_01"]  # 8 kHz
    result = diarize(audio, DiarizeOptions(pyannote_pipeline=folder, num_speakers=2))
    assert calls["path"] == folder / "config.yaml"
    assert calls["telemetry_env"] == "false"
    assert calls["kwargs"] == {"num_speakers": 2}
    waveform = calls["file"]["waveform"]
    assert calls["file"]["sample_rate"] == 16000 and tuple(waveform.shape) == (1, round(audio.duration_s * 16000))
    assert result.method == "pyannote"
    assert [(t.start, t.speaker) for t in result.turns] == [(1.5, "SPEAKER_01"), (7.0, "SPEAKER_00")]
    assert result.duration_s == pytest.approx(audio.duration_s)


def test_stereo_calls_still_use_channels(stereo_calls, tmp_path):
    options = DiarizeOptions(pyannote_pipeline=tmp_path / "not-needed")
    assert diarize(stereo_calls["s_en_01"], options).method == "channels"
