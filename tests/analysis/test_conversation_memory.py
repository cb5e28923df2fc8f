"""Loudness metrics read long calls a minute at a time (no float64 copy of the call)."""

from __future__ import annotations

import numpy as np

RATE = 8000
MINUTES = 10


def test_loudness_levels_need_no_copy_of_the_call(peak_mb) -> None:  # type: ignore[no-untyped-def]
    from callscope.analysis.conversation import _frame_levels

    samples = np.random.default_rng(1).standard_normal(RATE * 60 * MINUTES).astype(np.float32)
    levels, peak = peak_mb(lambda: _frame_levels(samples, RATE, 0.0, 60.0 * MINUTES, 0.05))
    assert levels.shape == (60 * MINUTES * 20,) and abs(levels.mean() - 1.0) < 0.01
    assert peak < 5, f"{peak:.0f} MB for frame levels of an {samples.nbytes / 2**20:.0f} MB channel"
    reference = np.mean(samples[: 400 * 20].astype(np.float64).reshape(20, 400) ** 2, axis=1)
    assert np.allclose(levels[:20], reference)

