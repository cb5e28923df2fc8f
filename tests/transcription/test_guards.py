"""Hallucination guards on hand-made segments (no model needed)."""

from __future__ import annotations

from callscope.domain import Segment
from callscope.transcription import guards


def seg(text: str, **kw) -> Segment:
    return Segment(0.0, 2.0, text, **kw)


def test_genuine_speech_has_no_flags() -> None:
    s = seg("Hi Emma, I just wanted to check what time your stores open.", avg_logprob=-0.3, no_speech_prob=0.02, compression_ratio=1.2)
    assert guards.segment_flags(s, speech_overlap=0.95) == ()


def test_no_speech_needs_both_signals() -> None:
    silent = seg("you", avg_logprob=-1.4, no_speech_prob=0.8)
    confident = seg("yes", avg_logprob=-0.2, no_speech_prob=0.8)
    assert "hallucination:no_speech" in guards.segment_flags(silent)
    assert "hallucination:no_speech" not in guards.segment_flags(confident)


def test_repetition_and_compression() -> None:
    looped = seg("thank you thank you thank you thank you thank you", compression_ratio=3.1)
    flags = guards.segment_flags(looped)
    assert "hallucination:repetition" in flags and "hallucination:compression" in flags
    chinese = seg("叮叮叮叮叮叮叮叮叮叮")
    assert "hallucination:repetition" in guards.segment_flags(chinese)
    assert "hallucination:repetition" not in guards.segment_flags(seg("no, no, I said Tuesday"))


def test_known_phrases_and_sound_tags() -> None:
    assert "hallucination:known_phrase" in guards.segment_flags(seg("Thanks for watching!"))
    assert "hallucination:known_phrase" in guards.segment_flags(seg("字幕由Amara.org社区提供"))
    assert "hallucination:known_phrase" not in guards.segment_flags(seg("我想取消订阅"))  # "cancel my subscription" is real
    for text in ("[Music]", "(applause)", "♪ ♪", "...", "（笑）"):
        assert "hallucination:non_speech" in guards.segment_flags(seg(text)), text


def test_prompt_echo_and_text_over_silence() -> None:
    echoed = seg("以下是普通话的句子。")
    assert "hallucination:prompt" in guards.segment_flags(echoed, prompt="以下是普通话的句子。")
    off_speech = seg("Hello there.", avg_logprob=-0.4)
    assert "hallucination:non_speech_audio" in guards.segment_flags(off_speech, speech_overlap=0.05)


def test_low_confidence_is_informational() -> None:
    s = seg("maybe the order number", avg_logprob=-1.3, no_speech_prob=0.1)
    flagged = Segment(0, 1, "x", flags=guards.segment_flags(s))
    assert flagged.flags == ("low_confidence",)
    assert not guards.is_droppable(flagged)
    assert guards.is_droppable(Segment(0, 1, "x", flags=("crosstalk",)))


def test_similar_text_for_echo() -> None:
    assert guards.similar_text("Thanks for calling Brightwave.", "thanks for calling bright wave")
    assert not guards.similar_text("Thanks for calling.", "My order has not arrived.")
