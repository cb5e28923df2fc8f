"""Job queues with one interface: an in-process pool (default, nothing to start) or
RQ on Redis (``CALLSCOPE_QUEUE=rq``; start workers with ``callscope worker``).

Both persist job state in the database and run the same :func:`run_job` code.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from callscope.context import Context
from callscope.errors import ConfigError
from callscope.jobs.runner import create_job, pending_jobs, run_job
from callscope.pipeline import CallProcessor

log = logging.getLogger(__name__)

RQ_QUEUE_NAME = "callscope"


class JobQueue(Protocol):
    def submit(self, recording_id: str) -> str:
        """Queue a recording for processing; returns the job id."""
        ...

    def resume_pending(self) -> list[str]:
        """Queue again the jobs a previous process left unfinished."""
        ...


class InProcessQueue:
    """A bounded thread pool in this process; models are loaded once and shared."""

    def __init__(self, ctx: Context, processor: CallProcessor | None = None, workers: int = 1) -> None:
        self.ctx = ctx
        self.processor = processor or CallProcessor(ctx.settings)
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="callscope-job")
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()

    def submit(self, recording_id: str) -> str:
        job_id = create_job(self.ctx, recording_id)
        self._enqueue(job_id)
        return job_id

    def _enqueue(self, job_id: str) -> None:
        with self._lock:
            self._futures[job_id] = self._pool.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        try:
            run_job(self.ctx, self.processor, job_id)
        except Exception:  # already recorded on the job row
            log.debug("job %s raised", job_id, exc_info=True)

    def resume_pending(self) -> list[str]:
        jobs = pending_jobs(self.ctx)
        for job_id in jobs:
            self._enqueue(job_id)
        return jobs

    def wait(self, timeout: float | None = None) -> None:
        """Block until every submitted job has finished."""
        with self._lock:
            futures = list(self._futures.values())
        for future in futures:
            future.result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


class RqQueue:
    """Jobs on Redis through RQ; run by ``callscope worker`` processes anywhere."""

    def __init__(self, ctx: Context) -> None:
        try:
            from redis import Redis
            from rq import Queue
        except ImportError as exc:  # pragma: no cover - rq is a dependency
            raise ConfigError("CALLSCOPE_QUEUE=rq needs the rq package: pip install rq") from exc
        self.ctx = ctx
        self.redis = Redis.from_url(ctx.settings.redis_url)
        self.queue = Queue(RQ_QUEUE_NAME, connection=self.redis)

    def submit(self, recording_id: str) -> str:
        job_id = create_job(self.ctx, recording_id)
        self._enqueue(job_id)
        return job_id

    def _enqueue(self, job_id: str) -> None:
        from rq import Retry

        self.queue.enqueue(
            "callscope.jobs.worker.process_job",
            job_id,
            job_id=job_id,
            retry=Retry(max=3, interval=[5, 30, 120]),
            job_timeout=4 * 3600,
            result_ttl=3600,
            failure_ttl=7 * 24 * 3600,
        )

    def resume_pending(self) -> list[str]:
        from rq.job import Job

        jobs = pending_jobs(self.ctx)
        for job_id in jobs:
            existing = Job.fetch(job_id, connection=self.redis) if self.redis.exists(f"rq:job:{job_id}") else None
            if existing is None or existing.get_status() in ("failed", "stopped", "canceled"):
                if existing is not None:
                    existing.delete()
                self._enqueue(job_id)
        return jobs


def make_queue(ctx: Context, processor: CallProcessor | None = None) -> JobQueue:
    """The queue the settings ask for (``CALLSCOPE_QUEUE``)."""
    if ctx.settings.queue == "rq":
        return RqQueue(ctx)
    return InProcessQueue(ctx, processor, workers=ctx.settings.workers)
