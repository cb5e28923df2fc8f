"""The queue worker process: ``callscope worker`` (RQ on Redis).

Models load once per worker process (RQ's SimpleWorker runs jobs in-process, so the
loaded models are reused from job to job).
"""

from __future__ import annotations

import logging

from callscope.context import Context
from callscope.jobs.runner import run_job
from callscope.pipeline import CallProcessor
from callscope.settings import get_settings

log = logging.getLogger(__name__)

_state: dict[str, object] = {}


def _processor() -> tuple[Context, CallProcessor]:
    if "ctx" not in _state:
        ctx = Context(get_settings())
        _state["ctx"] = ctx
        _state["processor"] = CallProcessor(ctx.settings)
    return _state["ctx"], _state["processor"]  # type: ignore[return-value]


def process_job(job_id: str) -> None:
    """RQ task: run (or resume) one callscope job."""
    ctx, processor = _processor()
    run_job(ctx, processor, job_id)


def run_worker(burst: bool = False, name: str | None = None) -> None:
    """Start an RQ worker on the callscope queue (blocks)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    from callscope.jobs.queue import RQ_QUEUE_NAME

    ctx, _ = _processor()
    redis = Redis.from_url(ctx.settings.redis_url)
    worker = SimpleWorker([Queue(RQ_QUEUE_NAME, connection=redis)], connection=redis, name=name)
    worker.work(burst=burst, with_scheduler=True)
