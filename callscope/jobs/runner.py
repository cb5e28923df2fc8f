"""Running one processing job: stages in order, each idempotent, state persisted.

    transcribe (+ PII redaction) → diarize → analyze → index (search, when installed)

A stage whose artifact is already stored is skipped, so a job that was interrupted
(worker killed, server restarted) resumes where it stopped and never duplicates results.
The same code runs in the in-process pool and in queue workers.

A worker claims a job with one conditional UPDATE (queued → running, with a fresh lease
token), renews the lease from a heartbeat thread while the stages run, and writes the
outcome only while it still holds the lease. So a job runs at most once at a time even
when a queue delivers it twice, and a job whose worker died (its heartbeat stopped) is
found by :func:`recover_stale_jobs` and queued again, or failed once it has used up its
attempts (a file that kills every worker that opens it must not block the queue).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Self

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.domain import JobState, Recording, Transcript
from callscope.errors import (
    CallscopeError,
    ConfigError,
    InvalidAudioError,
    ModelError,
    ModelNotFoundError,
    NotFoundError,
    QueueFullError,
    StorageError,
)
from callscope.jobs.options import JobOptions
from callscope.jobs.tables import JobRow
from callscope.pipeline import STAGES, CallProcessor, analysis_to_dict, diarization_from_dict, diarization_to_dict
from callscope.qa.store import active_scorecard, save_result
from callscope.recordings.tables import ArtifactRow
from callscope.search.index import index_recording

log = logging.getLogger(__name__)

HOSTNAME = socket.gethostname()
WORKER_NAME = f"{HOSTNAME}:{os.getpid()}"
JOB_STAGES = (*STAGES, "index")

_ARTIFACT = {"transcribe": "transcript", "diarize": "diarization", "analyze": "analysis"}
_PERMANENT = (InvalidAudioError, NotFoundError, ModelNotFoundError, ModelError, ConfigError)
_held_leases: set[str] = set()  # leases held by this process (to tell our own dead runs from live ones)


class PermanentJobError(CallscopeError):
    """A failure that retrying cannot fix (e.g. undecodable audio): the job ends failed."""


class _LeaseLost(Exception):
    """Another worker took the job over (ours was presumed dead); stop without writing."""


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What one :func:`run_job` call did.

    ``state`` is the job's state afterwards; ``ran`` is False when the job was not
    claimed (already done, failed for good, or running elsewhere). ``retry_in_s`` is set
    when a transient error left the job queued for another attempt after that delay.
    """

    job_id: str
    state: str
    ran: bool
    retry_in_s: float | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """Jobs :func:`recover_stale_jobs` queued again or failed for good."""

    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


# ------------------------------------------------------------------- creation


def create_job(ctx: Context, recording_id: str, options: JobOptions | None = None) -> str:
    """Queue a job for a recording; returns its id (the active job's, if one exists).

    Raises:
        QueueFullError: ``options.max_queued`` jobs are already queued.
        NotFoundError: no such recording.
    """
    options = options or JobOptions.from_settings(ctx.settings)
    active = active_job(ctx, recording_id)
    if active is not None:
        return active.id
    if options.max_queued > 0:
        queued = queued_count(ctx)
        if queued >= options.max_queued:
            raise QueueFullError(
                f"{queued} jobs are already queued (limit {options.max_queued}, CALLSCOPE_MAX_QUEUED_JOBS): "
                "wait for the workers to catch up, start more workers, or raise the limit"
            )
    job_id = str(uuid.uuid4())
    try:
        with transaction(ctx.sessions) as session:
            session.add(JobRow(id=job_id, recording_id=recording_id, state=JobState.QUEUED, progress=0.0, attempts=0,
                               created_at=utcnow(), updated_at=utcnow()))
    except IntegrityError as exc:
        active = active_job(ctx, recording_id)  # another process queued it at the same moment
        if active is not None:
            return active.id
        raise NotFoundError(f"no recording with id {recording_id!r}") from exc
    return job_id


def active_job(ctx: Context, recording_id: str) -> JobRow | None:
    """The recording's queued or running job, if any (a recording has one at a time)."""
    with ctx.sessions() as session:
        row = session.scalars(
            select(JobRow).where(JobRow.recording_id == recording_id,
                                 JobRow.state.in_([JobState.QUEUED, JobState.RUNNING]))
            .order_by(JobRow.created_at.desc()).limit(1)
        ).first()
        if row is not None:
            session.expunge(row)
        return row


