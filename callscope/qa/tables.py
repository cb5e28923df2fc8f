"""Tables of quality assurance: reviewers' scorecards, automatic results per call,
reviewer overrides of them, and the rule sets a QA lead saved from the dashboard (the
newest is the active one)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Integer, String, Text
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


class QaResultRow(Base):
    """The automatic scorecard verdicts of one call (replaced when the call is re-scored)."""

    __tablename__ = "qa_results"

    recording_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recordings.id", ondelete="CASCADE"), primary_key=True
    )
    scorecard: Mapped[str] = mapped_column(String(64), index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)  # automatic, percent
    failed: Mapped[list] = mapped_column(JSON)  # ids of failed criteria (automatic)
    result: Mapped[dict] = mapped_column(JSON)  # QaResult.to_dict()
    evaluated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QaOverrideRow(Base):
    """A reviewer's verdict on one criterion of one call; every change is kept (newest applies)."""

    __tablename__ = "qa_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recording_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    criterion: Mapped[str] = mapped_column(String(64))
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: back to the automatic verdict
    note: Mapped[str] = mapped_column(Text, default="")
    reviewer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QaRulesRow(Base):
    """A scorecard as a QA lead saved it (YAML/JSON text); the newest row is active."""

    __tablename__ = "qa_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scorecard: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
