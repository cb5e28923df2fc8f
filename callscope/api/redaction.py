"""PII-redacted views of stored results, for roles without PII access (and on request).

Stored transcripts are usually redacted already (``settings.pii_redaction``); these views
make sure a read-only user never sees PII even when that setting was off, and never hears
it: they get the call audio with the PII bleeped.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from callscope.analysis.pii import KINDS, bleep_audio, redact_text, redact_transcript
from callscope.domain import Recording, Transcript
from callscope.recordings.audio import iter_audio, probe


def redact_str(text: str | None, language: str | None = None) -> str | None:
    if not text:
        return text
    return redact_text(text, language=language).text


def redact_transcript_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A stored ``transcript`` artifact with PII replaced in segment texts and words."""
    transcript = Transcript.from_dict(data)
    redacted = redact_transcript(transcript)[0].to_dict()
    redacted["redacted"] = True
    return redacted


def redact_analysis_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A stored ``analysis`` artifact with PII replaced in the reason, summary and turn texts."""
    language = data.get("language")
    out = dict(data)
    out["reason"] = redact_str(data.get("reason"), language)
    out["turns"] = [{**turn, "text": redact_str(turn.get("text"), language)} for turn in data.get("turns") or ()]
    if isinstance(data.get("qa"), dict):  # QA evidence quotes the call
        qa = data["qa"]
        out["qa"] = {**qa, "items": [
            {**item, "detail": redact_str(item.get("detail"), language),
             "evidence": [{**e, "text": redact_str(e.get("text"), language)} for e in item.get("evidence") or ()]}
            for item in qa.get("items") or ()]}
    if isinstance(data.get("summary"), dict):
        out["summary"] = {**data["summary"], "text": redact_str(data["summary"].get("text"), language)}
    out["redacted"] = True
    return out


def with_original_text(stored: dict[str, Any], original: dict[str, Any]) -> dict[str, Any]:
    """The stored (redacted) transcript with each segment's text and words taken from the
    unredacted one kept at transcription time; speakers stay those of the stored one.

    Segments keep their times through redaction and diarization, so they pair by time.
    """
    by_time = {(round(s["start"], 3), round(s["end"], 3)): s for s in original.get("segments") or ()}
    segments = []
    for seg in stored.get("segments") or ():
        raw = by_time.get((round(seg["start"], 3), round(seg["end"], 3)))
        if raw is None:
            segments.append(seg)
            continue
        words = [{**w, **({"speaker": seg["speaker"]} if "speaker" in seg else {})} for w in raw.get("words") or ()]
        segments.append({**seg, "text": raw["text"], "words": words or seg.get("words", [])})
    sep = "" if stored.get("language") == "zh" else " "
    return {**stored, "segments": segments, "text": sep.join(s["text"].strip() for s in segments).strip(),
            "redacted": False}


def redact_value(value: Any, language: str | None = None) -> Any:
    """``value`` with every string in it (at any depth of dicts and lists) redacted."""
    if isinstance(value, str):
        return redact_str(value, language)
    if isinstance(value, dict):
        return {key: redact_value(item, language) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item, language) for item in value]
    return value


def redact_fields(data: dict[str, Any], fields: tuple[str, ...], language: str | None = None) -> dict[str, Any]:
    """A copy of ``data`` with the named fields (strings, lists or dicts of them) redacted."""
    return {key: redact_value(value, language) if key in fields else value for key, value in data.items()}


# Fields that can hold caller or user text, per response type (what a role without PII
# access gets redacted). Identifiers, enums, numbers and timestamps are left as they are.
RECORDING_TEXT_FIELDS = ("name", "call_id", "agent", "metadata", "reason", "issue_label")
FAQ_TEXT_FIELDS = ("questions", "answers", "answer_sources", "tags")
SCORECARD_TEXT_FIELDS = ("comments",)
JOB_TEXT_FIELDS = ("error",)
SEARCH_HIT_TEXT_FIELDS = ("recording_name", "text", "speaker")


# ------------------------------------------------------------------------ audio

_PLACEHOLDER = re.compile(r"\[(?:" + "|".join(kind.upper() for kind in KINDS) + r")\]")
REDACTED_AUDIO_DIR = "redacted-audio"


def pii_time_spans(transcript_data: dict[str, Any]) -> list[tuple[float, float]]:
    """When PII was spoken: what redaction finds in the transcript now, plus the words
    that were already replaced by a placeholder when it was stored (``[CARD]``)."""
    transcript = Transcript.from_dict(transcript_data)
    spans = [(start, end) for start, end, _ in redact_transcript(transcript)[1]]
    for segment in transcript.segments:
        if segment.words:
            spans += [(w.start, w.end) for w in segment.words if _PLACEHOLDER.search(w.word)]
        elif _PLACEHOLDER.search(segment.text):
            spans.append((segment.start, segment.end))
    return sorted((max(0.0, a), max(0.0, b)) for a, b in spans if b > a)


def redacted_audio(data_dir: Path, recording: Recording, transcript_data: dict[str, Any]) -> Path:
    """A WAV copy of the call with its PII bleeped (both channels), made once per set of
    spans and kept under ``<data_dir>/redacted-audio``. Decoded and written in pieces.

    Raises:
        InvalidAudioError: the stored audio cannot be decoded.
    """
    spans = pii_time_spans(transcript_data)
    key = hashlib.sha256(json.dumps([recording.id, spans]).encode()).hexdigest()[:16]
    target = data_dir / REDACTED_AUDIO_DIR / f"{recording.id}-{key}.wav"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    info = probe(recording.path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with sf.SoundFile(tmp, "w", info.sample_rate, info.channels, "PCM_16", format="WAV") as out:
            at = 0.0
            for chunk in iter_audio(recording.path, chunk_s=30.0):
                end = at + chunk.duration_s
                local = [(max(a, at) - at, min(b, end) - at) for a, b in spans if a < end and b > at]
                piece = bleep_audio(chunk, local) if local else chunk
                out.write(np.clip(piece.samples, -1.0, 1.0).T)
                at = end
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def drop_redacted_audio(data_dir: Path, recording_id: str) -> None:
    """Remove the bleeped copies of a recording (when it is deleted)."""
    for path in (data_dir / REDACTED_AUDIO_DIR).glob(f"{recording_id}-*.wav"):
        path.unlink(missing_ok=True)
