"""Speech regions (Silero VAD) and the <= 30 s windows Whisper decodes.

Silero runs through faster-whisper's bundled ``silero_vad_v6.onnx`` (offline, about
0.3 % of real time on 2 cores). Regions are padded, capped at ``max_speech_s`` so a
window never has to split one, then packed into windows: speech only (``vad=True``)
or contiguous audio cut at the quietest gaps (``vad=False``). A :class:`Window` maps
its own time axis back to the recording's.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from callscope.diarization import channels
from callscope.diarization.intervals import fill_pauses, mask_runs, merge_gaps
from callscope.domain import Audio

SAMPLE_RATE = 16000
MAX_WINDOW_S = 30.0
DIGITAL_SILENCE = 1e-4  # peak below this: nothing to hear, skip the model entirely

Span = tuple[int, int]  # [start, end) in samples


@dataclass(frozen=True, slots=True)
class VadSettings:
    """Silero VAD parameters tuned for telephone turns (0.2-1.5 s gaps between speakers)."""

    threshold: float = 0.5
    min_speech_ms: int = 200
    min_silence_ms: int = 500
    speech_pad_ms: int = 300
    max_speech_s: float = 28.0
    # Where the channel is loud (above the speech-onset level it measures against its own noise floor, as
    # the dual-channel diarizer judges activity), a sentence needs only this Silero probability: some voices
    # on a telephone band stay at 0.2-0.5 through a loud, clear sentence and were lost from the transcript
    # (BENCHMARKS.md, "Transcription: speech Silero missed"). None: Silero's threshold alone.
    loud_threshold: float | None = 0.2
    loud_share: float = 0.5  # the share of such a region's frames that must be loud
    # Silero's recurrent state can stay "no speech" for the rest of a channel (one leg of a demo call: every
    # agent sentence after a 10-s silence scored under 0.05); a loud stretch Silero left uncovered is scored
    # again on its own, from a fresh state, at ``loud_threshold`` (BENCHMARKS.md, session 14).
    fresh_silero: bool = True

    @property
    def settle_s(self) -> float:
        """How far from a buffer's end a region must stop to be certain it has ended."""
        return (self.min_silence_ms + self.speech_pad_ms) / 1000 + 0.2


def speech_regions(samples: np.ndarray, settings: VadSettings = VadSettings()) -> list[Span]:
    """Speech spans in a 16 kHz mono signal (sample offsets, padded, each <= max_speech_s):
    Silero's, plus its less certain regions where the signal is loud (``loud_threshold``)."""
    if samples.size < 512 or float(np.max(np.abs(samples))) < DIGITAL_SILENCE:
        return []
    regions = _silero_regions(samples, settings, settings.threshold)
    if settings.loud_threshold is None or settings.loud_threshold >= settings.threshold:
        return regions
    loud = loud_frames(samples)
    frame = samples.size / max(loud.size, 1)

    def mostly_loud(start: int, end: int) -> bool:
        return bool(loud[int(start / frame) : max(int(end / frame), int(start / frame) + 1)].mean() >= settings.loud_share)

    extra = [(s, e) for s, e in _silero_regions(samples, settings, settings.loud_threshold) if mostly_loud(s, e)]
    regions = _union(regions + extra) if extra else regions
    if settings.fresh_silero:
        regions = _union(regions + _fresh_regions(samples, regions, loud, frame, settings, mostly_loud))
    return regions


def _fresh_regions(samples: np.ndarray, regions: list[Span], loud: np.ndarray, frame: float,
                   settings: VadSettings, mostly_loud: Callable[[int, int], bool]) -> list[Span]:
    """Silero, from a fresh state, on each loud stretch (pauses under ``min_silence_ms`` bridged) that
    ``regions`` leave mostly uncovered; its ``loud_threshold`` regions there that are mostly loud."""
    covered = np.zeros(loud.size, dtype=bool)
    for start, end in regions:
        covered[int(start / frame) : int(end / frame) + 1] = True
    bridge = int(settings.min_silence_ms * SAMPLE_RATE / 1000 / frame)
    stretch = fill_pauses(loud[:, None], bridge)[:, 0]
    pad = settings.speech_pad_ms * SAMPLE_RATE // 1000
    shortest = settings.min_speech_ms * SAMPLE_RATE / 1000
    found: list[Span] = []
    for first, last in zip(*mask_runs(stretch), strict=True):
        if (last - first) * frame < shortest or covered[first:last].mean() > 0.5:
            continue
        start, end = max(0, int(first * frame) - pad), min(samples.size, int(last * frame) + pad)
        found += [(start + s, start + e) for s, e in _silero_regions(samples[start:end], settings, settings.loud_threshold)
                  if mostly_loud(start + s, start + e)]
    return found


