"""Topic names for issues: the local LLM's (checked) or ranked key phrases, on real support texts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from callscope import llm as llm_module
from callscope.analysis.topic_names import TopicGroup, clean_name, keyphrase_names, name_topics, sentence_case

STEMS = {  # what a supervisor's name for each intent would contain (any one)
    "recover_password": ("password",),
    "track_order": ("order", "track"),
    "check_refund_policy": ("refund",),
    "delivery_options": ("deliver", "shipping"),
    "payment_issue": ("payment", "pay"),
    "check_invoice": ("invoice",),
}


@pytest.fixture(scope="module")
def groups(data_dir: Path) -> list[tuple[str, TopicGroup]]:
    with (data_dir / "analysis" / "bitext_slice.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_intent: dict[str, list[str]] = {}
    for row in rows:
        by_intent.setdefault(row["intent"], []).append(row["text"])
    return [(intent, TopicGroup(tuple(texts), "en")) for intent, texts in by_intent.items()]


def _hits(names: list[str], intents: list[str]) -> int:
    return sum(any(s in n.lower() for s in STEMS[i]) for n, i in zip(names, intents, strict=True))


def test_key_phrases_name_each_intent(groups) -> None:
    names = keyphrase_names([g for _, g in groups])
    assert all(1 <= len(n.split()) <= 3 for n in names), names
    assert _hits(names, [i for i, _ in groups]) >= 4, names  # the fallback is weaker than the LLM (BENCHMARKS)


def test_key_phrases_in_chinese() -> None:
    group = TopicGroup(("我家宽带从昨天开始断网了", "宽带断网，一直上不了网", "宽带又断网了，什么时候能修好"), "zh")
    other = TopicGroup(("我的订单到哪里了", "帮我查一下订单物流"), "zh")
    first, second = keyphrase_names([group, other])
    assert "宽带" in first or "断网" in first
    assert "订单" in second


def test_a_name_is_checked() -> None:
    assert clean_name('Topic: "Store Opening Hours."', "en") == "Store opening hours"
    assert clean_name("PIN Change", "en") == "PIN change"
    assert clean_name("宽带故障。", "zh") == "宽带故障"
    reason = "What time do you open on Sunday"
    assert clean_name(reason + "?", "en", [reason + "?"]) is None  # a copy of a caller's reason
    assert clean_name("The customers are asking about the opening hours of the store on Sunday", "en") is None
    assert clean_name("营业时间", "en") is None  # wrong language
    assert clean_name("Opening hours", "zh") is None
    assert clean_name("客户询问营业厅在周日和节假日的具体营业时间安排", "zh") is None  # too long
    assert sentence_case("Bank Account Interest Rates") == "Bank account interest rates"


def test_no_llm_means_key_phrases(groups) -> None:
    names = name_topics([g for _, g in groups], llm=None)
    assert {n.method for n in names} == {"keyphrase"}


@pytest.mark.slow
@pytest.mark.skipif(not (llm_module.runtime_installed() and llm_module.model_installed()), reason="local LLM not installed")
def test_the_llm_names_topics_in_their_language(local_llm, groups) -> None:
    service = local_llm
    picked = [groups[0], groups[1], groups[3]]
    zh = TopicGroup(("我家宽带从昨天开始断网了", "宽带断网，一直上不了网", "路由器灯是红的，连不上网"), "zh")
    names = name_topics([g for _, g in picked] + [zh], service)
    assert [n.method for n in names] == ["llm"] * 4, names
    assert _hits([n.text for n in names[:3]], [i for i, _ in picked]) == 3, names
    assert any(w in names[3].text for w in ("宽带", "网络", "断网", "上网")), names
    assert all(len(n.text.split()) <= 6 for n in names[:3]) and len(names[3].text) <= 12
