"""Check a channel's voice activity with Silero VAD: hold music and other non-speech out.

The channel method finds activity by energy, so anything loud on a leg counts as
that party talking: hold music, ring-back melodies, a radio in the background.
Silero VAD (a speech/non-speech network) gives each 32 ms of the active stretches
a speech probability; a stretch of at least ``MIN_NON_SPEECH_S`` where it stays
clearly below speech (``NON_SPEECH_PROB``; music scores ~0.0-0.05, hesitant or noisy
speech 0.3-0.6) is cut out of the channel's activity. Boundaries of real speech keep
their precise energy-based times: only long non-speech runs are removed.

Only audio inside active intervals of at least ``MIN_CHECK_S`` is run through the
network (Silero is ~800× real time on one core; about a third of a call's channel
time gets checked), streamed chunk by chunk, so memory stays flat and silence
costs nothing. Music with sung vocals scores as speech and is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from callscope.diarization.intervals import Interval, complement, intersect, mask_to_intervals
from callscope.diarization.vad import FRAME_S as VAD_FRAME_S
from callscope.diarization.vad import SAMPLE_RATE as VAD_RATE
from callscope.diarization.vad import SileroVad
from callscope.domain import Audio

log = logging.getLogger(__name__)

MIN_NON_SPEECH_S = 1.5  # cut non-speech runs at least this long
# Hold music plays for seconds to minutes: active intervals shorter than this are not
# checked (they are mostly single speech turns; skipping them saves ~20 % of the cost).
MIN_CHECK_S = 3.0
MIN_SPEECH_LEFT_S = 0.3  # pieces left shorter than this after a cut are dropped
NON_SPEECH_PROB = 0.2  # Silero probability below which a frame is clearly not speech
WARMUP_S = 0.5  # audio fed before each interval so the network's state is warm


class _IntervalChecker:
    """Silero probabilities of one channel's audio inside one interval, fed in pieces."""

    def __init__(self, interval: Interval, sample_rate: int) -> None:
        import soxr

        self.interval = interval
        self.audio_start = max(0.0, interval[0] - WARMUP_S)
        self.vad = SileroVad()
        self.resampler = (
            None
            if sample_rate == VAD_RATE
            else soxr.ResampleStream(sample_rate, VAD_RATE, 1, dtype="float32", quality="HQ")
        )
        self.probs: list[np.ndarray] = []

    def push(self, samples: np.ndarray, last: bool = False) -> None:
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if self.resampler is not None:
            samples = self.resampler.resample_chunk(samples, last=last)
        self.probs.append(self.vad.push(samples))
        if last:
            self.probs.append(self.vad.finish())

    def non_speech(self) -> list[Interval]:
        """Runs (absolute seconds) of at least MIN_NON_SPEECH_S that Silero calls non-speech."""
        from scipy import ndimage

        probs = np.concatenate(self.probs) if self.probs else np.zeros(0, np.float32)
        probs = probs[round((self.interval[0] - self.audio_start) / VAD_FRAME_S) :]
        if probs.size == 0:
            return []
        smooth = ndimage.median_filter(probs, size=5, mode="nearest")
        start, end = self.interval
        runs = mask_to_intervals(smooth < NON_SPEECH_PROB, VAD_FRAME_S, offset_s=start)
        return [(s, min(e, end)) for s, e in runs if min(e, end) - s >= MIN_NON_SPEECH_S]


def reject_non_speech(chunks: Iterable[Audio], activity: list[list[Interval]]) -> list[list[Interval]]:
    """Per-channel activity with the long stretches Silero calls non-speech removed.

    Args:
        chunks: the recording again, as multi-channel chunks in order.
        activity: speech intervals per channel from the energy-based detector.
    """
    todo = [[iv for iv in intervals if iv[1] - iv[0] >= MIN_CHECK_S] for intervals in activity]
    if not any(todo):
        return activity
    position = [0] * len(activity)  # next interval to open, per channel
    open_checkers: list[list[_IntervalChecker]] = [[] for _ in activity]
    cuts: list[list[Interval]] = [[] for _ in activity]
    offset = 0  # frames seen
    for chunk in chunks:
        rate = chunk.sample_rate
        chunk_end = (offset + chunk.frames) / rate
        for c in range(min(len(activity), chunk.channels)):
            while position[c] < len(todo[c]) and todo[c][position[c]][0] - WARMUP_S < chunk_end:
                open_checkers[c].append(_IntervalChecker(todo[c][position[c]], rate))
                position[c] += 1
            still_open = []
            for checker in open_checkers[c]:
                start, end = checker.audio_start, checker.interval[1]
                first = max(0, int(round(start * rate)) - offset)
                last = min(chunk.frames, int(round(end * rate)) - offset)
                done = end <= chunk_end
                if last > first or done:
                    checker.push(chunk.samples[c, first:max(first, last)], last=done)
                if done:
                    cuts[c].extend(checker.non_speech())
                else:
                    still_open.append(checker)
            open_checkers[c] = still_open
        offset += chunk.frames
    for c, checkers in enumerate(open_checkers):  # intervals running past the end of the audio
        for checker in checkers:
            checker.push(np.zeros(0, np.float32), last=True)
            cuts[c].extend(checker.non_speech())
    out = []
    for c, intervals in enumerate(activity):
        if not cuts[c]:
            out.append(list(intervals))
            continue
        end = max(e for _, e in intervals)
        kept = intersect(intervals, complement(sorted(cuts[c]), 0.0, end))
        removed = sum(e - s for s, e in cuts[c])
        log.info("channel %d: %.1f s of non-speech (music, noise) removed from its activity", c, removed)
        untouched = set(intervals)  # only remnants of a cut must be long enough to keep
        out.append([iv for iv in kept if iv in untouched or iv[1] - iv[0] >= MIN_SPEECH_LEFT_S])
    return out
