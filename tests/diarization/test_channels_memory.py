"""Channel activity of a long call holds a few bytes per 10 ms frame, not a labelled copy of every
frame (issue #15): runs are found from their edges, and the per-frame thresholds are made in place."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from scipy import ndimage

from callscope.diarization import channels
from callscope.diarization.channels import ChannelFeatures, channel_activity
from callscope.diarization.options import DiarizeOptions


def _features(seconds: float, seed: int = 0) -> ChannelFeatures:
    """Speech-like level envelopes on two channels (0.5 s syllable groups), echo of channel 0
    on channel 1, and key tones."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 100)
    talking = np.repeat(rng.random((2, n // 50 + 1)) < 0.4, 50, axis=1)[:, :n]
    levels = (-60 + 35 * talking + rng.standard_normal((2, n)) * 4).astype(np.float32)
    levels[1] = np.maximum(levels[1], np.roll(levels[0], 7) - 20)
    tones = np.repeat(rng.random((2, n // 9 + 1)) < 0.02, 9, axis=1)[:, :n]
    return ChannelFeatures(levels, tones, 0.01, n * 0.01)


def test_two_hours_of_channel_activity_take_a_few_bytes_per_frame() -> None:
    feats = _features(2 * 3600)
    tracemalloc.start()
    try:
        activity = channel_activity(feats, DiarizeOptions())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    frames = feats.levels.size  # both channels: 1.44 million
    assert all(activity)
    # 17 bytes per frame (the thresholds and a masked copy of the levels); labelling every
    # frame took 35 (48 MB for these two hours)
    assert peak / frames < 24, f"{peak / 2**20:.1f} MB for {frames} frames"


def _labelled_runs(above_off: np.ndarray, above_on: np.ndarray, min_on: int) -> np.ndarray:
    """What the activity used to do: label every frame, count onsets per label."""
    labels, count = ndimage.label(above_off)
    if not count:
        return above_off
    counts = ndimage.sum_labels(above_on, labels, index=np.arange(1, count + 1))
    return np.concatenate(([False], counts >= min_on))[labels]


@pytest.mark.parametrize("density", [0.0, 0.05, 0.5, 0.95, 1.0])
def test_runs_and_tone_masks_match_labelling_every_frame(density: float) -> None:
    rng = np.random.default_rng(int(density * 100))
    for n in (1, 2, 17, 5000):
        above_off = rng.random(n) < density
        above_off[rng.integers(0, n)] = True
        above_on = above_off & (rng.random(n) < 0.5)
        starts, ends = channels._runs_with_onset(above_off, above_on, 3)
        mask = np.zeros(n, bool)
        for start, end in zip(starts, ends):
            mask[start:end] = True
        assert np.array_equal(mask, _labelled_runs(above_off, above_on, 3))

        tones = np.repeat(rng.random(n // 4 + 1) < density, 4)[:n]
        labels, count = ndimage.label(tones)
        sizes = ndimage.sum_labels(tones, labels, index=np.arange(1, count + 1))
        kept = np.concatenate(([False], sizes >= 6))[labels] if count else tones
        expected = ndimage.binary_dilation(kept, iterations=3) if kept.any() else kept
        assert np.array_equal(channels._tone_mask(tones, 0.01), expected)
