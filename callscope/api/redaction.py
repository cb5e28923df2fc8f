"""PII-redacted views of stored results, for roles without PII access (and on request).

Stored transcripts are usually redacted already (``settings.pii_redaction``); these views
make sure a read-only user never sees PII even when that setting was off.
"""

from __future__ import annotations

from typing import Any

from callscope.domain import Transcript


def redact_str(text: str | None, language: str | None = None) -> str | None:
    from callscope.analysis.pii import redact_text

    if not text:
        return text
    return redact_text(text, language=language).text


def redact_transcript_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A stored ``transcript`` artifact with PII replaced in segment texts and words."""
    from callscope.analysis.pii import redact_transcript

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
    if isinstance(data.get("summary"), dict):
        out["summary"] = {**data["summary"], "text": redact_str(data["summary"].get("text"), language)}
    out["redacted"] = True
    return out
