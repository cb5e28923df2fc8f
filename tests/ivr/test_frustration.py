"""Frustration: phrase lexicon first, injected sentiment and failures as extra evidence."""

from __future__ import annotations

import pytest

from callscope.ivr.frustration import FrustrationDetector, frustration_phrases


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("This is ridiculous, I've been waiting forever", "en"),
        ("you're useless, I already told you", "en"),
        ("what a waste of time", "en"),
        ("太慢了，我要投诉", "zh"),
        ("什么破系统，烦死了", "zh"),
    ],
)
def test_phrases_alone_mean_frustrated(text: str, language: str) -> None:
    result = FrustrationDetector().assess(text, language)
    assert result.frustrated
    assert result.reasons and result.reasons[0].startswith("said:")


@pytest.mark.parametrize("text", ["where is my order", "what time do you open on sunday", "我想退货", "营业时间是几点"])
def test_calm_questions_are_not_frustrated(text: str) -> None:
    assert not FrustrationDetector().assess(text, "en").frustrated


def test_longer_zh_phrase_wins_over_contained_one() -> None:
    assert frustration_phrases("太慢了") == ["太慢了"]


def test_sentiment_and_failures_add_up() -> None:
    seen: list[tuple[str, str]] = []

    def sentiment(text: str, language: str) -> float:
        seen.append((text, language))
        return -0.9

    detector = FrustrationDetector(sentiment)
    first_try = detector.assess("I still have no idea where the parcel is", "en", failures=0)
    assert not first_try.frustrated and first_try.sentiment is None  # could not tip the balance: not called
    assert seen == []
    after_failures = detector.assess("I still have no idea where the parcel is", "en", failures=2)
    assert after_failures.frustrated
    assert any("negative sentiment" in r for r in after_failures.reasons)
    assert any("2 failed attempts" in r for r in after_failures.reasons)
    assert seen[0] == ("I still have no idea where the parcel is", "en")


def test_broken_sentiment_model_falls_back_to_phrases() -> None:
    def broken(text: str, language: str) -> float:
        raise RuntimeError("model exploded")

    detector = FrustrationDetector(broken)
    assert detector.assess("this is ridiculous", "en").frustrated
    assert not detector.assess("opening hours please", "en").frustrated
