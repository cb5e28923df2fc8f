"""Running one processing job: stages in order, each idempotent, state persisted.

A stage whose artifact is already stored is skipped, so a job that was interrupted
(worker killed, server restarted) resumes where it stopped and never duplicates results.
The same code runs in the in-process pool and in queue workers.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from sqlalchemy import select

from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.errors import CallscopeError, InvalidAudioError, NotFoundError
from callscope.jobs.tables import JobRow
from callscope.models import JobState, Transcript
from callscope.pipeline import STAGES, CallProcessor, analysis_to_dict, diarization_from_dict, diarization_to_dict
from callscope.recordings.audio import load_audio

log = logging.getLogger(__name__)

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"


class PermanentJobError(CallscopeError):
    """A failure that retrying cannot fix (e.g. undecodable audio): the job ends failed."""


def create_job(ctx: Context, recording_id: str) -> str:
    """Record a queued job for a recording; returns its id."""
    job_id = str(uuid.uuid4())
    with transaction(ctx.sessions) as session:
        session.add(JobRow(id=job_id, recording_id=recording_id, state=JobState.QUEUED, progress=0.0, attempts=0))
    return job_id


def get_job(ctx: Context, job_id: str) -> JobRow:
    with ctx.sessions() as session:
        row = session.get(JobRow, job_id)
        if row is None:
            raise NotFoundError(f"no job with id {job_id!r}")
        session.expunge(row)
        return row


def jobs_for(ctx: Context, recording_id: str) -> list[JobRow]:
    with ctx.sessions() as session:
        rows = list(session.scalars(select(JobRow).where(JobRow.recording_id == recording_id).order_by(JobRow.created_at)))
        for row in rows:
            session.expunge(row)
        return rows


def pending_jobs(ctx: Context) -> list[str]:
    """Jobs not finished (queued, or running when their process died)."""
    with ctx.sessions() as session:
        return list(
            session.scalars(
                select(JobRow.id).where(JobRow.state.in_([JobState.QUEUED, JobState.RUNNING])).order_by(JobRow.created_at)
            )
        )


def _update(ctx: Context, job_id: str, **fields: object) -> None:
    with transaction(ctx.sessions) as session:
        row = session.get(JobRow, job_id)
        if row is None:
            raise NotFoundError(f"no job with id {job_id!r}")
        for key, value in fields.items():
            setattr(row, key, value)
        row.updated_at = utcnow()


class _ProgressWriter:
    """A Hook that writes job progress to the database at most every ``interval_s``."""

    def __init__(self, ctx: Context, job_id: str, stage_index: int, interval_s: float = 1.0) -> None:
        self.ctx, self.job_id, self.stage_index, self.interval_s = ctx, job_id, stage_index, interval_s
        self._last = 0.0

    def __call__(self, step: str, completed: float, total: float) -> None:
        now = time.monotonic()
        if now - self._last < self.interval_s or total <= 0:
            return
        self._last = now
        fraction = min(1.0, max(0.0, completed / total))
        _update(self.ctx, self.job_id, progress=(self.stage_index + fraction) / len(STAGES))


def run_job(ctx: Context, processor: CallProcessor, job_id: str, on_stage: Callable[[str], None] | None = None) -> None:
    """Run (or resume) a job to the end; the job row ends DONE or FAILED.

    Raises:
        Exception: transient errors are re-raised after being recorded, so a queue can
        retry; permanent ones (bad audio) end the job as failed without raising.
    """
    job = get_job(ctx, job_id)
    if job.state == JobState.DONE:
        return
    _update(ctx, job_id, state=JobState.RUNNING, attempts=job.attempts + 1, started_at=utcnow(),
            worker=WORKER_NAME, error=None)
    store = ctx.store
    try:
        recording = store.get(job.recording_id)
        audio = None
        for index, stage in enumerate(STAGES):
            if on_stage is not None:
                on_stage(stage)
            _update(ctx, job_id, stage=stage, progress=index / len(STAGES))
            if store.get_artifact(recording.id, _ARTIFACT[stage]) is not None:
                continue  # done in an earlier attempt
            if audio is None:
                audio = load_audio(recording.path)
            hook = _ProgressWriter(ctx, job_id, index)
            if stage == "transcribe":
                transcript = processor.redact(processor.transcribe(audio, hook))
                store.save_artifact(recording.id, "transcript", transcript.to_dict())
                if recording.language is None:
                    store.update(recording.id, language=transcript.language)
            elif stage == "diarize":
                transcript = Transcript.from_dict(store.get_artifact(recording.id, "transcript") or {})
                diarization, transcript = processor.diarize(audio, transcript, hook)
                # both artifacts in one go: the transcript gains speakers
                store.save_artifact(recording.id, "transcript", transcript.to_dict())
                store.save_artifact(recording.id, "diarization", diarization_to_dict(diarization))
            elif stage == "analyze":
                transcript = Transcript.from_dict(store.get_artifact(recording.id, "transcript") or {})
                diarization = diarization_from_dict(store.get_artifact(recording.id, "diarization") or {})
                analysis = processor.analyze(recording.id, audio, transcript, diarization)
                store.save_artifact(
                    recording.id, "analysis",
                    analysis_to_dict(analysis, name=recording.original_name, duration_s=recording.duration_s),
                )
        _update(ctx, job_id, state=JobState.DONE, progress=1.0, finished_at=utcnow())
    except (InvalidAudioError, NotFoundError, PermanentJobError) as exc:
        log.warning("job %s failed permanently: %s", job_id, exc)
        _update(ctx, job_id, state=JobState.FAILED, error=str(exc), finished_at=utcnow())
    except Exception as exc:
        log.exception("job %s failed", job_id)
        _update(ctx, job_id, state=JobState.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=utcnow())
        raise


_ARTIFACT = {"transcribe": "transcript", "diarize": "diarization", "analyze": "analysis"}

