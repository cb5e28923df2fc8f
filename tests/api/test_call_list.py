"""The call list sorts on every column and names Twilio calls by their caller."""

from __future__ import annotations

import pytest


@pytest.fixture
def calls(api):  # type: ignore[no-untyped-def]
    ids = {"s_en_01": api.store_call("s_en_01", agent="Zoe"), "s_en_03": api.store_call("s_en_03", agent="amir"),
           "s_zh_01": api.store_call("s_zh_01")}
    api.ctx.store.update(ids["s_en_03"], call_id="CA" + "3" * 32,
                         metadata={"source": "twilio", "from": "+15550100123", "recording_sid": "RE" + "9" * 32})
    return ids


@pytest.mark.parametrize("column", ["date", "name", "duration", "language", "agent", "emotion", "issue", "qa",
                                    "status"])
def test_every_column_sorts_both_ways(api, calls, column: str) -> None:  # type: ignore[no-untyped-def]
    up = [r["id"] for r in api.get("/api/recordings", params={"sort": column}).json()["items"]]
    down = [r["id"] for r in api.get("/api/recordings", params={"sort": f"-{column}"}).json()["items"]]
    assert sorted(up) == sorted(down) == sorted(calls.values())
    assert api.get("/api/recordings", params={"sort": "colour"}).status_code == 422


def test_sort_orders_and_pages(api, calls) -> None:  # type: ignore[no-untyped-def]
    by_length = api.get("/api/recordings", params={"sort": "duration"}).json()["items"]
    assert [r["duration_s"] for r in by_length] == sorted(r["duration_s"] for r in by_length)
    by_agent = [r["agent"] for r in api.get("/api/recordings", params={"sort": "agent"}).json()["items"]]
    assert by_agent == ["amir", "Zoe", None]  # case-insensitive, calls without an agent last
    page = api.get("/api/recordings", params={"sort": "-duration", "limit": 1, "offset": 1}).json()
    assert page["total"] == 3 and page["items"][0]["id"] == by_length[1]["id"]


def test_twilio_calls_are_named_by_caller(api, calls) -> None:  # type: ignore[no-untyped-def]
    rows = {r["id"]: r for r in api.get("/api/recordings").json()["items"]}
    assert rows[calls["s_en_03"]]["title"] == "Call from +15550100123"
    assert rows[calls["s_en_01"]]["title"] == "s_en_01.stereo.wav"
    masked = {r["id"]: r for r in api.get("/api/recordings", role="read-only").json()["items"]}
    assert masked[calls["s_en_03"]]["title"] == "Call from ••• 0123"
