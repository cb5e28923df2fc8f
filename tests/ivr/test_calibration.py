"""Per-knowledge-base calibration of the matcher, measured when the knowledge base is loaded:
the leave-one-out score scale, the classifier over the entries, and the policy on that scale
(real encoders, CLINC150 banking few-shot knowledge base)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from callscope.domain import FaqEntry
from callscope.ivr.kb import KnowledgeBase
from callscope.ivr.matcher import IntentMatcher, MatcherOptions, MatchLevel, ScoreScale, level_of

DATA = Path(__file__).resolve().parent.parent / "data" / "ivr" / "clinc150_banking_subset.json"

# topics a general assistant KB might hold; the off-topic calibration bank asks about the same things
SMALL_TALK = {
    "weather": ["what's the weather like today", "is it going to rain tomorrow", "weather forecast for the weekend"],
    "tell_joke": ["tell me a joke", "say something funny", "do you know any good jokes"],
    "play_music": ["play a song", "put some music on", "I want to listen to music"],
    "recipe": ["how do I cook pasta", "give me a recipe for soup", "what can I make for dinner"],
}


@pytest.fixture(scope="module")
def subset() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def encoders():
    from callscope.analysis.embeddings import load_encoder

    return [load_encoder("use-multilingual", 1), load_encoder("e5-small", 1)]


def few_shot(entries: dict[str, list[str]]) -> KnowledgeBase:
    kb = KnowledgeBase()
    for intent, questions in entries.items():
        kb.entries.append(FaqEntry(id=intent, questions={"en": tuple(questions)}, answers={"en": intent.replace("_", " ")}))
    return kb


@pytest.fixture(scope="module")
def banking(subset, encoders) -> IntentMatcher:
    return IntentMatcher(few_shot(subset["train"]), encoders=encoders)


@pytest.mark.slow
def test_the_score_scale_is_measured_on_the_knowledge_base(banking: IntentMatcher, subset) -> None:
    scale = banking.scale()
    assert scale.questions == sum(len(qs) for qs in subset["train"].values())  # every example question, left out
    assert scale.weak < scale.typical
    # an example question matched as a caller's question reads about 1 on the final scale
    own = [banking.match(q, "en") for qs in subset["train"].values() for q in qs]
    assert np.median([r.best.score for r in own]) > 1.0  # (not left out here, so a little above)


@pytest.mark.slow
def test_small_talk_topics_do_not_send_in_scope_callers_to_an_agent(subset, encoders) -> None:
    """A knowledge base that covers small talk makes the off-topic bank read on-topic; the
    out-of-scope line still sits where the KB's own questions put it."""
    plain = IntentMatcher(few_shot(subset["train"]), encoders=encoders)
    mixed = IntentMatcher(few_shot({**subset["train"], **SMALL_TALK}), encoders=encoders)
    off_plain = plain.calibration()["use-multilingual"].off_topic
    off_mixed = mixed.calibration()["use-multilingual"].off_topic
    assert off_mixed > off_plain + 0.05  # the bank now partly matches the KB
    unseen = [t for texts in subset["unseen"].values() for t in texts]
    handed_over = sum(mixed.match(t, "en").level == MatchLevel.NONE for t in unseen) / len(unseen)
    assert handed_over <= 0.05
    oos = [mixed.match(t, "en").level for t in subset["oos"]]
    assert MatchLevel.HIGH not in oos
    assert sum(level == MatchLevel.NONE for level in oos) / len(oos) >= 0.8
    assert mixed.match("tell me something funny", "en").best.entry.id == "tell_joke"


@pytest.mark.slow
def test_the_classifier_tells_the_entries_apart(banking: IntentMatcher, subset) -> None:
    index = banking._current_index()
    assert index.classifier is not None and index.classifier.coef.shape[0] == len(subset["train"])
    unseen = [(t, i) for i, texts in subset["unseen"].items() for t in texts]
    ids = [e.id for e in index.entries]
    right = 0
    for text, intent in unseen:
        proba = banking.entry_scores(text)[3]
        assert abs(float(proba.sum()) - 1.0) < 1e-4
        right += ids[int(np.argmax(proba))] == intent
    assert right / len(unseen) >= 0.8  # the classifier alone, on questions it never saw
    best = banking.match("my card was declined at the shop", "en").best
    assert best is not None and 0.0 < best.classifier <= 1.0


def test_without_calibration_there_is_no_classifier(subset, encoder) -> None:
    raw = IntentMatcher(few_shot(subset["train"]), encoder=encoder, options=MatcherOptions(calibrate=False))
    assert raw._current_index().classifier is None
    semantic, kw, mixed, proba, _ = raw.entry_scores("what is my balance")
    assert not proba.any()
    assert np.allclose(raw.combine(semantic, kw, mixed, proba, keyword_weight=0.0), semantic)


def test_levels_on_the_knowledge_base_scale() -> None:
    opts = MatcherOptions()
    assert level_of(opts.high, opts.margin, opts) == MatchLevel.HIGH
    assert level_of(opts.high, opts.margin / 2, opts) != MatchLevel.HIGH  # close runner-up: not answered at once
    # below the out-of-scope line: an agent, unless one topic stands far ahead of the rest
    assert level_of(opts.low - 0.5, 0.1, opts) == MatchLevel.NONE
    assert level_of(opts.low - 0.5, opts.ahead, opts) == MatchLevel.MEDIUM
    # in scope but unclear: the closest topics as options, or "Did you mean" when one stands out
    assert level_of((opts.low + opts.high) / 2, 0.05, opts) == MatchLevel.LOW
    assert level_of((opts.low + opts.high) / 2, opts.ahead, opts) == MatchLevel.MEDIUM


