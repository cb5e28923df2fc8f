"""``/api/insights/selfservice``: deflection per channel for the dashboard, PII redacted for read-only users."""

from __future__ import annotations

import pytest

from callscope.db import transaction
from callscope.selfservice import conversations as store


def _seed(ctx) -> None:
    with transaction(ctx.sessions) as session:
        answered = store.new_conversation(session, "sms", "+15005550040", language="en")
        store.add_message(session, answered, "in", "question", "What are your opening hours?", entry_id="opening_hours")
        answered.answered, answered.status = True, "answered"
        missed = store.new_conversation(session, "web", language="en")
        store.add_message(session, missed, "in", "unanswered", "Outage at 4111 1111 1111 1111 card? call me on 07700 900123")
        missed.status = "unanswered"
        contacted = store.new_conversation(session, "web", language="en")
        store.add_message(session, contacted, "in", "question", "How do I return an item?", entry_id="returns")
        contacted.answered, contacted.handover, contacted.status = True, True, "handover"


def test_deflection_per_channel_for_the_dashboard(api) -> None:
    _seed(api.ctx)
    data = api.get("/api/insights/selfservice?days=7").json()
    assert list(data["channels"]) == ["voice", "sms", "whatsapp", "web"]
    assert data["channels"]["sms"]["contacts"] == 1 and data["channels"]["sms"]["rate"] == 1.0
    web = data["channels"]["web"]
    assert (web["contacts"], web["deflected"], web["handovers"]) == (2, 1, 1)
    assert data["channels"]["voice"]["contacts"] == 0
    [question] = data["unanswered_questions"]
    assert question["channel"] == "web" and "07700 900123" in question["text"]


def test_read_only_users_see_redacted_questions(api) -> None:
    _seed(api.ctx)
    [question] = api.get("/api/insights/selfservice", role="read-only").json()["unanswered_questions"]
    assert "07700 900123" not in question["text"] and "Outage" in question["text"]


def test_needs_a_login(api) -> None:
    assert api.client.get("/api/insights/selfservice").status_code == 401


@pytest.mark.slow
def test_gaps_across_channels_for_the_dashboard(api) -> None:
    questions = [("sms", "Is there an internet outage in my area right now?"),
                 ("whatsapp", "my broadband has been down all morning, is there a network outage?"),
                 ("web", "internet outage near me"),
                 ("sms", "我家的宽带断网了，是不是网络故障？")]
    with transaction(api.ctx.sessions) as session:
        for channel, text in questions:
            conv = store.new_conversation(session, channel, language="zh" if "宽带" in text else "en")
            store.add_message(session, conv, "in", "unanswered", text)
            conv.status = "unanswered"
    data = api.post("/api/insights/selfservice/gaps?days=7").json()
    assert data["questions"] == 4
    assert data["uncovered"], data
    top = data["uncovered"][0]
    assert sum(top["channels"].values()) == top["count"] >= 2
    assert any("outage" in e or "断网" in e for e in top["examples"])
    assert api.client.post("/api/insights/selfservice/gaps").status_code == 401
