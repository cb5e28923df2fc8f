"""Tables of the insights: mined issues and FAQ drafts under review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callscope.db import Base, utcnow
from callscope.domain import AnswerSource, FaqEntry, FaqStatus


class IssueRow(Base):
    """A mined issue (the latest mining run's view of it)."""

    __tablename__ = "analysis_issues"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    label: Mapped[str] = mapped_column(Text, default="")
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    members: Mapped[list[str]] = mapped_column(JSON, default=list)
    examples: Mapped[list[str]] = mapped_column(JSON, default=list)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    share: Mapped[float] = mapped_column(Float, default=0.0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # trend, handle time, sentiment
    mined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class FaqDraftRow(Base):
    """A FAQ entry under review."""

    __tablename__ = "faq_drafts"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=FaqStatus.DRAFT.value, index=True)
    questions: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    action: Mapped[str | None] = mapped_column(String(64), nullable=True)
    self_service: Mapped[bool] = mapped_column(Boolean, default=True)
    evidence_calls: Mapped[list[str]] = mapped_column(JSON, default=list)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    issue_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reviewer: Mapped[str | None] = mapped_column(String(128), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # per language: how the drafted answer was made (AnswerSource.to_dict)
    answer_sources: Mapped[dict[str, dict[str, Any]] | None] = mapped_column(JSON, nullable=True)

    def to_entry(self) -> FaqEntry:
        return FaqEntry(
            id=self.id,
            questions={lang: tuple(qs) for lang, qs in (self.questions or {}).items()},
            answers=dict(self.answers or {}),
            tags=tuple(self.tags or ()),
            action=self.action,
            self_service=bool(self.self_service),
            status=FaqStatus(self.status),
            evidence_calls=tuple(self.evidence_calls or ()),
            frequency=int(self.frequency or 0),
            updated_at=self.updated_at,
            answer_sources={lang: AnswerSource.from_dict(src) for lang, src in (self.answer_sources or {}).items()},
        )
