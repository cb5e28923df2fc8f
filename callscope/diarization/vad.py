"""Streaming voice activity detection with Silero VAD (the ONNX model faster-whisper ships).

The model sees 512-sample windows (32 ms at 16 kHz) plus 64 samples of context and
carries an LSTM state, so audio can be fed chunk by chunk with flat memory.
"""

from __future__ import annotations

import logging
import os
from functools import lru_cache
from typing import Any

import numpy as np

from callscope.diarization.intervals import Interval, drop_short, mask_to_intervals, merge_gaps
from callscope.errors import ModelError, ModelNotFoundError
from callscope.onnx_runtime import cpu_session

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WINDOW = 512
CONTEXT = 64
FRAME_S = WINDOW / SAMPLE_RATE


@lru_cache(maxsize=1)
def _session() -> Any:
    try:
        import onnxruntime  # noqa: F401 - missing: the message below
        from faster_whisper.utils import get_assets_path
    except ImportError as exc:  # pragma: no cover - both are dependencies
        raise ModelNotFoundError(
            "voice activity detection needs faster-whisper and onnxruntime: pip install faster-whisper"
        ) from exc
    path = os.path.join(get_assets_path(), "silero_vad_v6.onnx")
    if not os.path.exists(path):
        raise ModelNotFoundError(f"Silero VAD model not found at {path}; reinstall faster-whisper==1.2.1")
    try:
        return cpu_session(path, log_level=4)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ModelError(f"cannot load the Silero VAD model {path}: {exc}") from exc


class SileroVad:
    """Speech probability for every 32 ms of 16 kHz mono audio, fed in chunks."""

    def __init__(self) -> None:
        self._session = _session()
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add 16 kHz mono samples; return probabilities of the windows now complete."""
        buffer = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        count = buffer.size // WINDOW
        self._pending = buffer[count * WINDOW :]
        if count == 0:
            return np.zeros(0, np.float32)
        windows = buffer[: count * WINDOW].reshape(count, WINDOW)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -CONTEXT:]], axis=0)
        self._context = windows[-1, -CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1)
        outputs = []
        for first in range(0, count, 2048):
            out, self._h, self._c = self._session.run(
                None, {"input": batch[first : first + 2048], "h": self._h, "c": self._c}
            )
            outputs.append(np.asarray(out, np.float32).reshape(-1))
        return np.concatenate(outputs)

    def finish(self) -> np.ndarray:
        """Probabilities for the last partial window (zero-padded)."""
        if self._pending.size == 0:
            return np.zeros(0, np.float32)
        tail = np.pad(self._pending, (0, WINDOW - self._pending.size))
        self._pending = np.zeros(0, np.float32)
        return self.push(tail)


def speech_intervals(
    probs: np.ndarray,
    *,
    threshold: float = 0.5,
    neg_threshold: float = 0.35,
    min_silence_s: float = 0.25,
    min_speech_s: float = 0.1,
    pad_s: float = 0.03,
    duration_s: float | None = None,
) -> list[Interval]:
    """Speech (start, end) seconds from window probabilities, with hysteresis."""
    if probs.size == 0:
        return []
    from scipy import ndimage

    above_low = probs >= neg_threshold
    labels, count = ndimage.label(above_low)
    if count:
        peaks = ndimage.maximum(probs, labels, index=np.arange(1, count + 1))
        keep = np.concatenate(([False], np.asarray(peaks) >= threshold))
        mask = keep[labels]
    else:
        mask = above_low
    intervals = mask_to_intervals(mask, FRAME_S)
    intervals = merge_gaps(intervals, min_silence_s)
    intervals = drop_short(intervals, min_speech_s)
    end = duration_s if duration_s is not None else probs.size * FRAME_S
    return [(max(0.0, s - pad_s), min(end, e + pad_s)) for s, e in intervals]
