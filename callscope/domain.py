"""Domain types shared by every callscope subpackage.

One type per concept, frozen dataclasses, times in seconds from the start of the
recording. Pydantic stays at the edges (API schemas, settings); library code passes
and returns these types, never dicts. ``to_dict`` helpers give the JSON shapes used
by the CLI and the API.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from collections.abc import Iterator
from enum import StrEnum
from typing import Any, Protocol

import numpy as np


class Role(StrEnum):
    """Who a speaker is in a contact-centre call."""

    AGENT = "agent"
    CALLER = "caller"
    UNKNOWN = "unknown"


class Emotion(StrEnum):
    """Call-centre emotion labels (coarse on purpose: what QA teams act on)."""

    NEUTRAL = "neutral"
    POSITIVE = "positive"
    FRUSTRATED = "frustrated"  # frustrated or angry: high arousal, negative valence
    ANXIOUS = "anxious"  # worried, uncertain: negative valence, raised arousal


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class FaqStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    PUBLISHED = "published"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a mined draft whose issue a later mining run no longer found


# --------------------------------------------------------------------------- audio


@dataclass(frozen=True, slots=True, eq=False)
class Audio:
    """Decoded PCM audio: ``samples`` is float32, shape (channels, frames), in [-1, 1]."""

    samples: np.ndarray
    sample_rate: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def frames(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration_s(self) -> float:
        return self.frames / float(self.sample_rate) if self.sample_rate else 0.0

    def channel(self, index: int) -> "Audio":
        """One channel as a mono Audio."""
        return Audio(self.samples[index : index + 1], self.sample_rate)

    def mono(self) -> "Audio":
        """Down-mix to one channel (mean of the channels)."""
        if self.channels == 1:
            return self
        return Audio(self.samples.mean(axis=0, keepdims=True, dtype=np.float32), self.sample_rate)

    def read(self, first: int, last: int) -> np.ndarray:
        """Frames ``first`` to ``last`` (exclusive) of every channel: a view, (channels, frames)."""
        return self.samples[:, max(0, first) : max(0, last)]

    def blocks(self, block_s: float) -> Iterator["Audio"]:
        """The audio ``block_s`` seconds at a time (views, no copies)."""
        step = max(1, int(block_s * self.sample_rate))
        for first in range(0, self.frames, step):
            yield Audio(self.samples[:, first : first + step], self.sample_rate)


class AudioReader(Protocol):
    """Decoded audio that the stages read a piece at a time.

    :class:`Audio` (in memory) is one; ``recordings.audio.SpooledAudio`` (a call decoded
    once to a temporary file) is the other, so a stage's memory does not grow with the
    length of the call.
    """

    @property
    def sample_rate(self) -> int: ...

    @property
    def channels(self) -> int: ...

    @property
    def frames(self) -> int: ...

    @property
    def duration_s(self) -> float: ...

    def read(self, first: int, last: int) -> np.ndarray:
        """Frames ``first`` to ``last`` (exclusive) of every channel, float32 (channels, frames)."""
        ...

    def blocks(self, block_s: float) -> Iterator[Audio]:
        """The whole audio in order, ``block_s`` seconds per block (the last may be shorter)."""
        ...


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a probe of an audio file found, without decoding all of it."""

    duration_s: float
    sample_rate: int
    channels: int
    codec: str
    container: str


