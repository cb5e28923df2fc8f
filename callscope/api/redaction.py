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
    """A stored ``analysis`` artifact with PII replaced in the reason and turn texts."""
    language = data.get("language")
    out = dict(data)
    out["reason"] = redact_str(data.get("reason"), language)
    out["turns"] = [{**turn, "text": redact_str(turn.get("text"), language)} for turn in data.get("turns") or ()]
    out["redacted"] = True
    return out


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
