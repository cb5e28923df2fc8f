"""Reason for calling: the caller's question, without greetings, small talk or identity checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscope.analysis.reason import call_context, extract_reason, is_filler_sentence, split_sentences, strip_acknowledgement
from callscope.domain import Role

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


@pytest.fixture(scope="module")
def whisper_calls(data_dir: Path) -> dict[str, tuple[str, list[tuple[Role, str]]]]:
    """Real Whisper (base) turns of four shared calls, as ``callscope analyze`` wrote them."""
    data = json.loads((data_dir / "analysis" / "whisper_turns.json").read_text(encoding="utf-8"))
    return {
        cid: (call["language"], [(Role(t["role"]), t["text"]) for t in call["turns"]])
        for cid, call in data["calls"].items()
    }


def test_whisper_transcripts_give_the_callers_problem(whisper_calls) -> None:  # type: ignore[no-untyped-def]
    reasons = {cid: extract_reason(turns, lang) for cid, (lang, turns) in whisper_calls.items()}
    assert reasons["s_en_09"] == "My internet has been down since about 10 this morning."
    # "Hi, Hannah. Quick question." leaves a lone name behind: dropped.
    assert reasons["s_en_07"] == "Are your shop open on the bank holiday Monday?"
    # The order number read out digit by digit in the next turn is not part of the reason.
    assert "orders" in reasons["s_en_02"] and "eight" not in reasons["s_en_02"]
    # A recognition loop ("天台的名字是吧?" four times) is never the reason.
    assert reasons["s_zh_04"] and "名字是吧" not in reasons["s_zh_04"]


def test_digit_strings_and_recognition_loops_are_filler() -> None:
    assert is_filler_sentence("it's been a new time here over eight eight seven two So")
    assert is_filler_sentence("double four one one nine", "en")
    assert is_filler_sentence("一三九零零一二八八六五", "zh")
    assert is_filler_sentence("天台的名字是吧天台的名字是吧天台的名字是吧天台的名字是", "zh")
    assert not is_filler_sentence("I was charged twice, two payments of thirty-eight dollars.")
    assert not is_filler_sentence("我的宽带两天都上不了网了", "zh")


def test_a_fragment_takes_the_next_caller_turn() -> None:
    turns = [(A, "How can I help?"), (C, "Hi, so, um, my internet."), (C, "It stopped this morning.")]
    assert extract_reason(turns) == "My internet. It stopped this morning."
    # A complete request is not extended with later turns.
    turns = [(A, "How can I help?"), (C, "Where is my order?"), (C, "It was a present.")]
    assert extract_reason(turns) == "Where is my order?"


def test_agent_restatement_is_the_fallback() -> None:
    turns = [
        (A, "Thanks for calling, how can I help?"),
        (C, "Hi. My name is Anna Berg."),
        (A, "Thanks Anna. I see you're calling about a refund for a cancelled order."),
        (C, "Yes."),
    ]
    assert extract_reason(turns) == "I see you're calling about a refund for a cancelled order."
    turns = [(A, "您好，请问有什么可以帮您？"), (C, "喂，你好。"), (A, "我看到您上周申请了退款，还没有到账。")]
    assert extract_reason(turns, "zh") == "我看到您上周申请了退款，还没有到账。"


def test_call_context_is_the_agents_answer_without_routine(calls: dict[str, list[tuple[Role, str]]]) -> None:
    context = call_context(calls["s_en_09"])
    joined = " ".join(context)
    assert "fault at the local exchange" in joined
    assert "please hold" not in joined.lower() and "Tom Becker" not in joined
    assert "My internet has been down" not in joined  # the caller's words are the reason, not context
    zh = " ".join(call_context(calls["s_zh_03"], "zh"))
    assert "光缆" in zh and "请问有什么可以帮您" not in zh
    assert call_context([]) == ()
    # Without roles, every turn after the first is a candidate.
    unknown = [
        (Role.UNKNOWN, "Hello, my card was declined."),
        (Role.UNKNOWN, "The card was blocked after a fraud alert."),
    ]
    assert call_context(unknown) == ("The card was blocked after a fraud alert.",)


def test_feelings_and_thanks_before_the_request_are_left_out() -> None:
    # phrasings written for this test, not taken from the benchmark corpus
    ask = (A, "How can I help?")
    assert (
        extract_reason([ask, (C, "Thank you so much for getting back to me. Could you move my installation to next Friday?")])
        == "Could you move my installation to next Friday?"
    )
    assert extract_reason([ask, (C, "我都急死了！我的快递三天了还没到，怎么回事？")], "zh") == "我的快递三天了还没到，怎么回事？"


def test_feelings_stay_when_the_request_is_short_or_points_back_to_them() -> None:
    ask = (A, "How can I help?")
    assert extract_reason([ask, (C, "I am really worried. Can you help?")]) == "I am really worried. Can you help?"
    assert (
        extract_reason([ask, (C, "I am worried about my bill. Why is it so high this month?")])
        == "I am worried about my bill. Why is it so high this month?"
    )


def test_a_redacted_name_in_a_greeting_is_not_part_of_the_reason() -> None:
    # PII redaction runs before analysis: "Hi Hannah," reaches reason extraction as "Hi [NAME],"
    agent = (Role.AGENT, "Thanks for calling Brightwave, this is [NAME]. How can I help?")
    caller = (Role.CALLER, "Hi [NAME], quick question. Are your shops open on the Bank holiday Monday?")
    assert extract_reason([agent, caller], "en") == "Are your shops open on the Bank holiday Monday?"
    outage = (Role.CALLER, "Hi [NAME], our internet stopped working after the storm last night.")
    assert extract_reason([agent, outage], "en") == "Our internet stopped working after the storm last night."
    assert extract_reason([(Role.CALLER, "你好[NAME]，我家宽带断网了，是不是出故障了？")], "zh") == "我家宽带断网了，是不是出故障了？"
    assert all(is_filler_sentence(s, "en") for s in ("This is [NAME].", "Hi [NAME].", "I'm [NAME].", "[NAME]."))


@pytest.mark.parametrize(
    ("said", "language", "answer"),
    [
        ("Sure, I can check that for you.", "en", "I can check that for you."),
        ("Right Tom, the store opens at ten.", "en", "The store opens at ten."),
        ("Yes, you can.", "en", "You can."),
        ("好的，您的订单已经发货了。", "zh", "您的订单已经发货了。"),
        ("好几天就能到。", "zh", "好几天就能到。"),  # 好 is part of the answer here
        ("Okay.", "en", "Okay."),  # nothing else to keep
    ],
)
def test_an_agents_acknowledgement_is_not_part_of_the_answer(said: str, language: str, answer: str) -> None:
    assert strip_acknowledgement(said, language) == answer


def test_thanks_with_a_redacted_name_is_filler() -> None:
    assert is_filler_sentence("Thanks [NAME].", "en") and is_filler_sentence("Thank you, [NAME].", "en")
    assert not is_filler_sentence("Thanks for waiting, your order is on its way.", "en")


def test_feelings_in_the_same_run_on_sentence_as_the_request_are_left_out() -> None:
    # Speech recognition writes a comma where a full stop was said; phrasings written for this test
    ask = (A, "How can I help?")
    assert (
        extract_reason([ask, (C, "I'm so fed up, could you move my installation to next Friday please?")])
        == "Could you move my installation to next Friday please?"
    )
    assert extract_reason([ask, (C, "我都急死了，我的快递三天了还没到，怎么回事？")], "zh") == "我的快递三天了还没到，怎么回事？"
    # a short request keeps the feeling said with it, as a sentence of its own would be kept
    assert extract_reason([ask, (C, "I'm so fed up, can you help?")]) == "I'm so fed up, can you help?"


def test_feelings_before_a_request_without_a_cue_word_are_left_out() -> None:
    ask = (A, "How can I help?")
    assert (
        extract_reason([ask, (C, "I'm so fed up with all this. I'd love a copy of my last three statements posted to me.")])
        == "I'd love a copy of my last three statements posted to me."
    )


def test_call_context_stops_where_the_caller_opens_another_topic() -> None:
    # phrasings written for this test, not taken from the benchmark corpus
    turns = [
        (A, "Thanks for calling, how can I help?"),
        (C, "My broadband keeps dropping every evening."),
        (A, "I can see line errors on your connection, so I've booked an engineer for Thursday."),
        (C, "Will I be charged for the visit?"),
        (A, "No, the engineer visit for a line fault is free of charge."),
        (C, "Great. While I'm on the phone, can I move my bill date to the first of the month?"),
        (A, "Your bill date now falls on the first of every month, starting next month."),
    ]
    context = " ".join(call_context(turns, "en"))
    assert "engineer for Thursday" in context and "free of charge" in context
    assert "bill date" not in context  # the answer to the second topic is not about the call's issue
    zh = [
        (A, "您好，请问有什么可以帮您？"),
        (C, "我家的宽带晚上老是掉线。"),
        (A, "您的线路有故障，我已经给您预约了周四上门维修。"),
        (C, "好的。另外，我想把每月的账单日改到一号。"),
        (A, "已经把您的账单日改到每月一号了，下个月开始生效。"),
    ]
    assert call_context(zh, "zh") == ("您的线路有故障，我已经给您预约了周四上门维修。",)
    # a follow-up on the same issue is not a new topic
    same = [*turns[:4], (A, "No, the visit is free."), (C, "And what time will the engineer arrive?"), (A, "The engineer arrives between eight and one.")]
    assert "between eight and one" in " ".join(call_context(same, "en"))
