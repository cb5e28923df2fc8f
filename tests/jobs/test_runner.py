"""The job runner: stages persist, resume after interruption, transient errors retry
with backoff, poison files end failed with their reason, a job never runs twice at once,
and jobs of dead workers are recovered. SQLite, in-process (RQ and PostgreSQL: test_rq.py).

The processor is a recording double (tests/jobs/doubles.py): these tests are about job
state, not model output, which tests/test_pipeline.py covers with the real models.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.domain import JobState
from callscope.errors import ModelNotFoundError
from callscope.jobs.options import JobOptions
from callscope.jobs.queue import InProcessQueue, QueueFullError, submit_waiting
from callscope.jobs.runner import (
    HOSTNAME,
    JOB_STAGES,
    WORKER_NAME,
    create_job,
    due_jobs,
    get_job,
    recover_stale_jobs,
    retry_failed,
    run_job,
)
from callscope.jobs.tables import JobRow
from callscope.recordings.tables import ArtifactRow
from tests.jobs.doubles import CountingProcessor


def _ingest(ctx: Context, data_dir: Path, name: str = "s_en_01.stereo.wav") -> str:
    return ctx.store.ingest_file(data_dir / "calls" / name).recording.id


def _artifact_count(ctx: Context, recording_id: str) -> int:
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ArtifactRow)
                                  .where(ArtifactRow.recording_id == recording_id)) or 0)


def test_job_runs_all_stages_and_stores_artifacts(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    processor = CountingProcessor(ctx.settings)
    seen: list[str] = []
    outcome = run_job(ctx, processor, create_job(ctx, rid), on_stage=seen.append)
    job = get_job(ctx, outcome.job_id)
    assert outcome.ran and outcome.state == JobState.DONE
    assert job.state == JobState.DONE and job.progress == 1.0 and job.attempts == 1 and job.error is None
    assert job.lease is None and job.started_at is not None and job.finished_at >= job.started_at
    assert processor.calls == ["transcribe", "diarize", "analyze"]
    assert seen == list(JOB_STAGES) and JOB_STAGES[-1] == "index"
    assert ctx.store.get_artifact(rid, "analysis")["reason"] == "hello"
    assert ctx.store.get_artifact(rid, "transcript")["segments"][0]["speaker"] == "caller"
    assert ctx.store.get(rid).language == "en"


def test_transient_failure_retries_after_backoff_and_resumes_at_the_failed_stage(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    processor = CountingProcessor(ctx.settings, fail_at="analyze")
    job_id = create_job(ctx, rid)
    first = run_job(ctx, processor, job_id)
    job = get_job(ctx, job_id)
    assert first.state == JobState.QUEUED and first.retry_in_s == pytest.approx(0.2)
    assert job.state == JobState.QUEUED and job.next_attempt_at > utcnow() - timedelta(seconds=1)
    assert job.error == "attempt 1 of 3 failed: RuntimeError: worker died during analyze"
    second = run_job(ctx, processor, job_id)  # the retry
    job = get_job(ctx, job_id)
    assert second.state == JobState.DONE and job.attempts == 2 and job.error is None
    assert processor.calls == ["transcribe", "diarize", "analyze", "analyze"]  # finished stages not redone


def test_a_file_that_keeps_failing_ends_failed_with_its_reason(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    processor = CountingProcessor(ctx.settings, fail_at="diarize", fail_times=99)
    queue = InProcessQueue(ctx, processor)
    job_id = queue.submit(rid)
    queue.wait(timeout=30)
    queue.shutdown()
    job = get_job(ctx, job_id)
    assert job.state == JobState.FAILED and job.attempts == 3
    assert job.error == "failed after 3 attempts: RuntimeError: worker died during diarize"
    assert processor.calls.count("diarize") == 3 and "analyze" not in processor.calls


def test_undecodable_audio_fails_permanently_with_reason(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir, "s_en_01.mono.wav")
    Path(ctx.store.get(rid).path).write_bytes(b"garbage" * 100)  # the file rotted on disk
    outcome = run_job(ctx, CountingProcessor(ctx.settings), create_job(ctx, rid))
    job = get_job(ctx, outcome.job_id)
    assert job.state == JobState.FAILED and job.attempts == 1 and "not a readable audio file" in job.error


def test_missing_model_fails_at_once_and_retry_failed_requeues(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    processor = CountingProcessor(ctx.settings, fail_at="transcribe", error=ModelNotFoundError)
    job_id = create_job(ctx, rid)
    assert run_job(ctx, processor, job_id).state == JobState.FAILED
    assert get_job(ctx, job_id).error == "worker died during transcribe"
    assert retry_failed(ctx) == [job_id]  # the operator fixed the model
    job = get_job(ctx, job_id)
    assert job.state == JobState.QUEUED and job.attempts == 0
    assert run_job(ctx, processor, job_id).state == JobState.DONE


class _SeesTheDecodedCall(CountingProcessor):
    """Notes, at each stage, which files of the data dir's tmp folder are open."""

    def __init__(self, settings, open_files_in, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, **kwargs)
        self.open_files_in, self.open_at = open_files_in, {}

    def _stage(self, stage: str, hook=None) -> None:  # type: ignore[no-untyped-def]
        self.open_at[stage] = len(self.open_files_in(self.settings.data_dir / "tmp"))
        super()._stage(stage, hook)


