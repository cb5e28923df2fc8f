"""The job runner: stages persist, resume after interruption, bad audio fails cleanly.

The processor here is a recording double (no models): these tests are about job state,
not about model output, which tests/test_pipeline.py covers with the real models.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.context import Context
from callscope.jobs.queue import InProcessQueue
from callscope.jobs.runner import create_job, get_job, run_job
from callscope.models import (
    CallAnalysis,
    Diarization,
    Emotion,
    EmotionScore,
    JobState,
    Role,
    Segment,
    SpeakerTurn,
    Transcript,
)
from callscope.pipeline import CallProcessor


class CountingProcessor(CallProcessor):
    def __init__(self, settings, fail_at: str | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings)
        self.calls: list[str] = []
        self.fail_at = fail_at

    def _maybe_fail(self, stage: str) -> None:
        self.calls.append(stage)
        if self.fail_at == stage:
            self.fail_at = None  # fail once, like a killed worker
            raise RuntimeError(f"worker died during {stage}")

    def transcribe(self, audio, hook=None):  # type: ignore[no-untyped-def]
        self._maybe_fail("transcribe")
        return Transcript("en", (Segment(0.0, 1.0, " hello", channel=0, speaker="caller"),), audio.duration_s, "t", "t")

    def redact(self, transcript):  # type: ignore[no-untyped-def]
        return transcript

    def diarize(self, audio, transcript, hook=None):  # type: ignore[no-untyped-def]
        self._maybe_fail("diarize")
        d = Diarization((SpeakerTurn(0.0, 1.0, "caller", Role.CALLER, 0),), {"caller": Role.CALLER}, method="channels")
        return d, transcript

    def analyze(self, recording_id, audio, transcript, diarization):  # type: ignore[no-untyped-def]
        self._maybe_fail("analyze")
        score = EmotionScore(Emotion.NEUTRAL, 0.9, 0.0)
        return CallAnalysis(recording_id, "en", "hello", score, None, (), None)


@pytest.fixture
def ctx(settings) -> Context:  # type: ignore[no-untyped-def]
    context = Context(settings)
    yield context
    context.close()


def test_job_runs_all_stages_and_stores_artifacts(ctx: Context, data_dir: Path) -> None:
    rec = ctx.store.ingest_file(data_dir / "calls" / "s_en_01.stereo.wav").recording
    processor = CountingProcessor(ctx.settings)
    job_id = create_job(ctx, rec.id)
    run_job(ctx, processor, job_id)
    job = get_job(ctx, job_id)
    assert job.state == JobState.DONE and job.progress == 1.0 and job.attempts == 1
    assert processor.calls == ["transcribe", "diarize", "analyze"]
    assert ctx.store.get_artifact(rec.id, "analysis")["reason"] == "hello"
    assert ctx.store.get(rec.id).language == "en"


def test_interrupted_job_resumes_without_redoing_finished_stages(ctx: Context, data_dir: Path) -> None:
    rec = ctx.store.ingest_file(data_dir / "calls" / "s_en_01.stereo.wav").recording
    processor = CountingProcessor(ctx.settings, fail_at="analyze")
    job_id = create_job(ctx, rec.id)
    with pytest.raises(RuntimeError):
        run_job(ctx, processor, job_id)
    assert get_job(ctx, job_id).state == JobState.FAILED
    run_job(ctx, processor, job_id)  # the retry
    job = get_job(ctx, job_id)
    assert job.state == JobState.DONE and job.attempts == 2
    assert processor.calls == ["transcribe", "diarize", "analyze", "analyze"]


def test_undecodable_audio_fails_permanently_with_reason(ctx: Context, data_dir: Path) -> None:
    rec = ctx.store.ingest_file(data_dir / "calls" / "s_en_01.mono.wav").recording
    Path(rec.path).write_bytes(b"garbage" * 100)  # the file rotted on disk
    job_id = create_job(ctx, rec.id)
    run_job(ctx, CountingProcessor(ctx.settings), job_id)  # does not raise: retrying cannot help
    job = get_job(ctx, job_id)
    assert job.state == JobState.FAILED and "not a readable audio file" in job.error


def test_in_process_queue_resumes_jobs_left_by_a_dead_process(ctx: Context, data_dir: Path) -> None:
    rec = ctx.store.ingest_file(data_dir / "calls" / "s_en_03.stereo.wav").recording
    job_id = create_job(ctx, rec.id)  # queued, then the process "died"
    queue = InProcessQueue(ctx, CountingProcessor(ctx.settings))
    assert queue.resume_pending() == [job_id]
    queue.wait(timeout=60)
    queue.shutdown()
    assert get_job(ctx, job_id).state == JobState.DONE
