"""Request and response bodies of the REST API (pydantic, at the edge only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from callscope.auth.service import ApiKeyInfo, User
from callscope.domain import Recording


MAX_OFFSET = 1_000_000_000  # list offsets beyond this are never real pages and overflow SQL integers


class Problem(BaseModel):
    """Every error response: ``{"detail": "what went wrong and what to do"}``."""

    detail: str | list[Any]


# -------------------------------------------------------------------------- auth


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    username: str
    role: str
    created_at: datetime | None = None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(username=user.username, role=str(user.role), created_at=user.created_at)


class MeOut(BaseModel):
    username: str
    role: str
    can_edit: bool
    sees_pii: bool
    is_admin: bool
    auth: Literal["api-key", "session"]
    csrf_token: str | None = None  # echo it in X-CSRF-Token on state-changing cookie requests


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=10, max_length=1024)
    role: Literal["admin", "reviewer", "read-only"]


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["admin", "reviewer", "read-only"] | None = None
    password: str | None = Field(default=None, min_length=10, max_length=1024)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="default", min_length=1, max_length=128)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    username: str
    created_at: datetime
    last_used_at: datetime | None = None

    @classmethod
    def of(cls, info: ApiKeyInfo) -> ApiKeyOut:
        return cls(id=info.id, name=info.name, username=info.username, created_at=info.created_at,
                   last_used_at=info.last_used_at)


class ApiKeyCreated(ApiKeyOut):
    key: str  # shown once: store it now


# ---------------------------------------------------------------------- recordings


class JobOut(BaseModel):
    id: str
    recording_id: str
    state: str
    stage: str | None = None
    progress: float
    attempts: int
    error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @classmethod
    def of(cls, row: Any) -> JobOut:
        return cls(
            id=row.id, recording_id=row.recording_id, state=str(row.state), stage=row.stage,
            progress=round(float(row.progress or 0.0), 4), attempts=int(row.attempts or 0), error=row.error,
            created_at=row.created_at, updated_at=row.updated_at, started_at=row.started_at,
            finished_at=row.finished_at,
        )


class RecordingOut(BaseModel):
    id: str
    name: str
    source: str
    duration_s: float
    sample_rate: int
    channels: int
    codec: str
    size_bytes: int
    created_at: datetime
    call_id: str | None = None
    language: str | None = None
    agent: str | None = None
    metadata: dict[str, Any] = {}
    status: str | None = None  # the latest job's state; None when never processed
    progress: float | None = None
    reason: str | None = None
    caller_emotion: str | None = None
    issue_id: str | None = None
    issue_label: str | None = None
    artifacts: list[str] = []

    @classmethod
    def of(cls, rec: Recording, **extra: Any) -> RecordingOut:
        return cls(
            id=rec.id, name=rec.original_name, source=rec.source, duration_s=round(rec.duration_s, 3),
            sample_rate=rec.sample_rate, channels=rec.channels, codec=rec.codec, size_bytes=rec.size_bytes,
            created_at=rec.created_at, call_id=rec.call_id, language=rec.language, agent=rec.agent,
            metadata=rec.metadata, **extra,
        )


class RecordingPage(BaseModel):
    items: list[RecordingOut]
    total: int
    limit: int
    offset: int


class UploadOut(BaseModel):
    recording: RecordingOut
    job: JobOut | None
    created: bool  # False: the same audio was already stored


class RecordingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agent: str | None = Field(default=None, max_length=128)
    language: str | None = Field(default=None, max_length=16)
    call_id: str | None = Field(default=None, max_length=128)


class Waveform(BaseModel):
    """Min/max peaks per channel, ``points`` pairs each, in [-1, 1]."""

    duration_s: float
    sample_rate: int
    points: int
    channels: list[list[list[float]]]


class EmotionPoint(BaseModel):
    start: float
    end: float
    role: str
    speaker: str
    emotion: str
    sentiment: float
    arousal: float | None = None


class EmotionTimeline(BaseModel):
    caller_emotion: str | None
    points: list[EmotionPoint]
    sentiment_trajectory: list[float]
    escalations: list[float]
    ended_better: bool | None = None


# ----------------------------------------------------------------------- scorecards


class ScorecardCriterion(BaseModel):
    key: str
    label: str
    description: str
    max_score: int


class ScorecardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[str, StrictInt]
    comments: str = Field(default="", max_length=20_000)


class ScorecardOut(BaseModel):
    id: int
    recording_id: str
    reviewer: str
    scores: dict[str, int]
    total: float  # percent of the maximum
    comments: str
    created_at: datetime
    updated_at: datetime


# --------------------------------------------------------------------------- search


class SearchHitOut(BaseModel):
    recording_id: str
    recording_name: str
    segment: int
    start: float
    end: float
    speaker: str | None
    language: str | None
    text: str
    score: float


class SearchOut(BaseModel):
    query: str
    total: int
    hits: list[SearchHitOut]


class ReindexOut(BaseModel):
    recordings: int
    segments: int | None = None
