"""Job queues with one interface: an in-process pool (default, nothing to start) or
RQ on Redis (``CALLSCOPE_QUEUE=rq``; start workers with ``callscope worker``).

Both persist job state in the database and run the same :func:`run_job` code. The
database is the source of truth: a queue only delivers job ids, so a queue that loses
its contents (Redis restarted without saving) is refilled from the job rows by
:meth:`RqQueue.maintain`, which the workers run every ``maintenance_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from callscope.context import Context
from callscope.domain import JobState
from callscope.errors import ConfigError, JobError, QueueFullError, StorageError
from callscope.jobs.options import JobOptions
from callscope.jobs.runner import (
    create_job,
    due_jobs,
    get_job,
    live_job,
    pending_jobs,
    recover_stale_jobs,
    run_job,
)
from callscope.jobs.tables import JobRow
from callscope.pipeline import CallProcessor

log = logging.getLogger(__name__)

RQ_QUEUE_NAME = "callscope"  # default; CALLSCOPE_RQ_QUEUE overrides it
RQ_TASK = "callscope.jobs.worker.process_job"
_LIVE_RQ_STATES = {"queued", "started", "scheduled", "deferred"}

__all__ = ["InProcessQueue", "JobQueue", "QueueFullError", "RqQueue", "StoreRecordingSink", "make_queue", "wait_for_jobs"]


class JobQueue(Protocol):
    def submit(self, recording_id: str) -> str:
        """Queue a recording for processing; returns the job id.

        Raises QueueFullError when too many jobs wait (backpressure).
        """
        ...

    def resume_pending(self) -> list[str]:
        """Queue again the jobs a previous process left unfinished."""
        ...

    def wait(self, timeout: float | None = None) -> None:
        """Block until the jobs this queue submitted or resumed have ended (retries included).

        Raises:
            TimeoutError: jobs still unfinished after ``timeout`` seconds.
        """
        ...

    def shutdown(self) -> None:
        """Release the queue's threads and connections; unfinished jobs stay queued in the database."""
        ...


FINAL_STATES = frozenset({JobState.DONE, JobState.FAILED})


def wait_for_jobs(
    ctx: Context, job_ids: Iterable[str], *, timeout_s: float | None = None, poll_s: float = 0.5
) -> Iterator[JobRow]:
    """Each job once it has ended (done or failed), in the order they end, from the jobs table.

    Works whatever runs the jobs (this process's pool or workers elsewhere).

    Raises:
        JobError: jobs still unfinished after ``timeout_s``.
        NotFoundError: a job id does not exist.
    """
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    pending = list(dict.fromkeys(job_ids))
    while pending:
        for job_id in list(pending):
            job = get_job(ctx, job_id)
            if job.state in FINAL_STATES:
                pending.remove(job_id)
                yield job
        if pending:
            if deadline is not None and time.monotonic() > deadline:
                raise JobError(f"{len(pending)} job(s) still unfinished after {timeout_s:.0f} s")
            time.sleep(poll_s)


def submit_waiting(queue: JobQueue, recording_id: str, wait_s: float | None, poll_s: float = 1.0) -> str:
    """``queue.submit``, waiting up to ``wait_s`` (None: for ever) while the queue is full.

    Raises:
        QueueFullError: still full after ``wait_s``.
    """
    deadline = None if wait_s is None else time.monotonic() + wait_s
    warned = False
    while True:
        try:
            return queue.submit(recording_id)
        except QueueFullError as exc:
            if deadline is not None and time.monotonic() >= deadline:
                raise
            if not warned:
                log.warning("%s; waiting for room", exc)
                warned = True
            time.sleep(poll_s)


