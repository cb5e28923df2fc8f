"""Serving call audio to browsers: HTTP byte ranges and waveform peaks.

Audio is only ever read from the path the recordings store holds for an id; no file
name from a request reaches the file system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.errors import CallscopeError
from callscope.recordings.audio import iter_audio

MEDIA_TYPES = {
    ".wav": "audio/wav",
    ".wave": "audio/wav",
    ".mp3": "audio/mpeg",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
    ".mka": "audio/x-matroska",
}
_RANGE = re.compile(r"^\s*bytes\s*=\s*(.+)$", re.IGNORECASE)
_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")
MAX_RANGES = 16


class RangeError(CallscopeError):
    """A ``Range`` header that is malformed or cannot be satisfied (HTTP 416)."""


def media_type(path: str | Path) -> str:
    return MEDIA_TYPES.get(Path(path).suffix.lower(), "application/octet-stream")


def parse_range(header: str, size: int) -> list[tuple[int, int]]:
    """Parse an HTTP ``Range`` header into inclusive ``(first, last)`` byte positions.

    Args:
        header: e.g. ``bytes=0-1023``, ``bytes=500-``, ``bytes=-500``.
        size: the file's length in bytes.

    Returns:
        The ranges, clamped to the file.

    Raises:
        RangeError: not a bytes range, malformed, too many, or outside the file.
    """
    match = _RANGE.match(header)
    if match is None:
        raise RangeError(f"unsupported Range header {header[:80]!r}: use bytes=FIRST-LAST")
    specs = match.group(1).split(",")
    if len(specs) > MAX_RANGES:
        raise RangeError(f"too many ranges ({len(specs)}); at most {MAX_RANGES}")
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        parts = _SPEC.match(spec)
        if parts is None or (not parts.group(1) and not parts.group(2)):
            raise RangeError(f"malformed range {spec.strip()!r}")
        first_s, last_s = parts.group(1), parts.group(2)
        if not first_s:  # suffix range: the last N bytes
            length = int(last_s)
            if length == 0 or size == 0:
                raise RangeError(f"range {spec.strip()!r} selects no bytes")
            ranges.append((max(0, size - length), size - 1))
            continue
        first = int(first_s)
        last = int(last_s) if last_s else size - 1
        if last < first:
            raise RangeError(f"range {spec.strip()!r} ends before it starts")
        if first >= size:
            raise RangeError(f"range {spec.strip()!r} starts after the end of the {size}-byte file")
        ranges.append((first, min(last, size - 1)))
    return ranges


@dataclass(frozen=True, slots=True)
class Peaks:
    """Waveform envelope: per channel, ``points`` (min, max) pairs."""

    duration_s: float
    sample_rate: int
    points: int
    channels: list[list[list[float]]]

    def to_dict(self) -> dict[str, object]:
        return {"duration_s": self.duration_s, "sample_rate": self.sample_rate, "points": self.points,
                "channels": self.channels}


def compute_peaks(path: str | Path, *, duration_s: float, sample_rate: int, points: int = 1000) -> Peaks:
    """Min/max sample values in ``points`` equal slices of the call, per channel.

    Decodes in chunks, so memory stays flat for hour-long calls.

    Raises:
        InvalidAudioError: the stored audio cannot be decoded.
    """
    total = max(1, round(duration_s * sample_rate))
    points = max(1, min(points, total))
    bucket = total / points
    mins: np.ndarray | None = None
    maxs: np.ndarray | None = None
    offset = 0
    for chunk in iter_audio(path, chunk_s=60.0):
        samples = chunk.samples
        if mins is None or maxs is None:
            mins = np.full((samples.shape[0], points), np.inf, dtype=np.float32)
            maxs = np.full((samples.shape[0], points), -np.inf, dtype=np.float32)
        n = samples.shape[1]
        index = np.minimum(((offset + np.arange(n)) / bucket).astype(np.int64), points - 1)
        starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
        slots = index[starts]
        for ch in range(samples.shape[0]):
            mins[ch, slots] = np.minimum(mins[ch, slots], np.minimum.reduceat(samples[ch], starts))
            maxs[ch, slots] = np.maximum(maxs[ch, slots], np.maximum.reduceat(samples[ch], starts))
        offset += n
    assert mins is not None and maxs is not None  # iter_audio yields at least one chunk or raises
    mins = np.clip(np.where(np.isfinite(mins), mins, 0.0), -1.0, 1.0)
    maxs = np.clip(np.where(np.isfinite(maxs), maxs, 0.0), -1.0, 1.0)
    channels = [
        [[round(float(lo), 4), round(float(hi), 4)] for lo, hi in zip(mins[ch], maxs[ch], strict=True)]
        for ch in range(mins.shape[0])
    ]
    return Peaks(round(duration_s, 3), sample_rate, points, channels)
