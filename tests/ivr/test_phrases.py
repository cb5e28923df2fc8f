"""Bilingual lexicons and spoken-number parsing used before the knowledge base."""

from __future__ import annotations

import pytest

from callscope.ivr import phrases
from callscope.ivr.actions import extract_order_id


@pytest.mark.parametrize(
    "text",
    [
        "agent",
        "Can I speak to a representative please",
        "I want a real person",
        "operator!",
        "转人工",
        "我要人工服务",
        "找客服",
    ],
)
def test_agent_requests(text: str) -> None:
    assert phrases.is_agent_request(text)


@pytest.mark.parametrize(
    "text", ["", "what are your opening hours", "my travel agency booked it", "客服电话几点到几点？"]
)
def test_not_agent_requests(text: str) -> None:
    assert not phrases.is_agent_request(text)


@pytest.mark.parametrize(
    ("text", "digits", "expected"),
    [
        ("yes", "", True),
        ("yeah that's right", "", True),
        ("no", "", False),
        ("no that's wrong", "", False),
        ("", "1", True),
        ("", "2", False),
        ("是的", "", True),
        ("对", "", True),
        ("不是", "", False),
        ("不对", "", False),
        ("how do I reset my password when the code never arrives", "", None),
        ("我想问一下退货", "", None),
    ],
)
def test_yes_no(text: str, digits: str, expected: bool | None) -> None:
    assert phrases.yes_no(text, digits) is expected


def test_done_and_repeat_and_language() -> None:
    assert phrases.is_done("no thanks, that's all")
    assert phrases.is_done("没有了，谢谢")
    assert phrases.is_done("", "2")
    assert not phrases.is_done("what about returns")
    assert phrases.is_repeat_request("sorry can you repeat that")
    assert phrases.is_repeat_request("再说一遍")
    assert phrases.language_request("Mandarin please") == "zh"
    assert phrases.language_request("普通话") == "zh"
    assert phrases.language_request("English") == "en"
    assert phrases.language_request("where is my order") is None


@pytest.mark.parametrize(
    ("text", "digits", "expected"),
    [
        ("B W five oh three eight seven two", "", "BW503872"),
        ("it's BW503872", "", "BW503872"),
        ("my order number is 5 0 3 8 7 2", "", "BW503872"),
        ("double five eight two zero seven", "", "BW558207"),
        ("订单号是五零三八七二", "", "BW503872"),
        ("B W 幺二八八七零", "", "BW128870"),
        ("", "503872", "BW503872"),
        ("", "503872#", "BW503872"),
        ("", "5038", None),
        ("I want to talk to someone", "", None),
        ("two for one", "", None),
    ],
)
def test_order_numbers_spoken_or_keyed(text: str, digits: str, expected: str | None) -> None:
    assert extract_order_id(text, digits) == expected


def test_ratings_and_cleaning() -> None:
    assert phrases.parse_rating("", "4", 1, 5) == 4
    assert phrases.parse_rating("five", "", 1, 5) == 5
    assert phrases.parse_rating("", "10#", 0, 10) == 10
    assert phrases.parse_rating("nine out of ten", "", 0, 10) == 9
    assert phrases.parse_rating("十", "", 0, 10) == 10
    assert phrases.parse_rating("", "7", 1, 5) is None
    assert phrases.parse_rating("great", "", 1, 5) is None
    long = "word " * 1000
    assert len(phrases.clean_utterance(long)) <= phrases.MAX_UTTERANCE_CHARS
    assert phrases.clean_utterance("  營業時間\x00 ") == "营业时间"
    assert phrases.clean_utterance(None) == ""
    assert phrases.mask_card_numbers("my card is 4111 1111 1111 1111 ok") == "my card is [card] ok"
    assert phrases.mask_card_numbers("order 503872") == "order 503872"
