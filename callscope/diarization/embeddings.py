"""Speaker embeddings over sliding windows with resemblyzer's GE2E voice encoder.

The encoder (resemblyzer 0.1.4 ships its weights, ``pretrained.pt``) maps 1.6 s of
40-band mel frames to a 256-d unit vector. Audio is streamed: mel frames live only
until their windows are embedded, so memory stays flat; each embedded window keeps
its 256 floats (about 2 KB per hop).
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.fft

from callscope.errors import ModelError, ModelNotFoundError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
MEL_HOP = 160  # 10 ms
MEL_FFT = 400  # 25 ms
MEL_BANDS = 40
WINDOW_FRAMES = 160  # resemblyzer's partial utterance: 1.6 s
TARGET_DBFS = -30.0  # resemblyzer normalises utterances to this level


@lru_cache(maxsize=1)
def load_voice_encoder() -> Any:
    """resemblyzer's VoiceEncoder on the CPU (weights ship inside the package)."""
    try:
        with warnings.catch_warnings():  # resemblyzer imports a deprecated scipy namespace
            warnings.simplefilter("ignore", DeprecationWarning)
            from resemblyzer import VoiceEncoder
    except ImportError as exc:
        raise ModelNotFoundError(
            "speaker embeddings need resemblyzer: pip install --no-deps resemblyzer==0.1.4 webrtcvad-wheels"
        ) from exc
    try:
        return VoiceEncoder("cpu", verbose=False)
    except (OSError, RuntimeError) as exc:
        raise ModelError(
            f"resemblyzer's voice encoder weights cannot be loaded ({exc}); reinstall resemblyzer"
        ) from exc


@lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=SAMPLE_RATE, n_fft=MEL_FFT, n_mels=MEL_BANDS).astype(np.float32)


@contextlib.contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run torch with ``count`` threads, then restore (the LSTM is faster on one)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True, slots=True)
class WindowEmbeddings:
    """Embedded windows: start times (s), speech share, unit vectors (n, 256)."""

    starts: np.ndarray
    speech: np.ndarray
    vectors: np.ndarray
    window_s: float

    @property
    def centres(self) -> np.ndarray:
        return self.starts + self.window_s / 2


class MelStream:
    """Power mel frames (librosa-compatible, centred) of 16 kHz audio fed in chunks."""

    def __init__(self) -> None:
        self._pending = np.zeros(MEL_FFT // 2, np.float32)  # centre the first frame on t=0
        window = np.hanning(MEL_FFT + 1)[:-1]  # periodic Hann, as librosa
        self._window = window.astype(np.float32)
        self.frames_out = 0

    def push(self, samples: np.ndarray, final: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Return (mel (n, 40), frame energy dB (n,)) of the frames now complete."""
        buffer = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        if final:
            buffer = np.concatenate([buffer, np.zeros(MEL_FFT // 2, np.float32)])
        count = 0 if buffer.size < MEL_FFT else (buffer.size - MEL_FFT) // MEL_HOP + 1
        self._pending = buffer[count * MEL_HOP :]
        if count == 0:
            return np.zeros((0, MEL_BANDS), np.float32), np.zeros(0, np.float32)
        frames = np.lib.stride_tricks.sliding_window_view(buffer, MEL_FFT)[::MEL_HOP][:count]
        power = np.abs(scipy.fft.rfft(frames * self._window, axis=1)) ** 2
        mel = (power.astype(np.float32) @ _mel_basis().T).astype(np.float32)
        energy = 10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-10).astype(np.float32)
        self.frames_out += count
        return mel, energy


def normalise_windows(mels: np.ndarray, energies: np.ndarray) -> np.ndarray:
    """Scale each window's mel power as if its speech were at -30 dBFS."""
    loud = energies.max(axis=1, keepdims=True)
    weights = energies > loud - 30.0
    mean_power = (10.0 ** (energies / 10.0) * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1)
    level = 10.0 * np.log10(mean_power + 1e-10)
    gain = 10.0 ** ((TARGET_DBFS - level) / 10.0)  # power gain
    return (mels * gain[:, None, None]).astype(np.float32)


def embed_windows(mels: np.ndarray, threads: int = 1) -> np.ndarray:
    """Unit-norm embeddings (n, 256) of mel windows (n, 160, 40)."""
    import torch

    if mels.shape[0] == 0:
        return np.zeros((0, 256), np.float32)
    encoder = load_voice_encoder()
    out = []
    with torch_threads(threads), torch.inference_mode():
        for first in range(0, mels.shape[0], 64):
            out.append(encoder(torch.from_numpy(np.ascontiguousarray(mels[first : first + 64]))).numpy())
    vectors = np.concatenate(out).astype(np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-8)
    return vectors
