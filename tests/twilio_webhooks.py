"""What the IVR and self-service tests share: the Twilio webhooks app (no HTTP API) on a
temporary data dir and knowledge base, and requests signed the way Twilio signs them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from callscope.api.app import ApiOptions, create_app
from callscope.ivr import deps
from callscope.ivr.security import sign

TOKEN = "test-auth-token-0123456789abcdef"  # the Twilio auth token the webhooks validate with


def webhook_settings(tmp_path: Path, kb_file: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[Any]:
    """For a fixture (``yield from``): settings with a temporary data dir, ``kb_file`` as the
    knowledge base, :data:`TOKEN` as the auth token, no public base URL, and ``env``
    (``CALLSCOPE_…`` variables) set; the settings and IVR caches are reset afterwards."""
    from callscope.settings import Settings, get_settings

    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.delenv("CALLSCOPE_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("CALLSCOPE_KB_PATH", str(kb_file))
    monkeypatch.setenv("CALLSCOPE_IVR_TUNE", "false")  # no background fine-tuning per test KB (tests/ivr/test_tuning.py)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield Settings()
    get_settings.cache_clear()
    deps.reset_caches()


async def no_sentiment() -> None:
    return None


def webhook_app(settings: Any, **overrides: Any) -> FastAPI:
    """The webhooks app as ``create_app`` builds it (IVR, SMS/WhatsApp, help center; no
    HTTP API), with ``overrides`` applied to the settings and sentiment scoring off."""
    app = create_app(settings.model_copy(update=overrides) if overrides else settings,
                     options=ApiOptions(include_api=False))
    app.dependency_overrides[deps.get_sentiment_fn] = no_sentiment
    return app


def app_session(client: TestClient) -> Iterator[Session]:
    """For a fixture (``yield from``): a session on the database the client's app uses."""
    session = client.app.state.ctx.sessions()
    try:
        yield session
    finally:
        session.close()


def signed(url: str, params: dict[str, str], token: str = TOKEN) -> dict[str, str]:
    """The ``X-Twilio-Signature`` header Twilio sends when it posts ``params`` to ``url``."""
    return {"X-Twilio-Signature": sign(url, params, token)}


def signed_post(client: TestClient, path: str, params: dict[str, str], token: str = TOKEN) -> Any:
    """POST ``params`` to ``path`` signed for the client's public URL, as Twilio would."""
    return client.post(path, data=params, headers=signed(str(client.base_url).rstrip("/") + path, params, token))
