"""ONNX Runtime on the CPU, one way for the whole package: whether models can be exported or built
(``onnx``) and run (``onnxruntime``) here, how an inference session is made, and how the export of
a torch model is checked against the model before it is used.

Used by the e5 sentence encoder (:mod:`callscope.analysis.e5_onnx`), the IVR's tuned MiniLM
(:mod:`callscope.ivr.tuning`), CAM++ speaker embeddings (:mod:`callscope.diarization.campplus`),
segmentation-3.0 (:mod:`callscope.diarization.segmentation_runtime`) and Silero VAD
(:mod:`callscope.diarization.vad`).
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def available() -> bool:
    """Whether ``onnx`` and ``onnxruntime`` are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def cpu_session(
    model: Path | str | bytes,
    threads: int = 1,
    *,
    log_level: int | None = None,
    mem_pattern: bool = True,
    cpu_arena: bool = True,
) -> Any:
    """An ``InferenceSession`` of ``model`` (a path or the serialised graph) on the CPU with
    ``threads`` intra-op threads that sleep rather than spin when idle, and no inter-op pool:
    callers run one session from several threads at once instead. ``log_level``: ONNX
    Runtime's log severity (3: errors only, 4: fatal only); None keeps its default.

    ``mem_pattern``: ONNX Runtime's memory pattern optimisation, which plans (and keeps) one
    block of activations per input shape; a model fed a new input length at almost every call
    (CAM++ on speech runs) should turn it off. ``cpu_arena``: ONNX Runtime's CPU memory arena.

    Raises what ONNX Runtime raises for a missing or damaged model.
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_mem_pattern = mem_pattern
    options.enable_cpu_mem_arena = cpu_arena
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if log_level is not None:
        options.log_severity_level = log_level
    return onnxruntime.InferenceSession(
        model if isinstance(model, bytes) else str(model), options, providers=["CPUExecutionProvider"]
    )


def checked_export(
    target: Path,
    export: Callable[[Path], object],
    disagreement: Callable[[Any], str | None],
    *,
    name: str,
    stale: str,
    session_options: Mapping[str, bool] | None = None,
) -> Any:
    """A session on the export ``target`` of a torch model that agrees with the model, or None
    (then the caller runs torch).

    ``export(target)`` writes the file when it is missing (older files matching the glob ``stale``
    beside it are then removed); ``disagreement(session)`` compares the session with the model on a
    probe input and says how they differ (None: they agree). A file that does not load or disagrees
    is exported again once; any other failure (no write access, an exporter error) is logged. ``name``
    names the model in the log; ``session_options`` are :func:`cpu_session`'s keyword options.
    """
    try:
        return _checked_export(target, export, disagreement, name, stale, dict(session_options or {}))
    except Exception:  # noqa: BLE001 - the torch model still works
        log.exception("%s could not be exported to ONNX; using torch", name)
        return None


def _checked_export(
    target: Path,
    export: Callable[[Path], object],
    disagreement: Callable[[Any], str | None],
    name: str,
    stale: str,
    session_options: dict[str, bool],
) -> Any:
    problem = ""
    for attempt in range(2):
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            export(target)
            for old in target.parent.glob(stale):
                if old != target:
                    old.unlink(missing_ok=True)
        try:
            session = cpu_session(target, log_level=3, **session_options)
            problem = disagreement(session) or ""
        except Exception as exc:  # noqa: BLE001 - a damaged file: exported again below
            problem = f"it does not load ({exc})"
        if not problem:
            return session
        if attempt == 0:
            log.warning("the ONNX export %s of %s is not used: %s; exporting it again", target, name, problem)
            target.unlink(missing_ok=True)
    log.warning("the ONNX export %s of %s is not used: %s; using torch", target, name, problem)
    return None


class TorchOrOnnx:
    """A torch module, and an ONNX Runtime session on its export when that is usable
    (:func:`checked_export`); subclasses run the session if there is one, else the module."""

    def __init__(self, model: Any, session: Any = None) -> None:
        self.model = model
        self.session = session

    @property
    def runtime(self) -> str:
        """``onnxruntime`` or ``torch``: what runs the model."""
        return "onnxruntime" if self.session is not None else "torch"
