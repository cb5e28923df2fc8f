"""The pyannote.audio backend: clear errors without it, an offline local pipeline with it.

The slow tests build, offline, the folder a user would have (a pyannote.audio 4
``SpeakerDiarization`` config.yaml with ``$model/segmentation``, ``$model/embedding``
and ``$model/plda`` beside it: a PyanNet powerset segmentation model, an x-vector
embedding model, a PLDA), saved the way pyannote saves checkpoints, and run callscope
on a real call with it. The weights are random: these tests prove the plumbing
(loading, offline, telemetry off, conversion to turns, Annotation and RTTM), not the
quality of any diarization. No pretrained pyannote weights are available offline.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import soundfile
from pyannote.core import Annotation, Segment
from typer.testing import CliRunner

from callscope.diarization import DiarizeOptions, diarize, pyannote_backend
from callscope.diarization.rttm import read_rttm, to_annotation, write_rttm
from callscope.errors import ConfigError, ModelError, ModelNotFoundError

COMMUNITY_CONFIG = """\
pipeline:
  name: pyannote.audio.pipelines.SpeakerDiarization
  params:
    clustering: VBxClustering
    segmentation: $model/segmentation
    embedding: $model/embedding
    plda: $model/plda
"""


@pytest.fixture(autouse=True)
def _fresh_cache():
    pyannote_backend.load_pipeline.cache_clear()
    yield
    pyannote_backend.load_pipeline.cache_clear()


def _pipeline_folder(tmp_path: Path, config: str = COMMUNITY_CONFIG, weights: bool = True) -> Path:
    """A folder laid out like pyannote/speaker-diarization-community-1 (placeholder weights)."""
    folder = tmp_path / "pipeline"
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text(config)
    if weights:
        for sub, names in pyannote_backend.WEIGHT_FILES.items():
            (folder / sub).mkdir()
            for name in names:
                (folder / sub / name).write_bytes(b"placeholder")
    return folder


def test_missing_package_says_how_to_install(mono_calls, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyannote.audio", None)  # import fails
    options = DiarizeOptions(pyannote_pipeline=_pipeline_folder(tmp_path))
    with pytest.raises(ModelNotFoundError, match=r"pip install 'pyannote.audio==4\.0\.7' torch==2\.13\.0"):
        diarize(mono_calls["s_en_01"], options)
    broken = types.ModuleType("pyannote.audio")  # installed, but a compiled extension does not load

    def unloadable(name):
        raise OSError("libc10_cuda.so: cannot open shared object file")

    broken.__getattr__ = unloadable
    monkeypatch.setitem(sys.modules, "pyannote.audio", broken)
    with pytest.raises(ModelNotFoundError, match=r"cannot be imported \(libc10_cuda.so.*torchaudio/lib/\*\.so"):
        diarize(mono_calls["s_en_01"], options)


def test_missing_folder_is_named(mono_calls, tmp_path):
    with pytest.raises(ModelNotFoundError, match="config.yaml"):
        diarize(mono_calls["s_en_01"], DiarizeOptions(pyannote_pipeline=tmp_path / "nowhere"))
    with pytest.raises(ModelNotFoundError):
        diarize(mono_calls["s_en_01"], DiarizeOptions(method="pyannote"))


def test_config_that_would_download_is_refused(tmp_path):
    # pyannote/speaker-diarization-3.1's config names hub models and no PLDA
    hub = COMMUNITY_CONFIG.replace("$model/segmentation", "pyannote/segmentation-3.0")
    with pytest.raises(ConfigError, match="segmentation.*never downloads"):
        pyannote_backend.check_config(_pipeline_folder(tmp_path / "hub", hub) / "config.yaml")
    no_plda = COMMUNITY_CONFIG.replace("    plda: $model/plda\n", "")
    with pytest.raises(ConfigError, match=r"no plda .*\$model/plda"):
        pyannote_backend.check_config(_pipeline_folder(tmp_path / "no_plda", no_plda) / "config.yaml")
    with pytest.raises(ModelNotFoundError, match=r"segmentation weights are missing: .*pytorch_model\.bin"):
        pyannote_backend.check_config(_pipeline_folder(tmp_path / "empty", weights=False) / "config.yaml")
    with pytest.raises(ConfigError, match="not a pyannote pipeline config"):
        pyannote_backend.check_config(_pipeline_folder(tmp_path / "other", "model: whisper\n") / "config.yaml")
    absolute = COMMUNITY_CONFIG.replace("$model/embedding", str(tmp_path / "hub" / "pipeline" / "embedding"))
    pyannote_backend.check_config(_pipeline_folder(tmp_path / "absolute", absolute) / "config.yaml")


def test_pipeline_gets_waveform_in_memory_offline(mono_calls, tmp_path, monkeypatch):
    """The call protocol, against a stand-in ``pyannote.audio`` (runs without the package)."""
    calls = {}

    class FakePipeline:
        @classmethod
        def from_pretrained(cls, path):
            calls["path"] = path
            calls["telemetry_env"] = os.environ.get("PYANNOTE_METRICS_ENABLED")
            return cls()

        def __call__(self, file, hook=None, **kwargs):
            calls["file"], calls["kwargs"] = file, kwargs
            hook("embeddings", None, total=4, completed=2)
            annotation = Annotation()
            annotation[Segment(1.5, 6.7)] = "SPEAKER_01"
            annotation[Segment(7.0, 13.3)] = "SPEAKER_00"
            annotation[Segment(60.0, 99.0)] = "SPEAKER_00"  # past the end: cropped
            return types.SimpleNamespace(speaker_diarization=annotation)  # pyannote.audio 4 output

    fake = types.ModuleType("pyannote.audio")
    fake.Pipeline = FakePipeline
    monkeypatch.setitem(sys.modules, "pyannote.audio", fake)
    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "true")
    folder = _pipeline_folder(tmp_path)
    audio = mono_calls["s_en_01"]  # 8 kHz
    progress = []
    result = diarize(
        audio, DiarizeOptions(pyannote_pipeline=folder, num_speakers=2), hook=lambda *step: progress.append(step)
    )
    assert calls["path"] == (folder / "config.yaml").resolve()
    assert calls["telemetry_env"] == "false"
    assert calls["kwargs"] == {"num_speakers": 2}
    waveform = calls["file"]["waveform"]
    assert calls["file"]["sample_rate"] == 16000 and tuple(waveform.shape) == (1, round(audio.duration_s * 16000))
    assert result.method == "pyannote"
    starts = [(t.start, t.speaker) for t in result.turns]
    assert starts == [(1.5, "SPEAKER_01"), (7.0, "SPEAKER_00"), (60.0, "SPEAKER_00")]
    assert result.turns[-1].end == pytest.approx(audio.duration_s)
    assert result.duration_s == pytest.approx(audio.duration_s)
    assert ("diarize:pyannote", pytest.approx(0.65 * audio.duration_s), audio.duration_s) in progress


def test_stereo_calls_still_use_channels(stereo_calls, tmp_path):
    options = DiarizeOptions(pyannote_pipeline=tmp_path / "not-needed")
    assert diarize(stereo_calls["s_en_01"], options).method == "channels"


# --- the real pyannote.audio, with a local random-weight pipeline ---------------------


def _save_checkpoint(model, path: Path) -> None:
    """Save ``model`` as pyannote.audio's Lightning checkpoints are laid out (pytorch_model.bin)."""
    import lightning
    import torch

    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)  # adds versions, architecture and specifications
    path.parent.mkdir(parents=True)
    torch.save(checkpoint, path)