def queued_count(ctx: Context) -> int:
    """How many jobs wait to run."""
    with ctx.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(JobRow).where(JobRow.state == JobState.QUEUED)) or 0)


# -------------------------------------------------------------------- queries


def get_job(ctx: Context, job_id: str) -> JobRow:
    """Raises: NotFoundError."""
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


def live_job(ctx: Context, recording_id: str) -> JobRow | None:
    """The recording's latest job that has not failed (queued, running or done), or None: a
    recording is processed once, and again only after its jobs failed."""
    live = [job for job in jobs_for(ctx, recording_id) if job.state != JobState.FAILED]
    return live[-1] if live else None


def pending_jobs(ctx: Context) -> list[str]:
    """Jobs not finished (queued, or running when their process died)."""
    with ctx.sessions() as session:
        return list(
            session.scalars(
                select(JobRow.id).where(JobRow.state.in_([JobState.QUEUED, JobState.RUNNING])).order_by(JobRow.created_at)
            )
        )


def due_jobs(ctx: Context, *, grace_s: float = 5.0) -> list[str]:
    """Queued jobs whose retry delay has passed, oldest first.

    Jobs queued in the last ``grace_s`` are left out: their submitter is still
    handing them to the queue.
    """
    now = utcnow()
    with ctx.sessions() as session:
        return list(session.scalars(
            select(JobRow.id)
            .where(JobRow.state == JobState.QUEUED,
                   or_(JobRow.next_attempt_at.is_(None), JobRow.next_attempt_at <= now),
                   JobRow.updated_at <= now - timedelta(seconds=grace_s))
            .order_by(JobRow.created_at)
        ))


def retry_failed(ctx: Context, job_ids: list[str] | None = None) -> list[str]:
    """Queue failed jobs again with fresh attempts (after fixing their cause).

    Jobs of a recording that already has a queued or running job are left alone.
    Returns the ids queued.
    """
    with ctx.sessions() as session:
        query = select(JobRow.id).where(JobRow.state == JobState.FAILED)
        if job_ids is not None:
            query = query.where(JobRow.id.in_(job_ids))
        candidates = list(session.scalars(query.order_by(JobRow.created_at)))
    requeued = []
    for job_id in candidates:
        try:
            if _set_where(ctx, job_id, JobRow.state == JobState.FAILED, state=JobState.QUEUED, attempts=0,
                          lease=None, next_attempt_at=None, finished_at=None, progress=0.0):
                requeued.append(job_id)
        except IntegrityError:
            log.info("job %s not retried: its recording already has an active job", job_id)
    return requeued


# ---------------------------------------------------------------- row updates


