"""Self-service tables: conversations on every text channel, their messages,
help-center feedback, and messaging opt-outs (STOP)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from callscope.db import Base, utcnow


class ConversationRow(Base):
    """One conversation on a channel (sms, whatsapp, web, chat, email, survey, voice)."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_channel_started", "channel", "started_at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    contact: Mapped[str] = mapped_column(String(128), default="", index=True)  # phone / whatsapp:+.. / ""
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # open, answered, unanswered, handover, closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    answered: Mapped[bool] = mapped_column(Boolean, default=False)  # a knowledge-base answer was given
    handover: Mapped[bool] = mapped_column(Boolean, default=False)  # the customer asked for / got an agent
    intent: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the last answered entry
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # pending "did you mean" options, pending action, rejected entries, handover notification state
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ConversationMessageRow(Base):
    """One message of a conversation, in or out, with what the matcher made of it."""

    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    direction: Mapped[str] = mapped_column(String(4))  # "in" or "out"
    # in: question, choice, agent, greeting, closing, keyword; out: answer, did_you_mean,
    # no_match, handover, help, stop, start, action
    kind: Mapped[str] = mapped_column(String(24))
    text: Mapped[str] = mapped_column(Text, default="")
    entry_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # Twilio MessageSid


class HelpFeedbackRow(Base):
    """A "was this helpful?" vote on a help-center entry."""

    __tablename__ = "help_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(128), index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    language: Mapped[str] = mapped_column(String(8), default="en")
    conversation_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class MessagingOptOutRow(Base):
    """A number that texted STOP: nothing is sent to it until it texts START."""

    __tablename__ = "messaging_opt_outs"

    contact: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
