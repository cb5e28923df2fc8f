"""Robustness of every webhook against what the issue lists: unknown CallSids at any step,
replayed callbacks, missing or oversized fields. The caller always hears something sensible."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from callscope.ivr.routes import STEPS
from callscope.ivr.simulator import CallSimulator
from callscope.ivr.tables import IvrCallRow, IvrEventRow, IvrRecordingRow
from tests.twilio_webhooks import signed_post

from .conftest import PUBLIC, TOKEN

BASE = {"AccountSid": "AC" + "0" * 32, "From": "+15005550006", "To": "+15005550100"}
SPOKEN = {
    "greeting": "what time do you open on Sunday",
    "ask": "where is my order",
    "confirm": "yes",
    "more": "no thanks",
    "menu": "press 2",
    "action": "B W five oh three eight seven two",
    "survey_csat": "four",
    "survey_nps": "nine",
}


def verbs(resp) -> list[str]:
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.text)
    assert root.tag == "Response"
    return [v.tag for v in root]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unknown_callsid_at_every_step_gets_a_sensible_reply(client, db, step: str, lang: str) -> None:
    """A server that lost its state (or a call started elsewhere) still answers at any step."""
    sid = f"CAlost{step}{lang}".ljust(34, "0")
    said = SPOKEN[step]
    params = {**BASE, "CallSid": sid}
    if said.startswith("press "):
        params["Digits"] = said.removeprefix("press ")
    else:
        params.update(SpeechResult=said, Confidence="0.9")
    tags = verbs(signed_post(client, f"/ivr/gather?step={step}&lang={lang}&t=4", params))
    # the caller hears a question, an answer, a goodbye or a person: never silence
    assert tags and tags[-1] in ("Redirect", "Hangup", "Dial", "Enqueue")
    assert any(t in ("Gather", "Say") for t in tags)
    db.expire_all()
    assert db.get(IvrCallRow, sid) is not None
    kinds = [e.kind for e in db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == sid))]
    assert "state_recovered" in kinds and "error" not in kinds


def test_replayed_dial_and_status_callbacks_count_once(simulate, client, db) -> None:
    call = simulate(["press 1", "agent"])
    assert call.outcome == "dial"
    sim = CallSimulator(client, PUBLIC, TOKEN, call_sid=call.call_sid)
    dial = {**sim.base_params(), "DialCallStatus": "completed", "DialCallDuration": "95", "DialBridged": "true"}
    first = sim.post(PUBLIC + "/ivr/dial-status?lang=en", dial).text
    again = sim.post(PUBLIC + "/ivr/dial-status?lang=en", dial).text
    assert first == again  # Twilio retried: same TwiML, handled once
    status = {**sim.base_params(), "CallStatus": "completed", "CallDuration": "140"}
    for _ in range(3):
        assert sim.post(PUBLIC + "/ivr/status", status).status_code == 204
    db.expire_all()
    kinds = [e.kind for e in db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == call.call_sid))]
    assert kinds.count("dial_result") == 1 and kinds.count("call_ended") == 1
    assert kinds.count("replayed") >= 1
    row = db.get(IvrCallRow, call.call_sid)
    assert row.outcome == "transferred" and row.transfer_reason == "caller_request"


def test_oversized_and_missing_callback_fields_are_ignored_not_crashed(client, db) -> None:
    huge_sid = {**BASE, "RecordingSid": "RE" + "1" * 5000, "RecordingUrl": "https://api.twilio.com/r"}
    missing = {**BASE, "CallSid": "CA" + "2" * 32}  # no RecordingSid, no RecordingUrl
    for params in (huge_sid, missing):
        assert signed_post(client, "/ivr/recording-status", params).status_code == 204
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(IvrRecordingRow)) == 0
    # a status callback without CallSid, and one with a non-numeric duration
    assert signed_post(client, "/ivr/status", {**BASE, "CallStatus": "completed"}).status_code == 204
    odd = {**BASE, "CallSid": "CA" + "3" * 32, "CallStatus": "completed", "CallDuration": "soon"}
    assert signed_post(client, "/ivr/status", odd).status_code == 204
    db.expire_all()
    assert db.get(IvrCallRow, odd["CallSid"]).ended_at is not None


def test_oversized_call_fields_are_cut_to_fit(client, db) -> None:
    params = {**BASE, "CallSid": "CA" + "9" * 5000, "From": "+1" * 3000}
    assert verbs(signed_post(client, "/ivr/voice", params))[0] == "Gather"
    db.expire_all()
    row = db.scalars(select(IvrCallRow)).one()
    assert len(row.call_sid) <= 64 and len(row.from_number) <= 64
