"""The IVR times each webhook from its arrival, so the matcher can keep a question turn within
``CALLSCOPE_IVR_LATENCY_BUDGET_MS`` (the matcher's side: tests/ivr/test_tuning.py)."""

from __future__ import annotations

import time

from callscope.ivr.matcher import IntentMatcher, turn_started


def test_a_question_turn_is_matched_with_its_webhooks_arrival_time(simulate, monkeypatch) -> None:
    seen: list[float | None] = []
    match = IntentMatcher.match

    def recording_match(self, text, language, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(turn_started.get())
        return match(self, text, language, **kwargs)

    monkeypatch.setattr(IntentMatcher, "match", recording_match)
    before = time.perf_counter()
    call = simulate(["press 1", "what time do you open on saturday"])
    assert call.turns and seen, "the question reached the matcher"
    assert all(t is not None and before <= t <= time.perf_counter() for t in seen)
    assert turn_started.get() is None  # only inside a webhook
