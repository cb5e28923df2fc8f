"""Tables of the recordings store: one row per distinct recording, plus the derived
artifacts (transcript, diarization, analysis, ...) of each, as JSON."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from callscope.db import Base, utcnow


class RecordingRow(Base):
    __tablename__ = "recordings"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the bytes
    path: Mapped[str] = mapped_column(Text)  # relative to the audio dir
    source: Mapped[str] = mapped_column(String(32), index=True)
    original_name: Mapped[str] = mapped_column(Text)
    call_id: Mapped[str | None] = mapped_column(String(128), index=True, nullable=True)
    channels: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    sample_rate: Mapped[int] = mapped_column(Integer)
    codec: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(16), index=True, nullable=True)
    agent: Mapped[str | None] = mapped_column(String(128), index=True, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    metadata_json: Mapped[dict] = mapped_column(JSON, default=dict)

    artifacts: Mapped[list["ArtifactRow"]] = relationship(
        back_populates="recording", cascade="all, delete-orphan", passive_deletes=True
    )


class ArtifactRow(Base):
    """A derived result of one recording, e.g. kind="transcript" holding Transcript.to_dict()."""

    __tablename__ = "artifacts"

    recording_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    data: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    recording: Mapped[RecordingRow] = relationship(back_populates="artifacts")
