"""Conversation metrics the way contact-centre QA teams measure them.

From a diarization (who spoke when, with roles), and optionally the audio (loudness,
hold music) and the transcript (speaking rate), :func:`compute_metrics` gives handle
time, talk time and ratio per party, silence and hold, overtalk and interruptions,
speaking rate, loudness, turn count and time to the agent's first words.
:func:`aggregate_metrics` rolls calls up by day, agent, language or issue.

A "party" is the speaker's role (``agent``/``caller``), or the speaker label when the
role is unknown.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np

from callscope.diarization.intervals import Interval, complement, intersect, total, union
from callscope.diarization.speakers import assign_speakers
from callscope.domain import Audio, AudioReader, CallMetrics, Diarization, Role, Transcript

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class ConversationOptions:
    """Thresholds for the metrics."""

    hold_min_s: float = 10.0  # a stretch with nobody talking this long is a hold
    music_hold_min_s: float = 3.0  # ...or this long when non-silent, steady audio (hold music) plays
    interruption_window_s: float = 1.5  # the interrupted party stops within this after the barge-in
    loudness_range_db: float = 30.0  # frames this far below the party's loud speech are pauses


def party_of(diarization: Diarization) -> dict[str, str]:
    """Speaker label -> party (role name, or the label when the role is unknown)."""
    out: dict[str, str] = {}
    for turn in diarization.turns:
        role = diarization.roles.get(turn.speaker, turn.role)
        out[turn.speaker] = role.value if role is not Role.UNKNOWN else turn.speaker
    return out


def _party_intervals(diarization: Diarization, parties: Mapping[str, str]) -> dict[str, list[Interval]]:
    grouped: dict[str, list[Interval]] = defaultdict(list)
    for turn in diarization.turns:
        if turn.end > turn.start:
            grouped[parties[turn.speaker]].append((turn.start, turn.end))
    return {party: union(intervals) for party, intervals in grouped.items()}


def _overtalk(by_party: Mapping[str, list[Interval]]) -> list[Interval]:
    names = sorted(by_party)
    pieces: list[Interval] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            pieces.extend(intersect(by_party[a], by_party[b]))
    return union(pieces)


def _interruptions(diarization: Diarization, parties: Mapping[str, str], window_s: float) -> dict[str, int]:
    """Barge-ins per party: starts while another party talks, who stops within
    ``window_s`` while the newcomer keeps the floor (backchannels don't count)."""
    counts: dict[str, int] = {p: 0 for p in set(parties.values())}
    turns = sorted(diarization.turns, key=lambda t: t.start)
    for turn in turns:
        party = parties[turn.speaker]
        for other in turns:
            if other.start >= turn.start:
                break
            if parties[other.speaker] == party:
                continue
            if other.start < turn.start < other.end and other.end - turn.start <= window_s and turn.end > other.end:
                counts[party] += 1
                break
    return counts


def _frame_levels(
    samples: np.ndarray, sample_rate: int, start_s: float, end_s: float, frame_s: float = 0.02
) -> np.ndarray:
    """Mean power of each ``frame_s`` frame of 1-D ``samples`` between ``start_s`` and ``end_s``."""
    return _levels(Audio(samples[None, :], sample_rate), 0, start_s, end_s, frame_s)


def _levels(audio: AudioReader, channel: int | None, start_s: float, end_s: float, frame_s: float = 0.02) -> np.ndarray:
    """Mean power of each ``frame_s`` frame of one channel (``None``: the mix) between
    ``start_s`` and ``end_s``, read a minute at a time (a long call never sits in memory)."""
    rate = audio.sample_rate
    first, last = int(start_s * rate), min(audio.frames, int(end_s * rate))
    hop = max(1, int(frame_s * rate))
    count = (last - first) // hop
    if count <= 0:
        return np.zeros(0)
    per_block = max(1, int(60.0 / frame_s))
    out = np.empty(count, dtype=np.float64)
    for at in range(0, count, per_block):
        n = min(per_block, count - at)
        block = audio.read(first + at * hop, first + (at + n) * hop)
        if channel is not None:
            samples = block[channel]
        else:  # the mix, as Audio.mono() makes it
            samples = block[0] if block.shape[0] == 1 else block.mean(axis=0, dtype=np.float32)
        out[at : at + n] = np.mean(np.square(samples.reshape(n, hop), dtype=np.float64), axis=1)
    return out


def _loudness(
    diarization: Diarization,
    parties: Mapping[str, str],
    by_party: Mapping[str, list[Interval]],
    overtalk: list[Interval],
    audio: AudioReader,
    range_db: float,
) -> dict[str, float]:
    """RMS dBFS of each party's speech: its own channel when known, else the mix outside overtalk."""
    channel_of: dict[str, int] = {}
    for turn in diarization.turns:
        if turn.channel is not None and turn.channel < audio.channels:
            channel_of[parties[turn.speaker]] = turn.channel
    out: dict[str, float] = {}
    for party, intervals in by_party.items():
        if party in channel_of:
            channel: int | None = channel_of[party]
            spans = intervals
        else:
            channel = None  # the mix
            spans = complement(overtalk, 0.0, audio.duration_s)
            spans = intersect(intervals, spans)
        powers = np.concatenate([_levels(audio, channel, s, e) for s, e in spans] or [np.zeros(0)])
        powers = powers[powers > 0]
        if powers.size == 0:
            continue
        levels = 10 * np.log10(powers)
        speech = powers[levels >= np.percentile(levels, 95) - range_db]
        out[party] = round(float(10 * np.log10(np.mean(speech))), 2)
    return out


def _music_like(audio: AudioReader, start_s: float, end_s: float, floor_db: float) -> bool:
    """Non-silent, steady audio (no speech-like pauses): hold music or a recorded message."""
    powers = _levels(audio, None, start_s, end_s, 0.05)
    if powers.size < 10:
        return False
    levels = 10 * np.log10(powers + 1e-12)
    sounding = levels > floor_db + 15.0
    return bool(sounding.mean() > 0.8)


def _noise_floor_db(audio: AudioReader) -> float:
    powers = _levels(audio, None, 0.0, audio.duration_s, 0.05)
    if powers.size == 0:
        return -120.0
    return float(np.percentile(10 * np.log10(powers + 1e-12), 5))


def _count_units(text: str, language: str) -> int:
    if language == "zh":
        return len(_CJK.findall(text)) + len(re.findall(r"[A-Za-z0-9]+", _CJK.sub(" ", text)))
    return len(re.findall(r"[\w']+", text))


def _speaking_rate(
    transcript: Transcript,
    diarization: Diarization,
    parties: Mapping[str, str],
    talk: Mapping[str, float],
    language: str,
) -> dict[str, float]:
    labelled = assign_speakers(transcript, diarization)
    units: dict[str, int] = defaultdict(int)
    for segment in labelled.segments:
        pieces = [(w.speaker, w.word) for w in segment.words] or [(segment.speaker, segment.text)]
        for speaker, text in pieces:
            if speaker is None:
                continue
            party = parties.get(speaker, speaker)
            units[party] += _count_units(text, language)
    return {
        party: round(units[party] / (seconds / 60.0), 1)
        for party, seconds in talk.items()
        if seconds > 0 and units.get(party)
    }


def compute_metrics(
    diarization: Diarization,
    audio: AudioReader | None = None,
    transcript: Transcript | None = None,
    language: str = "en",
    *,
    options: ConversationOptions = ConversationOptions(),
) -> CallMetrics:
    """Conversation metrics of one call.

    Args:
        diarization: who spoke when; roles (``assign_roles``) make the parties agent/caller.
        audio: the recording, for loudness and hold-music detection.
        transcript: for speaking rate (words/min in English, characters/min in Mandarin).
        language: ``en`` or ``zh`` (the transcript's language wins when given).
        options: thresholds (hold length, interruption window...).

    Returns:
        The metrics; per-party dicts are keyed by role (``agent``, ``caller``).
    """
    parties = party_of(diarization)
    by_party = _party_intervals(diarization, parties)
    speech = union(i for intervals in by_party.values() for i in intervals)
    handle = max(
        audio.duration_s if audio is not None else 0.0,
        diarization.duration_s,
        speech[-1][1] if speech else 0.0,
    )
    talk = {party: round(total(intervals), 3) for party, intervals in by_party.items()}
    all_talk = sum(talk.values())
    ratio = {party: round(seconds / all_talk, 4) for party, seconds in talk.items()} if all_talk > 0 else {}
    gaps = complement(speech, 0.0, handle)
    inner_gaps = [(s, e) for s, e in gaps if speech and s >= speech[0][1] and e <= speech[-1][0]]
    longest = max((e - s for s, e in inner_gaps), default=0.0)
    floor_db = _noise_floor_db(audio) if audio is not None else None
    holds = []
    for start, end in inner_gaps:
        length = end - start
        if length >= options.hold_min_s:
            holds.append((start, end))
        elif (
            audio is not None
            and floor_db is not None
            and length >= options.music_hold_min_s
            and _music_like(audio, start, end, floor_db)
        ):
            holds.append((start, end))
    overtalk = _overtalk(by_party)
    language = transcript.language if transcript is not None and transcript.language in ("en", "zh") else language
    agent_starts = [t.start for t in diarization.turns if parties[t.speaker] == Role.AGENT.value]
    return CallMetrics(
        handle_time_s=round(handle, 3),
        talk_time_s=talk,
        talk_ratio=ratio,
        non_talk_time_s=round(max(0.0, handle - total(speech)), 3),
        longest_silence_s=round(longest, 3),
        hold_time_s=round(total(holds), 3),
        hold_count=len(holds),
        overtalk_time_s=round(total(overtalk), 3),
        interruptions=_interruptions(diarization, parties, options.interruption_window_s),
        speaking_rate=_speaking_rate(transcript, diarization, parties, talk, language) if transcript else {},
        loudness_dbfs=_loudness(diarization, parties, by_party, overtalk, audio, options.loudness_range_db)
        if audio is not None
        else {},
        turn_count=len(diarization.turns),
        time_to_first_agent_s=round(min(agent_starts), 3) if agent_starts else None,
    )


_SCALARS = (
    "handle_time_s",
    "non_talk_time_s",
    "longest_silence_s",
    "hold_time_s",
    "hold_count",
    "overtalk_time_s",
    "turn_count",
    "time_to_first_agent_s",
)
_PER_PARTY = ("talk_time_s", "talk_ratio", "interruptions", "speaking_rate", "loudness_dbfs")
_SUMMABLE = {
    "handle_time_s",
    "non_talk_time_s",
    "hold_time_s",
    "hold_count",
    "overtalk_time_s",
    "turn_count",
    "talk_time_s",
    "interruptions",
}


def _group_key(value: Any, by: str) -> str:
    if value is None or value == "":
        return "unknown"
    if by == "day":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        return str(value)[:10]
    return str(value)


def aggregate_metrics(rows: Sequence[tuple[Mapping[str, Any], CallMetrics]], by: str) -> dict[str, dict[str, Any]]:
    """Roll call metrics up by one key (``day``, ``agent``, ``language``, ``issue``...).

    Args:
        rows: (keys, metrics) per call; ``keys[by]`` is the group (a datetime for ``day``).
        by: the key to group on; calls without it go to ``"unknown"``.

    Returns:
        ``{group: {"calls": n, "mean": {...}, "total": {...}}}``; per-party metrics are
        nested dicts (``mean["talk_ratio"]["agent"]``). Means skip calls lacking a value.
    """
    groups: dict[str, list[CallMetrics]] = defaultdict(list)
    for keys, metrics in rows:
        groups[_group_key(keys.get(by), by)].append(metrics)
    out: dict[str, dict[str, Any]] = {}
    for group, items in sorted(groups.items()):
        mean: dict[str, Any] = {}
        totals: dict[str, Any] = {}
        for name in _SCALARS:
            values = [float(getattr(m, name)) for m in items if getattr(m, name) is not None]
            if values:
                mean[name] = round(sum(values) / len(values), 3)
                if name in _SUMMABLE:
                    totals[name] = round(sum(values), 3)
        for name in _PER_PARTY:
            per_party: dict[str, list[float]] = defaultdict(list)
            for m in items:
                for party, value in getattr(m, name).items():
                    if value is not None and not (isinstance(value, float) and math.isnan(value)):
                        per_party[party].append(float(value))
            mean[name] = {p: round(sum(v) / len(v), 3) for p, v in sorted(per_party.items())}
            if name in _SUMMABLE:
                totals[name] = {p: round(sum(v), 3) for p, v in sorted(per_party.items())}
        out[group] = {"calls": len(items), "mean": mean, "total": totals}
    return out
