"""IVR fixtures: an in-process IVR app on a temporary DB and KB, and a signed call simulator."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from callscope.ivr import deps
from callscope.api.app import ApiOptions, create_app
from callscope.ivr.simulator import CallerInput, CallSimulator, SimulatedCall

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://ivr.example.com"


@pytest.fixture
def ivr_settings(tmp_path: Path, kb_file: Path, monkeypatch: pytest.MonkeyPatch, encoder):
    from callscope.settings import Settings, get_settings

    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.delenv("CALLSCOPE_PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("CALLSCOPE_KB_PATH", str(kb_file))
    get_settings.cache_clear()
    settings = Settings()
    yield settings
    get_settings.cache_clear()
    deps.reset_caches()


async def no_sentiment():
    return None


def make_client(settings, **overrides) -> TestClient:
    app = create_app(settings.model_copy(update=overrides) if overrides else settings, options=ApiOptions(include_api=False))
    app.dependency_overrides[deps.get_sentiment_fn] = no_sentiment
    return TestClient(app, base_url=PUBLIC)


@pytest.fixture
def client(ivr_settings) -> Iterator[TestClient]:
    with make_client(ivr_settings) as c:
        yield c


@pytest.fixture
def simulate(client) -> Callable[..., SimulatedCall]:
    """simulate(["press 1", "where is my order", ...], caller=..., agent_answers=...); items may
    also be CallerInput (e.g. speech with a low recogniser confidence)."""

    def run(script: list[str], **kwargs) -> SimulatedCall:
        sim = CallSimulator(client, PUBLIC, TOKEN, **kwargs)
        return sim.run([s if isinstance(s, CallerInput) else CallerInput.parse(s) for s in script])

    return run


@pytest.fixture
def db(client, ivr_settings):
    """A session on the IVR's database (same one the app uses)."""
    factory = client.app.state.ctx.sessions
    session = factory()
    yield session
    session.close()


def last_twiml(call: SimulatedCall) -> ET.Element:
    root = call.turns[-1].root
    assert root is not None and root.tag == "Response"
    return root


MUMBLE = CallerInput(speech="purple monkey dishwasher", confidence=0.2)
"""Speech the recogniser was unsure of: reprompted (a confident unrelated question is handed over)."""
