"""The closed loop beyond the phone: a question texted by SMS that the knowledge base
cannot answer, answered by text and on the help center once its FAQ is published.

Used by :func:`callscope.closed_loop.run_closed_loop` (``callscope demo``): the text is
sent to the real Messaging webhook with Twilio's signature, before and after the
publish, and the help center is asked the same question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callscope.db import transaction
from callscope.ivr.security import sign
from callscope.selfservice.conversations import questions
from callscope.selfservice.tables import ConversationMessageRow, ConversationRow

SMS_QUESTION = "Is there an internet outage in my area? My broadband stopped working."
SMS_SENDER = "+15557770001"


@dataclass(frozen=True, slots=True)
class TextLoop:
    """What the texter got before and after the publish, and what the help center shows."""

    question: str
    before: str | None  # the SMS reply before the publish
    unanswered_before: bool  # stored as not answered (the gap analysis sees it)
    after: str | None = None
    entry_id: str | None = None  # the published entry
    answered_after: bool = False  # the SMS after the publish was answered with that entry
    help_page: bool = False  # /help/<entry> serves the entry
    help_search: bool = False  # /help?q=<question> shows it as the best answer


def send_text(client: Any, base_url: str, token: str, body: str, sender: str = SMS_SENDER) -> str | None:
    """POST a signed SMS to ``/messaging/incoming``; the reply text (None: none)."""
    import secrets
    import xml.etree.ElementTree as ET

    url = base_url.rstrip("/") + "/messaging/incoming"
    params = {"MessageSid": "SM" + secrets.token_hex(16), "From": sender, "To": "+15550100", "Body": body}
    resp = client.post(url, data=params, headers={"X-Twilio-Signature": sign(url, params, token)})
    resp.raise_for_status()
    message = ET.fromstring(resp.text).find("Message")
    return None if message is None else "".join(message.itertext())


def _last_question(sessions: sessionmaker[Session], sender: str) -> ConversationMessageRow | None:
    with transaction(sessions) as session:
        return session.scalars(
            select(ConversationMessageRow)
            .join(ConversationRow, ConversationRow.id == ConversationMessageRow.conversation_id)
            .where(ConversationRow.contact == sender, ConversationMessageRow.direction == "in")
            .order_by(ConversationMessageRow.id.desc())
            .limit(1)
        ).first()


def text_before(client: Any, base_url: str, token: str, sessions: sessionmaker[Session]) -> TextLoop:
    """Text the question while the knowledge base cannot answer it."""
    reply = send_text(client, base_url, token, SMS_QUESTION)
    with transaction(sessions) as session:
        missed = questions(session, channels=("sms",), unanswered_only=True, include_voice=False)
    return TextLoop(SMS_QUESTION, reply, any(q.text == SMS_QUESTION for q in missed))


def text_after(
    loop: TextLoop, client: Any, base_url: str, token: str, sessions: sessionmaker[Session], entry_id: str
) -> TextLoop:
    """Text the same question again after ``entry_id`` was published; check the help center."""
    reply = send_text(client, base_url, token, SMS_QUESTION)
    last = _last_question(sessions, SMS_SENDER)
    page = client.get(f"{base_url.rstrip('/')}/help/{entry_id}")
    search = client.get(f"{base_url.rstrip('/')}/help", params={"q": SMS_QUESTION})
    best = re.search(r'id="best".*?</article>', search.text, flags=re.S)
    return replace(
        loop,
        after=reply,
        entry_id=entry_id,
        answered_after=last is not None and last.kind == "question" and last.entry_id == entry_id,
        help_page=page.status_code == 200,
        help_search=bool(best and f"/help/{entry_id}" in best.group(0)),
    )


def print_text_loop(loop: TextLoop, echo: Any) -> None:
    def short(text: str | None) -> str:
        return (text or "(no reply)").replace("\n", " / ")[:110]

    echo(f"     SMS: \"{loop.question}\"")
    echo(f"       before: {short(loop.before)}" + (" [stored as not answered]" if loop.unanswered_before else ""))
    if loop.entry_id is not None:
        echo(f"       after:  {short(loop.after)}" + (f" [answered with {loop.entry_id}]" if loop.answered_after else ""))
        echo(f"       help center: /help/{loop.entry_id} {'online' if loop.help_page else 'MISSING'}, "
             f"search puts it first: {'yes' if loop.help_search else 'no'}")