@dataclass(frozen=True, slots=True)
class Recording:
    """A stored call recording (audio content-addressed by sha256)."""

    id: str  # the sha256 of the original file bytes
    sha256: str
    path: str  # where the stored bytes live
    source: str  # "cli", "upload", "twilio", "folder", ...
    original_name: str
    duration_s: float
    sample_rate: int
    channels: int
    codec: str
    size_bytes: int
    created_at: datetime
    call_id: str | None = None  # e.g. Twilio CallSid
    language: str | None = None
    agent: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ transcription


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    word: str  # as the model wrote it, leading space included for English
    probability: float
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A timed stretch of transcribed speech."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    channel: int | None = None  # source channel for dual-channel recordings
    speaker: str | None = None  # "agent"/"caller" or a diarization label
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None
    flags: tuple[str, ...] = ()  # e.g. ("hallucination:repetition",) when kept flagged

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "text": self.text,
        }
        if self.speaker is not None:
            out["speaker"] = self.speaker
        if self.channel is not None:
            out["channel"] = self.channel
        out["words"] = [
            {
                "start": round(w.start, 3),
                "end": round(w.end, 3),
                "word": w.word,
                "probability": round(w.probability, 4),
                **({"speaker": w.speaker} if w.speaker is not None else {}),
            }
            for w in self.words
        ]
        if self.avg_logprob is not None:
            out["avg_logprob"] = round(self.avg_logprob, 4)
        if self.no_speech_prob is not None:
            out["no_speech_prob"] = round(self.no_speech_prob, 4)
        if self.compression_ratio is not None:
            out["compression_ratio"] = round(self.compression_ratio, 4)
        if self.flags:
            out["flags"] = list(self.flags)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Segment":
        return cls(
            start=float(data["start"]),
            end=float(data["end"]),
            text=str(data["text"]),
            words=tuple(
                Word(
                    float(w["start"]),
                    float(w["end"]),
                    str(w["word"]),
                    float(w.get("probability", 1.0)),
                    w.get("speaker"),
                )
                for w in data.get("words", ())
            ),
            channel=data.get("channel"),
            speaker=data.get("speaker"),
            avg_logprob=data.get("avg_logprob"),
            no_speech_prob=data.get("no_speech_prob"),
            compression_ratio=data.get("compression_ratio"),
            flags=tuple(data.get("flags", ())),
        )


@dataclass(frozen=True, slots=True)
class Transcript:
    """A whole recording's transcription."""

    language: str
    segments: tuple[Segment, ...]
    duration_s: float
    model: str
    engine: str
    language_probability: float | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage

    @property
    def text(self) -> str:
        sep = "" if self.language == "zh" else " "
        return sep.join(s.text.strip() for s in self.segments).strip()

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "language_probability": self.language_probability,
            "duration": round(self.duration_s, 3),
            "model": self.model,
            "engine": self.engine,
            "text": self.text,
            "segments": [s.to_dict() for s in self.segments],
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Transcript":
        return cls(
            language=str(data["language"]),
            segments=tuple(Segment.from_dict(s) for s in data["segments"]),
            duration_s=float(data.get("duration", 0.0)),
            model=str(data.get("model", "")),
            engine=str(data.get("engine", "")),
            language_probability=data.get("language_probability"),
            timings=dict(data.get("timings", {})),
        )


# ------------------------------------------------------------------- diarization


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    """One speaker talking from ``start`` to ``end``."""

    start: float
    end: float
    speaker: str  # "agent"/"caller" for dual-channel, "SPEAKER_00"... for mono
    role: Role = Role.UNKNOWN
    channel: int | None = None
    confidence: float = 1.0

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Diarization:
    """Who spoke when, with each speaker's role."""

    turns: tuple[SpeakerTurn, ...]
    roles: dict[str, Role] = field(default_factory=dict)  # speaker label -> role
    role_confidence: dict[str, float] = field(default_factory=dict)
    method: str = ""  # "channels", "embeddings", "pyannote"
    duration_s: float = 0.0

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(sorted({t.speaker for t in self.turns}))


# ---------------------------------------------------------------------- analysis


@dataclass(frozen=True, slots=True)
class EmotionScore:
    label: Emotion
    confidence: float  # 0..1
    sentiment: float  # -1 (negative) .. +1 (positive)
    arousal: float | None = None  # relative to the speaker's baseline, z-score-like

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": str(self.label),
            "confidence": round(self.confidence, 3),
            "sentiment": round(self.sentiment, 3),
            "arousal": None if self.arousal is None else round(self.arousal, 3),
        }


