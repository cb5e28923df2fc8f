"""ONNX Runtime on the CPU, one way for the whole package: whether models can be exported or built
(``onnx``) and run (``onnxruntime``) here, and how an inference session is made.

Used by the e5 sentence encoder (:mod:`callscope.analysis.e5_onnx`), the IVR's tuned MiniLM
(:mod:`callscope.ivr.tuning`), CAM++ speaker embeddings (:mod:`callscope.diarization.campplus`)
and Silero VAD (:mod:`callscope.diarization.vad`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any


def available() -> bool:
    """Whether ``onnx`` and ``onnxruntime`` are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def cpu_session(model: Path | str | bytes, threads: int = 1, *, log_level: int | None = None) -> Any:
    """An ``InferenceSession`` of ``model`` (a path or the serialised graph) on the CPU with
    ``threads`` intra-op threads that sleep rather than spin when idle, and no inter-op pool:
    callers run one session from several threads at once instead. ``log_level``: ONNX
    Runtime's log severity (3: errors only, 4: fatal only); None keeps its default.

    Raises what ONNX Runtime raises for a missing or damaged model.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if log_level is not None:
        options.log_severity_level = log_level
    return onnxruntime.InferenceSession(
        model if isinstance(model, bytes) else str(model), options, providers=["CPUExecutionProvider"]
    )
