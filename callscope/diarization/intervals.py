"""Interval arithmetic on speech turns: frames to segments, gap merging, overlap."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

Interval = tuple[float, float]


def mask_to_intervals(mask: np.ndarray, frame_s: float, offset_s: float = 0.0) -> list[Interval]:
    """Runs of True in a frame mask as (start, end) seconds."""
    starts, ends = mask_runs(mask)
    return runs_to_intervals(starts, ends, frame_s, offset_s)


def mask_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and end (exclusive) frame of each run of True in a 1-D mask (memory: a few
    bytes per frame and two integers per run, where labelling the frames takes 8 or more)."""
    if mask.size == 0:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    padded = np.concatenate(([False], mask.astype(bool), [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return edges[0::2], edges[1::2]


def fill_pauses(active: np.ndarray, max_frames: int) -> np.ndarray:
    """In a (frames, speakers) activity mask, a speaker's pauses of at most ``max_frames`` in which
    nobody else talks become speech (with one column: every pause that short)."""
    out = active.copy()
    if max_frames <= 0:
        return out
    for c in range(active.shape[1]):
        starts, ends = mask_runs(~active[:, c])
        for first, end in zip(starts.tolist(), ends.tolist()):
            # in the pause only others can be active: any activity there is someone else talking
            if 0 < first and end < len(active) and end - first <= max_frames and not active[first:end].any():
                out[first:end, c] = True
    return out


def runs_to_intervals(starts: np.ndarray, ends: np.ndarray, frame_s: float, offset_s: float = 0.0) -> list[Interval]:
    """Frame runs as (start, end) seconds."""
    return [(offset_s + s * frame_s, offset_s + e * frame_s) for s, e in zip(starts.tolist(), ends.tolist())]


def merge_gaps(intervals: Sequence[Interval], max_gap_s: float) -> list[Interval]:
    """Join intervals separated by less than ``max_gap_s`` (sorted input or not)."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start - out[-1][1] < max_gap_s:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def drop_short(intervals: Iterable[Interval], min_s: float) -> list[Interval]:
    return [(s, e) for s, e in intervals if e - s >= min_s]


def total(intervals: Iterable[Interval]) -> float:
    return float(sum(e - s for s, e in intervals))


def union(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of possibly overlapping intervals, sorted and disjoint."""
    return merge_gaps(list(intervals), 0.0)


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Pairwise intersection of two sorted disjoint interval lists."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def complement(intervals: Sequence[Interval], start_s: float, end_s: float) -> list[Interval]:
    """Gaps of sorted disjoint ``intervals`` within [start_s, end_s]."""
    out: list[Interval] = []
    cursor = start_s
    for s, e in intervals:
        if s > cursor:
            out.append((cursor, min(s, end_s)))
        cursor = max(cursor, e)
    if cursor < end_s:
        out.append((cursor, end_s))
    return [(s, e) for s, e in out if e > s]