def test_score_scale_needs_enough_questions() -> None:
    few = ScoreScale.measure(np.array([0.9, 1.1, 1.0]), 0.05)
    assert (few.weak, few.typical) == ScoreScale.DEFAULT and few.questions == 3
    many = ScoreScale.measure(np.linspace(0.0, 2.0, 101), 0.05)
    assert many.weak == pytest.approx(0.1) and many.typical == pytest.approx(1.0)
    assert float(many(np.array([1.0]))[0]) == pytest.approx(1.0)


def test_calls_are_matched_on_the_previous_version_while_a_new_one_is_indexed(encoder, tmp_path: Path) -> None:
    import os
    import shutil

    import yaml

    from callscope.ivr.kb import BUNDLED_KB, KnowledgeBaseSource

    path = tmp_path / "kb.yaml"
    shutil.copyfile(BUNDLED_KB, path)
    matcher = IntentMatcher(KnowledgeBaseSource(path, check_interval_s=0.0), encoder=encoder)
    assert matcher.match("I forgot my password", "en").best.entry.id == "password_reset"
    data = yaml.safe_load(path.read_text())
    data["entries"].append(
        {"id": "service_outage", "questions": {"en": ["Is there an outage?", "My internet is down"]},
         "answers": {"en": "Known outages show on the status page in the app."}}
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert matcher._lock.acquire(timeout=5)  # as if another call's thread were indexing the new version
    try:
        during = matcher.match("is there an outage in my area", "en")  # answered now, not after the indexing
        assert all(c.entry.id != "service_outage" for c in during.candidates)
    finally:
        matcher._lock.release()
    assert matcher.match("is there an outage in my area", "en").best.entry.id == "service_outage"


# Mandarin callers of an English-only knowledge base (written for this test; not CLINC)
ZH_CALLERS = {
    "freeze_account": "请帮我冻结我的银行账户",
    "pin_change": "我想修改银行卡的密码",
    "bill_due": "我的信用卡账单哪天到期",
    "transfer": "帮我往另一个账户转一笔钱",
    "balance": "我账户里还有多少钱",
    "report_fraud": "我的卡上有一笔不是我刷的消费",
    "expiration_date": "我的卡什么时候过期",
    "damaged_card": "我的卡弯了，用不了了",
    "report_lost_card": "我的银行卡被偷了",
    "card_declined": "为什么我的卡刷不了，被拒绝了",
    "credit_limit": "我的信用额度是多少",
    "new_card": "我想申请一张新的信用卡",
}
ZH_OFF_TOPIC = ["附近有什么好吃的饭馆", "帮我查一下去上海的火车票", "周末去哪里玩比较好", "怎么学好英语"]


@pytest.mark.slow
def test_mandarin_callers_are_read_on_the_scale_of_an_english_knowledge_base(banking: IntentMatcher, subset, encoders) -> None:
    """Cross-lingual scores sit lower: the off-topic bank, said in English and in Mandarin,
    measures by how much on this knowledge base, and a Mandarin caller's score is read on the
    English scale."""
    for name, cal in banking.calibration().items():
        assert [s for s, _, _ in cal.scripts] == ["zh"], name
        assert cal.lift("zh", cal.on_topic) > 0.01, name  # the same sentences score lower in Mandarin
        assert cal.lift("latin", cal.on_topic) == 0.0  # the knowledge base's own script
    plain = IntentMatcher(few_shot(subset["train"]), encoders=encoders, options=MatcherOptions(script_scale=False))
    scaled = {i: banking.match(t, "zh") for i, t in ZH_CALLERS.items()}
    english_scale = {i: plain.match(t, "zh") for i, t in ZH_CALLERS.items()}
    handed_over = [i for i, r in scaled.items() if r.level == MatchLevel.NONE]
    assert not handed_over  # every covered topic is answered, confirmed or offered
    assert sum(r.level == MatchLevel.NONE for r in english_scale.values()) >= 1  # the English scale alone hands some over
    answered = {i: r for i, r in scaled.items() if r.level == MatchLevel.HIGH}
    assert len(answered) > sum(r.level == MatchLevel.HIGH for r in english_scale.values())
    assert all(r.best.entry.id == i for i, r in answered.items())  # answered at once: the right topic
    for text in ZH_OFF_TOPIC:  # still out of scope
        assert banking.match(text, "zh").level == MatchLevel.NONE, text
    # English callers keep their answer (their zero point is now the English half of the bank alone)
    english = banking.match("can you tell me how much money i have", "en")
    assert english.level == MatchLevel.HIGH and english.best.entry.id == "balance"


@pytest.mark.slow
def test_a_knowledge_base_with_mandarin_questions_maps_no_script(subset, encoders) -> None:
    kb = few_shot(subset["train"])
    for entry in list(kb.entries):
        kb.upsert(type(entry)(id=entry.id, questions={**entry.questions, "zh": (ZH_CALLERS[entry.id],)}, answers=entry.answers))
    matcher = IntentMatcher(kb, encoders=encoders)
    assert all(cal.scripts == () for cal in matcher.calibration().values())
