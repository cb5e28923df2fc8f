"""Insights: issues with trends and example calls, mined issues, IVR metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from callscope.analysis.issues import MinedIssue
from callscope.db import transaction, utcnow
from callscope.domain import Issue
from callscope.insights.mining import issue_report, save_mined_issues
from callscope.recordings.tables import RecordingRow


def _age(api, rid: str, days: float) -> None:
    with transaction(api.ctx.sessions) as session:
        session.get(RecordingRow, rid).created_at = utcnow() - timedelta(days=days)


def test_issues_with_counts_trends_and_example_calls(api) -> None:
    en1 = api.store_call("s_en_01", issue_id="opening_hours")
    zh1 = api.store_call("s_zh_01", issue_id="opening_hours")
    en3 = api.store_call("s_en_03", issue_id="password_reset")
    _age(api, zh1, 3)
    _age(api, en3, 45)  # outside a 30-day window

    report = api.get("/api/insights/issues", "read-only", params={"days": 30, "mine": "false"}).json()
    assert report["calls"] == 2 and report["bucket_days"] == 1
    assert [i["id"] for i in report["issues"]] == ["opening_hours"]
    hours = report["issues"][0]
    assert hours["count"] == 2 and hours["share"] == 1.0
    assert len(hours["trend"]) == 30 and sum(p["count"] for p in hours["trend"]) == 2
    assert hours["trend"][-1]["count"] == 1 and hours["trend"][-4]["count"] == 1
    assert [c["id"] for c in hours["calls"]] == [en1, zh1]  # most recent first
    assert any("Sunday" in q for q in hours["examples"])

    year = api.get("/api/insights/issues", params={"days": 365, "mine": "false"}).json()
    assert year["calls"] == 3 and year["bucket_days"] == 30
    assert {i["id"]: i["count"] for i in year["issues"]} == {"opening_hours": 2, "password_reset": 1}
    assert year["issues"][1]["share"] == round(1 / 3, 4)

    window = api.get("/api/insights/issues", params={"since": "2000-01-01", "until": "2000-01-31", "mine": "false"}).json()
    assert window["calls"] == 0 and window["issues"] == []
    assert api.get("/api/insights/issues", params={"since": "2020-02-01", "until": "2020-01-01"}).status_code == 422
    assert api.get("/api/insights/issues", params={"days": 0}).status_code == 422


def test_an_issue_of_two_languages_shows_its_name_in_both(api) -> None:
    en1, zh1 = api.store_call("s_en_01"), api.store_call("s_zh_01")
    outage = Issue(id="outage", label="网络故障", keywords=("宽带", "internet"), members=(zh1, en1), share=1.0)
    save_mined_issues(api.ctx, [MinedIssue(outage, labels={"zh": "网络故障", "en": "Internet outage"}, frequency=2)])
    shown = api.get("/api/insights/issues", "read-only", params={"days": 30, "mine": "false"}).json()["issues"]
    assert [(i["label"], i["other_labels"]) for i in shown] == [("网络故障", ["Internet outage"])]
    save_mined_issues(api.ctx, [MinedIssue(outage, labels={"zh": "网络故障"}, frequency=2)])
    shown = api.get("/api/insights/issues", "read-only", params={"days": 30, "mine": "false"}).json()["issues"]
    assert shown[0]["other_labels"] == []  # one language: nothing more to show


def test_mined_issues_label_calls_and_drive_the_list_filter(api) -> None:
    en1 = api.store_call("s_en_01")
    zh1 = api.store_call("s_zh_01")
    en3 = api.store_call("s_en_03")
    issues = [
        Issue(id="hours", label="Store opening hours", keywords=("open", "Sunday", "营业"), members=(en1, zh1, "text-17"),
              examples=("what time do you open on Sunday",), share=0.66),
        Issue(id="login", label="Locked out of the app", keywords=("password", "locked"), members=(en3,), share=0.33),
    ]
    assert save_mined_issues(api.ctx, issues) == 3
    report = issue_report(api.ctx, since=utcnow() - timedelta(days=1))
    labels = {i.id: i for i in report.issues}
    assert labels["hours"].label == "Store opening hours" and labels["hours"].keywords == ("open", "Sunday", "营业")
    assert labels["hours"].examples == ("what time do you open on Sunday",)
    assert report.mined_at is not None
    listed = api.get("/api/recordings", params={"issue": "login"}).json()["items"]
    assert [r["id"] for r in listed] == [en3] and listed[0]["issue_label"] == "Locked out of the app"
    # a reindex keeps the mined assignment (the analysis itself names no issue)
    api.post("/api/search/reindex")
    assert [r["id"] for r in api.get("/api/recordings", params={"issue": "login"}).json()["items"]] == [en3]
    # the next mining run replaces the old one
    save_mined_issues(api.ctx, [Issue(id="login", label="Login problems", keywords=(), members=(en3,))])
    assert api.get("/api/recordings", params={"issue": "hours"}).json()["total"] == 0


def test_ivr_metrics(api) -> None:
    from callscope.ivr.tables import IvrCallRow, IvrEventRow

    now = utcnow()
    with transaction(api.ctx.sessions) as session:
        session.add_all([
            IvrCallRow(call_sid="CA1", from_number="+15550001", language="en", status="ended", started_at=now,
                       ended_at=now + timedelta(seconds=40), intent="opening_hours", csat=5),
            IvrCallRow(call_sid="CA2", from_number="+15550002", language="en", status="transferred", transferred=True,
                       transfer_reason="caller_request", started_at=now, transferred_at=now + timedelta(seconds=20)),
            IvrCallRow(call_sid="CA3", from_number="+15550003", language="zh", status="transferred", transferred=True,
                       transfer_reason="no_match", started_at=now, transferred_at=now + timedelta(seconds=60)),
        ])
        session.add_all([
            IvrEventRow(call_sid="CA1", kind="input", at=now, data={"text": "when do you open"}),
            IvrEventRow(call_sid="CA1", kind="answered", at=now, data={"intent": "opening_hours", "self_service": True}),
            IvrEventRow(call_sid="CA3", kind="input", at=now, data={"text": "我的号码是13812345678，帮我查话费"}),
            IvrEventRow(call_sid="CA3", kind="no_match", at=now,
                        data={"text": "my number is 415 555 0123, why is my bill so high", "language": "en"}),
        ])
    data = api.get("/api/insights/ivr", "reviewer", params={"days": 7}).json()
    assert data["calls"] == 3 and data["transferred"] == 2 and data["contained"] == 1
    assert data["containment_rate"] == round(1 / 3, 4)
    assert data["transfer_reasons"] == {"caller_request": 1, "no_match": 1}
    assert data["unanswered"][0]["text"].startswith("my number is 415 555 0123")
    redacted = api.get("/api/insights/ivr", "read-only").json()["unanswered"][0]["text"]
    assert "555 0123" not in redacted and "[PHONE]" in redacted


def test_ivr_containment_before_and_after_the_latest_faq_publish(api) -> None:
    """Only the IVR calls that asked what the published entry covers are compared, before vs after."""
    from callscope.insights.tables import FaqDraftRow
    from callscope.ivr.tables import IvrCallRow, IvrEventRow

    start = utcnow() - timedelta(hours=2)

    def call(sid: str, at, contained: bool, text: str = "is the network down", intent: str = "outage") -> list:  # type: ignore[no-untyped-def,type-arg]
        if contained:
            row = IvrCallRow(call_sid=sid, from_number=f"+1555{sid}", language="en", status="ended", started_at=at,
                             ended_at=at + timedelta(seconds=30), intent=intent)
            return [row, IvrEventRow(call_sid=sid, kind="input", at=at, data={"text": text}),
                    IvrEventRow(call_sid=sid, kind="answered", at=at, data={"intent": intent, "self_service": True})]
        return [IvrCallRow(call_sid=sid, from_number=f"+1555{sid}", language="en", status="transferred",
                           transferred=True, transfer_reason="no_match", started_at=at,
                           transferred_at=at + timedelta(seconds=30)),
                IvrEventRow(call_sid=sid, kind="input", at=at, data={"text": text}),
                IvrEventRow(call_sid=sid, kind="no_match", at=at, data={"text": text})]

    with transaction(api.ctx.sessions) as session:  # round one: 1 of 3 outage callers contained
        session.add_all(call("CB0", start, True))
        session.add_all(call("CB1", start + timedelta(minutes=1), False, "my internet is down, is there an outage"))
        session.add_all(call("CB2", start + timedelta(minutes=2), False, "is there an outage near me"))
        session.add_all(call("CB3", start + timedelta(minutes=3), True, "what time do you open on sunday", "opening_hours"))
    assert api.get("/api/insights/ivr", params={"days": 1}).json()["since_publish"] is None  # nothing published
    with transaction(api.ctx.sessions) as session:
        session.add(FaqDraftRow(id="faq-outage", status="published",
                                questions={"en": ["Is there an outage?", "Is the network down?"]},
                                answers={"en": "Yes, engineers are on it."},
                                published_at=start + timedelta(minutes=30)))
        for n, contained in enumerate((True, True, True, False)):  # round two: 3 of 4 outage callers contained
            session.add_all(call(f"CC{n}", start + timedelta(minutes=40 + n), contained, intent="faq-outage"))
        # the rest of the IVR got worse after the publish; that is not the entry's doing
        session.add_all(call("CC9", start + timedelta(minutes=50), False, "I want to cancel my contract"))
    data = api.get("/api/insights/ivr", params={"days": 1}).json()
    assert data["calls"] == 9 and data["contained"] == 5
    split = data["since_publish"]
    assert split["entry_id"] == "faq-outage" and split["questions"][0] == "Is there an outage?"
    before, after = split["before"], split["after"]
    assert (before["calls"], before["contained"], before["containment_rate"]) == (3, 1, round(1 / 3, 4))
    assert (after["calls"], after["contained"], after["containment_rate"]) == (4, 3, 0.75)
    assert before["from"] < before["to"] < split["published_at"] <= after["from"] < after["to"]
    assert "what time do you open on sunday" not in before["examples"]


REASONS = [
    ("en", "What time do your stores open on Sunday?"),
    ("en", "I want to know your opening hours at the weekend"),
    ("zh", "你们周日几点开门？"),
    ("zh", "请问营业厅的营业时间是几点到几点"),
    ("en", "I am locked out of my account after typing the wrong password"),
    ("en", "I forgot my password and cannot log in to the app"),
    ("zh", "我的密码忘了，登录不了账户"),
    ("zh", "账号被锁住了，密码输错了好几次"),
]


@pytest.mark.slow
def test_issues_are_mined_from_the_calls_reasons(api, tone_call) -> None:  # type: ignore[no-untyped-def]
    ids = [tone_call(reason, lang) for lang, reason in REASONS]
    assert api.post("/api/insights/issues/mine", "read-only").status_code == 403
    assert api.post("/api/insights/issues/mine", "reviewer").json()["issues"] >= 1
    report = api.get("/api/insights/issues", params={"days": 30}).json()
    assert report["mined_at"] and report["mining_error"] is None and report["issues"]
    groups = [{c["id"] for c in issue["calls"]} for issue in report["issues"]]
    hours, login = set(ids[:4]), set(ids[4:])
    # each mined issue holds calls about one thing only
    assert all(len(group) >= 2 and (group <= hours or group <= login) for group in groups)
    for issue in report["issues"]:
        listed = {r["id"] for r in api.get("/api/recordings", params={"issue": issue["id"]}).json()["items"]}
        assert listed == {c["id"] for c in issue["calls"]}