def _build_random_pipeline(folder: Path) -> None:
    import torch
    from pyannote.audio import __version__
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import XVectorMFCC
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(0)
    # segmentation-3.0's task: 10 s chunks, 3 speakers, powerset of at most 2 at a time
    segmentation = PyanNet()
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    segmentation.setup()  # adds the task-dependent classifier
    _save_checkpoint(segmentation, folder / "segmentation" / "pytorch_model.bin")
    embedding = XVectorMFCC(dimension=64, mfcc={"melkwargs": {"n_mels": 40}})
    embedding.specifications = Specifications(problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=3.0)
    embedding.setup()
    _save_checkpoint(embedding, folder / "embedding" / "pytorch_model.bin")
    # PLDA in VBx's npz layout: x-vector centring + LDA, then the PLDA transform
    rng = np.random.default_rng(0)
    lda, _ = np.linalg.qr(rng.standard_normal((64, 64)))
    (folder / "plda").mkdir()
    np.savez(folder / "plda" / "xvec_transform.npz", mean1=np.zeros(64), mean2=np.zeros(64), lda=lda)
    np.savez(folder / "plda" / "plda.npz", mu=np.zeros(64), tr=np.eye(64), psi=np.linspace(2.0, 0.5, 64))
    (folder / "config.yaml").write_text(
        f"dependencies:\n  pyannote.audio: {__version__}\n"
        + COMMUNITY_CONFIG
        + "    segmentation_step: 0.25\n    embedding_batch_size: 32\n    segmentation_batch_size: 32\n"
        "params:\n  clustering: {threshold: 0.6, Fa: 0.07, Fb: 0.8}\n  segmentation: {min_duration_off: 0.0}\n"
    )


