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

from callscope.ivr import deps
from callscope.ivr.security import sign

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://help.example.com"
SMS_URL = PUBLIC + "/messaging/incoming"


@pytest.fixture
def ss_settings(tmp_path: Path, kb_file: Path, monkeypatch: pytest.MonkeyPatch, encoder):
    from callscope.settings import Settings, get_settings

    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.delenv("CALLSCOPE_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("CALLSCOPE_KB_PATH", str(kb_file))
    monkeypatch.setenv("CALLSCOPE_SUPPORT_PHONE", "+1 555 0100")
    get_settings.cache_clear()
    settings = Settings()
    yield settings
    get_settings.cache_clear()
    deps.reset_caches()


async def _no_sentiment():
    return None


def make_app(settings) -> FastAPI:
    """The IVR app (webhooks, SMS/WhatsApp, help center) as ``create_app`` builds it."""
    from callscope.api.app import ApiOptions, create_app

    app = create_app(settings, options=ApiOptions(include_api=False))
    app.dependency_overrides[deps.get_sentiment_fn] = _no_sentiment
    return app


@pytest.fixture
def client(ss_settings) -> Iterator[TestClient]:
    with TestClient(make_app(ss_settings), base_url=PUBLIC) as c:
        yield c


@pytest.fixture
def db(client, ss_settings):
    factory = client.app.state.ctx.sessions
    session = factory()
    yield session
    session.close()


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
        resp = self.client.post(
            "/messaging/incoming", data=params, headers={"X-Twilio-Signature": sign(SMS_URL, params, TOKEN)}
        )
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
