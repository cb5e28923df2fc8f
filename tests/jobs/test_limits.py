"""Inputs that cannot succeed end their job at once (no retries), naming the user's file."""

from __future__ import annotations

from pathlib import Path

from callscope.context import Context
from callscope.jobs.runner import create_job, get_job, run_job
from callscope.domain import JobState
from tests.jobs.doubles import CountingProcessor


def test_running_out_of_memory_fails_the_job_once_naming_the_file(ctx: Context, data_dir: Path) -> None:
    rid = ctx.store.ingest_file(data_dir / "calls" / "s_en_01.stereo.wav").recording.id
    processor = CountingProcessor(ctx.settings, fail_at="diarize", fail_times=5, error=MemoryError)
    outcome = run_job(ctx, processor, create_job(ctx, rid))
    job = get_job(ctx, outcome.job_id)
    assert outcome.state == JobState.FAILED and outcome.retry_in_s is None and job.attempts == 1
    assert job.error.startswith("s_en_01.stereo.wav: ran out of memory")
    assert "CALLSCOPE_MAX_DURATION_S" in job.error


def test_a_recording_over_the_cap_fails_at_once_with_its_own_name(ctx: Context, data_dir: Path) -> None:
    rid = ctx.store.ingest_file(data_dir / "calls" / "s_en_01.stereo.wav").recording.id  # 71.5 s
    processor = CountingProcessor(ctx.settings.model_copy(update={"max_duration_s": 30.0}))
    outcome = run_job(ctx, processor, create_job(ctx, rid))
    job = get_job(ctx, outcome.job_id)
    assert outcome.state == JobState.FAILED and job.attempts == 1 and processor.calls == []
    assert job.error.startswith("s_en_01.stereo.wav: 1 min 12 s of audio is longer than the maximum of 30 s")
