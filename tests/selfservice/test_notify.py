"""Handover notifications: the agent queue's JSON webhook and e-mail (a real SMTP exchange
with a minimal local server), failures kept on the conversation, never raised."""

from __future__ import annotations

import email
import socketserver
import threading
from email import policy

from callscope.context import Context
from callscope.db import transaction
from callscope.selfservice import conversations as store
from callscope.selfservice.notify import notify_handover, support_phone
from callscope.selfservice.tables import ConversationRow


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) to receive one message."""

    received: list[bytes] = []

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._say("220 localhost test SMTP")
        data = False
        lines: list[bytes] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            if data:
                if raw in (b".\r\n", b".\n"):
                    _Smtp.received.append(b"".join(lines))
                    data = False
                    self._say("250 OK queued")
                else:
                    lines.append(raw[1:] if raw.startswith(b"..") else raw)
                continue
            verb = raw.decode().strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 localhost")
            elif verb == "DATA":
                data = True
                self._say("354 end with .")
            elif verb == "QUIT":
                self._say("221 bye")
                return
            else:
                self._say("250 OK")


def _handed_over(factory) -> str:
    with transaction(factory) as session:
        conv = store.new_conversation(session, "sms", "+8613800000061", language="zh")
        store.add_message(session, conv, "in", "agent", "转人工")
        conv.handover, conv.status, conv.data = True, "handover", {"handover": {"reason": "requested"}}
        return conv.id


def test_handover_email_and_a_failing_webhook(ss_settings) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Smtp.received.clear()
    settings = ss_settings.model_copy(update={
        "handover_email": "agents@example.com", "smtp_host": "127.0.0.1", "smtp_port": server.server_address[1],
        "smtp_from": "bot@example.com", "handover_webhook": "http://127.0.0.1:9/unreachable",
    })
    factory = Context(settings).sessions
    conv_id = _handed_over(factory)
    try:
        results = notify_handover(settings, factory, conv_id)
    finally:
        server.shutdown()
    assert results["email"] == "sent" and results["webhook"].startswith("failed:")
    [raw] = _Smtp.received
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["To"] == "agents@example.com" and "SMS from +8613800000061 needs an agent" in msg["Subject"]
    assert "customer: 转人工" in msg.get_content()
    with transaction(factory) as session:
        notify = session.get(ConversationRow, conv_id).data["notify"]
    assert notify["email"] == "sent" and notify["webhook"].startswith("failed:")


def test_nothing_configured_sends_nothing(ss_settings) -> None:
    factory = Context(ss_settings).sessions
    assert notify_handover(ss_settings, factory, _handed_over(factory)) == {}


def test_support_phone(ss_settings) -> None:
    assert support_phone(ss_settings) == "+1 555 0100"
    blank = ss_settings.model_copy(update={"support_phone": ""})
    assert support_phone(blank) == blank.agent_dial  # "+15550100" by default
    assert support_phone(blank.model_copy(update={"agent_dial": "queue:support"})) == ""
