"""Tables of quality assurance: reviewers' QA scorecards."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callscope.db import Base, utcnow


class ScorecardRow(Base):
    """A reviewer's QA scorecard of one call."""

    __tablename__ = "qa_scorecards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    reviewer: Mapped[str] = mapped_column(String(64), index=True)
    scores: Mapped[dict] = mapped_column(JSON)  # criterion key -> int
    total: Mapped[float] = mapped_column(Float)  # percent of the maximum
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
