"""Reason for calling: the caller's question, without greetings, small talk or identity checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscope.analysis.reason import extract_reason, is_filler_sentence, split_sentences
from callscope.models import Role

A, C = Role.AGENT, Role.CALLER


def _turns(path: Path) -> list[tuple[Role, str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(Role(t["speaker"]), t["text"]) for t in data["turns"]]


@pytest.fixture(scope="module")
def calls(data_dir: Path) -> dict[str, list[tuple[Role, str]]]:
    folder = data_dir / "analysis" / "calls"
    return {p.name.split(".")[0]: _turns(p) for p in sorted(folder.glob("*.analysis.json"))}


def test_reference_calls_give_the_question_not_the_greeting(calls: dict[str, list[tuple[Role, str]]]) -> None:
    reasons = {stem: extract_reason(turns) for stem, turns in calls.items()}
    assert len(reasons) == 16 and all(reasons.values())
    assert "stores open on Sunday" in reasons["s_en_01"] and "Emma" not in reasons["s_en_01"]
    assert "password is wrong" in reasons["s_en_03"]
    # "Yes." before the complaint is dropped, the bill sentences are kept.
    assert reasons["s_en_04"].startswith("I've just opened my bill")
    assert reasons["s_en_07"] == "Are your shops open on the bank holiday Monday?"
    assert "I'm sorry to bother you" not in reasons["s_en_08"] and "code never arrives" in reasons["s_en_08"]
    assert reasons["s_en_10"] == "I want to know where my order is."
    assert "几点开门" in reasons["s_zh_01"] and "你好" not in reasons["s_zh_01"]
    assert reasons["s_zh_03"] == "我家的宽带从昨天晚上就上不了网了。"
    # The phone number the caller reads out later is identity, never the reason.
    assert not any("13900128865" in r for r in reasons.values())


def test_identity_verification_and_small_talk_are_skipped() -> None:
    turns = [
        (A, "Thanks for calling, how can I help?"),
        (C, "Hi there, how are you doing today?"),
        (A, "Very well, thanks."),
        (C, "My name is John Smith. My account number is 88421065."),
        (C, "I was charged twice for my broadband this month."),
    ]
    assert extract_reason(turns) == "I was charged twice for my broadband this month."


def test_mandarin_greeting_and_name_are_skipped() -> None:
    turns = [
        (A, "您好，请问有什么可以帮您？"),
        (C, "喂，你好。"),
        (C, "我叫王芳。"),
        (C, "我的宽带上不了网了，怎么办？"),
    ]
    assert extract_reason(turns, "zh") == "我的宽带上不了网了，怎么办？"


def test_without_roles_the_agent_opening_is_ignored() -> None:
    turns = [
        (Role.UNKNOWN, "Thank you for calling Brightwave, how can I help?"),
        (Role.UNKNOWN, "Hello. Can I still return headphones I bought two weeks ago?"),
    ]
    assert extract_reason(turns) == "Can I still return headphones I bought two weeks ago?"


def test_nothing_but_pleasantries_gives_empty_reason() -> None:
    assert extract_reason([]) == ""
    assert extract_reason([(A, "How can I help?"), (C, "Hi. Okay, thanks, bye.")]) == ""


def test_sentence_helpers() -> None:
    assert split_sentences("Thank you, Mr. Harris. I can see it.") == ["Thank you, Mr. Harris.", "I can see it."]
    assert split_sentences("你好。我想问一下！可以吗？", "zh") == ["你好。", "我想问一下！", "可以吗？"]
    assert is_filler_sentence("Hi Emma.")
    assert is_filler_sentence("It's BW612904.")
    assert is_filler_sentence("订单号是5582073。", "zh")
    assert not is_filler_sentence("My internet has been down since this morning.")
