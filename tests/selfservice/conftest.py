"""Self-service fixtures: the messaging and help-center routes on a temporary DB and KB,
with the real multilingual encoder, and a texter that signs requests like Twilio."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from tests.twilio_webhooks import TOKEN, app_session, signed_post, webhook_app, webhook_settings

PUBLIC = "https://help.example.com"
SMS_URL = PUBLIC + "/messaging/incoming"
__all__ = ["PUBLIC", "SMS_URL", "TOKEN", "Texter", "make_app"]


@pytest.fixture
def ss_settings(tmp_path: Path, kb_file: Path, monkeypatch: pytest.MonkeyPatch, encoder):
    yield from webhook_settings(tmp_path, kb_file, monkeypatch, CALLSCOPE_SUPPORT_PHONE="+1 555 0100")


def make_app(settings) -> FastAPI:
    """The IVR app (webhooks, SMS/WhatsApp, help center) as ``create_app`` builds it."""
    return webhook_app(settings)


@pytest.fixture
def client(ss_settings) -> Iterator[TestClient]:
    with TestClient(make_app(ss_settings), base_url=PUBLIC) as c:
        yield c


@pytest.fixture
def db(client, ss_settings):
    yield from app_session(client)


_sids = itertools.count(1)


@dataclass
class Texter:
    """Sends signed SMS/WhatsApp webhooks from one number and reads the TwiML replies."""

    client: TestClient
    sender: str = "+15005550006"

    def send(self, body: str, **extra: str) -> str | None:
        params = {
            "MessageSid": f"SM{next(_sids):032d}",
            "AccountSid": "AC" + "0" * 32,
            "From": self.sender,
            "To": "+15005550100",
            "Body": body,
            "NumMedia": "0",
            **extra,
        }
        resp = signed_post(self.client, "/messaging/incoming", params)
        assert resp.status_code == 200, resp.text
        assert resp.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(resp.text)
        assert root.tag == "Response"
        bodies = [m.text or "".join(m.itertext()) for m in root.findall("Message")]
        assert len(bodies) <= 1
        return bodies[0] if bodies else None


@pytest.fixture
def texter(client):
    def make(sender: str = "+15005550006") -> Texter:
        return Texter(client, sender)

    return make
