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
