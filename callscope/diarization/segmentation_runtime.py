"""pyannote segmentation-3.0 on ONNX Runtime (issue #13 round 8), with torch as the fallback.

The torch module that pyannote.audio loads is exported once to ``<cache dir>/segmentation-<sha256 of
the weights>-v<EXPORT_VERSION>.onnx`` (batch dynamic, 10 s windows at 16 kHz); each time it is loaded,
its class probabilities for a fixed pseudo-random window are checked against torch's. A damaged or
disagreeing export is made again once, then torch runs. On one core ONNX Runtime takes ~25 % less CPU
than torch for a batch of windows (7-9 % of the whole mono diarizer), with the same probabilities to ~5e-6
on speech (BENCHMARKS.md, round 8).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from callscope import onnx_runtime
from callscope.storage_io import atomic_path, sha256_of

EXPORT_VERSION = 1  # part of the export's file name: bump when the exported graph changes
WINDOW_SAMPLES = 160000  # 10 s at 16 kHz: the windows neural.py feeds it
MAX_PROBE_DIFF = 1e-4  # an export whose probe probabilities differ more from torch's is not used
SESSION_OPTIONS: dict[str, bool] = {}  # onnx_runtime.cpu_session's options (windows have one shape)


class Segmenter(onnx_runtime.TorchOrOnnx):
    """segmentation-3.0's powerset class probabilities for a batch of windows, by ONNX Runtime
    (``session``) or else the torch module."""

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        """(windows, samples) float32 audio -> (windows, frames, 7) class probabilities."""
        x = np.ascontiguousarray(batch[:, None, :], dtype=np.float32)
        if self.session is not None:
            return np.exp(self.session.run(None, {"waveforms": x})[0])
        import torch

        with torch.inference_mode():
            return np.exp(self.model(torch.from_numpy(x)).numpy())


def export_path(cache_dir: Path, digest: str) -> Path:
    """Where the export of the weights whose sha256 is ``digest`` is kept."""
    return cache_dir / f"segmentation-{digest[:16]}-v{EXPORT_VERSION}.onnx"


def export_onnx(model: Any, path: Path) -> Path:
    """Export the torch module ((batch, 1, samples) -> (batch, frames, 7) log-probabilities) to ``path``
    atomically, batch dynamic. Raises what the exporter raises."""
    import torch

    example = torch.zeros(1, 1, WINDOW_SAMPLES)
    with atomic_path(path) as tmp, torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes in SincNet
        torch.onnx.export(
            model,
            (example,),
            str(tmp),
            input_names=["waveforms"],
            output_names=["logprobs"],
            dynamic_axes={"waveforms": {0: "batch"}, "logprobs": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
    return path


def probe_difference(model: Any, session: Any) -> float:
    """Largest absolute difference between torch's and the session's class probabilities on a fixed input."""
    window = np.random.default_rng(0).normal(0.0, 0.1, (2, WINDOW_SAMPLES)).astype(np.float32)
    return float(np.abs(Segmenter(model)(window) - Segmenter(model, session)(window)).max())


def load_segmenter(model: Any, weights: Path | None, cache_dir: Path | None) -> Segmenter:
    """segmentation-3.0 on ONNX Runtime when ``cache_dir`` and ``weights`` (the file whose sha256 names
    the export) are given and onnx/onnxruntime are installed, else on torch. Export and runtime
    failures are logged and torch is used."""
    if cache_dir is None or weights is None or not onnx_runtime.available():
        return Segmenter(model)
    return Segmenter(model, _ready_session(model, export_path(Path(cache_dir), sha256_of(Path(weights)))))


def _ready_session(model: Any, target: Path) -> Any:
    """A session on ``target`` (exported now if missing) that agrees with torch, or None."""

    def disagreement(session: Any) -> str | None:
        difference = probe_difference(model, session)
        if difference <= MAX_PROBE_DIFF:
            return None
        return f"it disagrees with torch (difference {difference:.2e} on the probe input)"

    return onnx_runtime.checked_export(
        target,
        lambda path: export_onnx(model, path),
        disagreement,
        name="segmentation-3.0",
        stale="segmentation-*.onnx",
        session_options=SESSION_OPTIONS,
    )
