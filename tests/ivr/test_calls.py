"""Whole calls through the real webhooks (signed like Twilio), TwiML checked verb by verb."""

from __future__ import annotations

import dataclasses
import os
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from sqlalchemy import select

from callscope.ivr.simulator import CallerInput, CallSimulator
from callscope.ivr.tables import IvrCallRow, IvrEventRow

from .conftest import MUMBLE, PUBLIC, TOKEN, last_twiml, make_client


def gathers(call) -> list[ET.Element]:
    return [v for t in call.turns if t.root is not None for v in t.root if v.tag == "Gather"]


def events(db, sid: str) -> list[str]:
    db.expire_all()
    return [e.kind for e in db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == sid).order_by(IvrEventRow.id))]


def test_english_call_answered_and_contained(simulate, db) -> None:
    call = simulate(["press 1", "what time do you open on Sunday", "no thanks", "5", "10#"])
    assert call.outcome == "hangup"
    first = gathers(call)[0]
    assert first.get("input") == "speech dtmf"
    assert first.get("speechTimeout") == "auto"
    assert first.get("language") == "en-US"
    assert first.get("numDigits") == "1"
    assert "opening hours" in first.get("hints").split(",")
    assert first.get("action").startswith(PUBLIC + "/ivr/gather?step=greeting")
    greeting = [s for s in first if s.tag == "Say"]
    assert {s.get("voice") for s in greeting} == {"Polly.Joanna", "Polly.Zhiyu"}
    assert any(s.get("language") == "cmn-CN" and "按2" in s.text for s in greeting)
    assert any("Sunday from 10 a.m. to 5 p.m." in text for text in call.heard)
    row = db.get(IvrCallRow, call.call_sid)
    assert row.outcome == "contained" and not row.transferred
    assert row.intent == "opening_hours" and row.language == "en"
    assert (row.csat, row.nps) == (5, 10)
    kinds = events(db, call.call_sid)
    for kind in (
        "call_started",
        "language",
        "input",
        "match",
        "answered",
        "survey_offered",
        "survey",
        "goodbye",
        "call_ended",
    ):
        assert kind in kinds


def test_mandarin_call_by_keypad_answered_and_contained(simulate, db) -> None:
    call = simulate(["press 2", "我想退货", "没有了"])
    zh_gathers = gathers(call)[1:]
    assert all(g.get("language") == "cmn-Hans-CN" for g in zh_gathers)
    assert any("三十天" in text for text in call.heard)
    answer_says = [v for v in call.turns[2].root if v.tag == "Say"]
    assert answer_says[0].get("voice") == "Polly.Zhiyu" and answer_says[0].get("language") == "cmn-CN"
    row = db.get(IvrCallRow, call.call_sid)
    assert row.language == "zh" and row.intent == "returns" and row.outcome == "contained"


def test_mandarin_detected_from_first_utterance(simulate, db) -> None:
    call = simulate(["营业厅几点开门？", "没有了"])
    assert any("周一到周六" in text for text in call.heard)
    assert db.get(IvrCallRow, call.call_sid).language == "zh"


def test_returning_caller_is_greeted_in_their_language(simulate) -> None:
    simulate(["press 2", "没有了"], caller="+8613800000009")
    call = simulate([], caller="+8613800000009")
    first = gathers(call)[0]
    assert first.get("language") == "cmn-Hans-CN"
    assert call.turns[0].said[0][1] == "cmn-CN"


def test_medium_confidence_asks_to_confirm(simulate, db) -> None:
    unsure = CallerInput(speech="I forgot my password", confidence=0.3)  # the recogniser was unsure
    call = simulate(["press 1", unsure, "yes", "no"])
    assert "Did you mean password reset? Say yes or press 1. Otherwise, say no or press 2." in call.heard
    assert any("six-digit code" in text for text in call.heard)
    assert "confirmed" in events(db, call.call_sid)


