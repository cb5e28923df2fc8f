"""Speaker clustering of window embeddings with an automatic speaker count.

Top-down: a cluster is split in two (spherical 2-means) when its halves sound like
different people. With resemblyzer embeddings, halves of one real voice keep centroid
cosines of 0.88-0.97 while different people score 0.65-0.85 (measured on the shared
phone call, meeting and call clips), so a split is taken when the centroids' cosine is
below ``DIFFERENT_SPEAKERS_SIMILARITY``, or below ``SAME_SPEAKER_SIMILARITY`` when the
halves are also well separated for their spread: (1 - cos between) / (1 - mean cos
within) above a bar that is higher for small halves (few windows give noisy centroids).
Then clusters are refined (nearest centroid) and near-identical ones merged.
``num_speakers``/``min_speakers``/``max_speakers`` override the count by splitting the
least coherent cluster or merging the closest pair. Long recordings are clustered on an
even subsample (``MAX_CLUSTER_WINDOWS``): memory and time stay bounded.
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

DIFFERENT_SPEAKERS_SIMILARITY = 0.85
SAME_SPEAKER_SIMILARITY = 0.92
SEPARATION_BASE = 1.2  # separation bar for large halves...
SEPARATION_SMALL = 5.0  # ...plus this / sqrt(windows in the smaller half)
MIN_CLUSTER_WINDOWS = 5
MIN_CLUSTER_SHARE = 0.05  # a new speaker needs this share of the embedded speech
MIXTURE_SIMILARITY = 0.97  # a cluster this close to a blend of two others is their overlap
MAX_CLUSTER_WINDOWS = 3000


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=-1, keepdims=True), 1e-8)


def centroids_of(vectors: np.ndarray, labels: np.ndarray, count: int) -> np.ndarray:
    """Unit mean vector of each label 0..count-1."""
    out = np.zeros((count, vectors.shape[1]), np.float32)
    for k in range(count):
        members = vectors[labels == k]
        if members.size:
            out[k] = members.mean(axis=0)
    return _normalise(out)


def _two_means(vectors: np.ndarray, seed: int = 0, iterations: int = 30) -> np.ndarray:
    """Spherical 2-means (cosine), started from the two most dissimilar far-apart points."""
    rng = np.random.default_rng(seed)
    centre = _normalise(vectors.mean(axis=0))
    first = int(np.argmin(vectors @ centre))  # farthest from the mean
    second = int(np.argmin(vectors @ vectors[first]))
    centres = np.stack([vectors[first], vectors[second]])
    labels = np.zeros(len(vectors), int)
    for _ in range(iterations):
        new = np.argmax(vectors @ centres.T, axis=1)
        if np.all(new == labels) and _ > 0:
            break
        labels = new
        for k in range(2):
            members = vectors[labels == k]
            centres[k] = _normalise(members.mean(axis=0)) if members.size else vectors[rng.integers(len(vectors))]
    return labels


def _split(vectors: np.ndarray) -> tuple[np.ndarray, float] | None:
    """Best 2-way split of a cluster and the cosine between its halves' centroids."""
    if len(vectors) < 2 * MIN_CLUSTER_WINDOWS:
        return None
    labels = _two_means(vectors)
    sizes = np.bincount(labels, minlength=2)
    if sizes.min() < MIN_CLUSTER_WINDOWS:
        # an outlier or two: drop them and try once more on the rest
        keep = labels == int(np.argmax(sizes))
        if keep.sum() < 2 * MIN_CLUSTER_WINDOWS:
            return None
        inner = _two_means(vectors[keep])
        if np.bincount(inner, minlength=2).min() < MIN_CLUSTER_WINDOWS:
            return None
        centres = centroids_of(vectors[keep], inner, 2)
        labels = np.argmax(vectors @ centres.T, axis=1)
        if np.bincount(labels, minlength=2).min() < MIN_CLUSTER_WINDOWS:
            return None
    centres = centroids_of(vectors, labels, 2)
    return labels, float(centres[0] @ centres[1])


def _different(vectors: np.ndarray, halves: np.ndarray, similarity: float, threshold: float) -> bool:
    """Do the two halves of a cluster sound like two people?"""
    if similarity < DIFFERENT_SPEAKERS_SIMILARITY:
        return True
    if similarity >= threshold:
        return False
    centres = centroids_of(vectors, halves, 2)
    within = float(np.mean([np.mean(vectors[halves == k] @ centres[k]) for k in range(2)]))
    separation = (1.0 - similarity) / max(1.0 - within, 1e-6)
    smaller = int(np.bincount(halves, minlength=2).min())
    return separation >= SEPARATION_BASE + SEPARATION_SMALL / np.sqrt(smaller)


