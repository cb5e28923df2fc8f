"""pyannote.audio as a diarization backend, from a pipeline folder the user provides.

Fully offline: the folder holds ``config.yaml`` and the weights it names (pyannote
resolves ``$model/...`` entries against it); nothing is fetched from a hub. Telemetry
is switched off before pyannote.audio is imported, and the waveform is passed in
memory (pyannote's own file decoding needs torchcodec, which may not work on CPU-only
installs).
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from callscope.diarization.options import DiarizeOptions
from callscope.diarization.rttm import from_annotation
from callscope.errors import ModelError, ModelNotFoundError
from callscope.models import Audio, Diarization
from callscope.progress import Hook, no_progress

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
INSTALL_HINT = (
    "pyannote.audio is not installed. Install it next to the CPU torch with "
    "`pip install pyannote.audio torch==2.13.0` (it pulls a CUDA torchaudio build; on CPU-only "
    "machines delete site-packages/torchaudio/lib/*.so if `import torchaudio` fails with libc10_cuda.so), "
    "or leave pyannote_pipeline unset to use callscope's built-in speaker embeddings."
)


def _offline_environment() -> None:
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"  # read when pyannote.audio is imported
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
    return config


@lru_cache(maxsize=2)
def load_pipeline(config: Path) -> Any:
    """Load a pyannote ``Pipeline`` from a local config.yaml (cached)."""
    _offline_environment()
    try:
        from pyannote.audio import Pipeline
    except ImportError as exc:
        raise ModelNotFoundError(INSTALL_HINT) from exc
    try:
        from pyannote.audio.telemetry.metrics import set_telemetry_metrics

        set_telemetry_metrics(False)
    except ImportError:  # older pyannote.audio has no telemetry
        pass
    try:
        pipeline = Pipeline.from_pretrained(config)
    except Exception as exc:  # pyannote raises many types for a bad folder
        raise ModelError(f"cannot load the pyannote pipeline {config}: {exc}") from exc
    if pipeline is None:
        raise ModelError(f"cannot load the pyannote pipeline {config}: from_pretrained returned nothing")
    return pipeline


def _mono_16k(audio: Audio) -> np.ndarray:
    samples = audio.mono().samples[0]
    if audio.sample_rate != SAMPLE_RATE:
        import soxr

        samples = soxr.resample(samples, audio.sample_rate, SAMPLE_RATE, quality="HQ")
    return np.ascontiguousarray(samples, dtype=np.float32)


def diarize_pyannote(audio: Audio, options: DiarizeOptions, hook: Hook = no_progress) -> Diarization:
    """Run the user's pyannote pipeline on ``audio`` (down-mixed, 16 kHz, in memory).

    Raises:
        ModelNotFoundError: pyannote.audio is not installed or the folder is missing.
        ModelError: the pipeline cannot be loaded or fails.
    """
    if options.pyannote_pipeline is None:
        raise ModelNotFoundError("method='pyannote' needs pyannote_pipeline: a local folder with config.yaml")
    pipeline = load_pipeline(pipeline_folder(options.pyannote_pipeline))
    import torch

    waveform = torch.from_numpy(_mono_16k(audio))[None, :]
    kwargs: dict[str, int] = {}
    if options.num_speakers is not None:
        kwargs["num_speakers"] = options.num_speakers
    else:
        if options.min_speakers is not None:
            kwargs["min_speakers"] = options.min_speakers
        if options.max_speakers is not None:
            kwargs["max_speakers"] = options.max_speakers
    hook("diarize:pyannote", 0.0, audio.duration_s)
    try:
        output = pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, **kwargs)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"the pyannote pipeline failed: {exc}") from exc
    hook("diarize:pyannote", audio.duration_s, audio.duration_s)
    # pyannote.audio 4 returns DiarizeOutput(speaker_diarization=...); 3.x an Annotation
    annotation = getattr(output, "speaker_diarization", output)
    return from_annotation(annotation, method="pyannote", duration_s=audio.duration_s)
