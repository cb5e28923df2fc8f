"""``/api/insights/selfservice``: deflection per channel for the dashboard, PII redacted for read-only users."""

from __future__ import annotations

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