def _refine(vectors: np.ndarray, labels: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Nearest-centroid reassignment until stable; empty clusters are removed."""
    for _ in range(iterations):
        count = int(labels.max()) + 1
        centres = centroids_of(vectors, labels, count)
        new = np.argmax(vectors @ centres.T, axis=1)
        used = np.unique(new)
        new = np.searchsorted(used, new)
        if np.array_equal(new, labels):
            break
        labels = new
    return labels


def _merge_closest(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, float]:
    count = int(labels.max()) + 1
    centres = centroids_of(vectors, labels, count)
    similarity = centres @ centres.T
    np.fill_diagonal(similarity, -np.inf)
    a, b = np.unravel_index(int(np.argmax(similarity)), similarity.shape)
    best = float(similarity[a, b])
    low, high = min(a, b), max(a, b)
    labels = labels.copy()
    labels[labels == high] = low
    labels[labels > high] -= 1
    return labels, best


def cluster(
    vectors: np.ndarray,
    min_speakers: int = 1,
    max_speakers: int = 8,
    threshold: float = SAME_SPEAKER_SIMILARITY,
) -> np.ndarray:
    """Speaker label (0..k-1) of each unit vector, with k chosen automatically in range.

    Args:
        vectors: (n, d) unit-norm embeddings.
        min_speakers: the fewest speakers to return (when there are enough windows).
        max_speakers: the most speakers to return.
        threshold: halves whose centroids are at least this alike are one speaker.

    Returns:
        Labels (n,), numbered by first appearance.
    """
    n = len(vectors)
    if n == 0:
        return np.zeros(0, int)
    vectors = _normalise(vectors.astype(np.float32))
    if n > MAX_CLUSTER_WINDOWS:
        sample = np.linspace(0, n - 1, MAX_CLUSTER_WINDOWS).astype(int)
        sample_labels = cluster(vectors[sample], min_speakers, max_speakers, threshold)
        centres = centroids_of(vectors[sample], sample_labels, int(sample_labels.max()) + 1)
        return _by_first_appearance(np.argmax(vectors @ centres.T, axis=1))
    labels = np.zeros(n, int)
    min_size = max(MIN_CLUSTER_WINDOWS, int(MIN_CLUSTER_SHARE * n))
    # top-down splitting while halves sound like different people
    pending = [0]
    while pending and int(labels.max()) + 1 < max_speakers:
        k = pending.pop()
        members = np.flatnonzero(labels == k)
        result = _split(vectors[members])
        if result is None:
            continue
        halves, similarity = result
        if np.bincount(halves, minlength=2).min() < min_size or not _different(
            vectors[members], halves, similarity, threshold
        ):
            continue
        candidate = labels.copy()
        candidate[members[halves == 1]] = int(labels.max()) + 1
        if _has_blend(vectors, candidate):
            continue
        labels = candidate
        pending.extend([k, int(labels.max())])
    labels = _refine(vectors, labels)
    # merge clusters that ended up alike, and honour max_speakers
    while int(labels.max()) + 1 > 1:
        merged, similarity = _merge_closest(vectors, labels)
        if similarity >= threshold or int(labels.max()) + 1 > max_speakers:
            labels = _refine(vectors, merged)
        else:
            break
    # honour min_speakers: split the least coherent cluster even if alike
    while int(labels.max()) + 1 < min(min_speakers, n):
        spreads = []
        for k in range(int(labels.max()) + 1):
            members = vectors[labels == k]
            centre = _normalise(members.mean(axis=0))
            spreads.append(float(np.mean(members @ centre)) if len(members) >= 2 else np.inf)
        k = int(np.argmin(spreads))
        members = np.flatnonzero(labels == k)
        if len(members) < 2:
            break
        halves = _two_means(vectors[members])
        if halves.min() == halves.max():
            break
        labels[members[halves == 1]] = int(labels.max()) + 1
    return _by_first_appearance(labels)


def _has_blend(vectors: np.ndarray, labels: np.ndarray) -> bool:
    """True when some cluster's centroid is a blend of two others (windows spanning a change)."""
    count = int(labels.max()) + 1
    if count < 3:
        return False
    centres = centroids_of(vectors, labels, count)
    weights = np.linspace(0.1, 0.9, 9)[:, None]
    for k in range(count):
        others = [j for j in range(count) if j != k]
        for i, a in enumerate(others):
            for b in others[i + 1 :]:
                blends = _normalise(weights * centres[a] + (1 - weights) * centres[b])
                if float(np.max(blends @ centres[k])) >= MIXTURE_SIMILARITY:
                    return True
    return False


def _by_first_appearance(labels: np.ndarray) -> np.ndarray:
    order: dict[int, int] = {}
    for value in labels.tolist():
        order.setdefault(value, len(order))
    return np.asarray([order[v] for v in labels.tolist()], int)
