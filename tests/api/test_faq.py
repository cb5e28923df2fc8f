"""FAQ drafts: create, edit, approve, reject, reopen, publish to the IVR knowledge base."""

from __future__ import annotations

import pytest

from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base

DRAFT = {
    "questions": {"en": ["Can I return a phone I bought online to a store?"], "zh": ["网上买的手机可以去门店退吗？"]},
    "answers": {"en": "Yes, within 30 days with the receipt."},
    "tags": ["returns"],
}


def test_draft_review_and_publish(api) -> None:
    bundled = BUNDLED_KB.read_bytes()
    kb_path = api.ctx.settings.kb_path
    assert kb_path is not None and kb_path.is_relative_to(api.ctx.settings.data_dir)
    created = api.post("/api/faq", "reviewer", json=DRAFT)
    assert created.status_code == 201, created.text
    entry = created.json()
    assert entry["status"] == "draft" and entry["id"].startswith("faq-can-i-return")
    assert api.post("/api/faq", "reviewer", json={**DRAFT, "id": entry["id"]}).status_code == 409
    assert [e["id"] for e in api.get("/api/faq", "read-only", params={"status": "draft"}).json()] == [entry["id"]]

    edited = api.patch(f"/api/faq/{entry['id']}", "reviewer",
                       json={"answers": {"en": "Yes, within 30 days with the receipt.", "zh": "可以，30天内凭收据退货。"}})
    assert edited.status_code == 200 and edited.json()["answers"]["zh"].startswith("可以")
    assert api.post(f"/api/faq/{entry['id']}/publish", "reviewer").status_code == 409  # not approved yet
    approved = api.post(f"/api/faq/{entry['id']}/approve", "reviewer")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    published = api.post(f"/api/faq/{entry['id']}/publish", "reviewer")
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published" and published.json()["kb_file"] == kb_path.name
    assert str(kb_path.parent) not in published.text
    kb = load_knowledge_base(kb_path)
    assert kb.get(entry["id"]).answers["zh"] == "可以，30天内凭收据退货。"
    assert len(kb) > 1  # the demo entries are still there
    assert BUNDLED_KB.read_bytes() == bundled  # the package's file is never written
    # published entries are edited by reopening them
    assert api.patch(f"/api/faq/{entry['id']}", "reviewer", json={"tags": ["x"]}).status_code == 409
    assert api.post(f"/api/faq/{entry['id']}/reopen", "reviewer").json()["status"] == "draft"


def test_reject_and_invalid_transitions(api) -> None:
    entry = api.post("/api/faq", "reviewer", json={"questions": {"en": ["Do you sell gift cards?"]}}).json()
    assert api.post(f"/api/faq/{entry['id']}/approve", "reviewer").status_code == 409  # no answer yet
    rejected = api.post(f"/api/faq/{entry['id']}/reject", "reviewer", json={"note": "not something we offer"})
    assert rejected.json()["status"] == "rejected"
    again = api.post(f"/api/faq/{entry['id']}/reject", "reviewer")
    assert again.status_code == 409 and "rejected" in again.json()["detail"]
    assert api.post(f"/api/faq/{entry['id']}/reopen", "reviewer").json()["status"] == "draft"


def test_faq_permissions_and_bad_input(api) -> None:
    entry = api.post("/api/faq", "reviewer", json=DRAFT).json()
    for method, url in (("post", "/api/faq"), ("patch", f"/api/faq/{entry['id']}"),
                        ("post", f"/api/faq/{entry['id']}/approve"), ("post", f"/api/faq/{entry['id']}/publish"),
                        ("post", "/api/faq/generate")):
        assert getattr(api, method)(url, "read-only", json=DRAFT if method == "post" else {}).status_code == 403
    assert api.get("/api/faq/nope", "read-only").status_code == 404
    assert api.get("/api/faq/..%2F..%2Fetc", "read-only").status_code in (404, 422)
    assert api.get("/api/faq", params={"status": "limbo"}).status_code == 422
    for body in ({"questions": {}}, {"questions": {"en": [""]}}, {"questions": {"english!": ["hi"]}},
                 {"questions": {"en": ["ok"]}, "answers": {"en": "x" * 5000}}, {"questions": "what?"},
                 {"questions": {"en": ["ok"]}, "status": "published"}):
        assert api.post("/api/faq", "reviewer", json=body).status_code == 422, body
    broken = api.post("/api/faq", "reviewer", content=b'{"questions": ', headers={"content-type": "application/json"})
    assert broken.status_code == 422


