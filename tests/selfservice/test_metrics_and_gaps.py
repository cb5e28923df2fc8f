"""One conversation store across channels: deflection per channel side by side, the
cross-channel FAQ gap analysis, imported texts, and the ``callscope selfservice`` CLI."""

from __future__ import annotations

import json
import unicodedata

import pytest
from typer.testing import CliRunner

from callscope.ivr.simulator import CallerInput, CallSimulator
from callscope.selfservice.conversations import questions
from callscope.selfservice.metrics import compute_deflection

from .conftest import PUBLIC, TOKEN

OUTAGE_SMS = [
    ("+15005550021", "Is there an internet outage in my area right now?"),
    ("+15005550022", "my broadband has been down since this morning, is there a network outage?"),
    ("+8613800000023", "我家的宽带断网了，是不是网络故障？"),
]
OUTAGE_WEB = ["internet outage in my area", "is the broadband network down"]


def _call(client, script: list[str], caller: str) -> None:
    CallSimulator(client, PUBLIC, TOKEN, caller=caller).run([CallerInput.parse(s) for s in script])


@pytest.fixture
def traffic(client, texter):
    """Contacts on every channel: 2 IVR calls (1 contained), 5 SMS/WhatsApp conversations,
    4 help-center searches (1 followed by "contact an agent")."""
    _call(client, ["press 1", "what time do you open on Sunday", "no thanks", "5", "10#"], "+15005550031")
    _call(client, ["press 1", "agent"], "+15005550032")
    for sender, text in OUTAGE_SMS:
        assert texter(sender).send(text).startswith(("Sorry", "抱歉", "Did you mean", "您是想问"))  # no outage entry
    texter("+15005550024").send("How long does delivery take?")
    texter("whatsapp:+15005550025").send("What payment methods do you accept?")
    texter("+15005550026").send("hi")  # a greeting only: not a contact
    for q in OUTAGE_WEB:
        client.get("/help", params={"q": q})
    client.get("/help", params={"q": "What are your opening hours?"})
    html = client.get("/help", params={"q": "How do I reset my password?"}).text
    conv = html.split("/help/contact?lang=en&amp;c=", 1)[1].split('"', 1)[0]
    client.get(f"/help/contact?lang=en&c={conv}")
    client.post("/help/password_reset/feedback", data={"helpful": "no", "c": conv})


def test_deflection_per_channel_side_by_side(traffic, db) -> None:
    report = compute_deflection(db)
    ch = report.channels
    assert list(ch) == ["voice", "sms", "whatsapp", "web"]
    assert (ch["voice"].contacts, ch["voice"].deflected, ch["voice"].handovers) == (2, 1, 1)
    assert (ch["sms"].contacts, ch["sms"].deflected, ch["sms"].unanswered) == (4, 1, 3)
    assert (ch["whatsapp"].contacts, ch["whatsapp"].deflected) == (1, 1)
    assert (ch["web"].contacts, ch["web"].deflected, ch["web"].handovers) == (4, 3, 1)
    assert ch["web"].rate == 0.75 and ch["sms"].rate == 0.25
    assert report.overall_rate == round(6 / 11, 4)
    assert report.feedback == {"helpful": 0, "not_helpful": 1}
    assert report.feedback_by_entry == {"password_reset": {"helpful": 0, "not_helpful": 1}}
    texts = {(q["channel"], q["text"]) for q in report.unanswered_questions}
    assert {("sms", unicodedata.normalize("NFKC", t)) for _, t in OUTAGE_SMS} <= texts  # stored as cleaned
    assert {("web", t) for t in OUTAGE_WEB} <= texts


def test_questions_from_every_channel_share_one_store(traffic, db) -> None:
    asked = questions(db)
    by_channel = {q.channel for q in asked}
    assert {"voice", "sms", "whatsapp", "web"} <= by_channel
    voice = [q for q in asked if q.channel == "voice"]
    assert any(q.answered and q.entry_id == "opening_hours" for q in voice)