def _silero_regions(samples: np.ndarray, settings: VadSettings, threshold: float) -> list[Span]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    options = VadOptions(
        threshold=threshold,
        min_speech_duration_ms=settings.min_speech_ms,
        max_speech_duration_s=settings.max_speech_s,
        min_silence_duration_ms=settings.min_silence_ms,
        speech_pad_ms=settings.speech_pad_ms,
    )
    found = get_speech_timestamps(np.ascontiguousarray(samples, dtype=np.float32), options)
    return [(int(r["start"]), int(r["end"])) for r in found if r["end"] > r["start"]]


def loud_frames(samples: np.ndarray) -> np.ndarray:
    """Per analysis frame of a 16 kHz mono signal: is it above the speech-onset level the dual-channel
    diarizer measures for a channel (its own tracked noise floor + 15 dB, and no more than 35 dB under its
    loud speech)? Key tones count as not loud."""
    features = channels.features(Audio(samples[None, :], SAMPLE_RATE))
    levels = features.levels[0]
    return (levels > channels.speech_on(levels, features.frame_s)) & ~features.tones[0]


def _union(spans: list[Span]) -> list[Span]:
    """Overlapping or touching spans merged, in order (sample offsets: a gap under one sample is none)."""
    return merge_gaps(spans, 1)


@dataclass(frozen=True, slots=True)
class Window:
    """Audio for one decode: ``spans`` of the recording laid end to end (<= 30 s)."""

    spans: tuple[Span, ...]  # absolute sample offsets in the channel

    @property
    def frames(self) -> int:
        return sum(end - start for start, end in self.spans)

    def audio(self, buffer: np.ndarray, buffer_start: int) -> np.ndarray:
        """The window's samples, cut from ``buffer`` (which starts at ``buffer_start``)."""
        parts = [buffer[s - buffer_start : e - buffer_start] for s, e in self.spans]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _offsets(self) -> list[float]:
        out = [0.0]
        for start, end in self.spans:
            out.append(out[-1] + (end - start) / SAMPLE_RATE)
        return out

    def span_index(self, t: float) -> int:
        """Which span window time ``t`` (seconds) falls in."""
        offsets = self._offsets()
        return min(max(bisect.bisect_right(offsets, t) - 1, 0), len(self.spans) - 1)

    def to_recording(self, t: float, span: int | None = None) -> float:
        """Window seconds -> recording seconds (within ``span`` when given)."""
        offsets = self._offsets()
        index = self.span_index(t) if span is None else span
        start, end = self.spans[index]
        local = min(max(t - offsets[index], 0.0), (end - start) / SAMPLE_RATE)
        return start / SAMPLE_RATE + local


def pack_speech(regions: list[Span], max_s: float = MAX_WINDOW_S) -> list[Window]:
    """Lay consecutive speech regions end to end into windows of at most ``max_s``."""
    limit = int(max_s * SAMPLE_RATE)
    windows: list[Window] = []
    current: list[Span] = []
    used = 0
    for start, end in regions:
        while end - start > limit:  # only if max_speech_s > max_s; keep whole windows
            windows.append(Window(((start, start + limit),)))
            start += limit
        if current and used + (end - start) > limit:
            windows.append(Window(tuple(current)))
            current, used = [], 0
        current.append((start, end))
        used += end - start
    if current:
        windows.append(Window(tuple(current)))
    return windows


def pack_contiguous(start: int, end: int, regions: list[Span], max_s: float = MAX_WINDOW_S) -> list[Window]:
    """Cover ``[start, end)`` with contiguous windows, cut in the middle of gaps between regions."""
    limit = int(max_s * SAMPLE_RATE)
    cuts = [(a_end + b_start) // 2 for (_, a_end), (b_start, _) in itertools.pairwise(regions)]
    windows: list[Window] = []
    position = start
    while end - position > limit:
        candidates = [c for c in cuts if position + SAMPLE_RATE <= c <= position + limit]
        cut = candidates[-1] if candidates else position + limit
        windows.append(Window(((position, cut),)))
        position = cut
    if end > position:
        windows.append(Window(((position, end),)))
    return windows
