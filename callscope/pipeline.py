"""The call pipeline: small stages composed, nothing more.

    load audio → transcribe → redact PII → diarize (+ roles, speakers onto words)
               → emotions + reason + conversation metrics → QA scorecard → CallAnalysis

PII is redacted right after transcription, so no stored stage output ever holds it
(when ``settings.pii_redaction`` is on, the default).

:class:`CallProcessor` holds the loaded models and is reused across calls (CLI batches,
in-process jobs, queue workers). Each stage's result is a domain object; the JSON shapes
written to disk and stored in the database come from :func:`analysis_to_dict`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from callscope.analysis.caller_judge import judge_caller
from callscope.analysis.conversation import compute_metrics
from callscope.analysis.emotion import TurnText, analyze_emotions
from callscope.analysis.pii import redact_transcript
from callscope.analysis.reason import extract_reason
from callscope.diarization import DiarizeOptions, assign_roles, assign_speakers, diarize
from callscope.domain import (
    AnalyzedTurn,
    Audio,
    AudioReader,
    CallAnalysis,
    Diarization,
    Emotion,
    QaResult,
    Role,
    SpeakerTurn,
    Transcript,
)
from callscope.errors import CallscopeError
from callscope.llm import get_llm
from callscope.progress import Hook, no_progress
from callscope.qa.evaluate import Evaluator, PhraseMatcher, conversation_from_analysis
from callscope.qa.rules import ScorecardRules, load_scorecard
from callscope.recordings.audio import SpooledAudio, spool_audio, working_rate
from callscope.settings import Settings
from callscope.transcription import TranscribeOptions, Transcriber
from callscope.analysis.summary import summarize_call

log = logging.getLogger(__name__)

STAGES = ("transcribe", "diarize", "analyze")


@dataclass(frozen=True, slots=True)
class ProcessedCall:
    """Everything the pipeline produced for one call."""

    transcript: Transcript
    diarization: Diarization
    analysis: CallAnalysis
    timings: dict[str, float]


class CallProcessor:
    """Runs calls through the stages; models load once, on first use, and are reused.

    Model-heavy stages hold a lock so parallel jobs in one process don't oversubscribe
    the CPU cores (each engine already uses ``settings.cpu_threads`` threads).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._model_lock = threading.Lock()

    @cached_property
    def transcriber(self):  # type: ignore[no-untyped-def]
        return Transcriber(TranscribeOptions.from_settings(self.settings), self.settings.resolved_model_dir)

    @cached_property
    def diarize_options(self):  # type: ignore[no-untyped-def]
        return DiarizeOptions.from_settings(self.settings)

    # ------------------------------------------------------------------ stages

    def load(self, source: Path | str) -> SpooledAudio:
        """Decode a call for the stages, once, into a temporary file (``<data_dir>/tmp``) that
        the stages read a block or a turn at a time: memory stays flat however long the call.

        Resampled while streaming to at most 16 kHz, and refused (before and while decoding)
        when longer than ``CALLSCOPE_MAX_DURATION_S``. Close the result when done (it is a
        context manager; the file also goes when the object is collected).

        Raises:
            InvalidAudioError: naming the file: unreadable, absurd header, or too long.
        """
        return spool_audio(source, sample_rate=working_rate(source), max_duration_s=self.settings.max_duration_s,
                           directory=self.settings.data_dir / "tmp")

    def transcribe(self, audio: AudioReader, hook: Hook = no_progress) -> Transcript:
        with self._model_lock:
            return self.transcriber.transcribe(audio, hook=hook)

    def diarize(self, audio: AudioReader, transcript: Transcript, hook: Hook = no_progress) -> tuple[Diarization, Transcript]:
        with self._model_lock:
            diarization = diarize(audio, self.diarize_options, hook=hook)
        diarization = assign_roles(diarization, transcript, tuple(self.settings.company_names) or (self.settings.company_name,))
        return diarization, assign_speakers(transcript, diarization)

    def redact(self, transcript: Transcript) -> Transcript:
        if not self.settings.pii_redaction:
            return transcript

        return redact_transcript(transcript)[0]

    @cached_property
    def qa_rules(self) -> ScorecardRules:
        return load_scorecard(self.settings.qa_scorecard)

    @cached_property
    def phrase_matcher(self) -> PhraseMatcher:
        return PhraseMatcher()

    def score(self, analysis: CallAnalysis, duration_s: float | None = None,
              rules: ScorecardRules | None = None) -> QaResult:
        """Evaluate the QA scorecard (``rules``, else ``settings.qa_scorecard`` or the default) on a call."""
        return Evaluator(rules or self.qa_rules, self.phrase_matcher).evaluate(
            conversation_from_analysis(analysis, duration_s))

    def analyze(
        self, recording_id: str, audio: AudioReader | None, transcript: Transcript, diarization: Diarization
    ) -> CallAnalysis:
        turns = speaker_turns(transcript, diarization)
        opinion = self.caller_opinion(turns, transcript.language)
        report = analyze_emotions(turns, audio, transcript.language, opinion=opinion)
        if report.caller_by_cues is not None:
            log.info("%s: caller emotion %s (cues: %s), settled by the local LLM", recording_id,
                     report.caller.label, report.caller_by_cues)
        reason = extract_reason([(t.role, t.text) for t in turns], transcript.language)
        metrics = compute_metrics(diarization, audio, transcript, transcript.language)
        analysis = CallAnalysis(
            recording_id=recording_id,
            language=transcript.language,
            reason=reason,
            caller_emotion=report.caller,
            agent_emotion=report.agent,
            turns=report.turns,
            metrics=metrics,
            sentiment_trajectory=report.trajectory,
            escalations=report.escalations,
            ended_better=report.ended_better,
        )
        duration = audio.duration_s if audio is not None else transcript.duration_s
        try:
            return replace(analysis, qa=self.score(analysis, duration))
        except CallscopeError as exc:  # a broken scorecard file must not lose the analysis
            log.error("QA scoring skipped for %s: %s", recording_id, exc)
            return analysis

    def caller_opinion(self, turns: list[TurnText], language: str) -> dict[Emotion, float] | None:
        """The local LLM's reading of the caller (``CALLSCOPE_EMOTION_LLM``; by default only when the
        summaries use the LLM, whose request then finds the transcript in the prompt cache)."""
        wanted = self.settings.emotion_llm
        if not (wanted if wanted is not None else self.settings.summary == "llm"):
            return None
        return judge_caller([(t.role, t.text) for t in turns], language, get_llm())

    def summarize(self, analysis: CallAnalysis) -> CallAnalysis:
        """The call-summary stage (``CALLSCOPE_SUMMARY``: llm, extractive or off)."""
        if self.settings.summary == "off":
            return analysis
        from dataclasses import replace


        llm = "auto" if self.settings.summary == "llm" else None
        summary = summarize_call([(t.role, t.text) for t in analysis.turns], analysis.language, reason=analysis.reason, llm=llm)
        return replace(analysis, summary=summary)

    # ------------------------------------------------------------------ whole

    def process(self, source: Path | Audio, recording_id: str, hook: Hook = no_progress) -> ProcessedCall:
        """Run every stage on one call (a file is decoded once and read back in blocks)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        spooled = None if isinstance(source, Audio) else self.load(source)
        audio: AudioReader = spooled if spooled is not None else source  # type: ignore[assignment]
        timings["load"] = time.perf_counter() - started
        try:
            started = time.perf_counter()
            transcript = self.redact(self.transcribe(audio, hook))
            timings["transcribe"] = time.perf_counter() - started

            started = time.perf_counter()
            diarization, transcript = self.diarize(audio, transcript, hook)
            timings["diarize"] = time.perf_counter() - started

            started = time.perf_counter()
            analysis = self.analyze(recording_id, audio, transcript, diarization)
            timings["analyze"] = time.perf_counter() - started
        finally:
            if spooled is not None:
                spooled.close()

        started = time.perf_counter()
        analysis = self.summarize(analysis)
        timings["summarize"] = time.perf_counter() - started
        return ProcessedCall(transcript, diarization, analysis, timings)


RESUME_WITHIN_S = 3.0  # a speaker's unfinished sentence resumed this soon after the other party's interjection
_SENTENCE_END = (".", "?", "!", "。", "？", "！", "…")


def speaker_turns(transcript: Transcript, diarization: Diarization) -> list[TurnText]:
    """Consecutive segments of one speaker joined into turns, in time order.

    A sentence the other party cut into ("You can print a label from your account," / "Okay, the" /
    "or drop them off at any store.") stays whole: a segment that carries on its speaker's previous
    turn (which ended mid-sentence, one turn of the other party between, resumed within
    :data:`RESUME_WITHIN_S` of the later of the two ends) is joined to that turn, so reason, answers
    and summaries read whole sentences.
    """
    language = transcript.language or ""
    joiner = "" if language == "zh" else " "
    turns: list[TurnText] = []
    resumed = False  # the turn before the last took back a sentence: the last one is an interjection
    for seg in sorted(transcript.segments, key=lambda s: (s.start, s.end)):
        label = seg.speaker or "unknown"
        role = _role_of(label, diarization)
        speaker = role.value if role is not Role.UNKNOWN else label
        text = seg.text.strip()
        if not text:
            continue
        if turns and turns[-1].speaker == speaker and (
            not resumed or _resumes(turns[-1], turns[-2].end, seg.start, text, language)
        ):
            target = len(turns) - 1
        elif (
            len(turns) >= 2 and turns[-2].speaker == speaker
            and _resumes(turns[-2], turns[-1].end, seg.start, text, language)
        ):
            target = len(turns) - 2
        else:
            turns.append(TurnText(speaker, role, seg.start, seg.end, text, seg.channel))
            resumed = False
            continue
        resumed = target == len(turns) - 2
        last = turns[target]
        turns[target] = replace(last, end=max(last.end, seg.end), text=f"{last.text}{joiner}{text}")
    return turns


def _resumes(turn: TurnText, other_end: float, start: float, text: str, language: str) -> bool:
    """Whether ``text`` (starting at ``start``) carries on ``turn``'s unfinished last sentence, once the
    other party's turn between them (ending at ``other_end``) is over."""
    before = turn.text.rstrip()
    if before.endswith(_SENTENCE_END) or start - max(turn.end, other_end) > RESUME_WITHIN_S:
        return False
    if language == "zh":
        return before.endswith(("，", ",", "、"))
    return text[:1].islower()


