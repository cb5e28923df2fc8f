"""Prosody of speech stretches (pitch, energy, speaking rate) and arousal from it.

Telephone-safe settings: 8 kHz input works (pitch 60-400 Hz with 64 ms YIN frames,
which fit two periods of the lowest pitch; 10-20 ms hops). Pitch comes from YIN on
frames that are loud enough to be speech; robust statistics (median, 10-90 % range)
absorb YIN's octave slips on the remaining frames.

Arousal is *relative*: each feature is z-scored against the same speaker's other
turns in the call (:func:`arousal_scores`), because a deep, quiet voice and a high,
loud one differ more between people than between calm and upset.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from callscope.domain import AudioReader
from callscope.errors import InvalidAudioError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProsodyOptions:
    """Analysis settings (defaults suit 8 kHz telephone audio and 16 kHz recordings)."""

    fmin_hz: float = 60.0
    fmax_hz: float = 400.0
    frame_s: float = 0.064
    hop_s: float = 0.01
    active_db: float = 30.0  # frames within this many dB of the loud end count as speech
    min_active_s: float = 0.25  # less active speech than this gives no features


@dataclass(frozen=True, slots=True)
class ProsodyFeatures:
    """Prosody of one stretch of speech."""

    duration_s: float  # the stretch analysed
    active_s: float  # how much of it is speech (energy gate)
    f0_median_hz: float | None  # None when too little voiced speech
    f0_range_st: float | None  # 10-90 percentile pitch range, semitones
    energy_dbfs: float  # mean RMS level of the active frames
    energy_range_db: float  # 10-90 percentile spread of active frame levels
    rate_per_s: float  # energy peaks (syllable nuclei) per second of active speech

    @property
    def f0_semitones(self) -> float | None:
        """Median pitch in semitones above 55 Hz (a log scale for z-scoring)."""
        return None if self.f0_median_hz is None else 12.0 * math.log2(self.f0_median_hz / 55.0)


# Weights of the z-scored features in arousal: pitch and loudness carry most of it
# (Scherer 2003; Bänziger & Scherer 2005), range and tempo add to it.
AROUSAL_WEIGHTS = {"f0": 0.35, "energy": 0.3, "f0_range": 0.15, "energy_range": 0.05, "rate": 0.15}


BLOCK_FRAMES = 3000  # analysis frames computed at a time (30 s at 10 ms hops): a long turn never sits in memory


def extract_prosody(
    samples: np.ndarray, sample_rate: int, options: ProsodyOptions | None = None
) -> ProsodyFeatures | None:
    """Measure pitch, energy and rate of a mono stretch of speech.

    Args:
        samples: 1-D float samples in [-1, 1].
        sample_rate: Hz (8 kHz and up).
        options: analysis settings.

    Returns:
        The features, or None when the stretch holds too little speech.

    Raises:
        InvalidAudioError: multi-channel samples or a sample rate below 8 kHz.
    """
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim != 1:
        raise InvalidAudioError(f"extract_prosody needs mono samples, got shape {x.shape}")
    return _prosody(lambda first, last: x[first:last], len(x), sample_rate, options or ProsodyOptions())


def _prosody(
    read: Callable[[int, int], np.ndarray], length: int, sample_rate: int, options: ProsodyOptions
) -> ProsodyFeatures | None:
    """:func:`extract_prosody` of ``length`` samples fetched with ``read(first, last)``.

    Frame levels and pitch are computed :data:`BLOCK_FRAMES` frames at a time (frames
    never straddle a block: each block reads the samples its frames cover), so memory
    holds one block of audio plus a few numbers per frame, however long the stretch.
    """
    import librosa

    if sample_rate < 8000:
        raise InvalidAudioError(f"sample rate {sample_rate} Hz is too low for pitch analysis (need 8 kHz or more)")
    frame = int(round(options.frame_s * sample_rate))
    hop = max(1, int(round(options.hop_s * sample_rate)))
    duration_s = length / sample_rate
    if length < frame + hop:
        return None
    count = 1 + (length - frame) // hop  # frames of librosa's center=False framing
    if count <= BLOCK_FRAMES:  # one block: the stretch itself
        x = np.asarray(read(0, length), dtype=np.float32)
        x = x - float(np.mean(x))

        def blocks() -> Iterator[np.ndarray]:
            yield x
    else:
        step = BLOCK_FRAMES * hop
        mean = sum(float(np.sum(read(a, a + step), dtype=np.float64)) for a in range(0, length, step)) / length

        def blocks() -> Iterator[np.ndarray]:
            for k in range(0, count, BLOCK_FRAMES):
                last = min(count, k + BLOCK_FRAMES)
                yield np.asarray(read(k * hop, (last - 1) * hop + frame), dtype=np.float32) - mean

    rms = np.concatenate(
        [librosa.feature.rms(y=b, frame_length=frame, hop_length=hop, center=False)[0] for b in blocks()]
    )
    db = 20.0 * np.log10(np.maximum(rms, 1e-6))
    loud = float(np.percentile(db, 95))
    if loud < -65.0:
        return None  # digital silence or line noise only
    active = db > loud - options.active_db
    active_s = float(active.sum() * hop / sample_rate)
    if active_s < options.min_active_s:
        return None

    f0 = np.concatenate([
        librosa.yin(
            b,
            fmin=options.fmin_hz,
            fmax=options.fmax_hz,
            sr=sample_rate,
            frame_length=frame,
            hop_length=hop,
            center=False,
        )
        for b in blocks()
    ])
    n = min(len(f0), len(active))
    voiced = active[:n] & (db[:n] > loud - 20.0) & (f0[:n] > options.fmin_hz * 1.05) & (f0[:n] < options.fmax_hz * 0.95)
    pitch = f0[:n][voiced]
    f0_median = f0_range = None
    if len(pitch) >= 10:
        f0_median = float(np.median(pitch))
        # drop octave slips (half/double of the median) before measuring the range
        semis = 12.0 * np.log2(pitch / f0_median)
        semis = semis[np.abs(semis) < 9.0]
        if len(semis) >= 10:
            lo, hi = np.percentile(semis, [10, 90])
            f0_range = float(hi - lo)

    active_db = db[active]
    lo_db, hi_db = np.percentile(active_db, [10, 90])
    energy = float(20.0 * np.log10(max(float(np.sqrt(np.mean(rms[active] ** 2))), 1e-6)))

    # syllable nuclei: peaks of the smoothed loudness contour, >= 80 ms apart and 3 dB prominent
    from scipy.signal import find_peaks

    kernel = np.hanning(max(3, int(0.05 / options.hop_s)))
    smooth = np.convolve(db, kernel / kernel.sum(), mode="same")
    peaks, _ = find_peaks(
        smooth, prominence=3.0, distance=max(1, int(0.08 / options.hop_s)), height=loud - options.active_db
    )
    rate = float(len(peaks) / active_s)
    return ProsodyFeatures(
        duration_s=duration_s,
        active_s=active_s,
        f0_median_hz=f0_median,
        f0_range_st=f0_range,
        energy_dbfs=energy,
        energy_range_db=float(hi_db - lo_db),
        rate_per_s=rate,
    )


def segment_prosody(
    audio: AudioReader,
    start_s: float,
    end_s: float,
    *,
    channel: int | None = None,
    options: ProsodyOptions | None = None,
) -> ProsodyFeatures | None:
    """Prosody of ``audio`` between ``start_s`` and ``end_s``, from one channel or the mix.

    Args:
        audio: the call recording (in memory or spooled to disk; only the stretch is read).
        start_s: start of the stretch (seconds).
        end_s: its end.
        channel: the channel to read (dual-channel calls); ``None`` reads the mix.
        options: analysis settings.

    Returns:
        The features, or None when the stretch is empty or holds too little speech.

    Raises:
        InvalidAudioError: ``channel`` does not exist.
    """
    if channel is not None and not 0 <= channel < audio.channels:
        raise InvalidAudioError(f"channel {channel} does not exist: the audio has {audio.channels} channel(s)")
    a = max(0, int(start_s * audio.sample_rate))
    b = min(audio.frames, int(math.ceil(end_s * audio.sample_rate)))
    if b <= a:
        return None

    def read(first: int, last: int) -> np.ndarray:  # the stretch is read a block at a time
        block = audio.read(a + first, a + min(last, b - a))
        if channel is not None:
            return block[channel]
        return block[0] if audio.channels == 1 else block.mean(axis=0)

    return _prosody(read, b - a, audio.sample_rate, options or ProsodyOptions())


_FLOORS = {"f0": 1.0, "energy": 2.0, "f0_range": 1.0, "energy_range": 1.5, "rate": 0.4}


def _feature(f: ProsodyFeatures, name: str) -> float | None:
    if name == "f0":
        return f.f0_semitones
    if name == "energy":
        return f.energy_dbfs
    if name == "f0_range":
        return f.f0_range_st
    if name == "energy_range":
        return f.energy_range_db
    return f.rate_per_s


def arousal_scores(
    features: Sequence[ProsodyFeatures | None], groups: Sequence[str] | None = None
) -> list[float | None]:
    """Arousal of each stretch relative to the other stretches of the same group (speaker).

    Each feature is z-scored within its group (with a minimum spread, so a speaker
    who never changes gets ~0) and the z-scores are averaged with
    :data:`AROUSAL_WEIGHTS`. A group with one stretch scores 0.

    Args:
        features: per stretch, None where nothing could be measured.
        groups: the speaker of each stretch; ``None``: all one group.

    Returns:
        A z-score-like arousal per stretch (about -3..3), None where features are None.

    Raises:
        ValueError: ``groups`` and ``features`` differ in length.
    """
    groups = list(groups) if groups is not None else ["all"] * len(features)
    if len(groups) != len(features):
        raise ValueError(f"{len(features)} features but {len(groups)} groups")
    out: list[float | None] = [None] * len(features)
    for group in dict.fromkeys(groups):
        idx = [i for i, g in enumerate(groups) if g == group and features[i] is not None]
        if not idx:
            continue
        total = np.zeros(len(idx))
        weight = np.zeros(len(idx))
        for name, w in AROUSAL_WEIGHTS.items():
            values = [_feature(features[i], name) for i in idx]  # type: ignore[arg-type]
            known = np.array([v for v in values if v is not None], dtype=np.float64)
            if len(known) < 2:
                continue
            std = max(float(known.std()), _FLOORS[name])
            mean = float(known.mean())
            for k, v in enumerate(values):
                if v is not None:
                    total[k] += w * float(np.clip((v - mean) / std, -3.0, 3.0))
                    weight[k] += w
        for k, i in enumerate(idx):
            out[i] = float(total[k] / weight[k]) if weight[k] > 0 else 0.0
    return out


# Scales of the gain-independent features in :func:`speaker_contrast` (about one
# "clearly different" step: 2 semitones of pitch range, 0.6 syllables/s).
CONTRAST_SCALES = {"f0_range": 2.0, "rate": 0.6}


def speaker_contrast(
    target: Sequence[ProsodyFeatures | None], reference: Sequence[ProsodyFeatures | None]
) -> float | None:
    """How much livelier one speaker is than another in the same call (about -2..2).

    Uses only features that do not depend on channel gain or on the voice itself:
    the pitch range (semitones) and the speaking rate, each as the difference of the
    two speakers' medians divided by :data:`CONTRAST_SCALES`. In a call the reference
    is the agent, who speaks calmly on the same line and codec, so a caller who is
    upset from the first word to the last (whose within-speaker arousal stays ~0)
    still stands out.

    Returns:
        The mean scaled difference, clipped to [-2, 2]; None when either side has no
        usable stretch.
    """
    parts = []
    for name, scale in CONTRAST_SCALES.items():
        a = [v for f in target if f is not None and (v := _feature(f, name)) is not None]
        b = [v for f in reference if f is not None and (v := _feature(f, name)) is not None]
        if a and b:
            parts.append(float(np.clip((np.median(a) - np.median(b)) / scale, -2.0, 2.0)))
    return float(np.mean(parts)) if parts else None
