"""The stages read a call from its decoded temporary file a block at a time, so their memory
does not grow with the call's length (issue #15). Measured with tracemalloc (numpy reports
its buffers to it) on 2 and 10 minutes of 8 kHz stereo noise and 2 and 20 minutes of 16 kHz
mono; before, the decoded call itself stayed in memory through all the stages (3.7 MB more
per minute of 8 kHz stereo). The temporary file is closed whichever stage fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callscope.analysis.conversation import compute_metrics
from callscope.analysis.emotion import TurnText, analyze_emotions
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


def _mono_stages(processor: CallProcessor, path: Path) -> float:
    """Decode a 16 kHz mono call, then its loudness/hold metrics and emotions with prosody, over
    two turns that each cover half of it (the mix is read: no channel to pick)."""
    with processor.load(path) as audio:
        half = audio.duration_s / 2
        turns = (SpeakerTurn(0.0, half, "SPEAKER_00", Role.AGENT), SpeakerTurn(half, audio.duration_s, "SPEAKER_01", Role.CALLER))
        diarization = Diarization(turns, roles={"SPEAKER_00": Role.AGENT, "SPEAKER_01": Role.CALLER}, method="neural",
                                  duration_s=audio.duration_s)
        assert compute_metrics(diarization, audio).loudness_dbfs
        texts = [TurnText(t.speaker, t.role, t.start, t.end, "thank you for calling", None) for t in turns]
        report = analyze_emotions(texts, audio, "en")
        assert all(turn.emotion.arousal is not None for turn in report.turns)  # prosody ran on both halves
        return audio.duration_s


def test_mono_stage_memory_does_not_grow_with_the_call(peak_mb, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rate, calls = 16_000, {}
    rng = np.random.default_rng(3)
    for minutes in (2, 20):
        calls[minutes] = tmp_path / f"{minutes}_minutes.flac"
        with sf.SoundFile(calls[minutes], "w", rate, 1, "PCM_16", format="FLAC") as handle:
            for _ in range(minutes):
                handle.write((rng.standard_normal(rate * 60) * 300).astype(np.int16))
    processor = CallProcessor(Settings(data_dir=tmp_path / "data"))
    _mono_stages(processor, calls[2])  # imports, models and first-use allocations outside the measurement
    short_s, short_mb = peak_mb(lambda: _mono_stages(processor, calls[2]))
    long_s, long_mb = peak_mb(lambda: _mono_stages(processor, calls[20]))
    assert (short_s, long_s) == (120.0, 1200.0)
    # eighteen more minutes of decoded call are 66 MB; only a few numbers per 10 ms frame may grow
    assert long_mb - short_mb < 6.6, f"{short_mb:.1f} MB for 2 min, {long_mb:.1f} MB for 20 min"
    assert not any((tmp_path / "data" / "tmp").iterdir())


class _FailingProcessor(CallProcessor):
    """Fails in ``stage`` after checking that the decoded call is open there."""

    def __init__(self, settings: Settings, stage: str, open_files_in) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.stage, self.open_files_in = stage, open_files_in
        self.open_during: list[str] = []

    def _fail(self, stage: str, audio) -> None:  # type: ignore[no-untyped-def]
        if stage == self.stage:
            self.open_during = self.open_files_in(self.settings.data_dir / "tmp")
            raise RuntimeError(f"{stage} broke")

    def transcribe(self, audio, hook=None):  # type: ignore[no-untyped-def]
        self._fail("transcribe", audio)
        return NO_WORDS

    def diarize(self, audio, transcript, hook=None):  # type: ignore[no-untyped-def]
        self._fail("diarize", audio)
        return Diarization((), method="channels", duration_s=audio.duration_s), transcript

    def analyze(self, recording_id, audio, transcript, diarization):  # type: ignore[no-untyped-def]
        self._fail("analyze", audio)
        raise AssertionError("not reached")


@pytest.mark.parametrize("stage", ["transcribe", "diarize", "analyze"])
def test_the_decoded_call_is_closed_when_a_stage_fails(stage: str, open_files_in, data_dir: Path,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    processor = _FailingProcessor(Settings(data_dir=tmp_path / "data"), stage, open_files_in)
    with pytest.raises(RuntimeError, match=f"{stage} broke") as failed:
        processor.process(data_dir / "calls" / "s_en_01.stereo.wav", recording_id="x")
    assert failed.tb is not None  # the traceback (and the frames holding the call) is still alive here
    assert len(processor.open_during) == 1  # the stage read the call from its temporary file...
    assert open_files_in(tmp_path / "data" / "tmp") == []  # ...which is closed (and gone: it has no name)
    assert not any((tmp_path / "data" / "tmp").iterdir())
