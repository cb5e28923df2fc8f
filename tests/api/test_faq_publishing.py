"""Safe publishing: preview on real caller phrasings, unpublish, knowledge-base versions with diff and rollback."""

from __future__ import annotations

from datetime import timedelta

from callscope.db import transaction, utcnow
from callscope.ivr.kb import load_knowledge_base
from callscope.ivr.tables import IvrCallRow, IvrEventRow

OUTAGE = {
    "questions": {"en": ["Is there an internet outage in my area?", "Is the broadband down?"],
                  "zh": ["我这里是不是断网了？"]},
    "answers": {"en": "Yes, engineers are fixing a fault; service is back by 6 p.m.", "zh": "是的，工程师正在抢修，预计下午六点恢复。"},
}
SAID = [("en", "is there an outage in my area", "no_match"), ("en", "my broadband has been down since this morning", "no_match"),
        ("zh", "我家宽带断网了，是不是有故障？", "no_match"), ("en", "what time do you open on sunday", "input"),
        ("en", "how do I reset my password", "input")]


def _ivr_history(api) -> None:  # type: ignore[no-untyped-def]
    now = utcnow() - timedelta(days=1)
    with transaction(api.ctx.sessions) as session:
        for n, (lang, text, kind) in enumerate(SAID):
            sid = f"CA{n:032d}"
            session.add(IvrCallRow(call_sid=sid, from_number=f"+1555{n:07d}", language=lang, started_at=now))
            session.add(IvrEventRow(call_sid=sid, kind=kind, at=now, data={"text": text, "language": lang}))


def _approved(api, body) -> str:  # type: ignore[no-untyped-def]
    entry = api.post("/api/faq", "reviewer", json=body).json()
    assert api.post(f"/api/faq/{entry['id']}/approve", "reviewer").status_code == 200
    return str(entry["id"])


def test_preview_shows_what_the_draft_would_answer(api) -> None:  # type: ignore[no-untyped-def]
    _ivr_history(api)
    entry_id = _approved(api, OUTAGE)
    preview = api.post(f"/api/faq/{entry_id}/preview", "reviewer").json()
    caught = {c["text"] for c in preview["catches"]} | {c["text"] for c in preview["confirms"]}
    assert "is there an outage in my area" in caught
    assert "我家宽带断网了，是不是有故障？" in caught  # matched across languages
    assert "what time do you open on sunday" not in caught and not preview["takes"]
    assert preview["phrasings"] == len(SAID) and preview["live_entries"] == 9
    assert api.post(f"/api/faq/{entry_id}/preview", "read-only").status_code == 403
    # a draft that overlaps a live entry shows the questions it would take from it
    hours = _approved(api, {"questions": {"en": ["What time do you open on Sunday?"]},
                            "answers": {"en": "10 a.m. to 5 p.m. on Sundays."}})
    taken = api.post(f"/api/faq/{hours}/preview", "reviewer").json()
    assert [c["text"] for c in taken["takes"]["opening_hours"]] == ["what time do you open on sunday"]
    # unsaved edits are previewed as written: without its Sunday question the draft no longer
    # takes that question from the live entry; near ties name the live entry they compete with
    edited = api.post(f"/api/faq/{hours}/preview", "reviewer",
                      json={"questions": {"en": ["How do I reset my password?"]}}).json()
    assert "opening_hours" not in edited["takes"] and not edited["catches"]
    assert all(c["before"] for c in edited["confirms"])


def test_publish_unpublish_versions_diff_and_rollback(api) -> None:  # type: ignore[no-untyped-def]
    kb_path = api.ctx.settings.kb_path
    original = kb_path.read_text(encoding="utf-8")
    entry_id = _approved(api, OUTAGE)
    published = api.post(f"/api/faq/{entry_id}/publish", "reviewer").json()
    assert load_knowledge_base(kb_path).get(entry_id) is not None
    versions = api.get("/api/faq/kb/versions", "read-only").json()
    assert [(v["action"], v["author"], v["entry_id"]) for v in versions] == [
        ("publish", "reviewer", entry_id), ("baseline", "reviewer", None)]
    assert versions[0]["id"] == published["kb_version"] and versions[0]["entries"] == versions[1]["entries"] + 1
    diff = api.get(f"/api/faq/kb/versions/{versions[0]['id']}/diff").json()["diff"]
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any(entry_id in line for line in added) and any("engineers are fixing" in line for line in added)
    assert not [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]

    # unpublish: out of the KB, back to draft, recorded
    assert api.post(f"/api/faq/{entry_id}/unpublish", "read-only").status_code == 403
    out = api.post(f"/api/faq/{entry_id}/unpublish", "reviewer").json()
    assert out["status"] == "draft" and load_knowledge_base(kb_path).get(entry_id) is None
    assert api.post(f"/api/faq/{entry_id}/unpublish", "reviewer").status_code == 409

    # roll back to the publish, then to the file as it was before callscope touched it
    back = api.post(f"/api/faq/kb/versions/{versions[0]['id']}/rollback", "reviewer").json()
    assert entry_id in back["entries"] and load_knowledge_base(kb_path).get(entry_id) is not None
    api.post(f"/api/faq/{entry_id}/approve", "reviewer")
    api.post(f"/api/faq/{entry_id}/publish", "reviewer")
    restored = api.post(f"/api/faq/kb/versions/{versions[1]['id']}/rollback", "admin").json()
    assert restored["withdrawn"] == [entry_id]
    assert kb_path.read_text(encoding="utf-8") == original  # byte for byte
    assert api.get(f"/api/faq/{entry_id}").json()["status"] == "draft"
    actions = [v["action"] for v in api.get("/api/faq/kb/versions").json()]
    assert actions == ["rollback", "publish", "rollback", "unpublish", "publish", "baseline"]
    assert api.get("/api/faq/kb/versions/999/diff").status_code == 404
