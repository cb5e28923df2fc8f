"""Closings ("that's all", "没有了") and yes/no answers at the confirm step, in both languages.

A closing ends the call politely (via the survey when it is on) at any question step and
is never counted as a failed turn or an unanswered question (the FAQ loop's input).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callscope.ivr import phrases
from callscope.ivr.metrics import compute_ivr_metrics
from callscope.ivr.simulator import CallerInput, CallSimulator
from callscope.ivr.tables import IvrCallRow, IvrEventRow

from .conftest import MUMBLE, PUBLIC, TOKEN, make_client

CLOSINGS_EN = [
    "That's all.",
    "No thanks.",
    "Nothing else.",
    "I'm good.",
    "Bye.",
    "No, that's all, thank you.",
    "Thats all",  # the recogniser may drop the apostrophe
    "That\u2019s it, thanks.",  # or write a curly one
    "Nope, I'm all set, thanks.",
    "That will be all for today.",
    "Thank you so much, have a nice day.",
]
CLOSINGS_ZH = ["没有了", "不用了。", "就这些", "谢谢，再见。", "没有其他问题了", "好的，谢谢", "暂时没有了，拜拜"]


def event_rows(db, sid: str) -> list[IvrEventRow]:
    db.expire_all()
    return list(db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == sid).order_by(IvrEventRow.id)))


def kinds(db, sid: str) -> list[str]:
    return [e.kind for e in event_rows(db, sid)]


@pytest.mark.parametrize(
    "text",
    [
        *CLOSINGS_EN,
        *CLOSINGS_ZH,
        "Okay thanks, bye!",
        "no that's it",
        "Yeah, that's all, thanks.",
        "没事了，谢谢",
        "可以了，谢谢",
        "嗯，没有了",
        "拜拜",
    ],
)
def test_closing_phrases(text: str) -> None:
    assert phrases.is_closing(text)
    assert phrases.is_done(text)


@pytest.mark.parametrize(
    "text",
    [
        "nothing else works after the password reset",
        "I'm good at this but my card was declined",
        "is that all I need to bring to the store",
        "bye the way where is my order",  # a misrecognised "by the way"
        "what about returns",
        "yes please",
        "yes, thanks",  # to "anything else?": a yes
        "是的，谢谢",
        "我没有收到验证码",
        "不用了，我想退货",
        "好的",
        "没有网络了怎么办",
    ],
)
def test_questions_are_not_closings(text: str) -> None:
    assert not phrases.is_closing(text)
    assert not phrases.is_done(text)


def test_bare_thanks_and_no_depend_on_the_step() -> None:
    assert phrases.is_closing("thank you") and not phrases.is_closing("thank you", thanks=False)
    assert phrases.is_closing("谢谢") and not phrases.is_closing("谢谢", thanks=False)
    assert not phrases.is_closing("no") and phrases.is_closing("no", negative=True)
    assert not phrases.is_closing("没有") and phrases.is_closing("没有", negative=True)
    assert phrases.is_done("no") and phrases.is_done("没有") and phrases.is_done("", "2")
    assert not phrases.is_done("", "1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("hello?", False),
        ("um", False),
        ("Yes.", False),
        ("喂？你好", False),
        ("hello, where is my order", True),
        ("喂，我想退货", True),
    ],
)
def test_has_content(text: str, expected: bool) -> None:
    assert phrases.has_content(text) is expected


def assert_closed_politely(db, call, *, answered: bool) -> None:
    """Survey offered, then goodbye; no failure and no unanswered question from the closing."""
    ks = kinds(db, call.call_sid)
    assert "closing" in ks
    assert ks.count("failure") == 0 and ks.count("no_match") == 0
    assert ks.index("survey_offered") > ks.index("closing")
    assert call.outcome == "hangup"
    row = db.get(IvrCallRow, call.call_sid)
    assert row.outcome == ("contained" if answered else "ended") and not row.transferred
    assert (row.csat, row.nps) == (4, 9)


@pytest.mark.parametrize("closing", CLOSINGS_EN)
def test_english_closing_at_anything_else_ends_call(simulate, db, closing: str) -> None:
    call = simulate(["press 1", "what time do you open on Sunday", closing, "4", "9#"])
    assert any("Before you go" in text for text in call.heard)
    assert_closed_politely(db, call, answered=True)


@pytest.mark.parametrize("closing", CLOSINGS_ZH)
def test_mandarin_closing_at_anything_else_ends_call(simulate, db, closing: str) -> None:
    call = simulate(["press 2", "我想退货", closing, "4", "9#"])
    assert any("满意度" in text for text in call.heard)
    assert_closed_politely(db, call, answered=True)


@pytest.mark.parametrize(
    ("script", "closing"),
    [
        (["press 1", "what time do you open on Sunday", "yes"], "Actually, that's all."),  # at "how can I help?"
        (["press 1"], "Nothing, thanks. Bye."),
        (["press 1", MUMBLE], "Never mind, that's all."),  # at the reprompt menu
        (["press 1", "where is my order"], "Forget it, bye."),  # when asked for the order number
        (["press 2"], "不用了，谢谢"),
        (["press 2", CallerInput(speech="紫色猴子洗碗机", confidence=0.2)], "就这些，再见"),
    ],
)
def test_closing_at_question_steps_is_not_an_unanswered_question(simulate, db, script, closing) -> None:
    call = simulate([*script, closing, "4", "9#"])
    ks = kinds(db, call.call_sid)
    assert "closing" in ks and "survey_offered" in ks and call.outcome == "hangup"
    texts = [e.data.get("text") for e in event_rows(db, call.call_sid) if e.kind == "no_match"]
    assert closing not in texts and phrases.clean_utterance(closing) not in texts
    failures_before = ks[: ks.index("closing")].count("failure")
    assert ks.count("failure") == failures_before  # the closing added no failure
    db.expire_all()
    unanswered = [u.text for u in compute_ivr_metrics(db).unanswered]
    assert phrases.clean_utterance(closing) not in unanswered


@pytest.mark.parametrize(("yes", "prompt"), [("Yes, thanks.", "how can I help"), ("是的，谢谢", "需要什么帮助")])
def test_yes_at_anything_else_asks_for_the_next_question(simulate, db, yes: str, prompt: str) -> None:
    key, question = ("1", "what time do you open on Sunday") if prompt.isascii() else ("2", "我想退货")
    call = simulate([f"press {key}", question, yes, "silence"])
    assert prompt in call.turns[3].said[0][0]
    assert "closing" not in kinds(db, call.call_sid)


def test_hello_is_reprompted_but_not_logged_as_unanswered(simulate, db) -> None:
    call = simulate(["press 1", "Hello?", "what time do you open on Sunday", "no"])
    ks = kinds(db, call.call_sid)
    assert ks.count("failure") == 1 and "no_match" not in ks and "answered" in ks


def run_confirm(client, question: str, answer: str):
    """A call whose question is heard with low ASR confidence, so the IVR confirms first."""
    sim = CallSimulator(client, PUBLIC, TOKEN)
    lang_key = "2" if any("\u4e00" <= ch <= "\u9fff" for ch in question) else "1"
    return sim.run(
        [
            CallerInput(digits=lang_key),
            CallerInput(speech=question, confidence=0.2),
            CallerInput.parse(answer),
            CallerInput.parse("2"),  # nothing else
        ]
    )


@pytest.mark.parametrize(
    ("question", "answer", "confirmed"),
    [
        ("what time do you open on Sunday", "yes", True),
        ("what time do you open on Sunday", "Yeah, that's right.", True),
        ("what time do you open on Sunday", "Correct.", True),
        ("what time do you open on Sunday", "press 1", True),
        ("what time do you open on Sunday", "No.", False),
        ("what time do you open on Sunday", "Nope, that's wrong.", False),
        ("what time do you open on Sunday", "press 2", False),
        ("周日几点开门", "是的", True),
        ("周日几点开门", "对，没错", True),
        ("周日几点开门", "嗯", True),
        ("周日几点开门", "不是", False),
        ("周日几点开门", "不对。", False),
        ("周日几点开门", "错了", False),
    ],
)
def test_yes_no_at_confirm_step(client, db, question: str, answer: str, confirmed: bool) -> None:
    call = run_confirm(client, question, answer)
    heard = " ".join(call.heard)
    assert "Did you mean opening hours" in heard or "您是想咨询营业时间吗" in heard
    ks = kinds(db, call.call_sid)
    answered = "10 a.m. to 5 p.m." in heard or "周日上午十点" in heard
    assert answered is confirmed
    assert ("confirmed" in ks) is confirmed and ("rejected" in ks) is not confirmed


@pytest.mark.parametrize("closing", ["No, that's all, bye.", "不用了，再见"])
def test_closing_at_confirm_ends_call_and_keeps_the_question_unanswered(client, db, closing: str) -> None:
    question = "what time do you open on Sunday" if closing.startswith("No") else "周日几点开门"
    call = run_confirm(client, question, closing)
    ks = kinds(db, call.call_sid)
    assert "closing" in ks and "survey_offered" in ks and "failure" not in ks
    unanswered = [e.data["text"] for e in event_rows(db, call.call_sid) if e.kind == "no_match"]
    assert unanswered == [question]  # the question they gave up on, not the closing


def test_survey_off_closing_says_goodbye(ivr_settings, db) -> None:
    with make_client(ivr_settings, ivr_survey=False) as c:
        call = CallSimulator(c, PUBLIC, TOKEN).run([CallerInput(digits="1"), CallerInput(speech="Bye.")])
    assert call.outcome == "hangup"
    assert "Thanks for calling Brightwave. Goodbye." in call.heard
    assert kinds(db, call.call_sid)[-2:] == ["goodbye", "call_ended"]