@dataclass(frozen=True, slots=True)
class AnalyzedTurn:
    """A speaker turn with its text and emotion."""

    speaker: str
    role: Role
    start: float
    end: float
    text: str
    emotion: EmotionScore


@dataclass(frozen=True, slots=True)
class CallMetrics:
    """Conversation metrics the way QA teams measure them (seconds unless named)."""

    handle_time_s: float
    talk_time_s: dict[str, float]  # per role
    talk_ratio: dict[str, float]  # per role, share of total talk
    non_talk_time_s: float
    longest_silence_s: float
    hold_time_s: float
    hold_count: int
    overtalk_time_s: float
    interruptions: dict[str, int]  # "agent" = times the agent interrupted the caller
    speaking_rate: dict[str, float]  # words/min (en) or characters/min (zh), per role
    loudness_dbfs: dict[str, float]  # per role
    turn_count: int
    time_to_first_agent_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# ------------------------------------------------------------------- automatic QA
@dataclass(frozen=True, slots=True)
class Evidence:
    """The words (or the stretch of call) a verdict rests on; times in seconds."""

    start: float
    end: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 2), "end": round(self.end, 2), "text": self.text}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(float(data["start"]), float(data["end"]), str(data["text"]))


@dataclass(frozen=True, slots=True)
class QaItem:
    """One criterion's verdict. ``passed`` is None when the criterion does not apply."""

    id: str
    name: str
    passed: bool | None
    weight: float
    detail: str  # one readable line: why it passed or failed
    evidence: tuple[Evidence, ...] = ()
    automatic: bool | None = None  # the engine's verdict when a reviewer overrode it
    override_by: str | None = None
    override_note: str | None = None

    @property
    def score(self) -> float:
        """Weight earned (0 when failed or not applicable)."""
        return self.weight if self.passed else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "name": self.name, "passed": self.passed, "score": self.score, "weight": self.weight,
            "detail": self.detail, "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.override_by is not None:
            out["override"] = {"by": self.override_by, "note": self.override_note or "", "automatic": self.automatic}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QaItem:
        override = data.get("override") or {}
        return cls(
            id=str(data["id"]), name=str(data["name"]), passed=data.get("passed"),
            weight=float(data.get("weight", 1.0)), detail=str(data.get("detail", "")),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()),
            automatic=override.get("automatic"), override_by=override.get("by"),
            override_note=override.get("note"),
        )


@dataclass(frozen=True, slots=True)
class CategoryHit:
    """A user-defined category (tag) that matched the call."""

    id: str
    name: str
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "evidence": [e.to_dict() for e in self.evidence]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryHit:
        return cls(str(data["id"]), str(data["name"]), tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()))


