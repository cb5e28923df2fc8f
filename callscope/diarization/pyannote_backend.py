"""pyannote.audio as a diarization backend, from a pipeline folder the user provides.

Fully offline: the folder holds ``config.yaml`` and the weights it names. Its
``$model/<subfolder>`` entries resolve inside the folder (the layout of a downloaded
``pyannote/speaker-diarization-community-1`` snapshot); the config is checked before
loading so that nothing falls back to a Hugging Face hub download. Telemetry is
switched off before pyannote.audio is imported (4.x sends usage metrics by default),
and the waveform is passed in memory (pyannote's own file decoding needs torchcodec,
which does not load next to the CPU torch).
"""

from __future__ import annotations

import logging
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np
import yaml

from callscope.diarization.options import DiarizeOptions
from callscope.diarization.rttm import from_annotation
from callscope.domain import Audio, Diarization
from callscope.errors import ConfigError, ModelError, ModelNotFoundError
from callscope.progress import Hook, no_progress

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
INSTALL_HINT = (
    "Install pyannote.audio next to the CPU torch with "
    "`pip install 'pyannote.audio==4.0.7' torch==2.13.0` (or `pip install -e '.[pyannote]'`), then delete "
    "site-packages/torchaudio/lib/*.so: that torchaudio wheel's compiled extensions are CUDA builds for another "
    "torch, and pyannote only needs its pure-Python parts (README, 'Install by hand'). Or leave pyannote_pipeline "
    "unset to use callscope's built-in speaker embeddings."
)
# Entries of a pipeline's params that name weights; SpeakerDiarization loads all three
# (pyannote.audio 4 loads the PLDA even for AgglomerativeClustering).
WEIGHT_FILES = {
    "segmentation": ("pytorch_model.bin",),
    "embedding": ("pytorch_model.bin",),
    "plda": ("xvec_transform.npz", "plda.npz"),
}
# (start, end) share of the progress bar for the pipeline steps that report progress
PROGRESS_SPANS = {"segmentation": (0.0, 0.3), "embeddings": (0.3, 1.0)}


def _offline_environment() -> None:
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"  # read by every pyannote telemetry call
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def pipeline_folder(path: Path) -> Path:
    """The folder's config.yaml, checked.

    Raises:
        ModelNotFoundError: the folder or its config.yaml does not exist.
    """
    path = Path(path).expanduser()
    config = path / "config.yaml" if path.is_dir() else path
    if not config.is_file():
        raise ModelNotFoundError(
            f"pyannote pipeline not found: {config} does not exist. Set pyannote_pipeline "
            "(CALLSCOPE_PYANNOTE_PIPELINE) to a local folder holding config.yaml and the weights it names."
        )
    return config.resolve()


def _weights_path(config: Path, key: str, value: Any) -> Path:
    """The local file or folder a params entry names (``$model/x``, a path, or {checkpoint: path})."""
    folder = config.parent
    if isinstance(value, dict):
        checkpoint, subfolder = value.get("checkpoint"), value.get("subfolder")
        if not isinstance(checkpoint, str | Path):
            raise ConfigError(f"{config}: {key} has no checkpoint path")
        path = Path(checkpoint).expanduser()
        return path / subfolder if subfolder else path
    if not isinstance(value, str):
        raise ConfigError(f"{config}: {key} must name weights (e.g. $model/{key}), got {value!r}")
    if value.startswith("$model/"):
        return folder / value.removeprefix("$model/").split("@")[0]
    path = Path(value).expanduser()
    if not path.is_absolute():
        # pyannote reads a bare name as a Hugging Face model id and a relative path against
        # the working directory; neither is what a self-contained folder means.
        raise ConfigError(
            f"{config}: {key}: {value!r} is neither $model/<subfolder> nor an absolute path. callscope never "
            f"downloads models: put the {key} weights in the pipeline folder and write `{key}: $model/<subfolder>`."
        )
    return path


def check_config(config: Path) -> None:
    """Check that ``config`` is a pyannote pipeline whose weights all lie on this machine.

    Raises:
        ConfigError: not a pipeline config, or an entry would be fetched from the hub.
        ModelNotFoundError: a weights file it names does not exist.
    """
    try:
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the pyannote pipeline config {config}: {exc}") from exc
    pipeline = data.get("pipeline") if isinstance(data, dict) else None
    if not isinstance(pipeline, dict) or not isinstance(pipeline.get("name"), str):
        raise ConfigError(
            f"{config} is not a pyannote pipeline config: it needs `pipeline: {{name: ..., params: ...}}` "
            "(e.g. name: pyannote.audio.pipelines.SpeakerDiarization)."
        )
    params = pipeline.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{config}: pipeline params must be a mapping")
    diarization = pipeline["name"].rsplit(".", 1)[-1] == "SpeakerDiarization"
    for key, names in WEIGHT_FILES.items():
        if key not in params:
            if diarization:
                raise ConfigError(
                    f"{config} names no {key} weights, so pyannote.audio would download its default from the "
                    f"Hugging Face hub. Put them in the folder and add `{key}: $model/{key}` under pipeline: params: "
                    "(pyannote/speaker-diarization-community-1 ships segmentation/, embedding/ and plda/)."
                )
            continue
        path = _weights_path(config, key, params[key])
        wanted = [path / name for name in names] if path.is_dir() or not path.suffix else [path]
        missing = [str(p) for p in wanted if not p.is_file()]
        if missing:
            raise ModelNotFoundError(f"{config}: the {key} weights are missing: {', '.join(missing)} not found.")