def test_no_match_reprompts_twice_then_transfers(simulate, db) -> None:
    unsure = [CallerInput(speech=t, confidence=0.2) for t in ("the quantum flux capacitor", "banana symphony orchestra")]
    call = simulate(["press 1", MUMBLE, *unsure])
    assert call.outcome == "dial"
    menus = [g for g in gathers(call) if "step=menu" in g.get("action")]
    assert len(menus) == 2  # exactly two reprompts
    second_menu = [s.text for s in menus[1] if s.tag == "Say"]
    assert sum("press" in t for t in second_menu) >= 4  # keypad menu of the top topics + agent
    row = db.get(IvrCallRow, call.call_sid)
    assert row.transferred and row.transfer_reason == "no_match" and row.failures == 3
    assert events(db, call.call_sid).count("no_match") == 3


def test_menu_key_after_reprompt_answers(simulate, db) -> None:
    call = simulate(["press 1", MUMBLE, "silence", "press 3", "press 2"])
    row = db.get(IvrCallRow, call.call_sid)
    assert "menu_choice" in events(db, call.call_sid)
    assert row.intent == "password_reset" and not row.transferred


def test_agent_request_dials_with_context(simulate, client, db) -> None:
    call = simulate(["press 1", "where is my order", "I want to speak to an agent"])
    assert call.outcome == "dial"
    dial = call.transfer
    assert dial.get("action").startswith(PUBLIC + "/ivr/dial-status")
    assert dial.get("record") == "record-from-answer-dual"
    assert dial.get("recordingStatusCallback") == PUBLIC + "/ivr/recording-status"
    number = dial.find("Number")
    assert number.text == "+15550100"
    whisper_url = number.get("url")
    assert whisper_url.startswith(PUBLIC + "/ivr/whisper?CallSid=")

    row = db.get(IvrCallRow, call.call_sid)
    assert row.transfer_reason == "caller_request" and row.intent == "order_status"

    sim = CallSimulator(client, PUBLIC, TOKEN, call_sid=call.call_sid)
    whisper = ET.fromstring(sim.post(whisper_url, {"CallSid": "CAagentleg", "AccountSid": "AC" + "0" * 32}).text)
    summary = whisper.find("Say").text
    assert "English caller" in summary and "order status" in summary and "caller asked for an agent" in summary

    transfer = next(
        iter(
            db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == call.call_sid, IvrEventRow.kind == "transfer"))
        )
    )
    ctx = transfer.data["context"]
    assert ctx["utterances"] == ["where is my order", "I want to speak to an agent"]
    # the signed context link handed to agents
    from callscope.ivr.context import context_token

    token = context_token(TOKEN, call.call_sid)
    ok = client.get(f"/ivr/context/{call.call_sid}", params={"token": token})
    assert ok.status_code == 200
    body = ok.json()
    assert body["language"] == "en" and body["intent"] == "order_status" and body["reason"] == "caller_request"
    assert body["utterances"][-1] == "I want to speak to an agent"
    assert client.get(f"/ivr/context/{call.call_sid}", params={"token": "forged"}).status_code == 403
    assert client.get(f"/ivr/context/{call.call_sid}").status_code == 403
    assert client.get("/ivr/context/CAnope", params={"token": context_token(TOKEN, "CAnope")}).status_code == 404


def test_zero_and_ren_gong_transfer_at_any_step(simulate, db) -> None:
    assert simulate(["press 0"]).outcome == "dial"
    call = simulate(["press 2", "我要转人工"])
    assert call.outcome == "dial"
    assert db.get(IvrCallRow, call.call_sid).transfer_reason == "caller_request"
    in_action = simulate(["where is my order", "press 0"])
    assert in_action.outcome == "dial"


