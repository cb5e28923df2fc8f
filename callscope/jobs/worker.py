"""The queue worker process: ``callscope worker`` (RQ on Redis).

Models load once per worker process: RQ's SimpleWorker runs jobs in-process, so the
loaded models are reused from job to job. Besides running jobs, each worker runs the
queue maintenance every ``maintenance_s`` (one worker at a time, by a Redis lock):
jobs whose worker died are queued again, and queued jobs missing from Redis (Redis
restarted without saving, a retry whose backoff has passed) are put back on it. When
Redis goes away the worker waits and reconnects instead of exiting.

Run one worker per ``cores / cpu_threads`` on a host (see RELIABILITY.md); more
hosts scale out linearly since workers share nothing but Redis and the database.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from callscope.context import Context
from callscope.jobs.options import JobOptions
from callscope.jobs.queue import _REDIS_ERRORS, RqQueue
from callscope.jobs.runner import run_job
from callscope.pipeline import CallProcessor
from callscope.settings import get_settings

log = logging.getLogger(__name__)

_state: dict[str, object] = {}


def _processor() -> tuple[Context, CallProcessor, JobOptions]:
    if "ctx" not in _state:
        ctx = Context(get_settings())
        _state["ctx"] = ctx
        _state["processor"] = CallProcessor(ctx.settings)
    if "options" not in _state:
        _state["options"] = JobOptions.from_settings(_state["ctx"].settings)  # type: ignore[attr-defined]
    return _state["ctx"], _state["processor"], _state["options"]  # type: ignore[return-value]


def process_job(job_id: str) -> str:
    """RQ task: run (or resume) one callscope job; returns the job's state afterwards.

    Failures are recorded on the job row (and retried by the queue maintenance after
    their backoff), so the RQ job itself only fails when the database is unreachable.
    """
    ctx, processor, options = _processor()
    outcome = run_job(ctx, processor, job_id, options=options)
    if outcome.retry_in_s is not None:
        log.info("job %s will be retried in %.0f s", job_id, outcome.retry_in_s)
    return outcome.state


def run_worker(
    burst: bool = False,
    name: str | None = None,
    *,
    ctx: Context | None = None,
    processor: CallProcessor | None = None,
) -> None:
    """Run an RQ worker on the callscope queue until stopped (SIGTERM/SIGINT) — blocks.

    Args:
        burst: exit once the queue is empty.
        name: the worker's name in RQ (default: generated).
        ctx: the context (default: from the settings).
        processor: the models (default: loaded on first use).

    Raises:
        StorageError: the database or Redis cannot be reached at start-up.
    """
    from rq import SimpleWorker

    if ctx is None:
        ctx = Context(get_settings())
    _ = ctx.engine  # a clear error now if the database is unreachable
    options = JobOptions.from_settings(ctx.settings)
    _state.update(ctx=ctx, processor=processor or CallProcessor(ctx.settings), options=options)
    queue = RqQueue(ctx, options)
    _maintain_once(queue, options, force=True)
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_maintenance_loop, args=(queue, options, stop), name="callscope-maintenance",
                         daemon=True).start()
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    backoff_s, restarts = 1.0, 0
    try:
        while True:
            worker_name = name if name is None or restarts == 0 else f"{name}-{restarts}"
            worker, started = None, time.monotonic()
            try:
                worker = SimpleWorker([queue.queue], connection=queue.redis, name=worker_name)
                worker.work(burst=burst, logging_level=level)
                if burst or _stop_was_requested(worker):
                    return
                log.warning("worker loop ended unexpectedly (Redis lost?); restarting in %.0f s", backoff_s)
            except _REDIS_ERRORS as exc:
                if worker is not None and _stop_was_requested(worker):
                    return
                log.warning("Redis unreachable (%s); reconnecting in %.0f s", exc, backoff_s)
            finally:
                if worker is not None:
                    _quietly(worker.unsubscribe)  # its pub/sub thread would retry for ever
            signal.signal(signal.SIGTERM, _exit_now)  # RQ's handlers belong to the worker that ended
            signal.signal(signal.SIGINT, _exit_now)
            if time.monotonic() - started > 120:  # it had been working: a new outage starts from 1 s
                backoff_s = 1.0
            time.sleep(backoff_s)
            backoff_s, restarts = min(backoff_s * 2, 30.0), restarts + 1
    finally:
        stop.set()


def _stop_was_requested(worker: object) -> bool:
    """RQ sets one of these on SIGTERM/SIGINT (busy: after the job; idle: at once)."""
    return bool(getattr(worker, "_stop_requested", False) or getattr(worker, "_shutdown_requested_date", None))


def _quietly(action: object) -> None:
    try:
        action()  # type: ignore[operator]
    except Exception:  # best effort clean-up while Redis is away
        log.debug("clean-up failed", exc_info=True)


def _exit_now(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _maintenance_loop(queue: object, options: JobOptions, stop: threading.Event) -> None:
    while not stop.wait(options.maintenance_s):
        _maintain_once(queue, options)


def _maintain_once(queue: object, options: JobOptions, *, force: bool = False) -> None:
    """One maintenance pass, unless another worker did one within ``maintenance_s``."""
    try:
        lock = f"callscope:{options.rq_queue}:maintenance"
        ttl_ms = max(1, int(options.maintenance_s * 1000 * 0.9))
        if not force and not queue.redis.set(lock, b"1", nx=True, px=ttl_ms):  # type: ignore[attr-defined]
            return
        queue.maintain()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - Redis or the database restarting; the next pass retries
        log.warning("queue maintenance skipped: %s: %s", type(exc).__name__, exc)
