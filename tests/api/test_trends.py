"""Analytics over time and per agent, from stored calls (real fixture calls, their analyses and QA)."""

from __future__ import annotations

from datetime import timedelta

from callscope.db import transaction, utcnow
from callscope.qa import store as qa_store
from callscope.recordings.tables import RecordingRow


def _at(api, rid: str, days_ago: int) -> None:  # type: ignore[no-untyped-def]
    with transaction(api.ctx.sessions) as session:
        session.get(RecordingRow, rid).created_at = utcnow() - timedelta(days=days_ago)


def test_trends_per_day_and_agent(api) -> None:  # type: ignore[no-untyped-def]
    a = api.store_call("s_en_01", agent="Emma")
    b = api.store_call("s_en_03", agent="Priya")
    c = api.store_call("s_zh_01", agent="Emma")
    _at(api, a, 3)
    _at(api, b, 3)
    _at(api, c, 1)
    qa_store.rescore(api.ctx)
    data = api.get("/api/insights/trends", params={"days": 7}).json()
    assert data["period"] == "day"
    days = {x["start"]: x for x in data["buckets"]}
    assert len(days) == 8  # the last 7 days and today
    three = days[(utcnow() - timedelta(days=3)).date().isoformat()]
    assert three["calls"] == 2 and three["emotions"] == {"neutral": 1, "frustrated": 1}
    assert three["avg_handle_time_s"] == round((71.543 + 72.545) / 2, 1)
    assert three["qa_calls"] == 2 and three["avg_qa_score"] is not None
    assert sum(x["calls"] for x in data["buckets"]) == 3
    empty = days[utcnow().date().isoformat()]
    assert empty["calls"] == 0 and empty["avg_handle_time_s"] is None
    agents = {x["agent"]: x for x in data["agents"]}
    assert agents["Emma"]["calls"] == 2 and agents["Priya"]["calls"] == 1
    assert agents["Priya"]["negative_calls"] == 1 and 0 < agents["Emma"]["avg_agent_talk_share"] < 1
    weekly = api.get("/api/insights/trends", params={"days": 90}).json()
    assert weekly["period"] == "week" and sum(x["calls"] for x in weekly["buckets"]) == 3
    assert all(x["start"] < x["end"] for x in weekly["buckets"])