def test_frustrated_caller_gets_priority_and_agent_sees_why(ivr_settings, db) -> None:
    with make_client(ivr_settings, agent_dial="queue:support") as c:
        sim = CallSimulator(c, PUBLIC, TOKEN)
        call = sim.run(
            [CallerInput.parse("press 1"), MUMBLE, CallerInput.parse("this is ridiculous, nothing works")]
        )
    assert call.outcome == "enqueue"
    assert call.transfer.text == "support-priority"
    root = last_twiml(call)
    assert [v.tag for v in root] == ["Say", "Start", "Enqueue"]  # recording starts before the queue
    assert root.find("Start/Recording").get("channels") == "dual"
    row = db.get(IvrCallRow, call.call_sid)
    assert row.priority and row.frustrated and row.transfer_reason == "frustrated"
    assert "I'm sorry this has been frustrating" in " ".join(call.heard)
    from callscope.ivr.context import build_context

    ctx = build_context(row)
    assert ctx.failed_attempts == 1
    assert any("ridiculous" in r for r in ctx.frustration_reasons)
    assert "Priority." in ctx.summary() and "frustrated" in ctx.summary()


def test_injected_sentiment_escalates_negative_caller(ivr_settings, db) -> None:
    from callscope.ivr import deps

    with make_client(ivr_settings) as c:
        c.app.dependency_overrides[deps.get_sentiment_fn] = lambda: lambda text, lang: -0.95 if "still" in text else 0.3
        sim = CallSimulator(c, PUBLIC, TOKEN)
        call = sim.run(
            [CallerInput.parse("press 1"), MUMBLE, CallerInput.parse("I still have not got my thing from you people")]
        )
    row = db.get(IvrCallRow, call.call_sid)
    assert call.outcome == "dial" and row.transfer_reason == "frustrated" and row.priority


def test_sip_transfer_carries_context_headers(ivr_settings) -> None:
    with make_client(ivr_settings, agent_dial="sip:agents@pbx.example.com") as c:
        call = CallSimulator(c, PUBLIC, TOKEN).run(
            [CallerInput.parse(s) for s in ["press 1", "where is my order", "agent"]]
        )
    sip = call.transfer.find("Sip").text
    assert sip.startswith("sip:agents@pbx.example.com?X-CallSid=" + call.call_sid)
    query = parse_qs(urlsplit(sip).query)
    assert query["X-Intent"] == ["order_status"] and query["X-Language"] == ["en"]
    assert query["X-Reason"] == ["caller_request"] and query["X-Priority"] == ["0"]
    assert query["X-Context"][0].startswith(PUBLIC + f"/ivr/context/{call.call_sid}?token=")


def test_order_status_spoken_and_keyed(simulate, db) -> None:
    spoken = simulate(["press 1", "where is my order", "B W seven seven one oh four five", "no"])
    assert any("waiting for new stock" in t for t in spoken.heard)
    action_gather = next(g for g in gathers(spoken) if "step=action" in g.get("action"))
    assert action_gather.get("numDigits") == "6" and action_gather.get("finishOnKey") == "#"
    keyed = simulate(["press 1", "I want to track my order", "press 612904", "no"])
    assert any("out for delivery today" in t for t in keyed.heard)
    in_one_go = simulate(["press 2", "查一下我的订单，订单号是五五八二零七", "没有了"])
    assert any("延误" in t for t in in_one_go.heard)
    row = db.get(IvrCallRow, keyed.call_sid)
    assert row.outcome == "contained" and row.data["details"]["order_id"] == "BW612904"


def test_unknown_order_number_retries_then_transfers(simulate, db) -> None:
    call = simulate(["press 1", "where is my order", "press 999999", "press 999998"])
    assert any("couldn't find order B W 9 9 9 9 9 9" in t for t in call.heard)
    assert call.outcome == "dial"
    row = db.get(IvrCallRow, call.call_sid)
    assert row.transfer_reason == "action_failed"
    assert row.intent == "order_status"


def test_non_self_service_entry_explains_then_transfers(simulate, db) -> None:
    call = simulate(["press 1", "I was charged twice for the same thing"])
    assert call.outcome == "dial"
    assert any("billing specialist" in t for t in call.heard)
    assert db.get(IvrCallRow, call.call_sid).transfer_reason == "needs_agent"


def test_opt_out_of_recording(simulate, db) -> None:
    call = simulate(["press 9", "press 1", "agent"])
    assert "OK, this call will not be recorded." in call.heard
    assert call.transfer.get("record") is None
    assert db.get(IvrCallRow, call.call_sid).record_opt_out


