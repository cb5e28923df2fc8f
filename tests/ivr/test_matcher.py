"""Intent matching with the real multilingual encoder plus keywords."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
import yaml

from callscope.ivr.kb import BUNDLED_KB, KnowledgeBaseSource, load_knowledge_base
from callscope.ivr.matcher import IntentMatcher, MatcherOptions, MatchLevel, keywords


class CountingEncoder:
    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return self.inner.encode(texts)


@pytest.fixture(scope="module")
def matcher(encoder) -> IntentMatcher:
    """The matcher as the IVR runs it: both bundled encoders."""
    from callscope.analysis.embeddings import load_encoder

    # the shipped encoders alone, whether or not a tuned encoder is cached beside the bundled KB
    # (`callscope ivr tune`; that one is tested in test_tuning.py)
    return IntentMatcher(
        load_knowledge_base(BUNDLED_KB), encoders=[encoder, load_encoder("e5-small", 1)], options=MatcherOptions(tuned=False)
    )


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("I can't remember my password", "en", "password_reset"),
        ("what time do you close on saturday", "en", "opening_hours"),
        ("how long does it take to get my refund", "en", "returns"),
        ("tracking my delivery please", "en", "order_status"),
        ("can I pay by debit card", "en", "payment_options"),
        ("帮我查查订单", "zh", "order_status"),
        ("密码忘了怎么办", "zh", "password_reset"),
        ("我想退货", "zh", "returns"),
        ("你们周六几点关门", "zh", "opening_hours"),
    ],
)
def test_paraphrases_are_answered(matcher: IntentMatcher, text: str, language: str, expected: str) -> None:
    result = matcher.match(text, language)
    assert result.best is not None and result.best.entry.id == expected
    assert result.level == MatchLevel.HIGH, result.candidates


def test_cross_lingual_match(matcher: IntentMatcher, encoder) -> None:
    # an English-only knowledge base still answers a Mandarin question
    kb = load_knowledge_base(BUNDLED_KB)
    for entry in list(kb.entries):
        kb.upsert(dataclasses.replace(entry, questions={"en": entry.questions["en"]}))
    english_only = IntentMatcher(kb, encoder=encoder)
    result = english_only.match("怎么重置密码", "zh")
    assert result.best is not None and result.best.entry.id == "password_reset"
    assert result.level in (MatchLevel.HIGH, MatchLevel.MEDIUM)


@pytest.mark.parametrize(
    "text",
    [
        "what's the weather like",
        "I'd like to leave a review for the staff",
        "今天天气怎么样",
        "my internet is down is there an outage",
        "宽带断网了",
    ],
)
def test_out_of_scope_questions_are_not_answered(matcher: IntentMatcher, text: str) -> None:
    assert matcher.match(text, "en").level != MatchLevel.HIGH


def test_calibration_is_measured_on_the_knowledge_base(matcher: IntentMatcher) -> None:
    calibration = matcher.calibration()
    assert set(calibration) == {"use-multilingual", "e5-small"}
    for cal in calibration.values():  # off-topic sentences score below the entries' own questions
        assert 0.0 < cal.off_topic < cal.on_topic < 1.0
    assert calibration["use-multilingual"].on_topic - calibration["use-multilingual"].off_topic > 0.15
    # e5's cosines are compressed, so its scale is narrower: the reason for calibrating per encoder
    assert calibration["e5-small"].off_topic > calibration["use-multilingual"].off_topic


def test_out_of_scope_level_for_small_talk(matcher: IntentMatcher) -> None:
    assert matcher.match("who won the football last night", "en").level == MatchLevel.NONE
    assert matcher.match("给我讲个笑话吧", "zh").level == MatchLevel.NONE


def test_titles_and_answers_are_indexed(encoder) -> None:
    kb = load_knowledge_base(BUNDLED_KB)
    for entry in list(kb.entries):  # one example question per entry
        kb.upsert(dataclasses.replace(entry, questions={"en": entry.questions["en"][:1]}))
    with_extras = IntentMatcher(kb, encoder=encoder)
    plain = IntentMatcher(kb, encoder=encoder, options=MatcherOptions(index_titles=False, index_answers=False))
    text = "holiday opening hours"  # the entry's label
    assert with_extras.match(text, "en").best.matched_question == "holiday opening hours"
    assert with_extras.match(text, "en").best.entry.id == "holiday_hours"
    assert all(c.matched_question != "holiday opening hours" for c in plain.match(text, "en").candidates)


def test_empty_text_and_exclusions(matcher: IntentMatcher) -> None:
    assert matcher.match("", "en").level == MatchLevel.LOW
    excluded = matcher.match("I can't remember my password", "en", exclude=["password_reset"])
    assert all(c.entry.id != "password_reset" for c in excluded.candidates)


def test_keywords_en_and_zh() -> None:
    assert keywords("Where are my orders?") == ["order"]
    assert "营业" in keywords("营业时间")


def test_each_utterance_is_encoded_once_and_reload_adds_only_new_questions(
    encoder, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr("callscope.ivr.matcher._VECTORS", {})  # as in a fresh process
    path = tmp_path / "kb.yaml"
    shutil.copyfile(BUNDLED_KB, path)
    counting = CountingEncoder(encoder)
    matcher = IntentMatcher(KnowledgeBaseSource(path, check_interval_s=0.0), encoder=counting)
    matcher.match("is there a network outage in my area", "en")
    matcher.match("is there a network outage in my area", "en")
    utterance_calls = [c for c in counting.calls if c == ["is there a network outage in my area"]]
    assert len(utterance_calls) == 1
    before = matcher.match("is there a network outage in my area", "en")
    assert before.best is None or before.best.entry.id != "outage"

    data = yaml.safe_load(path.read_text())
    data["entries"].append(
        {
            "id": "service_outage",
            "questions": {"en": ["Is there an outage?", "My internet is down"], "zh": ["宽带断网了怎么办？"]},
            "answers": {
                "en": "Known outages show on the status page in the app.",
                "zh": "已知故障会显示在应用的状态页面。",
            },
        }
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    n_calls = len(counting.calls)
    after = matcher.match("is there a network outage in my area", "en")
    assert after.best is not None and after.best.entry.id == "service_outage"
    new_batches = counting.calls[n_calls:]
    # only the new entry's texts: its questions, its title (from the id) and its answers
    assert sorted(q for batch in new_batches for q in batch) == sorted(
        [
            "Is there an outage?",
            "My internet is down",
            "宽带断网了怎么办？",
            "service outage",
            "Known outages show on the status page in the app.",
            "已知故障会显示在应用的状态页面。",
        ]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("where is my ordr", "order_status"),  # a letter dropped by the recogniser
        ("i forgott my pasword", "password_reset"),
        ("do you take pay pal", "payment_options"),
    ],
)
def test_speech_recognition_errors_still_match(matcher: IntentMatcher, text: str, expected: str) -> None:
    result = matcher.match(text, "en")
    assert result.best is not None and result.best.entry.id == expected
    assert result.level in (MatchLevel.HIGH, MatchLevel.MEDIUM)
