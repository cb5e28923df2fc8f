"""Speech regions and the windows that map decoded times back to the recording."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.transcription.vad import (
    SAMPLE_RATE,
    VadSettings,
    Window,
    pack_contiguous,
    pack_speech,
    speech_regions,
)

S = SAMPLE_RATE


def test_silero_finds_each_leg_of_a_call(call_audio) -> None:
    from scipy.signal import resample_poly

    call = call_audio["s_en_01"]
    for channel in (0, 1):
        samples = resample_poly(call.samples[channel], 2, 1).astype(np.float32)
        regions = speech_regions(samples)
        assert 3 <= len(regions) <= 12
        assert all(b > a for a, b in regions) and all(r[1] <= s[0] for r, s in zip(regions, regions[1:]))
        assert all((b - a) / S <= 28.0 for a, b in regions)
    assert speech_regions(np.zeros(S * 5, np.float32)) == []


def test_loud_speech_that_silero_doubts_is_kept() -> None:
    # The caller leg of a sample call (samples/calls, Kokoro voice, 8 kHz mu-law): Silero scores the caller's
    # later sentences 0.2-0.5 although they are loud and clear ("Do I need to do anything with the router?"
    # at 49 s), so at its 0.5 threshold they never reached Whisper. Where the leg is loud, 0.2 is enough.
    from dataclasses import replace
    from pathlib import Path

    from scipy.signal import resample_poly

    from callscope.recordings.audio import load_audio

    call = load_audio(Path(__file__).resolve().parents[2] / "samples" / "calls" / "o_en_02.stereo.wav")
    caller = resample_poly(call.samples[0], 2, 1).astype(np.float32)

    def covered(regions: list[tuple[int, int]], start_s: float, end_s: float) -> float:
        return sum(max(0, min(e, end_s * S) - max(s, start_s * S)) for s, e in regions) / S

    turns = ((48.8, 51.2), (57.0, 58.5), (64.8, 66.6), (73.2, 74.7))  # the leg's energy turns, none of them <0.5
    silero_only = speech_regions(caller, replace(VadSettings(), loud_threshold=None))
    kept = speech_regions(caller)
    assert covered(silero_only, 45.0, 75.2) < 0.5
    assert all(covered(kept, a, b) >= 0.9 * (b - a) for a, b in turns)
    assert covered(kept, 20.0, 48.0) < 0.5  # the 19 s the caller is silent (hold, agent talking) stay out
    noise = (np.random.default_rng(0).standard_normal(S * 20) * 0.01).astype(np.float32)
    assert speech_regions(noise) == []  # steady hiss is never loud against its own floor


def test_speech_after_silero_goes_quiet_is_scored_afresh() -> None:
    # The agent leg of a sample call (samples/calls/o_en_01, Kokoro voice, 8 kHz mu-law): after a 10-s silence
    # (the agent checks the network map) Silero, carrying its state through the leg, scores every later agent
    # sentence under 0.05 although they are loud; only a fresh pass over those loud stretches hears them.
    from dataclasses import replace
    from pathlib import Path

    from scipy.signal import resample_poly

    from callscope.recordings.audio import load_audio

    call = load_audio(Path(__file__).resolve().parents[2] / "samples" / "calls" / "o_en_01.stereo.wav")
    agent = resample_poly(call.samples[1], 2, 1).astype(np.float32)

    def covered(regions: list[tuple[int, int]], start_s: float, end_s: float) -> float:
        return sum(max(0, min(e, end_s * S) - max(s, start_s * S)) for s, e in regions) / S

    carried = speech_regions(agent, replace(VadSettings(), fresh_silero=False))
    fresh = speech_regions(agent)
    assert covered(carried, 30.0, 98.0) < 1.0
    assert covered(fresh, 30.0, 98.0) >= 30.0  # four answers, 40-95 s
    assert covered(fresh, 29.5, 40.0) < 0.5  # the silence stays out
    assert covered(fresh, 0.0, 29.0) >= covered(carried, 0.0, 29.0)  # nothing Silero found is lost


def test_window_maps_times_across_joined_regions() -> None:
    window = Window(((10 * S, 12 * S), (20 * S, 23 * S)))  # 2 s + 3 s laid end to end
    assert window.frames == 5 * S
    assert window.to_recording(0.5) == pytest.approx(10.5)
    assert window.to_recording(2.5) == pytest.approx(20.5)
    assert window.span_index(1.99) == 0 and window.span_index(2.01) == 1
    assert window.to_recording(2.0, span=0) == pytest.approx(12.0)  # an end at the joint stays in its region
    audio = np.arange(30 * S, dtype=np.float32)
    joined = window.audio(audio[5 * S :], 5 * S)
    assert joined[0] == 10 * S and joined[2 * S] == 20 * S and joined.size == 5 * S


def test_pack_speech_respects_30_seconds() -> None:
    regions = [(i * 10 * S, i * 10 * S + 8 * S) for i in range(7)]  # 7 x 8 s
    windows = pack_speech(regions)
    assert [len(w.spans) for w in windows] == [3, 3, 1]
    assert all(w.frames <= 30 * S for w in windows)
    assert [span for w in windows for span in w.spans] == regions


def test_pack_contiguous_cuts_in_gaps() -> None:
    regions = [(1 * S, 20 * S), (22 * S, 50 * S), (53 * S, 70 * S)]
    windows = pack_contiguous(0, 75 * S, regions)
    cuts = [w.spans[0] for w in windows]
    assert cuts[0] == (0, 21 * S)  # in the middle of the 20-22 s gap
    assert cuts[-1][1] == 75 * S
    assert all(b - a <= 30 * S for a, b in cuts)
    assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))  # contiguous, nothing skipped


