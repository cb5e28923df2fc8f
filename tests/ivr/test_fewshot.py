"""A few-shot knowledge base (3 example questions per entry, CLINC150 banking) answers
unseen caller questions on the first sentence far more often than nearest neighbour with
one global threshold, at the same rate of out-of-scope questions answered."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from callscope.ivr.kb import KnowledgeBase
from callscope.ivr.matcher import IntentMatcher, MatcherOptions, MatchLevel
from callscope.domain import FaqEntry

DATA = Path(__file__).resolve().parent.parent / "data" / "ivr" / "clinc150_banking_subset.json"


@pytest.fixture(scope="module")
def subset() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def few_shot_kb(subset) -> KnowledgeBase:
    kb = KnowledgeBase()
    for intent, questions in subset["train"].items():
        title = intent.replace("_", " ")
        kb.entries.append(FaqEntry(id=intent, questions={"en": tuple(questions)}, answers={"en": title}))
    return kb


@pytest.fixture(scope="module")
def encoders():
    from callscope.analysis.embeddings import load_encoder

    return [load_encoder("use-multilingual", 1), load_encoder("e5-small", 1)]


@pytest.mark.slow
def test_few_shot_kb_answers_unseen_questions_on_the_first_sentence(subset, few_shot_kb, encoders) -> None:
    ours = IntentMatcher(few_shot_kb, encoders=encoders)
    unseen = [(t, i) for i, texts in subset["unseen"].items() for t in texts]
    first = sum(
        (r := ours.match(t, "en")).level == MatchLevel.HIGH and r.best.entry.id == i for t, i in unseen
    ) / len(unseen)
    wrong = sum(
        (r := ours.match(t, "en")).level == MatchLevel.HIGH and r.best.entry.id != i for t, i in unseen
    ) / len(unseen)
    oos_levels = [ours.match(t, "en").level for t in subset["oos"]]
    oos_answered = sum(level == MatchLevel.HIGH for level in oos_levels) / len(oos_levels)
    assert oos_answered <= 0.1
    assert wrong <= 0.05

    # nearest neighbour over the example questions, raw cosine, same encoders, with the one
    # threshold that suits it best on this very data at the same (or a lower) rate of wrong and
    # out-of-scope answers
    nn = IntentMatcher(
        few_shot_kb,
        encoders=encoders,
        options=MatcherOptions(calibrate=False, keyword_weight=0.0, index_titles=False, index_answers=False),
    )
    ins = [(nn.match(t, "en").best, i) for t, i in unseen]
    oos_best = np.array([nn.match(t, "en").best.score for t in subset["oos"]])
    baseline_first = 0.0
    for threshold in np.unique(np.concatenate([oos_best, [c.score for c, _ in ins]])):
        bad = sum(c.score >= threshold and c.entry.id != i for c, i in ins) / len(ins)
        if (oos_best >= threshold).mean() <= oos_answered and bad <= max(wrong, 0.02):
            rate = sum(c.score >= threshold and c.entry.id == i for c, i in ins) / len(ins)
            baseline_first = max(baseline_first, rate)
    assert first >= 0.6
    assert first >= baseline_first + 0.15, (first, baseline_first)
    # the out-of-scope questions mostly read as out of scope, not as a plausible topic
    assert sum(level in (MatchLevel.NONE, MatchLevel.LOW) for level in oos_levels) / len(oos_levels) >= 0.5