def _import_pipeline_class() -> Any:
    _offline_environment()
    try:
        with warnings.catch_warnings():
            # pyannote warns at import when torchcodec cannot load; callscope passes waveforms in memory
            warnings.filterwarnings("ignore", message=r"\s*torchcodec is not installed correctly")
            from pyannote.audio import Pipeline
    except ImportError as exc:
        raise ModelNotFoundError(f"pyannote.audio is not installed. {INSTALL_HINT}") from exc
    except OSError as exc:  # a torchaudio/torch extension built for another torch
        raise ModelNotFoundError(f"pyannote.audio cannot be imported ({exc}). {INSTALL_HINT}") from exc
    try:
        from pyannote.audio.telemetry import set_telemetry_metrics

        set_telemetry_metrics(False)
    except ImportError:  # pyannote.audio 3.x has no telemetry
        pass
    return Pipeline


@lru_cache(maxsize=2)
def load_pipeline(config: Path) -> Any:
    """Load a pyannote ``Pipeline`` from a local, checked config.yaml (cached).

    Raises:
        ModelNotFoundError: pyannote.audio is not installed, or weights are missing.
        ConfigError: the config is not a local pipeline.
        ModelError: pyannote cannot load it.
    """
    pipeline_class = _import_pipeline_class()
    check_config(config)
    try:
        pipeline = pipeline_class.from_pretrained(config)
    except Exception as exc:  # pyannote raises many types for a bad folder
        raise ModelError(f"cannot load the pyannote pipeline {config}: {exc}") from exc
    if pipeline is None:
        raise ModelError(f"cannot load the pyannote pipeline {config}: from_pretrained returned nothing")
    log.info("loaded pyannote pipeline %s from %s", type(pipeline).__name__, config)
    return pipeline


def _mono_16k(audio: Audio) -> np.ndarray:
    samples = audio.mono().samples[0]
    if audio.sample_rate != SAMPLE_RATE:
        import soxr

        samples = soxr.resample(samples, audio.sample_rate, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(samples, dtype=np.float32)


def _speaker_count(options: DiarizeOptions) -> dict[str, int]:
    if options.num_speakers is not None:
        return {"num_speakers": options.num_speakers}
    bounds = {"min_speakers": options.min_speakers, "max_speakers": options.max_speakers}
    return {name: value for name, value in bounds.items() if value is not None}


def _progress(hook: Hook, duration_s: float) -> Callable[..., None]:
    """pyannote's ``hook(step, artefact, file=, total=, completed=)`` as callscope progress in seconds."""

    def pyannote_hook(
        step: str, _artefact: Any = None, *, total: int | None = None, completed: int | None = None, **_: Any
    ) -> None:
        span = PROGRESS_SPANS.get(step)
        if span is None or not total or completed is None:
            return
        low, high = span
        hook("diarize:pyannote", duration_s * (low + (high - low) * min(1.0, completed / total)), duration_s)

    return pyannote_hook


def diarize_pyannote(audio: Audio, options: DiarizeOptions, hook: Hook = no_progress) -> Diarization:
    """Run the user's pyannote pipeline on ``audio`` (down-mixed, 16 kHz, in memory).

    Keeps pyannote's overlapping ``speaker_diarization`` (not the exclusive variant), the
    output its published DER figures describe; callscope assigns words by largest overlap.

    Raises:
        ModelNotFoundError: pyannote.audio is not installed or the folder is missing.
        ConfigError: the folder's config would download weights.
        ModelError: the pipeline cannot be loaded or fails.
    """
    if options.pyannote_pipeline is None:
        raise ModelNotFoundError("method='pyannote' needs pyannote_pipeline: a local folder with config.yaml")
    pipeline = load_pipeline(pipeline_folder(options.pyannote_pipeline))
    _offline_environment()  # pyannote reads the telemetry switch at every call
    import torch
    from pyannote.core import Annotation, Segment

    waveform = torch.from_numpy(_mono_16k(audio))[None, :]
    hook("diarize:pyannote", 0.0, audio.duration_s)
    try:
        output = pipeline(
            {"waveform": waveform, "sample_rate": SAMPLE_RATE},
            hook=_progress(hook, audio.duration_s),
            **_speaker_count(options),
        )
    except Exception as exc:  # pyannote raises many types (RuntimeError, ValueError, IndexError...)
        raise ModelError(f"the pyannote pipeline failed: {exc}") from exc
    hook("diarize:pyannote", audio.duration_s, audio.duration_s)
    # pyannote.audio 4 returns DiarizeOutput(speaker_diarization=...); 3.x (and legacy=True) an Annotation
    annotation = getattr(output, "speaker_diarization", output)
    if not isinstance(annotation, Annotation):
        raise ModelError(
            f"the pyannote pipeline returned {type(output).__name__}, not speaker turns; "
            "pyannote_pipeline must be a speaker diarization pipeline"
        )
    # pyannote pads the last chunk, so turns can run past the end of the audio
    annotation = annotation.crop(Segment(0.0, audio.duration_s), mode="intersection")
    return from_annotation(annotation, method="pyannote", duration_s=audio.duration_s)
