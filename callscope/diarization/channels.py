"""Dual-channel diarization: one speaker per channel, turns from per-channel voice activity.

Each channel's activity is judged against its own noise floor (tracked over time)
and its own speech level, and against the other channel: a channel whose energy is
only what leaks over from the other side (echo, crosstalk) is not speaking.
Telephone signalling tones (DTMF keys, ringback) are not speech. Same-speaker pauses
shorter than ``min_gap_s`` stay inside a turn, as human annotators write them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from callscope.diarization.frames import FrameAnalyzer
from callscope.diarization.intervals import Interval, drop_short, mask_runs, merge_gaps, runs_to_intervals, total
from callscope.diarization.options import DiarizeOptions
from callscope.domain import Audio, Diarization, Role, SpeakerTurn
from callscope.progress import Hook, no_progress

log = logging.getLogger(__name__)

ON_ABOVE_FLOOR_DB = 15.0  # a frame starts speech this far above the noise floor...
OFF_BELOW_ON_DB = 8.0  # ...and speech continues down to this much below the start level
BELOW_SPEECH_DB = 35.0  # never call speech what is this far below the channel's loud speech
ABSOLUTE_MIN_DB = -70.0  # below this nothing is speech (digital silence, line hiss)
LEAK_MARGIN_DB = 6.0  # own energy must exceed predicted leakage by this much
LEAK_MAX_DELAY_S = 0.5  # longest echo delay looked for
LEAK_CORRELATION = 0.5  # own level tracking the other side's this closely = leakage
FLOOR_BLOCK_S = 1.0
FLOOR_SPAN_S = 10.0
MIN_TONE_S = 0.06
MIN_ON_S = 0.03


@dataclass(frozen=True, slots=True)
class ChannelFeatures:
    """Per-frame band levels (dB) and tone flags of each channel."""

    levels: np.ndarray  # (channels, frames) float32
    tones: np.ndarray  # (channels, frames) bool
    frame_s: float
    duration_s: float


def features_from_chunks(chunks: Iterable[Audio], hook: Hook = no_progress, total_s: float = 0.0) -> ChannelFeatures:
    """Frame features of a stream of multi-channel chunks (memory: a few bytes per frame)."""
    analyzer: FrameAnalyzer | None = None
    levels: list[np.ndarray] = []
    tones: list[np.ndarray] = []
    frames = 0
    sample_rate = 0
    for chunk in chunks:
        if analyzer is None:
            sample_rate = chunk.sample_rate
            analyzer = FrameAnalyzer(sample_rate, chunk.channels)
        lv, tn = analyzer.push(chunk.samples)
        levels.append(lv)
        tones.append(tn)
        frames += chunk.frames
        hook("diarize:channels", frames / sample_rate, total_s or frames / sample_rate)
    if analyzer is None:
        return ChannelFeatures(np.zeros((2, 0), np.float32), np.zeros((2, 0), bool), 0.01, 0.0)
    lv, tn = analyzer.finish(frames)
    levels.append(lv)
    tones.append(tn)
    return ChannelFeatures(
        np.concatenate(levels, axis=1), np.concatenate(tones, axis=1), analyzer.frame_s, frames / sample_rate
    )


def features(audio: Audio, hook: Hook = no_progress) -> ChannelFeatures:
    """Frame features of in-memory audio, computed a minute at a time."""
    step = audio.sample_rate * 60
    chunks = (Audio(audio.samples[:, i : i + step], audio.sample_rate) for i in range(0, audio.frames, step))
    return features_from_chunks(chunks, hook, audio.duration_s)


def _tone_mask(tones: np.ndarray, frame_s: float) -> np.ndarray:
    """Frames inside signalling-tone runs (long enough to be a real tone), widened a little."""
    min_frames = max(1, round(MIN_TONE_S / frame_s))
    widen = max(1, round(0.03 / frame_s))
    starts, ends = mask_runs(tones)
    keep = ends - starts >= min_frames
    mask = np.zeros(tones.shape, bool)
    for start, end in zip(starts[keep].tolist(), ends[keep].tolist()):
        mask[max(0, start - widen) : end + widen] = True  # the run dilated by ``widen`` frames
    return mask


def _runs_with_onset(above_off: np.ndarray, above_on: np.ndarray, min_on: int) -> tuple[np.ndarray, np.ndarray]:
    """The runs of ``above_off`` that hold at least ``min_on`` frames of ``above_on``."""
    starts, ends = mask_runs(above_off)
    if starts.size == 0:
        return starts, ends
    bounds = np.empty(2 * starts.size, np.intp)
    bounds[0::2], bounds[1::2] = starts, ends
    # sums over [start, end) of each run (and, unused, over the gaps after them); the
    # False appended keeps the last bound inside the array
    on_counts = np.add.reduceat(np.concatenate((above_on, [False])), bounds, dtype=np.int64)[0::2]
    keep = on_counts >= min_on
    return starts[keep], ends[keep]


FLOOR_ROWS = 4096  # one-second blocks whose percentile is taken at a time
INTERP_FRAMES = 1 << 18  # frames whose floor is interpolated at a time


def noise_floor(levels: np.ndarray, frame_s: float) -> np.ndarray:
    """A slowly varying noise floor: low percentile per second, then a running minimum.

    Per-frame temporaries are made a slice at a time (a copy of every frame of a long
    call, or its int64/float64 index, is not held); the values are the whole-array ones.
    """
    block = max(1, round(FLOOR_BLOCK_S / frame_s))
    n = levels.size
    if n == 0:
        return levels.copy()
    blocks = int(np.ceil(n / block))
    full = n // block
    lows = [
        np.percentile(levels[first * block : last * block].reshape(last - first, block), 10, axis=1)
        for first, last in ((f, min(full, f + FLOOR_ROWS)) for f in range(0, full, FLOOR_ROWS))
    ]
    if full < blocks:  # the last, partial second, padded with its last level
        tail = np.pad(levels[full * block :], (0, blocks * block - n), mode="edge")
        lows.append(np.atleast_1d(np.percentile(tail, 10)))
    low = np.concatenate(lows)  # the dtype np.percentile gives (float32 for float32 levels)
    span = max(1, round(FLOOR_SPAN_S / FLOOR_BLOCK_S))
    floor_blocks = ndimage.minimum_filter1d(low, size=2 * span + 1, mode="nearest")
    floor_blocks = ndimage.uniform_filter1d(floor_blocks, size=5, mode="nearest")
    centres = (np.arange(blocks) + 0.5) * block
    floor = np.empty(n, np.float32)
    for first in range(0, n, INTERP_FRAMES):
        last = min(n, first + INTERP_FRAMES)
        floor[first:last] = np.interp(np.arange(first, last), centres, floor_blocks)
    return floor


def speech_on(levels: np.ndarray, frame_s: float) -> np.ndarray:
    """The level (dB) per frame at which speech starts on one channel."""
    on = noise_floor(levels, frame_s)
    loud = float(np.percentile(levels, 97)) if levels.size else ABSOLUTE_MIN_DB
    on += ON_ABOVE_FLOOR_DB  # in place: one per-frame array, not three
    np.maximum(on, loud - BELOW_SPEECH_DB, out=on)
    np.maximum(on, ABSOLUTE_MIN_DB, out=on)
    return on


def _leak_gate(own: np.ndarray, other: np.ndarray, other_on: np.ndarray, frame_s: float) -> np.ndarray:
    """Frames where ``own`` is louder than what leaks over from ``other`` would explain.

    Leakage (echo, crosstalk) shows as ``own`` following ``other``'s level, a fixed
    delay later, while ``other`` talks. The delay is the lag of best level
    correlation; the gain is a high quantile of the level difference, since most of
    the time only one side talks and real double-talk sits above it.
    """
    allowed = np.ones_like(own, dtype=bool)
    busy = (other > other_on + 6.0) & (other > own)  # the other side clearly talks
    if busy.sum() < 100:
        return allowed
    max_lag = max(1, round(LEAK_MAX_DELAY_S / frame_s))
    index = np.flatnonzero(busy)
    index = index[index >= max_lag]
    if index.size > 50_000:  # enough to estimate two numbers; bounded work on long calls
        index = index[:: index.size // 50_000 + 1]
    if index.size < 100:
        return allowed
    best_lag, best_corr = 0, -1.0
    own_values = own[index]
    if float(np.std(own_values)) < 1e-3:
        return allowed
    for lag in range(0, max_lag + 1, max(1, max_lag // 25)):
        other_values = other[index - lag]
        if float(np.std(other_values)) < 1e-3:
            continue
        corr = float(np.corrcoef(own_values, other_values)[0, 1])
        if corr > best_corr:
            best_lag, best_corr = lag, corr
    if best_corr < LEAK_CORRELATION:
        return allowed
    shifted = np.concatenate([np.full(best_lag, other[0], other.dtype), other[: other.size - best_lag]])
    jitter = max(1, round(0.03 / frame_s))
    predicted = ndimage.maximum_filter1d(shifted, size=2 * jitter + 1, mode="nearest")
    coupling = float(np.percentile(own[index] - predicted[index], 80))
    log.debug(
        "channel leakage: correlation %.2f at %.0f ms, gain %.1f dB", best_corr, best_lag * frame_s * 1000, coupling
    )
    predicted += coupling  # in place, in the same order: (predicted + coupling) + margin
    predicted += LEAK_MARGIN_DB
    return own > predicted


def channel_activity(feats: ChannelFeatures, options: DiarizeOptions) -> list[list[Interval]]:
    """Speech intervals of each channel."""
    channels = feats.levels.shape[0]
    # Thresholds from the raw levels; tones are masked afterwards (masking first would
    # drag the noise floor down to the mask value around every key press).
    ons = [speech_on(feats.levels[c], feats.frame_s) for c in range(channels)]  # each "off" is made when needed
    levels = feats.levels.copy()
    for c in range(channels):
        levels[c, _tone_mask(feats.tones[c], feats.frame_s)] = -120.0
    min_on = max(1, round(MIN_ON_S / feats.frame_s))
    activity = []
    for c in range(channels):
        allowed = np.ones(levels.shape[1], bool)
        for o in range(channels):
            if o != c:
                allowed &= _leak_gate(levels[c], levels[o], ons[o], feats.frame_s)
        on = ons[c]
        off = on - OFF_BELOW_ON_DB
        above_off = (levels[c] > off) & allowed
        above_on = (levels[c] > on) & allowed
        del off, allowed
        intervals = runs_to_intervals(*_runs_with_onset(above_off, above_on, min_on), feats.frame_s)
        intervals = merge_gaps(intervals, options.min_gap_s)
        intervals = drop_short(intervals, options.min_turn_s)
        activity.append([(s, min(e, feats.duration_s)) for s, e in intervals])
    return activity


def _role(label: str) -> Role:
    try:
        return Role(label.lower())
    except ValueError:
        return Role.UNKNOWN


def live_channels(activity: list[list[Interval]], duration_s: float) -> list[int]:
    """Channels that carry speech (not dead, not a faint copy of the other)."""
    speech = [total(a) for a in activity]
    busiest = max(speech, default=0.0)
    return [c for c, s in enumerate(speech) if s >= max(0.3, 0.02 * busiest)]


def duplicated_channels(feats: ChannelFeatures, activity: list[list[Interval]]) -> bool:
    """True when both channels carry the same mix (a mono call saved as stereo)."""
    if feats.levels.shape[0] != 2 or feats.levels.shape[1] == 0:
        return False
    masks = []
    for intervals in activity:
        mask = np.zeros(feats.levels.shape[1], bool)
        for s, e in intervals:
            mask[int(s / feats.frame_s) : int(np.ceil(e / feats.frame_s))] = True
        masks.append(mask)
    both, either = masks[0] & masks[1], masks[0] | masks[1]
    if either.sum() == 0:
        return False
    difference = np.abs(feats.levels[0] - feats.levels[1])[both]
    return both.sum() > 0.8 * either.sum() and float(np.median(difference)) < 3.0


def diarize_from_activity(activity: list[list[Interval]], options: DiarizeOptions, duration_s: float) -> Diarization:
    """Turns and roles from per-channel speech intervals."""
    turns: list[SpeakerTurn] = []
    roles: dict[str, Role] = {}
    for channel, intervals in enumerate(activity):
        label = options.channel_roles[channel] if channel < len(options.channel_roles) else f"channel_{channel}"
        role = _role(label)
        roles[label] = role
        turns.extend(SpeakerTurn(s, e, label, role=role, channel=channel) for s, e in intervals)
    turns.sort(key=lambda t: (t.start, t.end, t.speaker))
    spoken = {t.speaker for t in turns}
    roles = {k: v for k, v in roles.items() if k in spoken and v is not Role.UNKNOWN}
    return Diarization(
        turns=tuple(turns),
        roles=roles,
        # The channel convention is a deployment setting, not evidence: assign_roles
        # can raise or overturn it from what each side says.
        role_confidence={k: 0.9 for k in roles},
        method="channels",
        duration_s=duration_s,
    )
