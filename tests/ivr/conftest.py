"""IVR fixtures: an in-process IVR app on a temporary DB and KB, and a signed call simulator."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from callscope.ivr.simulator import CallerInput, CallSimulator, SimulatedCall
from tests.twilio_webhooks import TOKEN, app_session, webhook_app, webhook_settings

PUBLIC = "https://ivr.example.com"
__all__ = ["MUMBLE", "PUBLIC", "TOKEN", "last_twiml", "make_client"]


@pytest.fixture
def ivr_settings(tmp_path: Path, kb_file: Path, monkeypatch: pytest.MonkeyPatch, encoder):
    yield from webhook_settings(tmp_path, kb_file, monkeypatch)


def make_client(settings, **overrides) -> TestClient:
    return TestClient(webhook_app(settings, **overrides), base_url=PUBLIC)


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
    yield from app_session(client)


def last_twiml(call: SimulatedCall) -> ET.Element:
    root = call.turns[-1].root
    assert root is not None and root.tag == "Response"
    return root


MUMBLE = CallerInput(speech="purple monkey dishwasher", confidence=0.2)
"""Speech the recogniser was unsure of: reprompted (a confident unrelated question is handed over)."""