def _set_where(ctx: Context, job_id: str, condition: Any, **values: Any) -> bool:
    """``UPDATE jobs SET values WHERE id = job_id AND condition``; True if a row changed."""
    with transaction(ctx.sessions) as session:
        result = session.execute(
            update(JobRow).where(JobRow.id == job_id, condition).values(**values, updated_at=utcnow())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def _claim(ctx: Context, job_id: str, options: JobOptions) -> str | None:
    """Take the job (queued, or running with an expired lease); returns the lease token."""
    now = utcnow()
    token = str(uuid.uuid4())
    stale = and_(JobRow.state == JobState.RUNNING,
                 or_(JobRow.heartbeat_at.is_(None), JobRow.heartbeat_at < now - timedelta(seconds=options.stale_after_s)),
                 JobRow.attempts < options.max_attempts)
    claimed = _set_where(
        ctx, job_id, or_(JobRow.state == JobState.QUEUED, stale),
        state=JobState.RUNNING, lease=token, worker=WORKER_NAME, heartbeat_at=now, next_attempt_at=None,
        attempts=JobRow.attempts + 1, started_at=func.coalesce(JobRow.started_at, now),
    )
    return token if claimed else None


class _Lease:
    """Renews the job's lease every ``interval_s`` from a daemon thread while the job runs."""

    def __init__(self, ctx: Context, job_id: str, token: str, interval_s: float) -> None:
        self.ctx, self.job_id, self.token, self.interval_s = ctx, job_id, token, interval_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"callscope-lease-{job_id[:8]}", daemon=True)

    def __enter__(self) -> Self:
        _held_leases.add(self.token)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval_s + 5)
        _held_leases.discard(self.token)

    def _beat(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if not _set_where(self.ctx, self.job_id, JobRow.lease == self.token, heartbeat_at=utcnow()):
                    log.warning("job %s: lease taken over by another worker; abandoning this run", self.job_id)
                    self.lost.set()
                    return
            except (SQLAlchemyError, StorageError) as exc:  # database restarting: keep trying
                log.warning("job %s: heartbeat failed (%s); retrying", self.job_id, exc.__class__.__name__)

    def check(self) -> None:
        if self.lost.is_set():
            raise _LeaseLost(self.job_id)

    def verify(self) -> None:
        """Ask the database whether we still hold the lease (before storing results)."""
        self.check()
        with self.ctx.sessions() as session:
            if session.scalar(select(JobRow.lease).where(JobRow.id == self.job_id)) != self.token:
                self.lost.set()
                raise _LeaseLost(self.job_id)

    def set(self, **values: Any) -> None:
        """Update the job row while holding the lease."""
        self.check()
        if not _set_where(self.ctx, self.job_id, JobRow.lease == self.token, **values):
            self.lost.set()
            raise _LeaseLost(self.job_id)


class _ProgressWriter:
    """A Hook that writes job progress to the database at most every ``interval_s``."""

    def __init__(self, lease: _Lease, stage_index: int, interval_s: float = 1.0) -> None:
        self.lease, self.stage_index, self.interval_s = lease, stage_index, interval_s
        self._last = 0.0

    def __call__(self, step: str, completed: float, total: float) -> None:
        now = time.monotonic()
        if now - self._last < self.interval_s or total <= 0:
            return
        self._last = now
        fraction = min(1.0, max(0.0, completed / total))
        try:
            self.lease.set(progress=(self.stage_index + fraction) / len(JOB_STAGES))
        except (SQLAlchemyError, StorageError):  # progress is best effort; the stage goes on
            log.debug("job %s: progress not written", self.lease.job_id, exc_info=True)


# ------------------------------------------------------------------- running


def run_job(
    ctx: Context,
    processor: CallProcessor,
    job_id: str,
    on_stage: Callable[[str], None] | None = None,
    options: JobOptions | None = None,
) -> JobOutcome:
    """Run (or resume) a job; the row ends DONE, FAILED, or QUEUED for a retry.

    Transient errors leave the job queued with a backoff (``retry_in_s``) until it has
    used ``options.max_attempts``; errors retrying cannot fix (bad audio, a missing
    model) fail it at once. The reason is stored on the job row either way.

    Args:
        ctx: the context (database and store).
        processor: the loaded models.
        job_id: the job to run.
        on_stage: called with each stage name before it runs.
        options: retry and lease settings; default from the settings.

    Returns:
        What happened; ``ran`` is False when another worker holds the job or it is finished.

    Raises:
        SQLAlchemyError, StorageError: the database failed while recording the outcome;
            the lease then expires and the job is recovered.
        BaseException: shutdown signals, after putting the job back in the queue.
    """
    options = options or JobOptions.from_settings(ctx.settings)
    token = _claim(ctx, job_id, options)
    if token is None:
        try:
            job = get_job(ctx, job_id)
        except NotFoundError:  # deleted with its recording meanwhile
            return JobOutcome(job_id, "deleted", ran=False)
        if job.state == JobState.RUNNING:
            log.info("job %s is running on %s; not starting it twice", job_id, job.worker)
        return JobOutcome(job_id, str(job.state), ran=False, error=job.error)
    job = get_job(ctx, job_id)
    with _Lease(ctx, job_id, token, options.heartbeat_s) as lease:
        try:
            try:
                _run_stages(ctx, processor, job, lease, on_stage, options)
                lease.set(state=JobState.DONE, progress=1.0, finished_at=utcnow(), error=None, lease=None)
                return JobOutcome(job_id, JobState.DONE, ran=True)
            except _LeaseLost:
                raise
            except (*_PERMANENT, PermanentJobError) as exc:
                message = _describe(exc)
                log.warning("job %s failed permanently: %s", job_id, message)
                lease.set(state=JobState.FAILED, error=message, finished_at=utcnow(), lease=None)
                return JobOutcome(job_id, JobState.FAILED, ran=True, error=message)
            except Exception as exc:  # noqa: BLE001 - by design: anything else is transient, retried
                return _after_transient_error(lease, job, exc, options)
            except BaseException as exc:  # shutdown (SIGTERM twice, Ctrl-C): hand the job back
                try:
                    lease.set(state=JobState.QUEUED, lease=None, next_attempt_at=None,
                              attempts=max(0, job.attempts - 1), error=f"interrupted ({type(exc).__name__}); queued again")
                except Exception:  # noqa: BLE001 - whatever it is, the lease expiry recovers the job
                    log.warning("job %s: could not hand back after interruption", job_id)
                raise
        except _LeaseLost:
            return JobOutcome(job_id, JobState.RUNNING, ran=False, error="taken over by another worker")


def _after_transient_error(lease: _Lease, job: JobRow, exc: Exception, options: JobOptions) -> JobOutcome:
    message = _describe(exc)
    if job.attempts >= options.max_attempts:
        log.error("job %s failed after %d attempts: %s", job.id, job.attempts, message, exc_info=exc)
        message = f"failed after {job.attempts} attempts: {message}"
        lease.set(state=JobState.FAILED, error=message, finished_at=utcnow(), lease=None)
        return JobOutcome(job.id, JobState.FAILED, ran=True, error=message)
    delay = options.backoff_s(job.attempts)
    log.warning("job %s attempt %d/%d failed (%s); retrying in %.0f s",
                job.id, job.attempts, options.max_attempts, message, delay, exc_info=exc)
    lease.set(state=JobState.QUEUED, lease=None, next_attempt_at=utcnow() + timedelta(seconds=delay),
              error=f"attempt {job.attempts} of {options.max_attempts} failed: {message}")
    return JobOutcome(job.id, JobState.QUEUED, ran=True, retry_in_s=delay, error=message)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CallscopeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _run_stages(
    ctx: Context,
    processor: CallProcessor,
    job: JobRow,
    lease: _Lease,
    on_stage: Callable[[str], None] | None,
    options: JobOptions,
) -> None:
    recording = ctx.store.get(job.recording_id)
    try:
        _run_stages_of(ctx, processor, recording, lease, on_stage, options)
    except InvalidAudioError as exc:  # name the user's file, not its content-addressed copy
        raise InvalidAudioError(str(exc).replace(Path(recording.path).name, recording.original_name)) from exc
    except MemoryError as exc:  # the same file would exhaust memory again: no retries
        raise PermanentJobError(
            f"{recording.original_name}: ran out of memory ({_describe(exc)}) on "
            f"{recording.duration_s / 60:.0f} min of audio; lower CALLSCOPE_MAX_DURATION_S "
            "or give the worker more memory"
        ) from exc


def _run_stages_of(
    ctx: Context,
    processor: CallProcessor,
    recording: Recording,
    lease: _Lease,
    on_stage: Callable[[str], None] | None,
    options: JobOptions,
) -> None:
    store = ctx.store
    audio = None
    try:
        for index, stage in enumerate(JOB_STAGES):
            lease.set(stage=stage, progress=index / len(JOB_STAGES))
            if on_stage is not None:
                on_stage(stage)
            if stage == "index":
                index_recording(ctx, recording.id)  # the search index
                continue
            if store.get_artifact(recording.id, _ARTIFACT[stage]) is not None:
                continue  # done in an earlier attempt
            if audio is None:
                audio = processor.load(recording.path)
            hook = _ProgressWriter(lease, index, options.progress_interval_s)
            if stage == "transcribe":
                original = processor.transcribe(audio, hook)
                transcript = processor.redact(original)
                lease.verify()
                artifacts = {"transcript": transcript.to_dict()}
                if ctx.settings.pii_keep_original and transcript != original:
                    # only for roles allowed to see PII (CALLSCOPE_PII_KEEP_ORIGINAL); never indexed or analysed
                    artifacts["transcript_original"] = original.to_dict()
                _save_artifacts(ctx, recording.id, artifacts)
                if recording.language is None:
                    store.update(recording.id, language=transcript.language)
            elif stage == "diarize":
                transcript = Transcript.from_dict(store.get_artifact(recording.id, "transcript") or {})
                diarization, transcript = processor.diarize(audio, transcript, hook)
                lease.verify()
                # one transaction: the transcript gains speakers exactly when the diarization lands
                _save_artifacts(ctx, recording.id, {"transcript": transcript.to_dict(),
                                                    "diarization": diarization_to_dict(diarization)})
            elif stage == "analyze":
                transcript = Transcript.from_dict(store.get_artifact(recording.id, "transcript") or {})
                diarization = diarization_from_dict(store.get_artifact(recording.id, "diarization") or {})
                analysis = processor.summarize(processor.analyze(recording.id, audio, transcript, diarization))
                saved_rules = _saved_qa_rules(ctx)
                if saved_rules is not None:  # a QA lead's dashboard scorecard replaces the configured one
                    analysis = replace(analysis, qa=processor.score(analysis, recording.duration_s, saved_rules))
                lease.verify()
                _save_artifacts(ctx, recording.id, {"analysis": analysis_to_dict(
                    analysis, name=recording.original_name, duration_s=recording.duration_s)})
                if analysis.qa is not None:
                    save_result(ctx, recording.id, analysis.qa)
    finally:
        if audio is not None:
            audio.close()  # the decoded call's temporary file


def _saved_qa_rules(ctx: Context):  # type: ignore[no-untyped-def]
    """The scorecard a QA lead saved in the dashboard; None: the processor's (settings or default)."""
    try:
        active = active_scorecard(ctx)
    except CallscopeError as exc:
        log.error("QA scorecard unusable, scoring with the configured one: %s", exc)
        return None
    return active.rules if active.origin == "dashboard" else None


def _save_artifacts(ctx: Context, recording_id: str, artifacts: dict[str, dict[str, Any]]) -> None:
    """Store several artifacts of a recording atomically (all or none)."""
    with transaction(ctx.sessions) as session:
        for kind, data in artifacts.items():
            row = session.get(ArtifactRow, (recording_id, kind))
            if row is None:
                session.add(ArtifactRow(recording_id=recording_id, kind=kind, data=data, updated_at=utcnow()))
            else:
                row.data = data
                row.updated_at = utcnow()


# ------------------------------------------------------------------ recovery


def recover_stale_jobs(ctx: Context, options: JobOptions | None = None) -> RecoveryReport:
    """Queue again the running jobs whose worker died; fail those out of attempts.

    A worker is taken to be dead when its lease has not been renewed for
    ``options.stale_after_s``, or at once when it ran on this host and its process is
    gone. Safe to run from several processes at the same time (each change is a
    compare-and-set on the lease).
    """
    options = options or JobOptions.from_settings(ctx.settings)
    now = utcnow()
    cutoff = now - timedelta(seconds=options.stale_after_s)
    with ctx.sessions() as session:
        rows = list(session.scalars(select(JobRow).where(JobRow.state == JobState.RUNNING)))
        for row in rows:
            session.expunge(row)
    report = RecoveryReport()
    for row in rows:
        expired = row.heartbeat_at is None or row.heartbeat_at < cutoff
        if not expired and not _dead_here(row):
            continue
        silent_s = (now - row.heartbeat_at).total_seconds() if row.heartbeat_at else float("inf")
        cause = f"worker {row.worker} stopped during {row.stage or 'start-up'} (no heartbeat for {silent_s:.0f} s)"
        same_lease = JobRow.lease.is_(None) if row.lease is None else JobRow.lease == row.lease
        condition = and_(JobRow.state == JobState.RUNNING, same_lease)
        if row.attempts >= options.max_attempts:
            message = (f"failed after {row.attempts} attempts: {cause}; the file may crash the worker "
                       "or exhaust its memory")
            if _set_where(ctx, row.id, condition, state=JobState.FAILED, lease=None, error=message,
                          finished_at=now):
                log.error("job %s %s", row.id, message)
                report.failed.append(row.id)
        elif _set_where(ctx, row.id, condition, state=JobState.QUEUED, lease=None, next_attempt_at=None,
                        error=f"{cause}; queued again (attempt {row.attempts + 1} of {options.max_attempts})"):
            log.warning("job %s: %s; queued again", row.id, cause)
            report.requeued.append(row.id)
    return report


def _dead_here(row: JobRow) -> bool:
    """True when the job's worker ran on this host and is certainly gone."""
    host, _, pid_text = (row.worker or "").rpartition(":")
    if host != HOSTNAME or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return row.lease not in _held_leases
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def queue_latency_s(row: JobRow) -> float | None:
    """Seconds from submission to the first start of a job."""
    if row.started_at is None or row.created_at is None:
        return None
    return (row.started_at - row.created_at).total_seconds()

