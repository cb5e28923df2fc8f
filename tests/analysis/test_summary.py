"""Call summaries on real call transcripts (tests/data/calls): extractive always, the LLM's when installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscope import llm as llm_module
from callscope.analysis.summary import clean_summary, resolved_from_turns, summarize_call, transcript_text
from callscope.domain import Role


def _turns(data_dir: Path, call: str) -> tuple[list[tuple[Role, str]], str]:
    meta = json.loads((data_dir / "calls" / f"{call}.json").read_text(encoding="utf-8"))
    return [(Role(t["speaker"]), t["text"]) for t in meta["turns"]], meta["language"]


def test_extractive_summary_in_the_calls_language(data_dir: Path) -> None:
    turns, lang = _turns(data_dir, "s_en_01")
    summary = summarize_call(turns, lang, reason="I just wanted to check what time your stores open on Sunday.", llm=None)
    assert summary.method == "extractive"
    assert summary.text.startswith('The caller said: "I just wanted to check what time your stores open on Sunday."')
    assert "The agent said:" in summary.text
    turns, lang = _turns(data_dir, "s_zh_01")
    summary = summarize_call(turns, lang, reason="周日营业厅几点开门？", llm=None)
    assert summary.text.startswith("来电原因：周日营业厅几点开门。") and "客服：" in summary.text


def test_resolved_heuristic() -> None:
    happy = [(Role.CALLER, "When do you open?"), (Role.AGENT, "At nine."), (Role.CALLER, "Great, thank you!")]
    assert resolved_from_turns(happy, "en") is True
    angry = [(Role.CALLER, "It still doesn't work."), (Role.AGENT, "I'll transfer you to a specialist."), (Role.CALLER, "Thanks.")]
    assert resolved_from_turns(angry, "en") is False


def test_an_llm_answer_is_checked() -> None:
    turns = [(Role.CALLER, "I want to know what time your stores open on Sunday because I need a charger."),
             (Role.AGENT, "On Sunday we open from ten to five.")]
    good = "The customer asked about Sunday opening hours. The agent said stores open from 10 to 5.\nResolved: yes"
    assert clean_summary(good, "en", turns) == ("The customer asked about Sunday opening hours. The agent said stores open from 10 to 5.", True)
    assert clean_summary("Customer: I want to know what time your stores open on Sunday because I need a charger.", "en", turns) is None
    assert clean_summary("客户询问周日营业时间，客服告知周日十点到五点营业。\n已解决：是", "en", turns) is None  # wrong language
    assert clean_summary("客户询问周日营业时间，客服告知周日十点到五点营业。\n已解决：是", "zh", turns) == ("客户询问周日营业时间，客服告知周日十点到五点营业。", True)
    assert clean_summary("Okay.", "en", turns) is None
    rambling = "The customer asked about Sunday hours. The agent gave them. The customer asked about a charger. The agent said"
    assert clean_summary(rambling, "en", turns) == ("The customer asked about Sunday hours. The agent gave them. The customer asked about a charger.", None)


def test_long_calls_keep_their_start_and_end() -> None:
    turns = [(Role.CALLER, "first " * 50)] + [(Role.AGENT, f"middle {i} " * 20) for i in range(100)] + [(Role.CALLER, "last words")]
    text = transcript_text(turns, "en")
    assert len(text) <= 6100 and text.startswith("Customer: first") and text.endswith("Customer: last words") and "…" in text


@pytest.mark.slow
@pytest.mark.skipif(not (llm_module.runtime_installed() and llm_module.model_installed()), reason="local LLM not installed")
def test_the_llm_summarises_english_and_mandarin_calls(local_llm, data_dir: Path) -> None:
    turns, lang = _turns(data_dir, "s_en_01")
    summary = summarize_call(turns, lang)
    assert summary.method == "llm", summary
    assert any(w in summary.text.lower() for w in ("sunday", "open", "hours")), summary
    turns, lang = _turns(data_dir, "s_zh_01")
    summary = summarize_call(turns, lang)
    assert summary.method == "llm", summary
    assert any(w in summary.text for w in ("周日", "营业", "开门")), summary
