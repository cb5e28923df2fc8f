"""The canonical question of a FAQ draft: when the local LLM's rewording counts as grounded."""

from __future__ import annotations

from callscope.analysis.faq_question import clearest, ungrounded

# what two callers of the demo's outage issue said (Whisper transcripts of samples/calls)
OUTAGE = [
    "The internet in my flat has been off since lunchtime and the light on the router is red. Is there a problem on your side?",
    "My internet has been down since about 7 this morning.",
]


def test_a_rewording_in_the_callers_own_words_needs_no_encoder() -> None:
    assert ungrounded("Is there a problem with my internet?", OUTAGE, "en") is None


def test_a_new_word_needs_the_encoder_to_show_the_meaning_is_the_callers(encoder) -> None:  # type: ignore[no-untyped-def]
    rewrite = "Is there a problem with my internet connection?"  # what the local LLM wrote in the demo
    assert "connection" in (ungrounded(rewrite, OUTAGE, "en") or "")
    assert ungrounded(rewrite, OUTAGE, "en", encoder.encode) is None
    # one caller's question gives no spread to measure the meaning against
    assert ungrounded(rewrite, OUTAGE[:1], "en", encoder.encode) is not None


def test_a_rewording_may_not_add_a_fact_or_change_the_subject(encoder) -> None:  # type: ignore[no-untyped-def]
    assert "facts" in (ungrounded("Will my internet be back by 9 tonight?", OUTAGE, "en", encoder.encode) or "")
    assert "facts" in (ungrounded("Is there a Virgin Media outage on my internet?", OUTAGE, "en", encoder.encode) or "")
    assert "further" in (ungrounded("How do I reset my router password?", OUTAGE, "en", encoder.encode) or "")


def test_mandarin_rewordings_are_judged_the_same_way(encoder) -> None:  # type: ignore[no-untyped-def]
    said = ["我家的宽带断网了,今天早上开始就上不了网,是不是你们的网络出故障了?", "我们小区从昨天下午就没有网络了,宽带一直连不上,是不是出故障了。"]
    assert ungrounded("宽带断网了，是不是网络出故障了？", said, "zh") is None
    assert ungrounded("我的快递什么时候到？", said, "zh", encoder.encode) is not None  # no word of theirs
    assert "further" in (ungrounded("宽带可以办理退款吗？", said, "zh", encoder.encode) or "")


def test_the_clearest_question_is_a_question_of_reasonable_length() -> None:
    assert clearest(["so um yeah my internet is down", "Is there an outage in my area?"], "en") == 1
