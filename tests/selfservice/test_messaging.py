"""SMS/WhatsApp through the Twilio Messaging webhook: signatures, bilingual answers from the
IVR's knowledge base, "did you mean" digits, handover, STOP/HELP, the conversation store."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from pydantic import SecretStr
from sqlalchemy import func, select
from starlette.testclient import TestClient
from twilio.request_validator import RequestValidator

from callscope.selfservice.conversations import questions
from callscope.selfservice.messaging import keyword_of
from callscope.selfservice.tables import ConversationMessageRow, ConversationRow, MessagingOptOutRow
from tests.twilio_webhooks import signed

from .conftest import PUBLIC, SMS_URL, TOKEN, make_app

PARAMS = {
    "MessageSid": "SM" + "1" * 32,
    "AccountSid": "AC" + "0" * 32,
    "From": "+15005550006",
    "To": "+15005550100",
    "Body": "What are your opening hours?",
}


def counts(db) -> tuple[int, int]:
    db.expire_all()
    return (
        db.scalar(select(func.count()).select_from(ConversationRow)),
        db.scalar(select(func.count()).select_from(ConversationMessageRow)),
    )


def conversation(db, sender: str = "+15005550006") -> ConversationRow:
    db.expire_all()
    return db.scalars(select(ConversationRow).where(ConversationRow.contact == sender)).one()


def kinds(db, conv_id: str) -> list[tuple[str, str]]:
    rows = db.scalars(
        select(ConversationMessageRow)
        .where(ConversationMessageRow.conversation_id == conv_id)
        .order_by(ConversationMessageRow.id)
    )
    return [(m.direction, m.kind) for m in rows]


# ------------------------------------------------------------------ signatures


def test_forged_missing_or_replayed_elsewhere_signatures_get_403_and_store_nothing(client, db) -> None:
    forged = [
        {},  # no signature
        signed(SMS_URL, PARAMS, "not-the-token"),
        signed(PUBLIC + "/ivr/voice", PARAMS, TOKEN),  # signed for another URL
        signed(SMS_URL, {**PARAMS, "Body": "hi"}, TOKEN),  # body changed after signing
    ]
    for headers in forged:
        resp = client.post("/messaging/incoming", data=PARAMS, headers=headers)
        assert resp.status_code == 403, headers
        assert "Message" not in resp.text
    assert counts(db) == (0, 0)


def test_a_signed_text_is_answered_and_stored(client, db) -> None:
    resp = client.post("/messaging/incoming", data=PARAMS, headers=signed(SMS_URL, PARAMS, TOKEN))
    assert resp.status_code == 200
    assert "<Message>" in resp.text and "9 a.m. to 8 p.m." in resp.text
    conv = conversation(db)
    assert (conv.channel, conv.language, conv.answered, conv.handover, conv.intent) == (
        "sms", "en", True, False, "opening_hours")
    assert kinds(db, conv.id) == [("in", "question"), ("out", "answer")]


def test_webhook_rule_sha256_signatures_are_checked_like_the_voice_webhooks(ss_settings, db) -> None:
    secret = "shared-key-secret-9f8e7d6c5b4a"
    settings = ss_settings.model_copy(update={"twilio_webhook_secret": SecretStr(secret)})
    rule = {"X-Twilio-Webhooks-Signature-Settings": "key=k1,algorithm=HMAC_SHA256"}
    good = RequestValidator(secret).compute_signature(SMS_URL, PARAMS, algorithm="HMAC_SHA256")
    bad = RequestValidator(TOKEN).compute_signature(SMS_URL, PARAMS, algorithm="HMAC_SHA256")
    with TestClient(make_app(settings), base_url=PUBLIC) as c:
        assert c.post("/messaging/incoming", data=PARAMS, headers={"X-Twilio-Signature": bad, **rule}).status_code == 403
        assert counts(db) == (0, 0)
        ok = c.post("/messaging/incoming", data=PARAMS, headers={"X-Twilio-Signature": good, **rule})
        assert ok.status_code == 200 and "9 a.m." in ok.text


def test_a_retried_message_gets_the_same_reply_and_is_stored_once(client, db) -> None:
    headers = signed(SMS_URL, PARAMS, TOKEN)
    first = client.post("/messaging/incoming", data=PARAMS, headers=headers).text
    again = client.post("/messaging/incoming", data=PARAMS, headers=headers).text
    assert first == again and "9 a.m." in first
    assert counts(db) == (1, 2)


# ------------------------------------------------------------------ answers


def test_english_and_mandarin_texts_are_answered_in_the_senders_language(texter, db) -> None:
    en = texter("+15005550001").send("how do I reset my password")
    zh = texter("+8613800000002").send("我忘记密码了，怎么办？")
    assert "forgot password link" in en
    assert "忘记密码" in zh and "验证码" in zh
    assert conversation(db, "+15005550001").language == "en"
    assert conversation(db, "+8613800000002").language == "zh"


def test_whatsapp_is_its_own_channel(texter, db) -> None:
    reply = texter("whatsapp:+8613800000003").send("周日几点开门？")
    assert "周日上午十点到下午五点" in reply
    conv = conversation(db, "whatsapp:+8613800000003")
    assert conv.channel == "whatsapp" and conv.answered


OUTAGE_EN = "Is there a broadband outage in my area? My internet is down"
OUTAGE_ZH = "我家宽带断网了，是不是有故障？"


def _options(reply: str) -> list[str]:
    return [line.split(". ", 1)[1] for line in reply.splitlines() if line[:1].isdigit() and line[1:3] == ". "]


def _entry_by_label(kb_file, label: str, lang: str):
    from callscope.ivr.kb import load_knowledge_base
    from callscope.selfservice.messages import capitalised

    kb = load_knowledge_base(kb_file)
    return next(e for e in kb.entries if capitalised(kb.label(e, lang)) == label)


def test_an_unanswerable_question_offers_numbered_topics_and_a_digit_answers(texter, db, kb_file) -> None:
    t = texter()
    reply = t.send(OUTAGE_EN)
    # nothing about outages in the KB: the nearest topics (or, should the matcher be half sure, "did you mean")
    if reply.startswith("Did you mean:"):
        assert reply.endswith("Reply with a number, or AGENT to reach a person.")
    else:
        assert reply.startswith("Sorry, I don't have an answer to that yet. You can ask about:\n1. ")
        assert reply.endswith("Reply with a number, or AGENT and one of our team will text you back.")
    options = _options(reply)
    assert 2 <= len(options) <= 3
    conv = conversation(db)
    assert conv.status == "unanswered" and not conv.answered
    missed = questions(db, unanswered_only=True, include_voice=False)
    assert [q.text for q in missed] == [OUTAGE_EN]

    assert t.send("9") == f"Please reply with a number from 1 to {len(options)}, or AGENT to reach a person."
    entry = _entry_by_label(kb_file, options[1], "en")
    answer = t.send("2")
    conv = conversation(db)
    if entry.action:
        assert "order number" in answer
    else:
        assert answer.startswith(entry.answers["en"][:40])
        assert conv.answered and conv.intent == entry.id
    assert [k for d, k in kinds(db, conv.id) if d == "in"][1:] == ["choice", "choice"]
    assert t.send("7").startswith("Hi, this is Brightwave.")  # no list pending now: a greeting


def test_mandarin_options_and_answers_are_in_mandarin(texter, kb_file) -> None:
    t = texter("+8613800000004")
    reply = t.send(OUTAGE_ZH)
    assert reply.startswith(("抱歉，这个问题暂时还没有答案。您可以咨询：\n1. ", "您是想问：\n1. "))
    options = _options(reply)
    entry = _entry_by_label(kb_file, options[0], "zh")
    answer = t.send("1")
    assert answer.startswith(entry.answers["zh"][:10]) or "订单号" in answer


def test_medium_confidence_asks_did_you_mean_with_numbered_options(ss_settings, encoder) -> None:
    """With a matcher that is never sure (public MatcherOptions), every question is confirmed."""
    from callscope.db import transaction
    from callscope.context import Context
    from callscope.ivr.deps import actions_for, kb_source_for
    from callscope.ivr.matcher import IntentMatcher, MatcherOptions
    from callscope.selfservice.messaging import InboundText, MessagingService

    actions = actions_for(ss_settings)
    matcher = IntentMatcher(kb_source_for(ss_settings, actions), encoder, MatcherOptions(high=float("inf"), medium=0.3))
    service = MessagingService(matcher, actions)
    factory = Context(ss_settings).sessions

    def send(body: str, sender: str = "+15005550009") -> str | None:
        with transaction(factory) as session:
            return service.handle(session, InboundText(sender=sender, body=body)).text

    reply = send("When do you open on Sunday?")
    assert reply.startswith("Did you mean:\n1. Opening hours\n")
    assert reply.endswith("Reply with a number, or AGENT to reach a person.")
    assert "Sunday from 10 a.m." in send("1")
    assert send("When do you open on Sunday?").startswith("Did you mean:")
    assert send("no").startswith("Sorry, I don't have an answer to that yet. Reply AGENT")
    zh = send("周日几点开门？", "+8613800000010")
    assert zh.startswith("您是想问：\n1. 营业时间\n") and zh.endswith("请回复编号，或回复“人工”转人工客服。")
    assert "周日上午十点到下午五点" in send("1", "+8613800000010")


def test_order_status_by_text(texter, db) -> None:
    from callscope.ivr.actions import DEMO_ORDERS

    order = json.loads(DEMO_ORDERS.read_text())[0]
    t = texter()
    ask = t.send("Where is my order?")
    assert "order number" in ask and "BW" in ask
    answer = t.send(order["order_id"])
    assert answer and "couldn't find" not in answer
    assert conversation(db).answered


# ------------------------------------------------------------------ handover


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_agent_request_hands_over_stores_the_conversation_and_calls_the_webhook(ss_settings, db) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Hook.received.clear()
    settings = ss_settings.model_copy(update={"handover_webhook": f"http://127.0.0.1:{server.server_port}/queue"})
    try:
        from .conftest import Texter

        with TestClient(make_app(settings), base_url=PUBLIC) as c:
            t = Texter(c, "+8613800000005")
            t.send("我的宽带断了")
            reply = t.send("转人工")
            assert reply.startswith("好的，已为您转接人工客服") and "+1 555 0100" in reply
            assert t.send("请快点") is None  # an agent owns the conversation now: passed on silently
    finally:
        server.shutdown()
    conv = conversation(db, "+8613800000005")
    assert conv.handover and conv.status == "handover" and conv.data["handover"]["reason"] == "requested"
    assert conv.data["notify"]["webhook"] == "sent"
    steps = [k for _, k in kinds(db, conv.id)]
    assert steps[:2] in (["unanswered", "no_match"], ["unclear", "did_you_mean"])  # no outage entry in the KB
    assert steps[2:] == ["agent", "handover", "to_agent"]
    assert len(_Hook.received) == 1
    payload = _Hook.received[0]
    assert payload["conversation"]["contact"] == "+8613800000005"
    assert [m["text"] for m in payload["messages"] if m["direction"] == "in"] == ["我的宽带断了", "转人工"]


def test_english_agent_request_and_needs_agent_entries(texter, db) -> None:
    assert texter("+15005550007").send("agent please").startswith("Thanks, I've passed this conversation to our team.")
    reply = texter("+15005550008").send("I was charged twice on my bill and want to dispute it")
    assert "an agent will text you back" in reply
    assert conversation(db, "+15005550008").handover


# ------------------------------------------------------------------ carrier keywords


def test_keywords() -> None:
    assert keyword_of("STOP") == keyword_of(" stop ") == keyword_of("Unsubscribe") == keyword_of("退订") == "stop"
    assert keyword_of("START") == keyword_of("unstop") == "start"
    assert keyword_of("HELP") == keyword_of("help!") == keyword_of("帮助") == "help"
    assert keyword_of("stop sending me the wrong parcel") is None
    assert keyword_of("I need help with my order") is None


def test_stop_opts_out_and_nothing_is_sent_until_start(texter, db) -> None:
    t = texter()
    assert t.send("opening hours?")
    assert t.send("STOP") == "You're unsubscribed from Brightwave messages and won't get any more. Reply START to resubscribe."
    assert db.get(MessagingOptOutRow, "+15005550006") is not None
    before = counts(db)
    assert t.send("What are your opening hours?") is None
    assert t.send("HELP") is None
    assert counts(db) == before  # nothing stored from an opted-out number either
    assert "resubscribed" in t.send("START")
    assert "9 a.m." in t.send("What are your opening hours?")


def test_help_names_the_company_the_agent_keyword_and_stop(texter) -> None:
    reply = texter().send("HELP")
    assert "Brightwave" in reply and "AGENT" in reply and "STOP" in reply and "+1 555 0100" in reply
    zh = texter("+8613800000006").send("帮助")
    assert "Brightwave" in zh and "退订" in zh


def test_keywords_twilio_already_answered_are_recorded_silently(texter, db) -> None:
    t = texter()
    assert t.send("STOP", OptOutType="STOP") is None
    assert db.get(MessagingOptOutRow, "+15005550006") is not None
    assert t.send("START", OptOutType="START") is None
    db.expire_all()
    assert db.get(MessagingOptOutRow, "+15005550006") is None
    assert t.send("HELP", OptOutType="HELP") is None


def test_greetings_and_thanks(texter, db) -> None:
    t = texter()
    assert t.send("hi").startswith("Hi, this is Brightwave.")
    t.send("When do you open on Sunday?")
    assert t.send("thanks, bye") == "You're welcome! Text us any time."
    assert conversation(db).status == "closed"


def test_an_internal_failure_apologises_and_stores_nothing_half_done(ss_settings, db) -> None:
    from callscope.ivr import deps

    class Broken:
        def knowledge_base(self):
            raise RuntimeError("encoder exploded")

        def match(self, *args, **kwargs):
            raise RuntimeError("encoder exploded")

    async def broken_matcher():
        return Broken()

    app = make_app(ss_settings)
    app.dependency_overrides[deps.get_matcher] = broken_matcher
    with TestClient(app, base_url=PUBLIC) as c:
        from .conftest import Texter

        assert Texter(c, "+15005550070").send("What are your opening hours?") == (
            "Sorry, something went wrong on our side. Please try again, or reply AGENT to reach a person.")
        assert Texter(c, "+8613800000071").send("你们几点开门？").startswith("抱歉，系统出了点问题")
    assert counts(db) == (0, 0)  # the failed turn was rolled back
