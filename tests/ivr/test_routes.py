"""Webhook security (X-Twilio-Signature, proxies) and robustness against bad input."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

from pydantic import SecretStr
from sqlalchemy import func, select
from starlette.testclient import TestClient

from callscope.api.app import ApiOptions, create_app
from callscope.ivr.simulator import CallSimulator
from callscope.ivr.tables import IvrCallRow, IvrEventRow, IvrRecordingRow
from tests.twilio_webhooks import signed, signed_post

from .conftest import PUBLIC, TOKEN, make_client

PARAMS = {
    "CallSid": "CAsec0000000000000000000000000001",
    "AccountSid": "AC" + "0" * 32,
    "From": "+15005550006",
    "To": "+15005550100",
    "CallStatus": "ringing",
}


def row_counts(db) -> tuple[int, int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(IvrCallRow)),
        db.scalar(select(func.count()).select_from(IvrEventRow)),
        db.scalar(select(func.count()).select_from(IvrRecordingRow)),
    )


def test_forged_or_missing_signature_is_rejected_and_nothing_recorded(client, db) -> None:
    forged = signed(PUBLIC + "/ivr/voice", PARAMS, "not-the-token")
    assert client.post("/ivr/voice", data=PARAMS, headers=forged).status_code == 403
    assert client.post("/ivr/voice", data=PARAMS).status_code == 403
    tampered = signed(PUBLIC + "/ivr/voice", PARAMS, TOKEN)
    assert client.post("/ivr/voice", data={**PARAMS, "From": "+19995550000"}, headers=tampered).status_code == 403
    rec = {
        "RecordingSid": "RE1",
        "RecordingUrl": "https://api.twilio.com/x",
        "CallSid": PARAMS["CallSid"],
        "RecordingStatus": "completed",
    }
    assert client.post("/ivr/recording-status", data=rec, headers={"X-Twilio-Signature": "bogus"}).status_code == 403
    for path in ("/ivr/gather?step=ask&t=1", "/ivr/dial-status", "/ivr/status"):
        assert client.post(path, data=PARAMS, headers=forged).status_code == 403
    assert row_counts(db) == (0, 0, 0)
    good = signed(PUBLIC + "/ivr/voice", PARAMS, TOKEN)
    assert client.post("/ivr/voice", data=PARAMS, headers=good).status_code == 200
    assert row_counts(db)[0] == 1


def test_proxy_headers_rebuild_the_url_twilio_called(ivr_settings, db) -> None:
    app = create_app(ivr_settings, options=ApiOptions(include_api=False))
    public = "https://voice.example.org/ivr/voice"
    signature = signed(public, PARAMS, TOKEN)
    with TestClient(app, base_url="http://internal:8000") as c:
        assert c.post("/ivr/voice", data=PARAMS, headers=signature).status_code == 403  # sees http://internal:8000
        proxied = {**signature, "X-Forwarded-Proto": "https", "X-Forwarded-Host": "voice.example.org"}
        assert c.post("/ivr/voice", data=PARAMS, headers=proxied).status_code == 200
        chained = {
            **signature,
            "X-Forwarded-Proto": "https, http",
            "X-Forwarded-Host": "voice.example.org, lb.internal",
        }
        assert c.post("/ivr/voice", data=PARAMS, headers=chained).status_code == 200


def test_public_base_url_setting_wins(ivr_settings) -> None:
    base = "https://ivr.example.net/callscope"
    app = create_app(ivr_settings.model_copy(update={"public_base_url": base}), options=ApiOptions(include_api=False))
    with TestClient(app, base_url="http://127.0.0.1:8000") as c:
        ok = {**signed(base + "/ivr/voice", PARAMS, TOKEN), "X-Forwarded-Host": "evil.example.com"}
        resp = c.post("/ivr/voice", data=PARAMS, headers=ok)
        assert resp.status_code == 200
        gather = ET.fromstring(resp.text).find("Gather")
        assert gather.get("action").startswith(base + "/ivr/gather?step=greeting")  # absolute, behind the prefix
        wrong = signed("http://127.0.0.1:8000/ivr/voice", PARAMS, TOKEN)
        assert c.post("/ivr/voice", data=PARAMS, headers=wrong).status_code == 403


def test_validation_off_only_by_setting_and_warns(ivr_settings, caplog) -> None:
    from callscope.ivr import deps

    deps._warned_no_validation = False
    with (
        caplog.at_level(logging.WARNING, logger="callscope.ivr"),
        make_client(ivr_settings, twilio_validate=False) as c,
    ):
        assert c.post("/ivr/voice", data=PARAMS).status_code == 200
    assert any("validation is OFF" in r.message for r in caplog.records)
    with make_client(ivr_settings, twilio_auth_token=SecretStr("")) as c:
        no_token = signed(PUBLIC + "/ivr/voice", PARAMS, "")
        assert c.post("/ivr/voice", data=PARAMS, headers=no_token).status_code == 403  # no token: reject, not accept


def test_missing_callsid_and_unknown_steps_still_give_sensible_twiml(client) -> None:
    resp = signed_post(client, "/ivr/voice", {"From": "+15005550006"})
    root = ET.fromstring(resp.text)
    assert resp.status_code == 200 and [v.tag for v in root] == ["Say", "Dial"]
    resp = signed_post(
        client, "/ivr/gather?step=%3Cscript%3E&lang=xx&t=abc", {**PARAMS, "SpeechResult": "opening hours"}
    )
    root = ET.fromstring(resp.text)
    assert resp.status_code == 200 and root.tag == "Response" and len(root)


def test_unknown_callsid_mid_call_is_recovered(client, db) -> None:
    params = {**PARAMS, "CallSid": "CAlost000000000000000000000000001", "SpeechResult": "我想退货", "Confidence": "0.8"}
    resp = signed_post(client, "/ivr/gather?step=ask&lang=zh&t=3", params)
    root = ET.fromstring(resp.text)
    assert "三十天" in root.find("Say").text
    kinds = [e.kind for e in db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == params["CallSid"]))]
    assert "state_recovered" in kinds


def test_absurdly_long_or_odd_speech_never_crashes(client) -> None:
    sim = CallSimulator(client, PUBLIC, TOKEN)
    first = ET.fromstring(sim.post(PUBLIC + "/ivr/voice", sim.base_params()).text)
    action = first.find("Gather").get("action")
    huge = "where is my order " * 20000 + "\x00\ud7ff" + "💥" * 100
    resp = sim.post(action, {**sim.base_params(), "SpeechResult": huge, "Confidence": "not-a-number", "Digits": "abc"})
    root = ET.fromstring(resp.text)
    assert resp.status_code == 200
    assert root.find("Gather") is not None or root.find("Dial") is not None


def test_replayed_gather_returns_the_same_twiml_without_double_counting(client, db) -> None:
    sim = CallSimulator(client, PUBLIC, TOKEN)
    first = ET.fromstring(sim.post(PUBLIC + "/ivr/voice", sim.base_params()).text)
    action = first.find("Gather").get("action")
    params = {**sim.base_params(), "SpeechResult": "purple monkey dishwasher", "Confidence": "0.2"}
    one = sim.post(action, params).text
    two = sim.post(action, params).text
    assert one == two
    db.expire_all()
    row = db.get(IvrCallRow, sim.call_sid)
    assert row.failures == 1
    kinds = [e.kind for e in db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == sim.call_sid))]
    assert kinds.count("no_match") == 1 and kinds.count("replayed") == 1


def test_malformed_body_is_rejected_not_crashed(client) -> None:
    resp = client.post(
        "/ivr/voice",
        content=b"\xff\xfe%%%&&&==",
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"},
    )
    assert resp.status_code == 403


def test_broken_flow_transfers_the_caller(client, db, monkeypatch) -> None:
    from callscope.ivr.flow import IvrFlow

    def boom(self, turn, step, *, noinput):
        raise RuntimeError("bug")

    monkeypatch.setattr(IvrFlow, "handle", boom)
    sim = CallSimulator(client, PUBLIC, TOKEN)
    first = ET.fromstring(sim.post(PUBLIC + "/ivr/voice", sim.base_params()).text)
    resp = sim.post(first.find("Gather").get("action"), {**sim.base_params(), "Digits": "1"})
    root = ET.fromstring(resp.text)
    assert [v.tag for v in root] == ["Say", "Dial"] and "something went wrong" in root.find("Say").text
    db.expire_all()
    assert db.get(IvrCallRow, sim.call_sid).transfer_reason == "error"


def test_webhooks_answer_while_the_web_apps_thread_pool_is_busy(client, db) -> None:
    """The IVR runs its handlers in its own thread lane: with every thread of the web app's
    pool held by slow requests (a dashboard export, a big upload), a caller is still answered."""
    import threading

    import anyio.to_thread

    release = threading.Event()

    async def hold_the_pool() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        await anyio.to_thread.run_sync(release.wait)

    client.portal.start_task_soon(hold_the_pool)
    try:
        resp = signed_post(client, "/ivr/voice", {**PARAMS, "CallSid": "CAlane000000000000000000000000001"})
        assert resp.status_code == 200 and "<Gather" in resp.text
    finally:
        release.set()
    assert row_counts(db)[0] == 1


def test_warm_up_loads_the_models_then_freezes_them_out_of_full_collections(ivr_settings) -> None:
    import gc

    from callscope.context import Context
    from callscope.ivr import deps
    from callscope.ivr.routes import warm_up

    gc.unfreeze()
    ctx = Context(ivr_settings)
    try:
        warm_up(ctx)
        matcher = deps.matcher_for(deps.kb_source_for(ivr_settings, deps.actions_for(ivr_settings)), ivr_settings)
        assert matcher.encoders  # loaded before the first call
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        ctx.close()