def _role_of(label: str, diarization: Diarization) -> Role:
    if label in diarization.roles:
        return diarization.roles[label]
    try:
        return Role(label)
    except ValueError:
        return Role.UNKNOWN


# ------------------------------------------------------------------------ JSON


def _turn_dict(turn: AnalyzedTurn) -> dict[str, Any]:
    return {
        "speaker": turn.speaker,
        "role": str(turn.role),
        "start": round(turn.start, 3),
        "end": round(turn.end, 3),
        "text": turn.text,
        "emotion": str(turn.emotion.label),
        "emotion_confidence": round(turn.emotion.confidence, 3),
        "sentiment": round(turn.emotion.sentiment, 3),
        "arousal": None if turn.emotion.arousal is None else round(turn.emotion.arousal, 3),
    }


def analysis_to_dict(analysis: CallAnalysis, *, name: str | None = None, duration_s: float | None = None) -> dict[str, Any]:
    """The stable JSON shape of ``callscope analyze`` (``<stem>.analysis.json``)."""
    return {
        "recording": name or analysis.recording_id,
        "recording_id": analysis.recording_id,
        "language": analysis.language,
        "duration": None if duration_s is None else round(duration_s, 3),
        "reason": analysis.reason,
        "summary": analysis.summary.to_dict() if analysis.summary else None,
        "caller_emotion": str(analysis.caller_emotion.label),
        "caller_emotion_detail": analysis.caller_emotion.to_dict(),
        "agent_emotion": analysis.agent_emotion.to_dict() if analysis.agent_emotion else None,
        "sentiment_trajectory": [round(v, 3) for v in analysis.sentiment_trajectory],
        "escalations": [round(v, 2) for v in analysis.escalations],
        "ended_better": analysis.ended_better,
        "issue_id": analysis.issue_id,
        "turns": [_turn_dict(t) for t in analysis.turns],
        "metrics": analysis.metrics.to_dict() if analysis.metrics else None,
        "qa": analysis.qa.to_dict() if analysis.qa else None,
    }