def test_whole_call_recording_starts_and_stops_on_opt_out(ivr_settings) -> None:
    from callscope.ivr import deps

    with make_client(ivr_settings) as c:
        opts = deps.ivr_options_for(ivr_settings)
        c.app.dependency_overrides[deps.get_ivr_options] = lambda: dataclasses.replace(opts, record_from="start")
        call = CallSimulator(c, PUBLIC, TOKEN).run([CallerInput.parse("press 9"), CallerInput.parse("press 1")])
    start = call.turns[0].root.find("Start/Recording")
    assert start.get("channels") == "dual" and start.get("track") == "both" and start.get("name") == "callscope"
    assert start.get("recordingStatusCallback") == PUBLIC + "/ivr/recording-status"
    stop = call.turns[1].root.find("Stop/Recording")
    assert stop is not None and stop.get("name") == "callscope"


def test_silence_then_transfer_and_dial_results(simulate, client, db) -> None:
    call = simulate(["silence", "silence", "silence"])
    assert call.outcome == "dial"
    assert db.get(IvrCallRow, call.call_sid).transfer_reason == "no_input"
    sim = CallSimulator(client, PUBLIC, TOKEN, call_sid=call.call_sid)
    busy = ET.fromstring(
        sim.post(PUBLIC + "/ivr/dial-status?lang=en", {**sim.base_params(), "DialCallStatus": "no-answer"}).text
    )
    assert [v.tag for v in busy] == ["Say", "Hangup"] and "none of our team" in busy.find("Say").text
    answered = simulate(["agent", "4", "9#"], agent_answers=True)
    row = db.get(IvrCallRow, answered.call_sid)
    assert (row.csat, row.nps) == (4, 9)  # survey after the agent conversation