@dataclass(frozen=True, slots=True)
class QaResult:
    """A scorecard evaluated on one call: ``score`` is the percent of applicable weight passed."""

    scorecard: str
    scorecard_name: str
    items: tuple[QaItem, ...]
    categories: tuple[CategoryHit, ...] = ()

    @property
    def score(self) -> float | None:
        applicable = [i for i in self.items if i.passed is not None]
        total = sum(i.weight for i in applicable)
        if not total:
            return None
        return round(100.0 * sum(i.score for i in applicable) / total, 1)

    def with_overrides(self, overrides: dict[str, tuple[bool, str, str]]) -> QaResult:
        """Apply reviewer verdicts ``{criterion id: (passed, reviewer, note)}``; the engine's verdict is kept."""
        items = []
        for item in self.items:
            if item.id in overrides:
                passed, by, note = overrides[item.id]
                item = dataclasses.replace(item, passed=passed, automatic=item.passed, override_by=by, override_note=note)
            items.append(item)
        return dataclasses.replace(self, items=tuple(items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "scorecard": self.scorecard, "scorecard_name": self.scorecard_name, "score": self.score,
            "items": [i.to_dict() for i in self.items], "categories": [c.to_dict() for c in self.categories],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QaResult:
        return cls(
            scorecard=str(data["scorecard"]), scorecard_name=str(data.get("scorecard_name", data["scorecard"])),
            items=tuple(QaItem.from_dict(i) for i in data.get("items") or ()),
            categories=tuple(CategoryHit.from_dict(c) for c in data.get("categories") or ()),
        )


@dataclass(frozen=True, slots=True)
class CallSummary:
    """A call in 2-3 sentences (why the customer called, what the agent did, the outcome)."""

    text: str
    resolved: bool | None  # the customer's issue was resolved in the call (None: unknown)
    method: str  # "llm" or "extractive"

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "resolved": self.resolved, "method": self.method}


@dataclass(frozen=True, slots=True)
class CallAnalysis:
    """Everything callscope learnt about one call."""

    recording_id: str
    language: str
    reason: str  # the caller's reason for calling
    caller_emotion: EmotionScore
    agent_emotion: EmotionScore | None
    turns: tuple[AnalyzedTurn, ...]
    metrics: CallMetrics | None
    sentiment_trajectory: tuple[float, ...] = ()  # caller sentiment per quarter
    escalations: tuple[float, ...] = ()  # times (s) of sharp anger rises
    ended_better: bool | None = None
    issue_id: str | None = None
    qa: QaResult | None = None  # the automatic QA scorecard's verdicts
    summary: CallSummary | None = None


# ----------------------------------------------------------------- knowledge base


class AnswerMethod(StrEnum):
    """How a drafted FAQ answer was written."""

    EXTRACTIVE = "extractive"  # agent sentences taken as they were said
    GENERATED = "generated"  # rewritten by a local generator from those sentences


@dataclass(frozen=True, slots=True)
class AnswerSource:
    """Where a drafted answer came from (per language), so reviewers can check it."""

    method: AnswerMethod
    extractive: str  # the agent sentences the answer is drawn from (and the fallback)
    call_id: str | None = None  # the evidence call those sentences come from
    generator: str | None = None  # the local model that rewrote them (or tried to)
    rejected: str | None = None  # why the generator's text was not used
    quality: float | None = None  # FAQ quality gate: is the answer about the question (0-1)
    quality_passed: bool | None = None  # passed the gate (None: not checked)
    quality_notes: tuple[str, ...] = ()  # why

    def to_dict(self) -> dict[str, Any]:
        out = {k: (v.value if isinstance(v, AnswerMethod) else v) for k, v in dataclasses.asdict(self).items()}
        out["quality_notes"] = list(self.quality_notes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnswerSource:
        return cls(
            method=AnswerMethod(data.get("method", AnswerMethod.EXTRACTIVE)),
            extractive=str(data.get("extractive", "")),
            call_id=data.get("call_id"),
            generator=data.get("generator"),
            rejected=data.get("rejected"),
            quality=None if data.get("quality") is None else float(data["quality"]),
            quality_passed=data.get("quality_passed"),
            quality_notes=tuple(str(n) for n in data.get("quality_notes") or ()),
        )


@dataclass(frozen=True, slots=True)
class FaqEntry:
    """A knowledge-base / FAQ entry, per language (``en``, ``zh``)."""

    id: str
    questions: dict[str, tuple[str, ...]]
    answers: dict[str, str]
    tags: tuple[str, ...] = ()
    action: str | None = None  # name of a dynamic action, e.g. "order_status"
    self_service: bool = True
    status: FaqStatus = FaqStatus.PUBLISHED
    evidence_calls: tuple[str, ...] = ()
    frequency: int = 0
    updated_at: datetime | None = None
    answer_sources: dict[str, AnswerSource] = field(default_factory=dict)  # drafts: how each answer was made


@dataclass(frozen=True, slots=True)
class Issue:
    """A common reason for calling, mined across calls and texts."""

    id: str
    label: str
    keywords: tuple[str, ...]
    members: tuple[str, ...]  # call stems / recording ids / text row ids
    examples: tuple[str, ...] = ()  # representative quotes
    share: float = 0.0