@pytest.mark.slow
def test_cross_channel_gaps_find_the_outage_question_asked_by_text_and_on_the_web(traffic, db, kb_file) -> None:
    from callscope.ivr.kb import load_knowledge_base
    from callscope.selfservice.gaps import cross_channel_gaps

    result = cross_channel_gaps(db, load_knowledge_base(kb_file).entries)
    gaps = result.to_dict()
    # every channel's unanswered questions were mined (answered ones were not)
    mined = {m.split(":", 1)[0] for issue in result.issues for m in issue.issue.members}
    assert {"sms", "web"} <= mined
    answered_texts = {"How long does delivery take?", "What are your opening hours?"}
    assert not any(set(i.issue.examples) & answered_texts for i in result.issues)
    # the outage questions texted in English and Mandarin are a gap of the knowledge base
    outage = [g for g in gaps["uncovered"] if any("outage" in e or "断网" in e for e in g["examples"])]
    assert outage, gaps["uncovered"]
    assert outage[0]["channels"].get("sms", 0) >= 2 and outage[0]["count"] >= 2
    assert gaps["questions"] == 5  # the 3 SMS and 2 web questions nothing answered


def test_imported_texts_join_the_store(ss_settings, tmp_path, db) -> None:
    from callscope.cli import app

    path = tmp_path / "chats.csv"
    path.write_text("text,channel\nIs there an outage in Leeds?,chat\n,chat\nMy invoice is wrong,email\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["selfservice", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "stored 2 conversation(s)" in result.output
    db.expire_all()
    imported = [(q.channel, q.text, q.answered) for q in questions(db)]
    assert imported == [("chat", "Is there an outage in Leeds?", None), ("email", "My invoice is wrong", None)]
    bad = CliRunner().invoke(app, ["selfservice", "import", str(path), "--channel", "fax"])
    assert bad.exit_code != 0


def test_cli_metrics_and_queue(traffic, ss_settings, texter) -> None:
    from callscope.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["selfservice", "metrics"])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split()[:6] == ["channel", "contacts", "deflected", "rate", "handovers", "unanswered"]
    assert lines[4].split()[:4] == ["web", "4", "3", "75.0%"]
    data = json.loads(runner.invoke(app, ["selfservice", "metrics", "--json"]).output)
    assert data["channels"]["sms"]["contacts"] == 4
    assert "help-center entries voted not helpful: password_reset (1 of 1)" in out.output
    assert json.loads(runner.invoke(app, ["selfservice", "queue", "--json"]).output) == []  # web contacts are not queued
    texter("whatsapp:+8613800000027").send("人工客服")
    queue = json.loads(runner.invoke(app, ["selfservice", "queue", "--json"]).output)
    assert [(q["conversation"]["channel"], q["conversation"]["reason"]) for q in queue] == [("whatsapp", "requested")]
    text = runner.invoke(app, ["selfservice", "queue"]).output
    assert "whatsapp:+8613800000027" in text and "> 人工客服" in text


def test_did_you_mean_picked_counts_as_answered_left_alone_as_not(db) -> None:
    from callscope.db import utcnow
    from callscope.selfservice import conversations as store

    picked = store.new_conversation(db, "sms", "+15005550050", language="en")
    store.add_message(db, picked, "in", "unclear", "hours?", entry_id="opening_hours", score=0.5)
    store.add_message(db, picked, "in", "choice", "1", entry_id="opening_hours")
    left = store.new_conversation(db, "whatsapp", "whatsapp:+15005550051", language="en")
    store.add_message(db, left, "in", "unclear", "broadband hours", entry_id="opening_hours", score=0.45)
    missed = store.new_conversation(db, "sms", "+15005550052", language="en")
    store.add_message(db, missed, "in", "unanswered", "is there an outage?")
    store.add_message(db, missed, "in", "choice", "2", entry_id="delivery")  # a new topic, not an answer
    db.flush()
    asked = {(q.channel, q.text): (q.answered, q.entry_id) for q in questions(db, include_voice=False)}
    assert asked == {
        ("sms", "hours?"): (True, "opening_hours"),
        ("whatsapp", "broadband hours"): (False, None),
        ("sms", "is there an outage?"): (False, None),
    }
    assert [q.text for q in questions(db, unanswered_only=True, since=utcnow().replace(year=2000))] == [
        "broadband hours", "is there an outage?"]


@pytest.mark.slow
def test_faq_gaps_command_sees_questions_asked_by_text(traffic, ss_settings, kb_file) -> None:
    """``callscope faq gaps CALLS --conversations``: the texted outage questions join the calls."""
    from pathlib import Path

    from callscope.cli import app

    calls = Path(__file__).parent.parent / "data" / "analysis" / "calls"
    out = CliRunner().invoke(app, ["faq", "gaps", str(calls / "s_en_01.analysis.json"), "--kb", str(kb_file),
                                   "--conversations"])
    assert out.exit_code == 0, out.output
    report = json.loads(out.output)
    examples = [e for g in report["uncovered"] for e in g["examples"]]
    assert any("outage" in e for e in examples), report["uncovered"]