def diarization_to_dict(diarization: Diarization) -> dict[str, Any]:
    return {
        "method": diarization.method,
        "duration": round(diarization.duration_s, 3),
        "roles": {k: str(v) for k, v in diarization.roles.items()},
        "role_confidence": {k: round(v, 3) for k, v in diarization.role_confidence.items()},
        "turns": [
            {
                "start": round(t.start, 3),
                "end": round(t.end, 3),
                "speaker": t.speaker,
                "role": str(t.role),
                "channel": t.channel,
                "confidence": round(t.confidence, 3),
            }
            for t in diarization.turns
        ],
    }


def diarization_from_dict(data: dict[str, Any]) -> Diarization:
    return Diarization(
        turns=tuple(
            SpeakerTurn(t["start"], t["end"], t["speaker"], Role(t.get("role", "unknown")), t.get("channel"),
                        t.get("confidence", 1.0))
            for t in data.get("turns", ())
        ),
        roles={k: Role(v) for k, v in data.get("roles", {}).items()},
        role_confidence=dict(data.get("role_confidence", {})),
        method=data.get("method", ""),
        duration_s=float(data.get("duration", 0.0)),
    )


def analyze_file(path: Path, settings: Settings, processor: CallProcessor | None = None) -> dict[str, Any]:
    """Analyse one audio file end to end; returns the ``<stem>.analysis.json`` dict."""
    processor = processor or CallProcessor(settings)
    path = Path(path)
    result = processor.process(path, recording_id=path.stem)
    return analysis_to_dict(result.analysis, name=file_stem(path), duration_s=result.transcript.duration_s)


def file_stem(path: Path) -> str:
    """``calls/s_en_01.stereo.wav`` → ``s_en_01.stereo`` (the name outputs are written under)."""
    return Path(path).stem

