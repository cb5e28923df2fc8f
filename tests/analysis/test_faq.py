"""FAQ drafts from real call transcripts, the review workflow in the DB, publishing to the KB."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from callscope.analysis.faq_question import ungrounded
from callscope.analysis.faq import answer_candidates, draft_faqs, entries_from_json, export_faqs, kb_gaps, needs_agent
from callscope.db import session_factory
from callscope.domain import FaqStatus, Role
from callscope.errors import ConfigError, NotFoundError
from callscope.insights.faq_review import FaqRepository, InvalidTransitionError
from callscope.ivr import kb_history
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base


@pytest.fixture(scope="module")
def drafts(records, mined):  # type: ignore[no-untyped-def]
    return draft_faqs(records, mined)


def _draft_for(drafts, call_id: str):  # type: ignore[no-untyped-def]
    return next(d for d in drafts if call_id in d.evidence_calls)


def test_drafts_cover_frequent_issues_with_evidence(drafts, mined) -> None:  # type: ignore[no-untyped-def]
    frequent = [i for i in mined.issues if i.frequency >= 2]
    assert len(drafts) == len(frequent) >= 3
    for draft, issue in zip(drafts, frequent, strict=True):
        assert draft.status == FaqStatus.DRAFT
        assert set(draft.evidence_calls) == set(issue.issue.members)
        assert draft.frequency == issue.frequency
        assert draft.questions and draft.answers
        assert len({d.id for d in drafts}) == len(drafts)


def test_answers_are_what_agents_said_in_the_calls_language(records, drafts, encoder) -> None:  # type: ignore[no-untyped-def]
    by_id = {r.id: r for r in records}
    for draft in drafts:
        for lang, answer in draft.answers.items():
            agent_text = [
                text for cid in draft.evidence_calls if by_id[cid].language == lang
                for role, text in by_id[cid].turns if role == Role.AGENT
            ]  # fmt: skip
            # Extractive: every answer sentence comes from one agent turn of an evidence call (less
            # the acknowledgement it opened with: "Yes, you can." -> "You can.")
            said = [" ".join(t.split()).lower() for t in agent_text]
            assert any(answer.lower() in t or all(s.lower() in t for s in answer.split(". ")) for t in said), answer
            assert not answer.startswith(("Okay", "Sure", "Thanks", "好的", "嗯")), answer
        for lang, questions in draft.questions.items():
            reasons = {by_id[c].reason for c in draft.evidence_calls if by_id[c].language == lang}
            # the paraphrases are what callers said; the canonical question is one of them or a
            # rewording grounded in them (faq_question.ungrounded, with the drafts' encoder)
            assert set(questions[1:]) <= reasons
            assert questions[0] in reasons or ungrounded(questions[0], questions[1:5], lang, encoder.encode) is None, questions[0]


def test_opening_hours_is_self_service_in_both_languages(drafts) -> None:  # type: ignore[no-untyped-def]
    hours = _draft_for(drafts, "s_en_01")
    assert hours.self_service
    assert set(hours.answers) == {"en", "zh"}
    assert "10 a.m." in hours.answers["en"] and "十点" in hours.answers["zh"]
    assert any("open" in q for q in hours.questions["en"])


def test_a_promise_to_notify_is_not_an_account_action() -> None:
    from callscope.analysis.issues import CallRecord

    def call(agent_says: str) -> CallRecord:
        return CallRecord("c", "en", "Is there an outage?", ((Role.CALLER, "Is there an outage?"), (Role.AGENT, agent_says)))

    assert not needs_agent(call("There is a fault in your area. We'll send you a text when it's fixed."))
    assert not needs_agent(call("I've sent you an email with the status page link."))
    assert needs_agent(call("I'm sorry about that. We'll send a replacement today."))
    assert needs_agent(call("I'll refund the delivery fee."))
    # a look-up counts only when it is of the caller's own account, line or order
    assert not needs_agent(call("别着急，我马上帮您查一下。您所在的小区昨晚光缆被挖断了。"))
    assert needs_agent(call("我帮您查一下您的订单。"))
    assert needs_agent(call("我已经帮您取消了这个订单。"))


def test_password_reset_needs_an_agent(records, drafts) -> None:  # type: ignore[no-untyped-def]
    password = _draft_for(drafts, "s_en_03")
    assert not password.self_service
    by_id = {r.id: r for r in records}
    assert needs_agent(by_id["s_en_03"]) and not needs_agent(by_id["s_en_01"])
    # Identity checks, hold messages and account actions are never offered as answers.
    candidates = " ".join(answer_candidates(by_id["s_en_03"]))
    assert "PIN" not in candidates and "I can reset it" not in candidates
    assert "locked for thirty minutes" in candidates


def test_exports(drafts) -> None:  # type: ignore[no-untyped-def]
    md = export_faqs(drafts, "md")
    assert md.startswith("# FAQ drafts") and drafts[0].id in md
    rows = list(csv.DictReader(io.StringIO(export_faqs(drafts, "csv"))))
    assert [r["id"] for r in rows] == [d.id for d in drafts]
    assert entries_from_json(export_faqs(drafts, "json")) == drafts
    with pytest.raises(ConfigError, match="unknown export format"):
        export_faqs(drafts, "xml")


def test_review_workflow_and_publish_to_kb(db_engine, drafts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    factory = session_factory(db_engine)
    repo = FaqRepository(factory)
    assert repo.save_drafts(drafts) == [d.id for d in drafts]
    first, second = drafts[0].id, drafts[1].id
    assert repo.get(first).status == FaqStatus.DRAFT

    with pytest.raises(InvalidTransitionError, match="approve it before publishing"):
        repo.publish(tmp_path / "kb.yaml", [first])
    assert repo.approve(first, reviewer="qa").status == FaqStatus.APPROVED
    with pytest.raises(InvalidTransitionError, match="cannot become approved"):
        repo.approve(first)
    assert repo.reject(second, note="merge with billing").status == FaqStatus.REJECTED
    with pytest.raises(InvalidTransitionError):
        repo.approve(second)
    assert repo.reopen(second).status == FaqStatus.DRAFT
    with pytest.raises(NotFoundError):
        repo.approve("faq-missing")

    # Drafting again refreshes drafts but leaves reviewed entries alone.
    assert first not in repo.save_drafts(drafts)

    kb_path = tmp_path / "kb.yaml"
    published = repo.publish(kb_path, author="qa")
    assert [e.id for e in published.entries] == [first]
    # every publish is a knowledge-base version (the CLI and the closed loop's too, not only the API's)
    versions = kb_history.versions(factory, kb_path)
    assert [(v.action, v.author) for v in versions] == [("publish", "qa"), ("baseline", "qa")]
    assert versions[0].id == published.kb_version
    kb = load_knowledge_base(kb_path)
    entry = kb[first]
    assert entry.status == FaqStatus.PUBLISHED
    assert entry.answers == drafts[0].answers and entry.questions == drafts[0].questions
    assert repo.get(first).status == FaqStatus.PUBLISHED
    with pytest.raises(InvalidTransitionError):
        repo.transition(first, FaqStatus.APPROVED)
    assert [e.id for e in repo.entries(FaqStatus.PUBLISHED)] == [first]

    with pytest.raises(InvalidTransitionError, match="not published"):
        repo.unpublish(kb_path, second)
    back = repo.unpublish(kb_path, first, author="qa")
    assert back.entries[0].status == FaqStatus.DRAFT and first not in load_knowledge_base(kb_path).ids
    assert kb_history.versions(factory, kb_path)[0].action == "unpublish"


def test_publish_into_an_existing_kb_keeps_its_entries(db_engine, drafts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    kb_path = tmp_path / "kb.yaml"
    kb_path.write_text(BUNDLED_KB.read_text(encoding="utf-8"), encoding="utf-8")
    before = load_knowledge_base(kb_path).ids
    repo = FaqRepository(session_factory(db_engine))
    repo.save_drafts(drafts[:1])
    repo.approve(drafts[0].id)
    repo.publish(kb_path)
    after = load_knowledge_base(kb_path)
    assert after.ids == before + [drafts[0].id]


def test_gap_analysis_against_the_bundled_kb(records, mined) -> None:  # type: ignore[no-untyped-def]
    kb = load_knowledge_base(BUNDLED_KB)
    report = kb_gaps(
        mined.issues,
        kb.entries,
        ivr_failures=["Where is my parcel?", "我的快递到哪里了？", "qwerty asdf"],
        period_questions=[r.reason for r in records],
    )
    uncovered = {g.subject for g in report.uncovered}
    # The demo KB deliberately has no outage entry; opening hours are covered.
    assert mined.issue_of("s_en_09").id in uncovered
    assert mined.issue_of("s_en_01").id not in uncovered
    assert [g.subject for g in report.not_contained] == ["order_status"]
    assert report.not_contained[0].count == 2
    stale = {g.subject for g in report.stale}
    assert "payment_options" in stale and "opening_hours" not in stale
    assert json.loads(json.dumps(report.to_dict()))["uncovered"]


def test_publish_refuses_an_entry_without_an_answer_in_a_language(db_engine, drafts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    repo = FaqRepository(session_factory(db_engine))
    hours = _draft_for(drafts, "s_en_01")
    repo.save_drafts([replace(hours, answers={"en": hours.answers["en"]})])
    repo.approve(hours.id)
    with pytest.raises(ConfigError, match="zh questions but no zh answer"):
        repo.publish(tmp_path / "kb.yaml")
    assert not (tmp_path / "kb.yaml").exists()
    assert repo.get(hours.id).status == FaqStatus.APPROVED


def test_remining_supersedes_drafts_whose_issue_is_gone(db_engine, drafts) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    assert len(drafts) >= 4
    repo = FaqRepository(session_factory(db_engine))
    first_run = repo.sync_mined_drafts(drafts, [f"issue-{d.id}" for d in drafts])
    assert set(first_run.saved) == {d.id for d in drafts} and not first_run.superseded
    approved, regrouped, gone, reopened = drafts[:4]
    repo.approve(approved.id, reviewer="qa")
    repo.approve(reopened.id, reviewer="qa")
    repo.reopen(reopened.id)  # a draft again, but one a reviewer handled
    by_hand = replace(drafts[0], id="faq-typed-by-a-reviewer", evidence_calls=())
    repo.save_drafts([by_hand])  # no issue id: never superseded

    # Re-mining: one issue comes back under a new id with the same calls, one is gone,
    # the approved and the reopened entries' issues are gone too.
    renamed = replace(regrouped, id=f"{regrouped.id}-v2")
    rest = list(drafts[4:])
    second_run = repo.sync_mined_drafts([renamed, *rest], [f"issue-{d.id}" for d in (renamed, *rest)])
    assert second_run.superseded == {regrouped.id: renamed.id, gone.id: None}
    assert repo.get(approved.id).status == FaqStatus.APPROVED  # reviewed entries are left alone
    assert repo.get(by_hand.id).status == FaqStatus.DRAFT
    assert repo.get(reopened.id).status == FaqStatus.DRAFT

    live = {e.id for e in repo.entries()}
    assert regrouped.id not in live and gone.id not in live
    assert {renamed.id, approved.id, by_hand.id} <= live
    assert {e.id for e in repo.entries(FaqStatus.DRAFT)} == {renamed.id, by_hand.id, reopened.id, *(d.id for d in rest)}
    assert {e.id for e in repo.entries(FaqStatus.SUPERSEDED)} == {regrouped.id, gone.id}
    assert {e.id for e in repo.entries(include_superseded=True)} == live | {regrouped.id, gone.id}

    # superseded drafts are not reviewed as they are: reopen them first
    with pytest.raises(InvalidTransitionError, match="superseded"):
        repo.approve(gone.id)
    with pytest.raises(InvalidTransitionError, match="reopen it before editing"):
        repo.update(repo.get(gone.id))
    # an issue that comes back revives its draft; a reviewer can reopen one by hand
    third_run = repo.sync_mined_drafts([renamed, gone], [f"issue-{renamed.id}", f"issue-{gone.id}"])
    assert gone.id in third_run.saved and repo.get(gone.id).status == FaqStatus.DRAFT
    assert repo.reopen(regrouped.id).status == FaqStatus.DRAFT


def test_an_issue_is_covered_only_when_most_of_its_questions_are_answered() -> None:
    """One member close to a KB entry does not make a whole issue answered (majority vote)."""
    import numpy as np

    from callscope.analysis.issues import MinedIssue
    from callscope.domain import FaqEntry, Issue

    topics = ("outage", "hours", "refund")

    def encode(texts):  # one axis per topic word: a question matches the entry that shares its word
        return np.array([[1.0 if w in t.lower() else 0.0 for w in topics] + [0.1] for t in texts], dtype=np.float32)

    kb = [FaqEntry("opening_hours", {"en": ("What are your hours?",)}, {"en": "9 to 5."})]
    texts = {
        "a": "Is there an outage here?",
        "b": "outage in my street",
        "c": "broadband down, what are your hours?",  # a member the KB answers
        "d": "When are your hours on Sunday?",
        "e": "hours at the weekend",
    }
    outage = MinedIssue(Issue("i1", "Outage", (), ("a", "b", "c"), (texts["a"], texts["b"], texts["c"])), frequency=3,
                        example_ids=("a", "b", "c"))
    hours = MinedIssue(Issue("i2", "Hours", (), ("d", "e"), (texts["d"], texts["e"])), frequency=2,
                       example_ids=("d", "e"))
    for member_texts in (texts, None):  # every member's text, or the example quotes
        report = kb_gaps([outage, hours], kb, encoder=encode, member_texts=member_texts)
        assert [g.subject for g in report.uncovered] == ["i1"]  # 1 of 3 answered: still a gap
        assert report.uncovered[0].examples == outage.issue.examples
    # a majority answered: covered
    mostly = MinedIssue(Issue("i3", "Hours", (), ("a", "d", "e"), ()), frequency=3, example_ids=("d",))
    assert not kb_gaps([mostly], kb, encoder=encode, member_texts=texts).uncovered
