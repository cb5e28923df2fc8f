"""IVR tables: call state per CallSid, the call event log, and recording downloads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callscope.db import Base, utcnow


class IvrCallRow(Base):
    """One phone call through the IVR (state survives a server restart)."""

    __tablename__ = "ivr_calls"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    from_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    to_number: Mapped[str] = mapped_column(String(64), default="")
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    step: Mapped[str] = mapped_column(String(48), default="greeting")
    turn: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, transferred, ended
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    intent: Mapped[str | None] = mapped_column(String(128), nullable=True)
    transferred: Mapped[bool] = mapped_column(Boolean, default=False)
    transfer_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    priority: Mapped[bool] = mapped_column(Boolean, default=False)
    frustrated: Mapped[bool] = mapped_column(Boolean, default=False)
    record_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    nps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    transferred_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # flow details: utterances, answered intents, pending confirmation, menu keys, ...
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_twiml: Mapped[str | None] = mapped_column(Text, nullable=True)


class IvrEventRow(Base):
    """One step of a call (the source of IVR metrics)."""

    __tablename__ = "ivr_events"
    __table_args__ = (Index("ix_ivr_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(48), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IvrRecordingRow(Base):
    """A Twilio recording callback and the state of its download (idempotent by RecordingSid)."""

    __tablename__ = "ivr_recordings"

    recording_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), default="", index=True)
    url: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending downloading done failed skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    recording_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    channels: Mapped[int | None] = mapped_column(Integer, nullable=True)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)


class KbVersionRow(Base):
    """The knowledge-base file as it was after a publish, unpublish or rollback (who, when, what)."""

    __tablename__ = "kb_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kb_path: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(16))  # baseline, publish, unpublish, rollback
    entry_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