def test_kb_hot_reload_in_a_running_ivr(simulate, kb_file, db) -> None:
    question = "my internet is down, is there an outage?"
    before = simulate(["press 1", question, "no", "press 0"])
    assert not any("status page" in t for t in before.heard)
    data = yaml.safe_load(kb_file.read_text())
    data["entries"].append(
        {
            "id": "service_outage",
            "questions": {
                "en": ["Is there an outage?", "My internet is down"],
                "zh": ["宽带断网了怎么办？", "是不是有网络故障？"],
            },
            "answers": {
                "en": "Known outages show on the status page in the app, with the expected fix time.",
                "zh": "已知故障会显示在应用的状态页面，并附预计修复时间。",
            },
            "tags": ["outage", "network"],
        }
    )
    kb_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    st = kb_file.stat()
    os.utime(kb_file, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    from callscope.ivr import deps

    for source in deps._kb_sources.values():
        source._checked_at = 0.0  # skip the 1 s check interval
    after = simulate(["press 1", question, "no"])
    assert any("status page" in t for t in after.heard)
    assert db.get(IvrCallRow, after.call_sid).outcome == "contained"


def test_state_survives_a_server_restart(ivr_settings, db) -> None:
    from callscope.ivr import deps

    with make_client(ivr_settings) as c:
        sim = CallSimulator(c, PUBLIC, TOKEN)
        root = ET.fromstring(sim.post(PUBLIC + "/ivr/voice", sim.base_params()).text)
        action = root.find("Gather").get("action")
        r = ET.fromstring(sim.post(action, {**sim.base_params(), "Digits": "2"}).text)
        action = r.find("Gather").get("action")
    deps.reset_caches()  # a new process: nothing cached
    with make_client(ivr_settings) as c2:
        sim2 = CallSimulator(c2, PUBLIC, TOKEN, call_sid=sim.call_sid)
        r2 = ET.fromstring(
            sim2.post(action, {**sim2.base_params(), "SpeechResult": "我想退货", "Confidence": "0.9"}).text
        )
    assert r2.find("Say").get("language") == "cmn-CN" and "三十天" in r2.find("Say").text
    db.expire_all()
    assert db.get(IvrCallRow, sim.call_sid).language == "zh"


def test_empty_knowledge_base_still_serves_callers(ivr_settings, kb_file) -> None:
    kb_file.write_text("entries: []\n")
    with make_client(ivr_settings) as c:
        call = CallSimulator(c, PUBLIC, TOKEN).run(
            [CallerInput.parse(s) for s in ["press 1", "where is my order", "silence", "silence"]]
        )
    assert call.outcome == "dial"
    assert not any("You can ask about ." in t for t in call.heard)
    assert "To speak to an agent, press 0." in call.heard


def test_simulate_against_a_running_server(ivr_settings, monkeypatch) -> None:
    import socket
    import threading
    import time

    import uvicorn
    from typer.testing import CliRunner

    from callscope.api.app import ApiOptions, create_app

    from .test_commands import cli

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(ivr_settings, options=ApiOptions(include_api=False))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.time() + 20
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        monkeypatch.setattr("callscope.ivr.deps._sentiment", lambda: None)
        result = CliRunner().invoke(
            cli(),
            [
                "ivr",
                "simulate",
                "--url",
                f"http://127.0.0.1:{port}",
                "--say",
                "press 1",
                "--say",
                "how do I reset my password",
                "--say",
                "no",
            ],
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert result.exit_code == 0, result.output
    assert "forgot password link" in result.output


def test_low_asr_confidence_is_confirmed_first(client, db) -> None:
    sim = CallSimulator(client, PUBLIC, TOKEN)
    root = ET.fromstring(sim.post(PUBLIC + "/ivr/voice", sim.base_params()).text)
    action = root.find("Gather").get("action")
    unsure = ET.fromstring(
        sim.post(
            action, {**sim.base_params(), "SpeechResult": "I can't remember my password", "Confidence": "0.21"}
        ).text
    )
    assert "step=confirm" in unsure.find("Gather").get("action")
    assert unsure.find("Gather/Say").text.startswith("Did you mean password reset?")


def test_english_only_faq_is_read_in_an_english_voice_to_a_mandarin_caller(ivr_settings, kb_file) -> None:
    data = yaml.safe_load(kb_file.read_text())
    data["entries"].append(
        {
            "id": "service_outage",
            "questions": {"en": ["Is there an outage?", "My internet is down"], "zh": ["宽带断网了怎么办？"]},
            "answers": {"en": "Known outages show on the status page in the app."},
        }
    )
    kb_file.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(Exception, match="no answer for language zh"):
        from callscope.ivr.kb import load_knowledge_base

        load_knowledge_base(kb_file)  # questions in zh need a zh answer ...
    data["entries"][-1]["questions"] = {"en": ["Is there an outage?", "My internet is down"]}
    kb_file.write_text(yaml.safe_dump(data, allow_unicode=True))  # ... an English-only entry is fine
    with make_client(ivr_settings) as c:
        call = CallSimulator(c, PUBLIC, TOKEN).run(
            # the cross-lingual match is confirmed ("Did you mean ...?") or offered first among the
            # closest topics; key 1 takes it either way
            [CallerInput.parse(s) for s in ["press 2", "网络中断了吗", "press 1", "没有了"]]
        )
    said = [(t, lang) for turn in call.turns for t, lang in turn.said]
    assert ("Known outages show on the status page in the app.", "en-US") in said


def test_survey_can_be_turned_off_and_missing_agent_number_never_dials_nothing(ivr_settings) -> None:
    from callscope.ivr import deps

    with make_client(ivr_settings, agent_dial="") as c:
        opts = deps.ivr_options_for(ivr_settings.model_copy(update={"agent_dial": ""}))

        async def no_survey():
            return dataclasses.replace(opts, survey=False)

        c.app.dependency_overrides[deps.get_ivr_options] = no_survey
        done = CallSimulator(c, PUBLIC, TOKEN).run(
            [CallerInput.parse(s) for s in ["press 1", "store hours", "no thanks"]]
        )
        assert done.outcome == "hangup" and not any("how satisfied" in t for t in done.heard)
        agent = CallSimulator(c, PUBLIC, TOKEN).run([CallerInput.parse("press 0")])
    assert agent.outcome == "hangup" and agent.transfer is None
    assert any("none of our team could take your call" in t for t in agent.heard)
