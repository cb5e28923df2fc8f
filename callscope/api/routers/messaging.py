"""``POST /messaging/incoming``: the Twilio Messaging webhook (SMS and WhatsApp).

Set it as the "A message comes in" webhook of the phone number / WhatsApp sender.
Requests are checked exactly like the voice webhooks (``X-Twilio-Signature``, auth
token or Webhook Rule; 403 and nothing stored when it fails). The answer is TwiML
``<Message>`` (or an empty ``<Response/>`` when nothing may be sent).
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import Response
from twilio.twiml.messaging_response import MessagingResponse

from callscope.db import transaction
from callscope.ivr import deps
from callscope.language import detect_text_language
from callscope.selfservice.messages import message
from callscope.selfservice.messaging import InboundText, MessagingService, Reply, messaging_options
from callscope.selfservice.notify import notify_handover

log = logging.getLogger(__name__)

router = APIRouter(prefix="/messaging", tags=["messaging"])


def _twiml(text: str | None) -> Response:
    resp = MessagingResponse()
    if text:
        resp.message(text)
    return Response(content=str(resp), media_type="application/xml")


@router.post("/incoming")
def incoming_message(
    form: deps.TwilioForm,
    settings: deps.SettingsDep,
    factory: deps.SessionFactoryDep,
    matcher: deps.MatcherDep,
    actions: deps.ActionsDep,
    background: BackgroundTasks,
) -> Response:
    """An SMS or WhatsApp message: answered from the knowledge base, in the sender's language."""
    inbound = InboundText.from_form(form)
    service = MessagingService(matcher, actions, messaging_options(settings))
    try:
        with transaction(factory) as session:
            reply = service.handle(session, inbound)
    except Exception:
        log.exception("messaging webhook failed for message %s", inbound.message_sid or "(no sid)")
        reply = Reply(message(detect_text_language(inbound.body), "error"), "error")
    if reply.handover and reply.conversation_id:
        background.add_task(notify_handover, settings, factory, reply.conversation_id)
    return _twiml(reply.text)
