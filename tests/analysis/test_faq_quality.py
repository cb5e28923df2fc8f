"""The FAQ quality gate with the real sentence encoders: answers about their question pass,
others are flagged with a reason."""

from __future__ import annotations

import pytest

from callscope import llm as llm_module
from callscope.analysis.faq_quality import GATE, assess, entry_quality, gate_drafts, llm_judge
from callscope.domain import FaqEntry, FaqStatus

pytestmark = pytest.mark.slow

HOURS_Q = "Are your shops open on the bank holiday Monday?"
HOURS_A = (
    "On bank holidays our stores open from 10 a.m. to 4 p.m.; they only close on Christmas Day and "
    "New Year's Day."
)
RETURNS_A = (
    "You can return any item within 30 days of purchase for a full refund, with the receipt; opened items "
    "can be returned if they are complete."
)
# the bundled KB's holiday-hours and returns entries would be "the same topic" as these; the
# other entries (orders, passwords, billing, …) are the other topics compared with
OTHERS = [
    ("Where is my order?", "You can track your order with the link in your confirmation e-mail; orders ship within two days."),
    ("How do I reset my password?", "Tap 'Forgot password' in the app and we text you a reset code."),
    ("Why is my bill higher than usual?", "Roaming and one-off charges appear on the next bill; you can dispute a charge with us."),
    ("My broadband is down", "Restart your router; if the light stays red there may be an outage in your area."),
    ("Which payment methods do you accept?", "We accept cards, direct debit and PayPal."),
]


def test_an_answer_about_the_question_passes() -> None:
    verdict = assess(HOURS_Q, HOURS_A, "en", references=OTHERS)
    assert verdict.passed and verdict.score >= GATE, verdict
    assert "answer is about the question" in verdict.reasons[0]


def test_the_return_policy_does_not_answer_opening_hours() -> None:
    verdict = assess(HOURS_Q, RETURNS_A, "en", references=OTHERS)
    assert not verdict.passed and verdict.score < GATE, verdict
    assert "answer shares no content word with the question" in verdict.reasons


def test_chinese_pairs() -> None:
    question = "营业厅周日几点开门？"
    good = "营业厅周日上午十点开门，下午五点关门；周一到周六早上九点到晚上八点营业。"
    bad = "宽带断网时请先重启光猫，如果仍然无法上网，可能是您所在的小区有故障，我们会尽快抢修。"
    refs = [("我的订单到哪了？", "您可以在手机应用里查看物流信息，订单一般两天内发货。"),
            ("怎么重置密码？", "在应用里点“忘记密码”，我们会发短信验证码给您。"),
            ("为什么这个月账单这么高？", "漫游和一次性费用会出现在下个月的账单上，有疑问可以申请账单争议。"),
            ("你们支持哪些付款方式？", "我们支持银行卡、自动扣款和支付宝。")]
    assert assess(question, good, "zh", references=refs).passed
    assert not assess(question, bad, "zh", references=refs).passed


def test_hard_checks() -> None:
    assert assess(HOURS_Q, "", "en", references=OTHERS).reasons == ("no answer",)
    short = assess(HOURS_Q, "Yes.", "en", references=OTHERS)
    assert not short.passed and any("too short" in r for r in short.reasons)
    wrong_language = assess(HOURS_Q, "营业厅周日上午十点开门，下午五点关门。", "en", references=OTHERS)
    assert not wrong_language.passed


def test_drafts_carry_their_score_and_reasons() -> None:
    def entry(i: str, q: str, a: str) -> FaqEntry:
        return FaqEntry(id=i, questions={"en": (q,)}, answers={"en": a}, status=FaqStatus.DRAFT)

    good, bad = gate_drafts([entry("good", HOURS_Q, HOURS_A), entry("bad", "Can I return opened headphones?", HOURS_A)],
                            kb_entries=[entry(f"kb{i}", q, a) for i, (q, a) in enumerate(OTHERS)], llm=None)
    score, passed, reasons = entry_quality(good)
    assert passed and score is not None and score >= GATE and reasons[0].startswith("en: answer is about")
    score, passed, reasons = entry_quality(bad)
    assert not passed and score is not None and score < GATE
    assert entry_quality(entry("unchecked", HOURS_Q, HOURS_A)) == (None, False, ["quality not checked"])


@pytest.mark.skipif(not (llm_module.runtime_installed() and llm_module.model_installed()), reason="local LLM not installed")
def test_the_llm_judge_vetoes_an_unrelated_answer(local_llm) -> None:
    service = local_llm
    assert llm_judge(HOURS_Q, HOURS_A, "en", service) is True
    assert llm_judge(HOURS_Q, RETURNS_A, "en", service) is False
