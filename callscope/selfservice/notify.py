"""Hand text conversations over to the agent queue: a JSON webhook and/or an e-mail.

The conversation itself is already stored (status ``handover``: the queue that
``callscope selfservice queue`` lists); these notifications tell the agents' tools.
They run after the reply was sent, and a failure is logged and kept on the
conversation (``data.notify``), never shown to the customer.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from callscope.db import transaction, utcnow
from callscope.selfservice.conversations import messages
from callscope.selfservice.tables import ConversationRow
from callscope.settings import Settings

log = logging.getLogger(__name__)


def support_phone(settings: Settings) -> str:
    """The phone number customers are given: ``support_phone``, else ``agent_dial`` when it is a number."""
    if settings.support_phone.strip():
        return settings.support_phone.strip()
    dial = settings.agent_dial.strip()
    return dial if dial.startswith("+") and dial[1:].replace(" ", "").isdigit() else ""


def handover_payload(session: Session, conversation_id: str) -> dict[str, Any] | None:
    """The conversation as the agent queue receives it (None when it does not exist)."""
    conv = session.get(ConversationRow, conversation_id)
    if conv is None:
        return None
    return {
        "event": "conversation.handover",
        "conversation": {
            "id": conv.id,
            "channel": conv.channel,
            "contact": conv.contact,
            "language": conv.language,
            "status": conv.status,
            "intent": conv.intent,
            "reason": (conv.data or {}).get("handover", {}).get("reason"),
            "started_at": conv.started_at.isoformat(timespec="seconds"),
        },
        "messages": [
            {"at": m.at.isoformat(timespec="seconds"), "direction": m.direction, "kind": m.kind, "text": m.text}
            for m in messages(session, conv.id)
        ],
    }


def _email(settings: Settings, payload: dict[str, Any]) -> None:
    conv = payload["conversation"]
    msg = EmailMessage()
    msg["Subject"] = f"[{settings.company_name}] {conv['channel'].upper()} from {conv['contact']} needs an agent"
    msg["From"] = settings.smtp_from or f"callscope@{socket.getfqdn()}"
    msg["To"] = settings.handover_email
    lines = [f"{m['at']}  {'customer' if m['direction'] == 'in' else 'bot'}: {m['text']}" for m in payload["messages"]]
    msg.set_content(
        f"Channel: {conv['channel']}\nContact: {conv['contact']}\nLanguage: {conv['language']}\n"
        f"Reason: {conv['reason']}\nConversation: {conv['id']}\n\n" + "\n".join(lines) + "\n"
    )
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg)


def notify_handover(
    settings: Settings,
    factory: sessionmaker[Session],
    conversation_id: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> dict[str, str]:
    """POST the conversation to ``handover_webhook`` and/or e-mail it to ``handover_email``.

    Returns:
        ``{"webhook": "sent" | error, "email": "sent" | error}`` for the targets configured
        (also stored on the conversation as ``data.notify``).
    """
    if not settings.handover_webhook and not settings.handover_email:
        return {}
    with transaction(factory) as session:
        payload = handover_payload(session, conversation_id)
    if payload is None:
        return {}
    results: dict[str, str] = {}
    if settings.handover_webhook:
        try:
            with httpx.Client(timeout=10, transport=transport) as client:
                resp = client.post(settings.handover_webhook, json=payload)
            resp.raise_for_status()
            results["webhook"] = "sent"
        except httpx.HTTPError as exc:
            results["webhook"] = f"failed: {exc}"
            log.error("handover webhook %s failed for %s: %s", settings.handover_webhook, conversation_id, exc)
    if settings.handover_email:
        try:
            _email(settings, payload)
            results["email"] = "sent"
        except (OSError, smtplib.SMTPException) as exc:
            results["email"] = f"failed: {exc}"
            log.error("handover e-mail to %s failed for %s: %s", settings.handover_email, conversation_id, exc)
    with transaction(factory) as session:
        conv = session.get(ConversationRow, conversation_id)
        if conv is not None:
            conv.data = {**(conv.data or {}), "notify": {**results, "at": utcnow().isoformat(timespec="seconds")}}
    return results
