"""Persisted processing jobs: one row per recording run through the pipeline.

The row is the source of truth for a job; queues (in-process, Redis) only deliver job
ids. A running job holds a lease (``lease`` token + ``heartbeat_at``) that its worker
renews; a lease that stops being renewed marks the job abandoned, and it is queued
again. At most one queued-or-running job exists per recording (partial unique index).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from callscope.db import Base, utcnow

_ACTIVE = text("state IN ('queued', 'running')")


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("uq_jobs_active_recording", "recording_id", unique=True,
              sqlite_where=_ACTIVE, postgresql_where=_ACTIVE),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recording_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), index=True)  # JobState
    stage: Mapped[str | None] = mapped_column(String(32), nullable=True)  # current/last stage
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1 over all stages
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)  # final reason, or the last retried one
    worker: Mapped[str | None] = mapped_column(String(128), nullable=True)  # host:pid of the last runner
    lease: Mapped[str | None] = mapped_column(String(36), nullable=True)  # token of the running attempt
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # retry backoff
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # first start
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
