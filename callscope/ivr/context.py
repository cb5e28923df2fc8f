"""What the agent sees when a call is transferred, so the caller never repeats themselves."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from callscope.ivr.tables import IvrCallRow

LANGUAGE_NAMES = {"en": "English", "zh": "Mandarin"}
REASON_TEXT = {
    "caller_request": "caller asked for an agent",
    "no_match": "the IVR could not answer",
    "out_of_scope": "question not covered by the IVR knowledge base",
    "no_input": "no input from the caller",
    "frustrated": "caller sounds frustrated",
    "needs_agent": "topic needs an agent",
    "action_failed": "self-service lookup failed",
    "error": "IVR error",
}


@dataclass(frozen=True, slots=True)
class TransferContext:
    """Everything the IVR learnt before handing the call to a person."""

    call_sid: str
    caller: str
    language: str
    intent: str | None
    intent_label: str | None
    reason: str | None
    priority: bool
    frustrated: bool
    frustration_reasons: tuple[str, ...]
    failed_attempts: int
    utterances: tuple[str, ...]  # what the caller said, in order
    answered: tuple[str, ...]  # entries already answered by the IVR
    details: dict[str, Any]  # e.g. the order number the caller gave
    started_at: datetime | None
    transferred_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("started_at", "transferred_at"):
            out[key] = out[key].isoformat(timespec="seconds") + "Z" if out[key] else None
        out["frustration_reasons"] = list(self.frustration_reasons)
        out["utterances"] = list(self.utterances)
        out["answered"] = list(self.answered)
        out["summary"] = self.summary()
        return out

    def summary(self) -> str:
        """One spoken/printed line for the agent (always English)."""
        parts = [f"{'Priority. ' if self.priority else ''}{LANGUAGE_NAMES.get(self.language, self.language)} caller."]
        if self.intent_label:
            parts.append(f"Topic: {self.intent_label}.")
        if self.reason:
            parts.append(f"Transferred because {REASON_TEXT.get(self.reason, self.reason)}.")
        if self.frustration_reasons:
            parts.append("Frustration: " + "; ".join(self.frustration_reasons) + ".")
        if self.failed_attempts:
            parts.append(f"{self.failed_attempts} failed attempt{'s' if self.failed_attempts != 1 else ''}.")
        if self.details.get("order_id"):
            parts.append(f"Order {self.details['order_id']}.")
        if self.utterances:
            parts.append(f'Caller said: "{self.utterances[-1]}".')
        return " ".join(parts)


def build_context(call: IvrCallRow) -> TransferContext:
    """The transfer context of a call row."""
    data = call.data or {}
    return TransferContext(
        call_sid=call.call_sid,
        caller=call.from_number or "",
        language=call.language or "en",
        intent=call.intent,
        intent_label=data.get("intent_label"),
        reason=call.transfer_reason,
        priority=bool(call.priority),
        frustrated=bool(call.frustrated),
        frustration_reasons=tuple(data.get("frustration_reasons", ())),
        failed_attempts=int(call.failures or 0),
        utterances=tuple(u.get("text", "") for u in data.get("utterances", ()) if u.get("text")),
        answered=tuple(data.get("answered", ())),
        details=dict(data.get("details", {})),
        started_at=call.started_at,
        transferred_at=call.transferred_at,
    )


def context_token(secret: str, call_sid: str) -> str:
    """An unguessable token for ``GET /ivr/context/{CallSid}?token=...`` links."""
    return hmac.new(secret.encode(), f"ivr-context:{call_sid}".encode(), hashlib.sha256).hexdigest()[:32]


def check_context_token(secret: str, call_sid: str, token: str) -> bool:
    return bool(secret) and hmac.compare_digest(context_token(secret, call_sid), token or "")