class InProcessQueue:
    """A bounded thread pool in this process; models are loaded once and shared.

    Model-heavy stages take the processor's lock, so several threads never run two
    models at once on the same cores; retries wait their backoff on a timer.
    """

    def __init__(
        self,
        ctx: Context,
        processor: CallProcessor | None = None,
        workers: int = 1,
        options: JobOptions | None = None,
    ) -> None:
        self.ctx = ctx
        self.options = options or JobOptions.from_settings(ctx.settings)
        self.processor = processor or CallProcessor(ctx.settings)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="callscope-job")
        self._futures: dict[str, Future[None]] = {}
        self._timers: dict[str, threading.Timer] = {}
        self._lock = threading.Lock()
        self._closed = False

    def submit(self, recording_id: str) -> str:
        job_id = create_job(self.ctx, recording_id, self.options)
        self._enqueue(job_id)
        return job_id

    def _enqueue(self, job_id: str) -> None:
        with self._lock:
            self._timers.pop(job_id, None)
            running = self._futures.get(job_id)
            if self._closed or (running is not None and not running.done()):
                return
            self._futures[job_id] = self._pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        try:
            outcome = run_job(self.ctx, self.processor, job_id, options=self.options)
        except Exception:  # the database failed while recording; resume_pending picks it up
            log.exception("job %s could not record its outcome", job_id)
            return
        if outcome.retry_in_s is not None:
            self._enqueue_later(job_id, outcome.retry_in_s)

    def _enqueue_later(self, job_id: str, delay_s: float) -> None:
        timer = threading.Timer(delay_s, self._enqueue, args=(job_id,))
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers[job_id] = timer
        timer.start()

    def resume_pending(self) -> list[str]:
        """Recover jobs of dead processes, then queue every unfinished job."""
        recover_stale_jobs(self.ctx, self.options)
        jobs = pending_jobs(self.ctx)
        for job_id in jobs:
            self._enqueue(job_id)
        return jobs

    def wait(self, timeout: float | None = None) -> None:
        """Block until every submitted job has finished (retries included).

        Raises:
            TimeoutError: jobs still run after ``timeout`` seconds.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                futures = [f for f in self._futures.values() if not f.done()]
                timers = list(self._timers.values())
            if not futures and not timers:
                return
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                raise TimeoutError("jobs still running")
            if futures:
                futures[0].result(timeout=remaining)
            else:
                time.sleep(min(0.2, remaining) if remaining is not None else 0.2)

    def shutdown(self) -> None:
        with self._lock:
            self._closed = True
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()
        self._pool.shutdown(wait=True, cancel_futures=False)


class RqQueue:
    """Jobs on Redis through RQ; run by ``callscope worker`` processes anywhere."""

    def __init__(self, ctx: Context, options: JobOptions | None = None) -> None:
        try:
            from rq import Queue
        except ImportError as exc:  # pragma: no cover - rq is a dependency
            raise ConfigError("CALLSCOPE_QUEUE=rq needs the rq package: pip install rq") from exc
        self.ctx = ctx
        self.options = options or JobOptions.from_settings(ctx.settings)
        self.redis = connect_redis(ctx.settings.redis_url)
        self.queue = Queue(self.options.rq_queue, connection=self.redis)
        self._submitted: list[str] = []

    def submit(self, recording_id: str) -> str:
        """Queue a recording; the job is durable in the database even if Redis is down."""
        job_id = create_job(self.ctx, recording_id, self.options)
        self._submitted.append(job_id)
        try:
            self._enqueue_if_missing([job_id])
        except _REDIS_ERRORS as exc:
            log.warning("job %s saved but not yet on Redis (%s); a worker will queue it when Redis is back",
                        job_id, exc)
        return job_id

    def _enqueue(self, job_id: str) -> None:
        self.queue.enqueue(
            RQ_TASK,
            job_id,
            job_id=job_id,
            job_timeout=self.options.rq_job_timeout_s,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )

    def _enqueue_if_missing(self, job_ids: list[str], *, force: bool = False) -> list[str]:
        """Enqueue the jobs RQ does not hold as queued or running; returns those enqueued.

        ``force``: enqueue even when RQ still shows the job as started (its worker is
        known to be dead), and drop that dead run from RQ's started registry so RQ's own
        abandoned-job cleanup does not fail the new run hours later.
        """
        if not job_ids:
            return []
        if force:
            self._forget_started(job_ids)
            for job_id in job_ids:
                self._enqueue(job_id)
            return list(job_ids)
        added = []
        for start in range(0, len(job_ids), 1000):
            chunk = job_ids[start:start + 1000]
            with self.redis.pipeline(transaction=False) as pipe:
                for job_id in chunk:
                    pipe.hget(f"rq:job:{job_id}", "status")
                states = pipe.execute()
            for job_id, state in zip(chunk, states, strict=True):
                if state is not None and state.decode() in _LIVE_RQ_STATES:
                    continue
                self._enqueue(job_id)
                added.append(job_id)
        return added

    def maintain(self) -> list[str]:
        """Requeue jobs of dead workers and queued jobs Redis lost; returns the ids enqueued."""
        report = recover_stale_jobs(self.ctx, self.options)
        added = self._enqueue_if_missing(report.requeued, force=True)
        added += self._enqueue_if_missing([j for j in due_jobs(self.ctx) if j not in report.requeued])
        if added:
            log.info("queued %d job(s) on Redis: %d recovered from dead workers, %d missing from Redis",
                     len(added), len(report.requeued), len(added) - len(report.requeued))
        return added

    def _forget_started(self, job_ids: list[str]) -> None:
        from rq.registry import StartedJobRegistry

        key = StartedJobRegistry(queue=self.queue).key
        prefixes = tuple(f"{job_id}:".encode() for job_id in job_ids)
        stale = [entry for entry in self.redis.zrange(key, 0, -1) if entry.startswith(prefixes)]
        if stale:
            self.redis.zrem(key, *stale)

    def resume_pending(self) -> list[str]:
        added = self.maintain()
        self._submitted.extend(added)
        return added

    def wait(self, timeout: float | None = None) -> None:
        """Block until the jobs submitted or resumed here have ended (workers elsewhere run them).

        Raises:
            TimeoutError: jobs still unfinished after ``timeout`` seconds.
        """
        try:
            for _ in wait_for_jobs(self.ctx, self._submitted, timeout_s=timeout):
                pass
        except JobError as exc:
            raise TimeoutError(str(exc)) from exc

    def shutdown(self) -> None:
        """Close the Redis connection (the jobs stay on Redis and in the database)."""
        self.redis.close()

    def queued_on_redis(self) -> int:
        return int(self.queue.count)


_REDIS_ERRORS: tuple[type[BaseException], ...]
try:
    from redis.exceptions import ConnectionError as _RedisConnectionError
    from redis.exceptions import TimeoutError as _RedisTimeoutError

    _REDIS_ERRORS = (_RedisConnectionError, _RedisTimeoutError)
except ImportError:  # pragma: no cover
    _REDIS_ERRORS = (OSError,)


def connect_redis(url: str) -> Any:
    """A Redis client for ``url``, checked with a PING.

    Raises:
        StorageError: Redis cannot be reached (names the URL and the setting).
    """
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=5, health_check_interval=30)
    try:
        client.ping()
    except _REDIS_ERRORS as exc:
        raise StorageError(
            f"cannot reach Redis at {_safe_url(url)}: {exc}. Check CALLSCOPE_REDIS_URL and that redis-server "
            "is running (or unset CALLSCOPE_QUEUE to use the in-process queue)"
        ) from exc
    return client


def _safe_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@")
    return url


class StoreRecordingSink:
    """Takes Twilio call recordings from the IVR (a ``callscope.ivr.recording.RecordingSink``):
    stores them and queues their processing."""

    def __init__(self, ctx: Context, queue: JobQueue) -> None:
        self.ctx = ctx
        self.queue = queue

    def accept(self, data: bytes, *, filename: str, call_id: str, metadata: dict) -> str:
        metadata = dict(metadata or {})
        language = metadata.get("language")
        result = self.ctx.store.ingest_bytes(
            data, original_name=filename, source="twilio", call_id=call_id or None,
            language=language if isinstance(language, str) and language else None, metadata=metadata,
        )
        rid = result.recording.id
        if live_job(self.ctx, rid) is None:
            self.queue.submit(rid)
        return rid


def make_queue(ctx: Context, processor: CallProcessor | None = None) -> JobQueue:
    """The queue the settings ask for (``CALLSCOPE_QUEUE``)."""
    if ctx.settings.queue == "rq":
        return RqQueue(ctx)
    return InProcessQueue(ctx, processor, workers=ctx.settings.job_threads)
