"""The real pipeline in real worker processes: a ``callscope worker`` killed with SIGKILL
while Whisper transcribes is replaced by another, which completes the job once."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from callscope.context import Context
from callscope.domain import JobState
from callscope.jobs.queue import RqQueue
from callscope.jobs.runner import get_job
from callscope.jobs.tables import JobRow
from callscope.recordings.tables import ArtifactRow
from tests.jobs.conftest import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]


def test_worker_killed_during_whisper_transcription_is_replaced(
    rq_ctx: Context, data_dir: Path, workers, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    pytest.importorskip("callscope.analysis.reason", reason="the analyze stage needs callscope.analysis.reason")
    import soundfile as sf

    data, rate = sf.read(data_dir / "calls" / "s_en_01.stereo.wav", dtype="float32", always_2d=True)
    clip = tmp_path / "call-30s.wav"  # the first 30 s of a dual-channel μ-law call
    sf.write(clip, data[: 30 * rate], rate, subtype="ULAW", format="WAV")
    rid = rq_ctx.store.ingest_file(clip).recording.id
    job_id = RqQueue(rq_ctx).submit(rid)

    first = workers.start("-v", "worker", module="callscope")
    wait_until(lambda: "loaded Whisper" in workers.logs(), 120, what="the first worker to load Whisper")
    assert get_job(rq_ctx, job_id).stage == "transcribe"
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert get_job(rq_ctx, job_id).stage == "transcribe"  # killed mid-transcription ...
    assert rq_ctx.store.get_artifact(rid, "transcript") is None  # ... before anything was stored

    workers.start("-v", "worker", module="callscope")
    wait_until(lambda: get_job(rq_ctx, job_id).state in (JobState.DONE, JobState.FAILED), 150,
               interval=0.5, what="the replacement worker to finish the job")
    job = get_job(rq_ctx, job_id)
    assert job.state == JobState.DONE and job.attempts == 2, job.error
    with rq_ctx.sessions() as session:
        assert list(session.scalars(select(JobRow.state).where(JobRow.recording_id == rid))) == [JobState.DONE]
        kinds = sorted(session.scalars(select(ArtifactRow.kind).where(ArtifactRow.recording_id == rid)))
    assert kinds == ["analysis", "diarization", "transcript"]
    transcript = rq_ctx.store.get_artifact(rid, "transcript")
    text = " ".join(s["text"] for s in transcript["segments"]).lower()
    assert "calling" in text and {s["speaker"] for s in transcript["segments"]} == {"agent", "caller"}
    assert rq_ctx.store.get_artifact(rid, "analysis")["language"] == "en"