def test_read_only_users_see_redacted_faq_text(api) -> None:
    body = {"questions": {"en": ["I called from 415 555 0123 about my bill"]}, "answers": {"en": "Check the app."}}
    entry = api.post("/api/faq", "reviewer", json=body).json()
    seen = api.get(f"/api/faq/{entry['id']}", "read-only").json()
    assert "555 0123" not in seen["questions"]["en"][0] and "[PHONE]" in seen["questions"]["en"][0]
    assert "555 0123" in api.get(f"/api/faq/{entry['id']}", "reviewer").json()["questions"]["en"][0]


def test_superseded_drafts_are_listed_only_on_request(api) -> None:
    from callscope.domain import FaqEntry, FaqStatus
    from callscope.insights.faq_review import FaqRepository

    def mined(entry_id: str, calls: tuple[str, ...]) -> FaqEntry:
        return FaqEntry(id=entry_id, questions={"en": ["When do you open on Sunday?"]}, answers={"en": "At 10."},
                        status=FaqStatus.DRAFT, evidence_calls=calls, frequency=len(calls))

    repo = FaqRepository(api.ctx.sessions)
    repo.sync_mined_drafts([mined("faq-sunday-old", ("c1", "c2", "c3"))], ["issue-1"])
    sync = repo.sync_mined_drafts([mined("faq-sunday-new", ("c1", "c2", "c4"))], ["issue-2"])
    assert sync.superseded == {"faq-sunday-old": "faq-sunday-new"}
    assert [e["id"] for e in api.get("/api/faq", "read-only").json()] == ["faq-sunday-new"]
    old = api.get("/api/faq", "read-only", params={"status": "superseded"}).json()
    assert [(e["id"], e["status"]) for e in old] == [("faq-sunday-old", "superseded")]
    assert api.post("/api/faq/faq-sunday-old/approve", "reviewer").status_code == 409
    assert api.patch("/api/faq/faq-sunday-old", "reviewer", json={"tags": ["x"]}).status_code == 409
    assert api.post("/api/faq/faq-sunday-old/reopen", "reviewer").json()["status"] == "draft"


HOURS = [
    ("en", "What time do your stores open on Sunday?",
     "On Sundays our stores are open from 10 a.m. until 5 p.m."),
    ("en", "When are you open at the weekend?",
     "At the weekend we open from 10 a.m. to 5 p.m. on Sunday and 9 to 8 on Saturday."),
    ("en", "Are your shops open on Sunday afternoon?",
     "Yes, on Sunday our shops are open from 10 a.m. until 5 p.m."),
    ("zh", "你们周日几点开门？", "周日我们上午十点开门，下午五点关门。"),
]
LOGIN = [
    ("en", "I am locked out of my account after typing the wrong password", "I have unlocked your account."),
    ("en", "I forgot my password and cannot log in to the app", "I have sent you a reset link."),
    ("zh", "我的密码忘了，登录不了账户", "我已经给您发了重置链接。"),
]


@pytest.mark.slow
def test_drafts_are_generated_from_calls(api, tone_call) -> None:  # type: ignore[no-untyped-def]
    hours = {tone_call(q, lang, (("caller", q), ("agent", a))) for lang, q, a in HOURS}
    login = {tone_call(q, lang, (("caller", q), ("agent", a))) for lang, q, a in LOGIN}
    response = api.post("/api/faq/generate", "reviewer")
    assert response.status_code == 200 and response.json()["drafts"] >= 1
    drafts = api.get("/api/faq", params={"status": "draft"}).json()
    assert drafts
    for draft in drafts:  # each draft comes from calls about one thing, with the agents' answer
        evidence = set(draft["evidence_calls"])
        assert len(evidence) >= 2 and (evidence <= hours or evidence <= login)
        assert draft["answers"] and draft["questions"]
    first = drafts[0]
    # a draft someone approved is not overwritten by the next run
    assert api.post(f"/api/faq/{first['id']}/approve", "reviewer").status_code == 200
    api.post("/api/faq/generate", "reviewer")
    assert api.get(f"/api/faq/{first['id']}").json()["status"] == "approved"
