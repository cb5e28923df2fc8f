"""Knobs of the job system: retries, leases, backpressure, queue names.

Each value comes from the settings when a field of that name exists there, else from
the ``CALLSCOPE_<NAME>`` environment variable, else the default below, so a laptop
needs none of them and a cluster tunes them in its environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from callscope.errors import ConfigError


@dataclass(frozen=True)
class JobOptions:
    """How jobs are retried, leased and queued.

    Attributes:
        max_attempts: runs a job gets before it ends failed (transient errors and
            worker deaths both count an attempt).
        retry_backoff_s: delay before attempt 2, 3, ...; the last value repeats.
        heartbeat_s: how often a running job renews its lease on the job row.
        stale_after_s: a running job whose lease is older than this is taken to be
            abandoned (its worker died) and is queued again.
        maintenance_s: how often workers look for abandoned jobs and for queued
            jobs missing from Redis (e.g. after Redis restarted without saving).
        max_queued: submit refuses (or waits) beyond this many queued jobs; 0 = no limit.
        rq_queue: the Redis queue name (one per deployment, or per test run).
        rq_job_timeout_s: RQ kills a job running longer than this.
        progress_interval_s: at most one progress write per job per interval.
    """

    max_attempts: int = 3
    retry_backoff_s: tuple[float, ...] = (5.0, 30.0, 120.0)
    heartbeat_s: float = 10.0
    stale_after_s: float = 60.0
    maintenance_s: float = 15.0
    max_queued: int = 10_000
    rq_queue: str = "callscope"
    rq_job_timeout_s: int = 4 * 3600
    progress_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("CALLSCOPE_JOB_MAX_ATTEMPTS must be at least 1")
        if self.heartbeat_s <= 0 or self.stale_after_s <= self.heartbeat_s:
            raise ConfigError(
                f"CALLSCOPE_JOB_STALE_AFTER_S ({self.stale_after_s:g}) must exceed "
                f"CALLSCOPE_JOB_HEARTBEAT_S ({self.heartbeat_s:g}), e.g. 6 × the heartbeat"
            )
        if not self.retry_backoff_s or any(d < 0 for d in self.retry_backoff_s):
            raise ConfigError("CALLSCOPE_JOB_RETRY_BACKOFF_S must list delays ≥ 0 s, e.g. 5,30,120")

    def backoff_s(self, attempt: int) -> float:
        """Delay before the attempt after ``attempt`` (1-based)."""
        return self.retry_backoff_s[min(attempt, len(self.retry_backoff_s)) - 1]

    @classmethod
    def from_settings(cls, settings: object) -> JobOptions:
        """Options from settings fields, else ``CALLSCOPE_*`` variables, else defaults.

        Raises:
            ConfigError: a value is not a number or out of range.
        """
        return cls(
            max_attempts=int(float(_knob(settings, "job_max_attempts", cls.max_attempts))),
            retry_backoff_s=_floats(_knob(settings, "job_retry_backoff_s", cls.retry_backoff_s)),
            heartbeat_s=float(_knob(settings, "job_heartbeat_s", cls.heartbeat_s)),
            stale_after_s=float(_knob(settings, "job_stale_after_s", cls.stale_after_s)),
            maintenance_s=float(_knob(settings, "job_maintenance_s", cls.maintenance_s)),
            max_queued=int(float(_knob(settings, "max_queued_jobs", cls.max_queued))),
            rq_queue=str(_knob(settings, "rq_queue", cls.rq_queue)),
            rq_job_timeout_s=int(float(_knob(settings, "job_timeout_s", cls.rq_job_timeout_s))),
            progress_interval_s=float(_knob(settings, "job_progress_interval_s", cls.progress_interval_s)),
        )


def _knob(settings: object, name: str, default: Any) -> Any:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(f"CALLSCOPE_{name.upper()}")
    if value is None or value == "":
        return default
    if isinstance(default, (int, float)) and not isinstance(value, (int, float)):
        try:
            float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"CALLSCOPE_{name.upper()}={value!r} is not a number") from None
    return value


def _floats(value: Any) -> tuple[float, ...]:
    if isinstance(value, str):
        value = [v for v in value.replace(" ", "").split(",") if v]
    try:
        return tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"CALLSCOPE_JOB_RETRY_BACKOFF_S={value!r}: give seconds separated by commas, e.g. 5,30,120"
        ) from None
