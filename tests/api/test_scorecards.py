"""QA scorecards: scoring, validation, ownership, CSV/JSON export."""

from __future__ import annotations

import csv
import io

import pytest


def test_score_a_call_and_export(api) -> None:
    rid = api.store_call("s_en_03")
    rubric = api.get("/api/scorecards/rubric", "read-only").json()
    keys = [c["key"] for c in rubric]
    assert "empathy" in keys and all(c["max_score"] == 5 for c in rubric)
    scores = {key: 4 for key in keys}
    scores["empathy"] = 2
    created = api.post(f"/api/recordings/{rid}/scorecards", "reviewer",
                       json={"scores": scores, "comments": "=HYPERLINK(\"x\") rushed the caller"})
    assert created.status_code == 201, created.text
    card = created.json()
    assert card["reviewer"] == "reviewer" and card["recording_id"] == rid
    assert card["total"] == pytest.approx(100 * (4 * (len(keys) - 1) + 2) / (5 * len(keys)), abs=0.1)
    assert api.get(f"/api/recordings/{rid}/scorecards", "read-only").json()[0]["id"] == card["id"]
    assert api.get(f"/api/scorecards/{card['id']}", "read-only").json()["scores"]["empathy"] == 2

    exported = api.get("/api/scorecards/export", "read-only", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == 1 and rows[0]["empathy"] == "2" and rows[0]["recording"] == "s_en_03.stereo.wav"
    assert rows[0]["comments"].startswith("'=")  # no formula injection into spreadsheets
    as_json = api.get("/api/scorecards/export", params={"format": "json", "recording_id": rid}).json()
    assert as_json[0]["scores"]["empathy"] == 2 and as_json[0]["total_percent"] == card["total"]
    assert api.get("/api/scorecards/export", params={"format": "xml"}).status_code == 422
    assert api.get("/api/scorecards", params={"reviewer": "nobody"}).json() == []
    assert len(api.get("/api/scorecards", params={"since": "2000-01-01"}).json()) == 1


@pytest.mark.parametrize("body", [
    {"scores": {"greeting": 6}}, {"scores": {"greeting": -1}}, {"scores": {"charm": 3}}, {"scores": {}},
    {"scores": {"greeting": 2.5}}, {"scores": {"greeting": "5"}}, {"scores": "all good"}, {"comments": "no scores"},
    {"scores": {"greeting": 3}, "extra": 1},
])
def test_invalid_scorecards_get_422(api, body: dict) -> None:
    rid = api.store_call("s_en_01")
    response = api.post(f"/api/recordings/{rid}/scorecards", "reviewer", json=body)
    assert response.status_code == 422, body


def test_malformed_json_gets_422(api) -> None:
    rid = api.store_call("s_en_01")
    response = api.post(f"/api/recordings/{rid}/scorecards", "reviewer", content=b"{scores: 5",
                        headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "json" in str(response.json()["detail"]).lower()


def test_only_the_reviewer_or_an_admin_changes_a_scorecard(api) -> None:
    from callscope.auth import service as auth

    rid = api.store_call("s_en_01")
    card = api.post(f"/api/recordings/{rid}/scorecards", "reviewer", json={"scores": {"greeting": 3}}).json()
    assert api.post(f"/api/recordings/{rid}/scorecards", "read-only", json={"scores": {"greeting": 3}}).status_code == 403
    auth.create_user(api.ctx, "other", "long enough pw", "reviewer")
    other = {"X-API-Key": auth.create_api_key(api.ctx, "other")[1]}
    body = {"scores": {"greeting": 1}, "comments": "mine now"}
    assert api.client.put(f"/api/scorecards/{card['id']}", json=body, headers=other).status_code == 403
    assert api.client.delete(f"/api/scorecards/{card['id']}", headers=other).status_code == 403
    updated = api.put(f"/api/scorecards/{card['id']}", "reviewer", json={"scores": {"greeting": 5}, "comments": "ok"})
    assert updated.status_code == 200 and updated.json()["total"] == 100.0
    assert api.delete(f"/api/scorecards/{card['id']}", "admin").status_code == 204
    assert api.get(f"/api/scorecards/{card['id']}").status_code == 404
    assert api.put(f"/api/scorecards/{card['id']}", json=body).status_code == 404
    assert api.post(f"/api/recordings/{'0' * 64}/scorecards", "reviewer", json=body).status_code == 404