@pytest.mark.parametrize("fail_at", [None, "diarize"])
def test_a_job_closes_the_decoded_call_whether_it_ends_or_fails(  # type: ignore[no-untyped-def]
    fail_at: str | None, ctx: Context, data_dir: Path, open_files_in
) -> None:
    rid = _ingest(ctx, data_dir)
    processor = _SeesTheDecodedCall(ctx.settings, open_files_in, fail_at=fail_at)
    outcome = run_job(ctx, processor, create_job(ctx, rid))
    assert outcome.state == (JobState.DONE if fail_at is None else JobState.QUEUED)
    expected = {"transcribe": 1, "diarize": 1} | ({} if fail_at else {"analyze": 1})
    assert processor.open_at == expected  # one decoded copy, shared by the stages...
    assert open_files_in(ctx.settings.data_dir / "tmp") == []  # ...closed after the job
    assert not any((ctx.settings.data_dir / "tmp").iterdir())


def test_submitting_a_recording_twice_gives_one_active_job(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    first = create_job(ctx, rid)
    assert create_job(ctx, rid) == first
    run_job(ctx, CountingProcessor(ctx.settings), first)
    assert create_job(ctx, rid) != first  # reprocessing after it finished is a new job


def test_a_job_delivered_twice_runs_once(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    job_id = create_job(ctx, rid)
    processor = CountingProcessor(ctx.settings, stage_s=0.3)
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(run_job(ctx, processor, job_id))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(o.ran for o in outcomes) == [False, True]
    assert processor.calls == ["transcribe", "diarize", "analyze"]
    assert get_job(ctx, job_id).attempts == 1 and _artifact_count(ctx, rid) == 3


def test_backpressure_refuses_beyond_the_limit_with_a_clear_message(ctx: Context, data_dir: Path) -> None:
    ids = [_ingest(ctx, data_dir, name) for name in ("s_en_01.stereo.wav", "s_en_03.stereo.wav", "s_zh_01.mono.wav")]
    options = JobOptions(max_queued=2)
    create_job(ctx, ids[0], options)
    create_job(ctx, ids[1], options)
    with pytest.raises(QueueFullError, match=r"2 jobs are already queued \(limit 2, CALLSCOPE_MAX_QUEUED_JOBS\)"):
        create_job(ctx, ids[2], options)
    queue = InProcessQueue(ctx, CountingProcessor(ctx.settings), options=options)
    with pytest.raises(QueueFullError):
        submit_waiting(queue, ids[2], wait_s=0.3, poll_s=0.1)
    queue.resume_pending()  # the workers catch up ...
    job_id = submit_waiting(queue, ids[2], wait_s=30, poll_s=0.1)  # ... and the blocked submit goes through
    queue.wait(timeout=30)
    queue.shutdown()
    assert get_job(ctx, job_id).state == JobState.DONE


def _make_running(ctx: Context, job_id: str, *, worker: str, silent_s: float, attempts: int = 1,
                  stage: str = "transcribe") -> None:
    with transaction(ctx.sessions) as session:
        row = session.get(JobRow, job_id)
        row.state, row.worker, row.stage, row.attempts = JobState.RUNNING, worker, stage, attempts
        row.lease, row.heartbeat_at = "dead-lease", utcnow() - timedelta(seconds=silent_s)


def test_jobs_of_a_silent_worker_are_recovered_and_finish_once(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    job_id = create_job(ctx, rid)
    _make_running(ctx, job_id, worker="otherhost:4242", silent_s=1)
    assert recover_stale_jobs(ctx).requeued == []  # heartbeat still recent: leave it
    assert run_job(ctx, CountingProcessor(ctx.settings), job_id).ran is False
    _make_running(ctx, job_id, worker="otherhost:4242", silent_s=10)
    report = recover_stale_jobs(ctx)
    job = get_job(ctx, job_id)
    assert report.requeued == [job_id] and job.state == JobState.QUEUED
    assert "worker otherhost:4242 stopped during transcribe (no heartbeat for 10 s)" in job.error
    assert run_job(ctx, CountingProcessor(ctx.settings), job_id).state == JobState.DONE
    assert get_job(ctx, job_id).attempts == 2 and _artifact_count(ctx, rid) == 3


def test_a_dead_process_on_this_host_is_recovered_at_once(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    job_id = create_job(ctx, rid)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    _make_running(ctx, job_id, worker=f"{HOSTNAME}:{gone.pid}", silent_s=0)
    queue = InProcessQueue(ctx, CountingProcessor(ctx.settings))
    assert queue.resume_pending() == [job_id]  # e.g. the API restarting after a crash
    queue.wait(timeout=30)
    queue.shutdown()
    assert get_job(ctx, job_id).state == JobState.DONE


def test_a_file_that_kills_every_worker_ends_failed(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    job_id = create_job(ctx, rid)
    _make_running(ctx, job_id, worker="otherhost:1", silent_s=60, attempts=3, stage="diarize")
    report = recover_stale_jobs(ctx)
    job = get_job(ctx, job_id)
    assert report.failed == [job_id] and job.state == JobState.FAILED
    assert job.error.startswith("failed after 3 attempts: worker otherhost:1 stopped during diarize")
    assert "crash the worker" in job.error


def test_a_worker_that_lost_its_lease_writes_nothing(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    job_id = create_job(ctx, rid)

    def take_over(stage: str) -> None:
        if stage == "diarize":  # meanwhile the job was presumed dead and given to another worker
            with transaction(ctx.sessions) as session:
                session.get(JobRow, job_id).lease = "someone-else"

    processor = CountingProcessor(ctx.settings)
    outcome = run_job(ctx, processor, job_id, on_stage=take_over)
    job = get_job(ctx, job_id)
    assert not outcome.ran and job.state == JobState.RUNNING and job.lease == "someone-else"
    assert processor.calls == ["transcribe", "diarize"]  # it noticed before storing its result
    assert ctx.store.get_artifact(rid, "diarization") is None


def test_heartbeat_keeps_a_long_stage_alive(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir)
    job_id = create_job(ctx, rid)
    beats = []

    def recover_meanwhile(stage: str) -> None:
        if stage == "analyze":
            beats.append(get_job(ctx, job_id).heartbeat_at)
            beats.append(recover_stale_jobs(ctx))

    processor = CountingProcessor(ctx.settings, slow_transcribe_s=4.0)  # longer than stale_after_s=3
    assert run_job(ctx, processor, job_id, on_stage=recover_meanwhile).state == JobState.DONE
    assert beats[0] > utcnow() - timedelta(seconds=2) and beats[1].requeued == []


def test_in_process_queue_resumes_jobs_left_by_a_dead_process(ctx: Context, data_dir: Path) -> None:
    rid = _ingest(ctx, data_dir, "s_en_03.stereo.wav")
    job_id = create_job(ctx, rid)  # queued, then the process "died"
    queue = InProcessQueue(ctx, CountingProcessor(ctx.settings))
    assert queue.resume_pending() == [job_id]
    queue.wait(timeout=60)
    queue.shutdown()
    assert get_job(ctx, job_id).state == JobState.DONE
    assert due_jobs(ctx, grace_s=0) == []


def test_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from callscope.errors import ConfigError
    from callscope.settings import Settings

    monkeypatch.setenv("CALLSCOPE_JOB_MAX_ATTEMPTS", "5")
    monkeypatch.setenv("CALLSCOPE_JOB_RETRY_BACKOFF_S", "1, 2")
    monkeypatch.setenv("CALLSCOPE_MAX_QUEUED_JOBS", "0")
    options = JobOptions.from_settings(Settings())
    assert options.max_attempts == 5 and options.max_queued == 0 and options.retry_backoff_s == (1.0, 2.0)
    assert [options.backoff_s(n) for n in (1, 2, 3)] == [1.0, 2.0, 2.0]
    monkeypatch.setenv("CALLSCOPE_JOB_STALE_AFTER_S", "5")
    monkeypatch.setenv("CALLSCOPE_JOB_HEARTBEAT_S", "10")
    with pytest.raises(ConfigError, match="must exceed CALLSCOPE_JOB_HEARTBEAT_S"):
        JobOptions.from_settings(Settings())
    monkeypatch.setenv("CALLSCOPE_JOB_HEARTBEAT_S", "soon")
    with pytest.raises(ConfigError, match="'soon' is not a number"):
        JobOptions.from_settings(Settings())


def test_worker_name_is_host_and_pid() -> None:
    assert WORKER_NAME == f"{HOSTNAME}:{os.getpid()}"
