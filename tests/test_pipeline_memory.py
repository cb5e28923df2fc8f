"""The stages read a call from its decoded temporary file a block at a time, so their memory
does not grow with the call's length (issue #15). Measured with tracemalloc (numpy reports
its buffers to it) on 2 and 10 minutes of 8 kHz stereo noise; before, the decoded call
itself stayed in memory through all the stages (3.7 MB more per minute of 8 kHz stereo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from callscope.analysis.conversation import compute_metrics
from callscope.analysis.prosody import segment_prosody
from callscope.domain import Diarization, Role, SpeakerTurn, Transcript
from callscope.pipeline import CallProcessor
from callscope.settings import Settings

NO_WORDS = Transcript(language="en", segments=(), duration_s=0.0, model="none", engine="none")


def _stages(processor: CallProcessor, path: Path) -> float:
    """Decode, diarize, loudness and hold metrics, and prosody of a turn as long as the call."""
    with processor.load(path) as audio:
        processor.diarize(audio, NO_WORDS)
        half = audio.duration_s / 2
        turns = (SpeakerTurn(0.0, half, "agent", Role.AGENT, 0), SpeakerTurn(half, audio.duration_s, "caller", Role.CALLER, 1))
        metrics = compute_metrics(Diarization(turns, method="channels", duration_s=audio.duration_s), audio)
        assert metrics.loudness_dbfs and segment_prosody(audio, 0.0, audio.duration_s, channel=0) is not None
        return audio.duration_s


def test_stage_memory_does_not_grow_with_the_call(long_call, peak_mb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    short = tmp_path / "two_minutes.flac"
    rng = np.random.default_rng(2)
    with sf.SoundFile(short, "w", long_call.rate, 2, "PCM_16", format="FLAC") as handle:
        handle.write((rng.standard_normal((long_call.rate * 120, 2)) * 300).astype(np.int16))
    processor = CallProcessor(Settings(data_dir=tmp_path / "data"))
    _stages(processor, short)  # imports and first-use allocations outside the measurement
    short_s, short_mb = peak_mb(lambda: _stages(processor, short))
    long_s, long_mb = peak_mb(lambda: _stages(processor, long_call.path))
    assert (short_s, long_s) == (120.0, 60.0 * long_call.minutes)
    # eight more minutes of decoded call are 29 MB; only a few numbers per 10 ms frame may grow
    assert long_mb - short_mb < 0.1 * long_call.float32_mb, (
        f"{short_mb:.1f} MB for 2 min, {long_mb:.1f} MB for {long_call.minutes} min"
    )
    assert not any((tmp_path / "data" / "tmp").iterdir())  # the decoded copies are gone
