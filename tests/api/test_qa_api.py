"""Automatic QA through the API: results per call, overrides kept, rules edited, list filters, export."""

from __future__ import annotations

import json

import pytest


from callscope.qa import store


@pytest.fixture
def scored(api) -> dict[str, str]:  # type: ignore[no-untyped-def]
    ids = {stem: api.store_call(stem) for stem in ("s_en_01", "s_en_03", "s_zh_01")}
    assert store.rescore(api.ctx) == 3
    return ids


def test_each_call_gets_a_result_with_evidence(api, scored: dict[str, str]) -> None:
    body = api.get(f"/api/recordings/{scored['s_zh_01']}/qa").json()
    assert body["scorecard"] == "default"
    items = {i["id"]: i for i in body["items"]}
    assert items["further_help"]["passed"] is True
    assert "还有其他" in items["further_help"]["evidence"][0]["text"]
    assert set(items["further_help"]["evidence"][0]) == {"start", "end", "text"}
    # the stored analysis JSON carries the same verdicts
    analysis = api.get(f"/api/recordings/{scored['s_zh_01']}/analysis").json()
    assert {i["id"]: i["passed"] for i in analysis["qa"]["items"]} == {k: v["passed"] for k, v in items.items()}
    assert analysis["qa"]["score"] == body["score"]


def test_a_reviewer_override_is_kept_and_changes_the_score(api, scored: dict[str, str]) -> None:
    rid = scored["s_en_01"]
    before = api.get(f"/api/recordings/{rid}/qa").json()
    assert {i["id"]: i for i in before["items"]}["further_help"]["passed"] is False
    assert api.put(f"/api/recordings/{rid}/qa/further_help", role="read-only", json={"passed": True}).status_code == 403
    after = api.put(f"/api/recordings/{rid}/qa/further_help", role="reviewer",
                    json={"passed": True, "note": "offered help in the previous sentence"}).json()
    item = {i["id"]: i for i in after["items"]}["further_help"]
    assert item["passed"] is True
    assert item["override"] == {"by": "reviewer", "note": "offered help in the previous sentence", "automatic": False}
    assert after["score"] > before["score"]
    # re-scoring (new rules, re-analysis) keeps the reviewer's verdict
    store.rescore(api.ctx)
    again = api.get(f"/api/recordings/{rid}/qa").json()
    assert {i["id"]: i for i in again["items"]}["further_help"]["passed"] is True
    assert again["history"][0]["reviewer"] == "reviewer"
    assert api.put(f"/api/recordings/{rid}/qa/nonsense", json={"passed": True}).status_code == 404
    # back to the automatic verdict
    api.put(f"/api/recordings/{rid}/qa/further_help", json={"passed": None})
    assert {i["id"]: i for i in api.get(f"/api/recordings/{rid}/qa").json()["items"]}["further_help"]["passed"] is False


def test_list_filters_and_columns(api, scored: dict[str, str]) -> None:
    failing = api.get("/api/recordings", params={"qa_fail": "further_help"}).json()
    assert {r["id"] for r in failing["items"]} == {scored["s_en_01"], scored["s_en_03"]}
    row = next(r for r in failing["items"] if r["id"] == scored["s_en_01"])
    assert row["qa_score"] is not None and "further_help" in row["qa_failed"]
    apologised = api.get("/api/recordings", params={"category": "apology_given"}).json()
    assert {r["id"] for r in apologised["items"]} == {scored["s_en_03"]}
    low = api.get("/api/recordings", params={"qa_below": 100}).json()
    assert scored["s_zh_01"] not in {r["id"] for r in low["items"]}


def test_rules_are_edited_validated_and_applied(api, scored: dict[str, str]) -> None:
    current = api.get("/api/qa/scorecard").json()
    assert current["origin"] == "default" and "greeting" in current["source"]
    bad = api.put("/api/qa/scorecard", json={"source": "id: x\ncriteria:\n  - id: a\n    rule: {metric: {name: nope, max: 1}}\n"})
    assert bad.status_code == 422 and "criteria[0].rule.metric.name" in bad.json()["detail"]
    assert api.get("/api/qa/scorecard").json()["origin"] == "default"  # nothing stored
    source = json.dumps({"id": "short", "name": "Short calls", "criteria": [
        {"id": "quick", "name": "Under 70 s", "rule": {"metric": {"name": "handle_time_s", "max": 70}}}]})
    saved = api.put("/api/qa/scorecard", role="reviewer", json={"source": source}).json()
    assert saved["origin"] == "dashboard" and saved["author"] == "reviewer" and saved["rescored"] == 3
    zh = api.get(f"/api/recordings/{scored['s_zh_01']}/qa").json()
    assert zh["scorecard"] == "short" and zh["items"][0]["passed"] is True  # 69.1 s
    en = api.get(f"/api/recordings/{scored['s_en_03']}/qa").json()
    assert en["items"][0]["passed"] is False and "72.5 s" in en["items"][0]["detail"]


def test_export_csv_and_json(api, scored: dict[str, str]) -> None:
    api.put(f"/api/recordings/{scored['s_en_01']}/qa/further_help", json={"passed": True})
    csv_text = api.get("/api/qa/export").text.lstrip("\ufeff")
    header, *rows = csv_text.strip().splitlines()
    assert header.startswith("recording_id,recording,scorecard,score,greeting,verification,further_help")
    assert len(rows) == 3
    en01 = next(r for r in rows if r.startswith(scored["s_en_01"]))
    assert "pass*" in en01  # the override is marked
    data = api.get("/api/qa/export", params={"format": "json"}).json()
    assert {r["recording_id"] for r in data} == set(scored.values())


def test_pii_originals_only_for_roles_that_see_pii(api) -> None:  # type: ignore[no-untyped-def]
    """With CALLSCOPE_PII_KEEP_ORIGINAL the unredacted words are kept aside: PII roles can
    switch to them; the default view, read-only users and searches see the redacted text."""
    from callscope.analysis.pii import redact_transcript
    from callscope.domain import Transcript

    rid = api.store_call("s_en_03", extra_caller_text="You can call me back on 07700 900321.")
    stored = api.ctx.store.get_artifact(rid, "transcript")
    original = Transcript.from_dict(stored)
    redacted = redact_transcript(original)[0]
    assert redacted != original
    api.ctx.store.save_artifact(rid, "transcript", redacted.to_dict())
    plain = api.get(f"/api/recordings/{rid}/transcript").json()
    assert "900321" not in plain["text"] and plain["pii"] == {"redacted": False, "original_available": False,
                                                           "redacted_at_source": True}
    api.ctx.store.save_artifact(rid, "transcript_original", original.to_dict())
    admin = api.get(f"/api/recordings/{rid}/transcript").json()
    assert "07700 900321" in admin["text"] and admin["pii"]["original_available"] is True
    seg = next(s for s in admin["segments"] if "900321" in s["text"])
    assert seg["speaker"] == "caller" and any("900321" in w["word"] for w in seg["words"])
    hidden = api.get(f"/api/recordings/{rid}/transcript", params={"redacted": "true"}).json()
    assert "900321" not in hidden["text"] and hidden["pii"]["redacted"] is True
    reader = api.get(f"/api/recordings/{rid}/transcript", role="read-only").json()
    assert "900321" not in reader["text"] and reader["pii"] == {"redacted": True, "original_available": False,
                                                            "redacted_at_source": True}
