"""Give transcript words and segments the speaker who was talking when they were said."""

from __future__ import annotations

import bisect
import dataclasses
from collections import defaultdict

from callscope.domain import Diarization, Segment, SpeakerTurn, Transcript, Word

NEAREST_TURN_S = 1.0  # a word in no turn goes to the nearest turn this close


class _TurnIndex:
    """Turns sorted by start, for overlap look-ups."""

    def __init__(self, turns: tuple[SpeakerTurn, ...]) -> None:
        self.turns = sorted(turns, key=lambda t: t.start)
        self.starts = [t.start for t in self.turns]
        self.longest = max((t.end - t.start for t in self.turns), default=0.0)

    def overlaps(self, start: float, end: float) -> dict[str, float]:
        """Seconds of overlap with [start, end] per speaker."""
        out: dict[str, float] = defaultdict(float)
        first = bisect.bisect_left(self.starts, start - self.longest)
        last = bisect.bisect_right(self.starts, end)
        for turn in self.turns[first:last]:
            overlap = min(end, turn.end) - max(start, turn.start)
            if overlap > 0:
                out[turn.speaker] += overlap
        return out

    def speaker_at(self, start: float, end: float) -> str | None:
        """Who overlaps [start, end] most; else the nearest turn within NEAREST_TURN_S."""
        overlaps = self.overlaps(start, end)
        if overlaps:
            return max(overlaps.items(), key=lambda kv: (kv[1], kv[0]))[0]
        middle = (start + end) / 2
        best: tuple[float, str] | None = None
        index = bisect.bisect_left(self.starts, middle)
        for turn in self.turns[max(0, index - 3) : index + 3]:
            distance = max(turn.start - middle, middle - turn.end, 0.0)
            if distance <= NEAREST_TURN_S and (best is None or distance < best[0]):
                best = (distance, turn.speaker)
        return best[1] if best else None


def _channel_speakers(diarization: Diarization) -> dict[int, str]:
    """Channel -> speaker label for dual-channel diarizations."""
    votes: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for turn in diarization.turns:
        if turn.channel is not None:
            votes[turn.channel][turn.speaker] += turn.end - turn.start
    return {channel: max(v.items(), key=lambda kv: kv[1])[0] for channel, v in votes.items()}


def assign_speakers(transcript: Transcript, diarization: Diarization) -> Transcript:
    """Set ``Word.speaker`` and ``Segment.speaker`` from the diarization.

    Each word gets the speaker whose turns overlap it most (or the nearest turn within
    1 s). A segment gets the speaker holding most of its word time, or most of its own
    time when it has no words. Segments of a dual-channel transcript that already name a
    speaker (or a channel the diarization knows) keep it, and so do their words.

    Args:
        transcript: the transcript to label (not modified).
        diarization: who spoke when.

    Returns:
        A new transcript with speakers set (``None`` where nobody was talking).
    """
    index = _TurnIndex(diarization.turns)
    by_channel = _channel_speakers(diarization)
    segments: list[Segment] = []
    for segment in transcript.segments:
        fixed = segment.speaker if segment.channel is not None else None
        if fixed is None and segment.channel is not None:
            fixed = by_channel.get(segment.channel)
        if fixed is not None:
            words = tuple(dataclasses.replace(w, speaker=fixed) for w in segment.words)
            segments.append(dataclasses.replace(segment, words=words, speaker=fixed))
            continue
        words = tuple(dataclasses.replace(w, speaker=index.speaker_at(w.start, w.end)) for w in segment.words)
        segments.append(dataclasses.replace(segment, words=words, speaker=_majority(segment, words, index)))
    return dataclasses.replace(transcript, segments=tuple(segments))


def _majority(segment: Segment, words: tuple[Word, ...], index: _TurnIndex) -> str | None:
    time_by_speaker: dict[str, float] = defaultdict(float)
    for word in words:
        if word.speaker is not None:
            time_by_speaker[word.speaker] += max(word.end - word.start, 0.01)
    if not time_by_speaker:
        return index.speaker_at(segment.start, segment.end)
    return max(time_by_speaker.items(), key=lambda kv: (kv[1], kv[0]))[0]
