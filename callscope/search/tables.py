"""Tables of the search index: one row per transcript segment, plus a per-call summary
used by list filters.

SQLite's FTS5 virtual table and PostgreSQL's full-text index over
:class:`TranscriptSegmentRow` are created by :mod:`callscope.search.index` (they cannot
be declared portably here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callscope.db import Base, utcnow


class TranscriptSegmentRow(Base):
    """One transcript segment as indexed for full-text search.

    ``terms`` holds the search tokens (lower-cased words; CJK text as character
    bigrams), ``chars`` the single CJK characters, both space-separated.
    """

    __tablename__ = "search_segments"
    # ids are the FTS5 rowids: never reuse one (a stale FTS row would match a new segment)
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    seg_index: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    language: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    text: Mapped[str] = mapped_column(Text)
    terms: Mapped[str] = mapped_column(Text)
    chars: Mapped[str] = mapped_column(Text, default="")


class CallSummaryRow(Base):
    """What the call list filters on besides the recording's own columns."""

    __tablename__ = "call_summaries"

    recording_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    caller_emotion: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    issue_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    issue_label: Mapped[str | None] = mapped_column(Text, nullable=True)
    indexed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
