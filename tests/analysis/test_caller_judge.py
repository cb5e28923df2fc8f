"""The local LLM's reading of the caller: prompt, answer probabilities, fallbacks; the real model when installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscope import llm as llm_module
from callscope.analysis.caller_judge import ANSWERS, judge_caller, judge_messages
from callscope.analysis.summary import _EN_USER, _ZH_USER, SYSTEM_PROMPTS, transcript_text
from callscope.domain import Emotion, Role
from callscope.errors import ModelError
from callscope.llm import option_mass


def _recorded(data_dir: Path, cid: str) -> tuple[list[tuple[Role, str]], dict[str, float], str]:
    meta = json.loads((data_dir / "analysis/whisper_zh_dev_opinions.json").read_text(encoding="utf-8"))["calls"][cid]
    return [(Role(t["role"]), t["text"]) for t in meta["turns"]], meta["llm_opinion"], meta["script_emotion"]


class FakeLLM:
    """Answers every question with fixed first-token candidates, as llama.cpp reports them."""

    def __init__(self, candidates: list[tuple[str, float]] | Exception) -> None:
        self.candidates = candidates
        self.asked: list[list[dict]] = []

    def choose(self, messages: list[dict], options, *, top: int = 20) -> dict[str, float]:
        self.asked.append(messages)
        if isinstance(self.candidates, Exception):
            raise self.candidates
        return option_mass(self.candidates, options)


def test_the_request_opens_like_the_summary_request(data_dir: Path) -> None:
    """Same system line and transcript block as the summary's request: llama.cpp's prompt cache then serves
    the transcript to whichever request comes second."""
    turns, _, _ = _recorded(data_dir, "c_zh_027")
    for lang, template in (("zh", _ZH_USER), ("en", _EN_USER)):
        system, user = judge_messages(turns, lang)
        summary_user = template.format(transcript=transcript_text(turns, lang))
        transcript = transcript_text(turns, lang)
        assert system == {"role": "system", "content": SYSTEM_PROMPTS[lang]}
        cut = summary_user.index(transcript) + len(transcript) + 2
        assert user["content"][:cut] == summary_user[:cut] and "从昨晚到现在都连不上" in user["content"][:cut]
        assert all(word in user["content"][cut:] for word in ANSWERS[lang])


def test_first_token_candidates_become_class_probabilities(data_dir: Path) -> None:
    """The model's first-token candidates (how Qwen2.5 split the answer words on c_zh_049) are summed per answer
    word and normalised; tokens that begin no answer word are left out."""
    turns, _, _ = _recorded(data_dir, "c_zh_049")
    fake = FakeLLM([("担心", -0.54), ("平", -1.47), ("不满", -1.71), ("高", -5.2), ("客户", -3.0), ("担", -4.0)])
    opinion = judge_caller(turns, "zh", fake)
    assert opinion is not None and set(opinion) == {Emotion.NEUTRAL, Emotion.POSITIVE, Emotion.FRUSTRATED, Emotion.ANXIOUS}
    assert abs(sum(opinion.values()) - 1) < 1e-9
    assert max(opinion, key=lambda k: opinion[k]) == Emotion.ANXIOUS and opinion[Emotion.POSITIVE] < 0.01
    assert option_mass([("fr", -0.5), (" Wor", -1.0), ("c", -2.0), ("cal", -3.0), ("x", -0.1)],
                       ANSWERS["en"]) == pytest.approx({"calm": 0.1353 + 0.0498, "pleased": 0.0,
                                                        "frustrated": 0.6065, "worried": 0.3679}, abs=1e-3)


def test_no_opinion_without_a_model_or_for_an_unjudged_language(data_dir: Path) -> None:
    """The cue method stays alone: no model, a failing model, an answer that is none of the words, an English
    call (not judged by default), a call with no words."""
    turns, _, _ = _recorded(data_dir, "c_zh_027")
    assert judge_caller(turns, "zh", None) is None
    assert judge_caller(turns, "zh", FakeLLM(ModelError("the local LLM failed"))) is None
    assert judge_caller(turns, "zh", FakeLLM([("客户", -0.1), ("The", -2.0)])) is None
    english = FakeLLM([("calm", -0.1)])
    assert judge_caller([(Role.CALLER, "My internet is down.")], "en", english) is None and not english.asked
    assert judge_caller([(Role.CALLER, "My internet is down.")], "en", english, languages=("en", "zh")) is not None
    assert judge_caller([(Role.CALLER, "  ")], "zh", FakeLLM([("平静", -0.1)])) is None


@pytest.mark.slow
@pytest.mark.skipif(not (llm_module.runtime_installed() and llm_module.model_installed()), reason="local LLM not installed")
def test_the_bundled_model_reads_mandarin_callers(local_llm, data_dir: Path) -> None:
    """The real model on real Whisper text: it reads the worried caller (c_zh_049) as worried rather than
    frustrated, the angry one (c_zh_038) as frustrated rather than worried, the calm one (c_zh_027) as calm,
    as it did when the recorded opinions were taken."""
    for cid, likeliest in (("c_zh_049", Emotion.ANXIOUS), ("c_zh_038", Emotion.FRUSTRATED), ("c_zh_027", Emotion.NEUTRAL)):
        turns, recorded, _ = _recorded(data_dir, cid)
        opinion = judge_caller(turns, "zh", local_llm)
        assert opinion is not None and max(opinion, key=lambda k: opinion[k]) == likeliest, (cid, opinion)
        assert abs(opinion[likeliest] - recorded[str(likeliest)]) < 0.1
