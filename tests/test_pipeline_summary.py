"""The call-summary stage of the pipeline: its setting, and where the summary lands."""

from __future__ import annotations

import pytest

from callscope.domain import AnalyzedTurn, CallAnalysis, Emotion, EmotionScore, Role
from callscope.pipeline import CallProcessor, analysis_to_dict

NEUTRAL = EmotionScore(Emotion.NEUTRAL, 0.9, 0.0)


def _analysis() -> CallAnalysis:
    said = [
        (Role.AGENT, "Thank you for calling Brightwave, how can I help?"),
        (Role.CALLER, "Hi, what time do your stores open on Sunday?"),
        (Role.AGENT, "On Sunday our stores open from 10 a.m. to 5 p.m."),
        (Role.CALLER, "Great, thank you!"),
    ]
    turns = tuple(AnalyzedTurn(str(r), r, 2.0 * i, 2.0 * i + 1.5, t, NEUTRAL) for i, (r, t) in enumerate(said))
    return CallAnalysis("rec", "en", "Hi, what time do your stores open on Sunday?", NEUTRAL, NEUTRAL, turns, None)


@pytest.mark.parametrize("mode", ["off", "extractive"])
def test_summary_stage_follows_its_setting(settings, mode: str) -> None:
    processor = CallProcessor(settings.model_copy(update={"summary": mode}))
    analysis = processor.summarize(_analysis())
    data = analysis_to_dict(analysis)
    if mode == "off":
        assert analysis.summary is None and data["summary"] is None
    else:
        assert data["summary"]["method"] == "extractive" and data["summary"]["resolved"] is True
        assert "stores open on Sunday" in data["summary"]["text"]


def test_summary_is_redacted_for_roles_without_pii_access() -> None:
    from callscope.api.redaction import redact_analysis_dict

    data = {"language": "en", "reason": "", "turns": [],
            "summary": {"text": "The caller gave her card number 4111 1111 1111 1111 to pay.", "resolved": True, "method": "llm"}}
    out = redact_analysis_dict(data)
    assert "4111" not in out["summary"]["text"] and out["summary"]["resolved"] is True


@pytest.mark.parametrize(("summary", "emotion_llm", "asked"),
                         [("extractive", None, False), ("llm", None, True), ("extractive", True, True), ("llm", False, False)])
def test_the_llm_reads_the_caller_when_summaries_use_it_or_when_asked(
    settings, monkeypatch: pytest.MonkeyPatch, summary: str, emotion_llm: bool | None, asked: bool
) -> None:
    """By default the caller's LLM reading comes with LLM summaries (one model, one cached transcript); the
    ``emotion_llm`` setting overrides that. Without it the cue method labels the caller alone."""
    import callscope.pipeline as pipeline
    from callscope.analysis.emotion import TurnText
    from callscope.llm import option_mass

    class Fake:
        def choose(self, messages, options, *, top=20):
            return option_mass([("担心", -0.2), ("平", -2.0)], options)

    monkeypatch.setattr(pipeline, "get_llm", lambda: Fake())
    processor = CallProcessor(settings.model_copy(update={"summary": summary, "emotion_llm": emotion_llm}))
    turns = [TurnText("caller", Role.CALLER, 0.0, 3.0, "我很担心，退款一直没有到我的卡上。")]
    opinion = processor.caller_opinion(turns, "zh")
    assert (opinion is not None) == asked
    if asked:
        assert max(opinion, key=lambda k: opinion[k]) == Emotion.ANXIOUS
