"""Single-channel diarization: voice activity, speaker embeddings, clustering, re-segmentation.

1. Stream the audio once at 16 kHz: Silero VAD probabilities (32 ms) and resemblyzer
   embeddings of 1.6 s windows every ``HOP_S`` that are mostly speech.
2. Cluster the window embeddings with an automatic speaker count (see clustering).
3. Re-segment: a Viterbi pass over the windows with a speaker-change penalty, then
   each speech stretch is split where the speaker changes, moved into the longest
   pause near the change (turns change in pauses; the quietest single frame is often
   a stop closure inside a word).
4. Overlap (``DiarizeOptions.mono_overlap``): a speaker change with no pause near it
   (the level never falls near the noise floor) is taken as a barge-in, and both
   speakers get the stretch around the change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from callscope.diarization import clustering, neural_models
from callscope.diarization.channels import noise_floor
from callscope.diarization.embeddings import (
    MEL_BANDS,
    SAMPLE_RATE,
    WINDOW_FRAMES,
    MelStream,
    WindowEmbeddings,
    embed_windows,
    normalise_windows,
)
from callscope.diarization.intervals import Interval, drop_short, mask_to_intervals, merge_gaps
from callscope.diarization.options import DiarizeOptions
from callscope.diarization.vad import FRAME_S as VAD_FRAME_S
from callscope.diarization.vad import SileroVad, speech_intervals
from callscope.domain import Audio, Diarization, SpeakerTurn
from callscope.progress import Hook, no_progress

log = logging.getLogger(__name__)

HOP_S = 0.5  # one embedding every 0.5 s of speech
MEL_FRAME_S = 0.01
MIN_WINDOW_SPEECH = 0.5  # share of a window that must be speech to embed it


@dataclass(frozen=True, slots=True)
class MonoFeatures:
    """What one streaming pass over a mono recording keeps (small per second)."""

    vad_probs: np.ndarray  # every 32 ms
    energy_db: np.ndarray  # every 10 ms (for placing turn changes in pauses)
    windows: WindowEmbeddings
    duration_s: float


def neural_preferred() -> bool:
    """Whether ``method="auto"`` diarizes mono audio with segmentation-3.0 + CAM++ (``neural``).

    It does wherever its weights and pyannote.audio are installed: on the benchmark's
    dev split (real-voice telephone calls, AMI meeting excerpts, real clips, synthetic
    and neural-voice calls) it beat this module's resemblyzer path on every group
    (BENCHMARKS.md, issue #13). Without them, resemblyzer runs.
    """
    return neural_models.available()


def resampled_chunks(chunks: Iterable[Audio]) -> Iterator[np.ndarray]:
    """Mono 16 kHz float32 chunks from any-rate, any-channel chunks (streaming soxr)."""
    import soxr

    stream = None
    rate = None
    for chunk in chunks:
        samples = chunk.samples.mean(axis=0) if chunk.channels > 1 else chunk.samples[0]
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if rate is None:
            rate = chunk.sample_rate
            if rate != SAMPLE_RATE:
                stream = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        if stream is None:
            yield samples
        else:
            yield stream.resample_chunk(samples)
    if stream is not None:
        yield stream.resample_chunk(np.zeros(0, np.float32), last=True)


def extract(
    chunks: Iterable[Audio], options: DiarizeOptions, hook: Hook = no_progress, total_s: float = 0.0
) -> MonoFeatures:
    """One pass: VAD probabilities, frame energies and window embeddings."""
    vad = SileroVad()
    mel_stream = MelStream()
    hop_frames = round(HOP_S / MEL_FRAME_S)
    probs: list[np.ndarray] = []
    energies: list[np.ndarray] = []
    mel_buffer = np.zeros((0, MEL_BANDS), np.float32)
    energy_buffer = np.zeros(0, np.float32)
    buffer_offset = 0  # mel frame index of mel_buffer[0]
    next_start = 0  # mel frame index of the next window
    starts: list[np.ndarray] = []
    speech: list[np.ndarray] = []
    vectors: list[np.ndarray] = []
    samples_seen = 0

    def take_windows(final: bool) -> None:
        nonlocal next_start, mel_buffer, energy_buffer, buffer_offset
        all_probs = np.concatenate(probs) if probs else np.zeros(0, np.float32)
        available = buffer_offset + mel_buffer.shape[0]
        picked: list[int] = []
        shares: list[float] = []
        while next_start + WINDOW_FRAMES <= available:
            end_s = (next_start + WINDOW_FRAMES) * MEL_FRAME_S
            if not final and end_s > all_probs.size * VAD_FRAME_S:
                break
            first = int(next_start * MEL_FRAME_S / VAD_FRAME_S)
            last = max(first + 1, int(np.ceil(end_s / VAD_FRAME_S)))
            share = float(np.mean(all_probs[first:last] >= 0.5)) if last <= all_probs.size else 0.0
            if share >= MIN_WINDOW_SPEECH:
                picked.append(next_start)
                shares.append(share)
            next_start += hop_frames
        if picked:
            index = np.asarray(picked) - buffer_offset
            mels = np.stack([mel_buffer[i : i + WINDOW_FRAMES] for i in index])
            energy = np.stack([energy_buffer[i : i + WINDOW_FRAMES] for i in index])
            # one torch thread whatever options.cpu_threads says: the LSTM is faster on one
            vectors.append(embed_windows(normalise_windows(mels, energy), 1).astype(np.float16))
            starts.append(np.asarray(picked, np.float64) * MEL_FRAME_S)
            speech.append(np.asarray(shares, np.float32))
        drop = max(0, next_start - buffer_offset)
        mel_buffer, energy_buffer = mel_buffer[drop:], energy_buffer[drop:]
        buffer_offset += drop

    for samples in resampled_chunks(chunks):
        samples_seen += samples.size
        probs.append(vad.push(samples))
        mel, energy = mel_stream.push(samples)
        energies.append(energy)
        mel_buffer = np.concatenate([mel_buffer, mel])
        energy_buffer = np.concatenate([energy_buffer, energy])
        take_windows(final=False)
        hook("diarize:embeddings", samples_seen / SAMPLE_RATE, total_s or samples_seen / SAMPLE_RATE)
    probs.append(vad.finish())
    mel, energy = mel_stream.push(np.zeros(0, np.float32), final=True)
    energies.append(energy)
    mel_buffer = np.concatenate([mel_buffer, mel])
    energy_buffer = np.concatenate([energy_buffer, energy])
    take_windows(final=True)
    duration_s = samples_seen / SAMPLE_RATE
    windows = WindowEmbeddings(
        starts=np.concatenate(starts) if starts else np.zeros(0),
        speech=np.concatenate(speech) if speech else np.zeros(0, np.float32),
        vectors=np.concatenate(vectors).astype(np.float32) if vectors else np.zeros((0, 256), np.float32),
        window_s=WINDOW_FRAMES * MEL_FRAME_S,
    )
    all_probs = np.concatenate(probs)
    return MonoFeatures(all_probs, np.concatenate(energies), windows, duration_s)


CLUSTER_MIN_SPEECH = (0.8, 0.65)  # windows this full of speech rarely straddle a speaker change
MIN_CLUSTER_INPUT = 30  # ...but cluster at least this many windows (all, in short clips)
# cosine-similarity cost of a speaker change between windows; 0-0.05 score alike on the
# shared calls and clips, 0.1 over-smoothed (DER 7.1 vs 6.9 % on the mono calls)
SWITCH_PENALTY = 0.05
SNAP_S = 0.3  # move a change into the longest pause within this distance
# A pause: level (100 ms smoothing) within 7 dB of the tracked noise floor, the margin
# between the channel method's start and continue thresholds (15 dB and 15 - 8 dB).
PAUSE_ABOVE_FLOOR_DB = 7.0
PAUSE_SMOOTH_S = 0.1
PAUSE_SEARCH_S = 0.4  # overlap cue: no pause this far either side of a speaker change
OVERLAP_HALF_S = 0.25  # a pauseless change becomes an overlap this long either side
MAX_CHANGE_GAP_S = 0.05  # turns closer than this changed speaker without a detected gap
MIN_WINDOWS_PER_SPEAKER = 5


def _cluster_windows(speech: np.ndarray, wanted: int) -> np.ndarray:
    """Windows to cluster: the fullest of speech, relaxing the bar until enough remain."""
    for bar in CLUSTER_MIN_SPEECH:
        selected = speech >= bar
        if selected.sum() >= min(wanted, speech.size):
            return selected
    return np.ones(speech.size, bool)


def viterbi(scores: np.ndarray, penalty: float) -> np.ndarray:
    """Best label path through per-window scores (n, k) with a cost per label change."""
    n, k = scores.shape
    if n == 0 or k == 1:
        return np.zeros(n, int)
    back = np.zeros((n, k), np.int32)
    total = scores[0].astype(np.float64).copy()
    for i in range(1, n):
        stay = total
        best_prev = int(np.argmax(total))
        switch = total[best_prev] - penalty
        choose_switch = switch > stay
        back[i] = np.where(choose_switch, best_prev, np.arange(k))
        total = np.where(choose_switch, switch, stay) + scores[i]
    path = np.zeros(n, int)
    path[-1] = int(np.argmax(total))
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def _snap(change: int, quiet: np.ndarray, low: int, high: int) -> int:
    """The middle of the longest pause near ``change`` within [low, high), or ``change`` itself.

    ``quiet`` marks frames near the noise floor. The single quietest frame is often a
    stop closure inside a word; the longest quiet run is the likelier turn change.
    """
    radius = round(SNAP_S / MEL_FRAME_S)
    first, last = max(low, change - radius), min(high, change + radius + 1)
    if last - first < 2 or last > quiet.size:
        return change
    runs = mask_to_intervals(quiet[first:last], 1.0)
    if not runs:
        return change
    start, end = max(runs, key=lambda r: (r[1] - r[0], -abs((r[0] + r[1]) / 2 - (change - first))))
    return first + int((start + end) // 2)


def quiet_frames(energy_db: np.ndarray) -> np.ndarray:
    """10 ms frames whose level (100 ms smoothing) is within PAUSE_ABOVE_FLOOR_DB of the noise floor."""
    from scipy import ndimage

    if energy_db.size == 0:
        return np.zeros(0, bool)
    power = 10.0 ** (energy_db.astype(np.float64) / 10.0)
    smooth = 10.0 * np.log10(ndimage.uniform_filter1d(power, round(PAUSE_SMOOTH_S / MEL_FRAME_S)) + 1e-12)
    return (smooth - noise_floor(energy_db, MEL_FRAME_S)) <= PAUSE_ABOVE_FLOOR_DB


def segment(feats: MonoFeatures, options: DiarizeOptions) -> Diarization:
    """Turns from one pass of mono features: cluster windows, smooth, place changes in pauses."""
    duration = feats.duration_s
    speech = speech_intervals(feats.vad_probs, duration_s=duration)
    empty = Diarization(turns=(), method="embeddings", duration_s=duration)
    if not speech:
        return empty
    windows = feats.windows
    low, high = options.speaker_range()
    n_frames = int(np.ceil(duration / MEL_FRAME_S))
    labels_per_frame = np.full(n_frames, -1, int)
    for start, end in speech:
        labels_per_frame[int(start / MEL_FRAME_S) : int(np.ceil(end / MEL_FRAME_S))] = 0
    count = 1
    if len(windows.vectors) >= 2:
        selected = _cluster_windows(windows.speech, max(MIN_CLUSTER_INPUT, low * MIN_WINDOWS_PER_SPEAKER))
        sel_labels = clustering.cluster(windows.vectors[selected], low, high)
        count = int(sel_labels.max()) + 1
        if count > 1:
            centres = clustering.centroids_of(windows.vectors[selected], sel_labels, count)
            path = viterbi(windows.vectors @ centres.T, SWITCH_PENALTY)
            _paint(labels_per_frame, windows.centres, path, speech, quiet_frames(feats.energy_db))
    turns: list[SpeakerTurn] = []
    for k in range(count):
        intervals = mask_to_intervals(labels_per_frame == k, MEL_FRAME_S)
        intervals = drop_short(merge_gaps(intervals, options.min_gap_s), options.min_turn_s)
        turns.extend(SpeakerTurn(s, min(e, duration), f"SPEAKER_{k:02d}") for s, e in intervals)
    turns.sort(key=lambda t: (t.start, t.end))
    if options.mono_overlap and count > 1:
        turns = add_overlaps(turns, feats.energy_db, duration)
    return _renumber(Diarization(turns=tuple(turns), method="embeddings", duration_s=duration))


def pauseless_changes(turns: list[SpeakerTurn], energy_db: np.ndarray) -> list[int]:
    """Indices i where turns[i] -> turns[i + 1] is a speaker change with no pause around it.

    Speakers taking turns leave a pause, however short; a change where the level
    never drops near the noise floor is most likely the second speaker starting
    before the first one stopped.
    """
    if energy_db.size == 0:
        return []
    quiet = quiet_frames(energy_db)
    reach = round(PAUSE_SEARCH_S / MEL_FRAME_S)
    out = []
    for i, (first, second) in enumerate(zip(turns, turns[1:])):
        if first.speaker == second.speaker or second.start - first.end > MAX_CHANGE_GAP_S:
            continue
        at = round(second.start / MEL_FRAME_S)
        window = quiet[max(0, at - reach) : at + reach + 1]
        if window.size and not window.any():
            out.append(i)
    return out


def add_overlaps(turns: list[SpeakerTurn], energy_db: np.ndarray, duration_s: float) -> list[SpeakerTurn]:
    """Turns with both speakers active around each pauseless speaker change."""
    changes = pauseless_changes(turns, energy_db)
    if not changes:
        return turns
    out = list(turns)
    for i in changes:
        first, second = out[i], out[i + 1]
        change = second.start
        out[i] = SpeakerTurn(first.start, min(duration_s, max(first.end, change + OVERLAP_HALF_S)), first.speaker)
        out[i + 1] = SpeakerTurn(max(0.0, min(second.start, change - OVERLAP_HALF_S)), second.end, second.speaker)
    # an extended turn must not swallow its speaker's next turn: merge same-speaker overlaps
    merged: dict[str, list[SpeakerTurn]] = {}
    for turn in out:
        merged.setdefault(turn.speaker, []).append(turn)
    result = []
    for speaker, own in merged.items():
        for start, end in merge_gaps([(t.start, t.end) for t in own], 0.0):
            result.append(SpeakerTurn(start, end, speaker))
    result.sort(key=lambda t: (t.start, t.end))
    return result


def _paint(
    labels: np.ndarray, centres: np.ndarray, path: np.ndarray, speech: list[Interval], quiet: np.ndarray
) -> None:
    """Label every speech frame with its nearest window's speaker; changes snap to pauses."""
    frames = np.flatnonzero(labels >= 0)
    if frames.size == 0:
        return
    times = (frames + 0.5) * MEL_FRAME_S
    position = np.clip(np.searchsorted(centres, times), 1, len(centres) - 1)
    left, right = centres[position - 1], centres[position]
    nearest = np.where(times - left <= right - times, position - 1, position)
    labels[frames] = path[nearest]
    for start, end in speech:
        first, last = int(start / MEL_FRAME_S), min(labels.size, int(np.ceil(end / MEL_FRAME_S)))
        segment_labels = labels[first:last]
        changes = np.flatnonzero(segment_labels[1:] != segment_labels[:-1]) + 1
        for change in changes:
            at = first + int(change)
            before, after = labels[at - 1], labels[at]
            snapped = _snap(at, quiet, first + 1, last)
            if snapped < at:
                labels[snapped:at] = after
            elif snapped > at:
                labels[at:snapped] = before


def _renumber(diarization: Diarization) -> Diarization:
    """SPEAKER_00, SPEAKER_01, ... in order of first speech."""
    order: dict[str, str] = {}
    for turn in sorted(diarization.turns, key=lambda t: t.start):
        order.setdefault(turn.speaker, f"SPEAKER_{len(order):02d}")
    turns = tuple(
        SpeakerTurn(t.start, t.end, order[t.speaker], t.role, t.channel, t.confidence) for t in diarization.turns
    )
    return Diarization(turns=turns, method=diarization.method, duration_s=diarization.duration_s)
