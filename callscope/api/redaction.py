"""PII-redacted views of stored results, for roles without PII access (and on request).

Stored transcripts are usually redacted already (``settings.pii_redaction``); these views
make sure a read-only user never sees PII even when that setting was off.
"""

from __future__ import annotations

from typing import Any

from callscope.analysis.pii import redact_text, redact_transcript
from callscope.domain import Transcript


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
    """A stored ``analysis`` artifact with PII replaced in the reason and turn texts."""
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