@pytest.fixture(scope="module")
def random_pipeline(tmp_path_factory) -> Path:
    """A local pyannote pipeline folder with random weights (plumbing only, not quality)."""
    pytest.importorskip("pyannote.audio", reason="pyannote.audio is not installed (README, 'Install by hand')")
    folder = tmp_path_factory.mktemp("pyannote") / "my-pipeline"
    _build_random_pipeline(folder)
    return folder


@pytest.fixture
def offline(monkeypatch):
    """Any network use fails and is recorded; telemetry spans are recorded."""
    from pyannote.audio.telemetry import metrics

    attempts: list[object] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network use in an offline test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    spans: list[str] = []
    monkeypatch.setattr(metrics.tracer, "start_as_current_span", lambda name, *a, **k: spans.append(name))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "true")  # the backend must switch it off
    yield types.SimpleNamespace(attempts=attempts, spans=spans)
    assert attempts == [], "something tried the network"
    assert spans == [], "pyannote telemetry was sent"
    assert os.environ["PYANNOTE_METRICS_ENABLED"] == "false"


def _check_turns(diarization, duration_s: float) -> None:
    assert diarization.method == "pyannote" and diarization.turns
    assert diarization.duration_s == pytest.approx(duration_s)
    for turn in diarization.turns:
        assert 0.0 <= turn.start < turn.end <= duration_s + 1e-6
        assert re.fullmatch(r"SPEAKER_\d\d", turn.speaker)


@pytest.mark.slow
def test_local_pipeline_runs_offline_through_the_api(random_pipeline, mono_calls, tmp_path, monkeypatch, offline):
    audio = mono_calls["s_en_01"]  # 8 kHz mono: resampled to 16 kHz in memory
    pyannote_output = []  # the Annotation the backend converts
    convert = pyannote_backend.from_annotation

    def spy(annotation, **kwargs):
        pyannote_output.append(annotation)
        return convert(annotation, **kwargs)

    monkeypatch.setattr(pyannote_backend, "from_annotation", spy)
    progress = []
    result = diarize(
        audio,
        DiarizeOptions(pyannote_pipeline=random_pipeline, num_speakers=2),
        hook=lambda step, done, total: progress.append((step, done, total)),
    )
    _check_turns(result, audio.duration_s)
    assert 1 <= len(result.speakers) <= 2
    assert progress[-1] == ("diarize:pyannote", audio.duration_s, audio.duration_s)
    assert len(progress) > 2 and all(a[1] <= b[1] for a, b in zip(progress, progress[1:]))
    # interop: pyannote.core Annotation and RTTM, both ways
    annotation = to_annotation(result, uri="s_en_01")

    def tracks(a: Annotation) -> set[tuple[float, float, str]]:
        return {(round(s.start, 3), round(s.end, 3), label) for s, _, label in a.itertracks(yield_label=True)}

    assert tracks(annotation) == tracks(pyannote_output[0]) and len(annotation) == len(pyannote_output[0])
    assert annotation.get_timeline().extent().end <= audio.duration_s + 1e-6
    back = read_rttm(write_rttm(result, tmp_path / "s_en_01.rttm", uri="s_en_01"))
    assert [(t.speaker, round(t.start, 2), round(t.end, 2)) for t in back.turns] == [
        (t.speaker, round(t.start, 2), round(t.end, 2)) for t in result.turns
    ]


@pytest.mark.slow
def test_local_pipeline_through_the_cli(random_pipeline, calls_dir, tmp_path, monkeypatch, offline):
    from callscope.cli import app
    from callscope.settings import get_settings

    monkeypatch.setenv("CALLSCOPE_PYANNOTE_PIPELINE", str(random_pipeline))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["diarize", str(calls_dir / "s_zh_01.mono.wav"), "--rttm-dir", str(tmp_path)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "pyannote" in result.output
    duration_s = soundfile.info(str(calls_dir / "s_zh_01.mono.wav")).duration
    lines = (tmp_path / "s_zh_01.mono.rttm").read_text().splitlines()
    assert lines
    for line in lines:
        fields = line.split()
        assert fields[:3] == ["SPEAKER", "s_zh_01.mono", "1"] and re.fullmatch(r"SPEAKER_\d\d", fields[7])
        start, length = float(fields[3]), float(fields[4])
        assert start >= 0.0 and length > 0.0 and start + length <= duration_s + 0.002


@pytest.mark.slow
def test_broken_pipeline_folder_is_a_model_error(tmp_path, mono_calls):
    pytest.importorskip("pyannote.audio", reason="pyannote.audio is not installed")
    folder = _pipeline_folder(tmp_path)  # right layout, placeholder bytes for weights
    with pytest.raises(ModelError, match="cannot load the pyannote pipeline"):
        diarize(mono_calls["s_en_01"], DiarizeOptions(pyannote_pipeline=folder))
