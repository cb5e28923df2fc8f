"""Text sentiment/emotion on real call-centre sentences (English and Mandarin)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callscope.analysis.sentiment import (
    CLASSES,
    CueLexicon,
    SentimentOptions,
    TextSentiment,
    calibrated_snownlp,
    default_sentiment,
)
from callscope.domain import Emotion
from callscope.errors import ModelError, ModelNotFoundError


@pytest.fixture(scope="module")
def scorer() -> TextSentiment:
    return default_sentiment()


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("This is the third time I've called about this. It's absolutely unacceptable!", Emotion.FRUSTRATED),
        ("I'm really worried, what if the parcel doesn't arrive before the birthday?", Emotion.ANXIOUS),
        ("Thank you so much, you've been really helpful, that's brilliant.", Emotion.POSITIVE),
        ("Could you tell me what time the store opens on Sunday?", Emotion.NEUTRAL),
        ("你们的快递太慢了，我要投诉！", Emotion.FRUSTRATED),
        ("我特别担心，万一明天还收不到怎么办？", Emotion.ANXIOUS),
        ("太好了，谢谢你，你们的服务真棒！", Emotion.POSITIVE),
        ("我想问一下营业厅周日几点开门。", Emotion.NEUTRAL),
    ],
)
def test_labels(scorer: TextSentiment, text: str, label: Emotion) -> None:
    [result] = scorer.score([text])
    assert result.label == label, (result.probabilities, result.cues)
    assert set(result.probabilities) == set(CLASSES)
    assert sum(result.probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert -1.0 <= result.sentiment <= 1.0


def test_sentiment_orders_real_call_lines(scorer: TextSentiment, data_dir: Path) -> None:
    """Caller lines of the frustrated call s_en_03 score below those of the neutral s_en_01."""

    def caller_lines(stem: str) -> list[str]:
        lines = (data_dir / f"calls/{stem}.txt").read_text().splitlines()
        return [ln.split(":", 1)[1] for ln in lines if ln.startswith("caller:")]

    frustrated = scorer.score(caller_lines("s_en_03"), "en")
    neutral = scorer.score(caller_lines("s_en_01"), "en")
    assert np.mean([r.sentiment for r in frustrated]) < np.mean([r.sentiment for r in neutral]) - 0.2
    [annoyed] = [r for r in frustrated if "annoying" in " ".join(r.cues)]
    assert annoyed.label == Emotion.FRUSTRATED
    assert max(r.probabilities[Emotion.FRUSTRATED] for r in neutral) < 0.3


def test_negation_and_language_detection(scorer: TextSentiment) -> None:
    worried, calm, zh_calm, not_happy = scorer.score(
        ["I'm worried about my account.", "I'm not worried about it at all.", "我不担心。", "I'm not happy with this."]
    )
    assert worried.label == Emotion.ANXIOUS and worried.language == "en"
    assert calm.label != Emotion.ANXIOUS and "neutral:not worried" in calm.cues
    assert zh_calm.language == "zh" and not any(c.startswith("anxious") for c in zh_calm.cues)
    assert not_happy.sentiment < 0 and not_happy.label == Emotion.FRUSTRATED


def test_traditional_chinese_is_simplified(scorer: TextSentiment) -> None:
    [simplified, traditional] = scorer.score(["你们太慢了，我要投诉", "你們太慢了，我要投訴"])
    assert traditional.cues == simplified.cues
    assert traditional.label == Emotion.FRUSTRATED


def test_empty_and_bad_input(scorer: TextSentiment) -> None:
    assert scorer.score([]) == []
    [empty] = scorer.score(["   "])
    assert empty.label == Emotion.NEUTRAL and empty.sentiment == 0.0
    with pytest.raises(TypeError, match="sequence of texts"):
        scorer.score("a single string")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        scorer.score([None])  # type: ignore[list-item]


def test_lexicon_only_mode_needs_no_encoder() -> None:
    lexicon = TextSentiment(SentimentOptions(use_model=False))
    [angry, happy] = lexicon.score(["This is ridiculous, I've been waiting for hours!", "Great, thanks a lot!"])
    assert angry.model_sentiment is None
    assert angry.label == Emotion.FRUSTRATED and happy.label == Emotion.POSITIVE


def test_missing_or_broken_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="train_emotion_head"):
        TextSentiment(SentimentOptions(head_path=tmp_path / "missing.npz"))
    broken = tmp_path / "broken.npz"
    np.savez(broken, emotion_w=np.zeros((4, 8)))
    with pytest.raises(ModelError, match="not a valid emotion head"):
        TextSentiment(SentimentOptions(head_path=broken))
    bad_cues = tmp_path / "cues.json"
    bad_cues.write_text("{not json")
    with pytest.raises(ModelError, match="cue file"):
        CueLexicon.load(bad_cues)


def test_snownlp_calibration_centres_neutral() -> None:
    assert calibrated_snownlp(0.4, 0.4) == pytest.approx(0.0)
    assert calibrated_snownlp(0.95) > 0.5 and calibrated_snownlp(0.02) < -0.5


@pytest.mark.parametrize(
    ("text", "label"),
    [
        # emotion shown only through the situation, no emotion words
        ("I've been waiting two weeks for the refund and nobody has called me back.", Emotion.FRUSTRATED),
        ("I already called three times about this and it was supposed to be fixed on Monday.", Emotion.FRUSTRATED),
        ("我已经等了两个星期了，说好的三天就到。", Emotion.FRUSTRATED),
        ("我打了好几次电话，也没人联系我。", Emotion.FRUSTRATED),
        ("Is my money safe? What happens if someone has got into my account?", Emotion.ANXIOUS),
        ("我的账户是不是出了什么问题？钱会不会被转走？", Emotion.ANXIOUS),
        # resigned frustration: a fix expected to fail again, or contact the caller was made to repeat
        ("We've had to chase you three times for this refund.", Emotion.FRUSTRATED),
        ("希望这回别再让我白跑一趟。", Emotion.FRUSTRATED),
        ("我折腾了一个上午，路由器还是连不上。", Emotion.FRUSTRATED),
    ],
)
def test_situation_cues(scorer: TextSentiment, text: str, label: Emotion) -> None:
    [result] = scorer.score([text])
    assert result.label == label, (result.probabilities, result.cues)
    assert any(c.startswith(f"{label}:~") for c in result.cues)
    plain = TextSentiment(SentimentOptions(use_model=False, situation_cues=False))
    assert not any(":~" in c for c in plain.score([text])[0].cues)


def test_situation_cues_do_not_fire_on_plain_requests(scorer: TextSentiment) -> None:
    for text in (
        "Could you tell me what time the store opens on Sunday?",
        "I'd like to book a delivery for next week.",
        "你们周六营业吗？我想去换一张卡。",
        "I hope this time of year isn't too busy for a delivery slot.",
        "这次的账单我已经付了。",
    ):
        [result] = scorer.score([text])
        assert not any(":~" in c for c in result.cues), result.cues


def test_hoping_it_works_this_time_is_a_frustration_cue(scorer: TextSentiment) -> None:
    """ "hope ... this time" reads as hope to VADER; it says the last fix failed, so it adds to frustration."""
    text = "Fine. Let's hope your engineer actually turns up this time."
    [result] = scorer.score([text], "en")
    [plain] = TextSentiment(SentimentOptions(situation_cues=False)).score([text], "en")
    assert any(c.startswith("frustrated:~hope") for c in result.cues)
    assert result.probabilities[Emotion.FRUSTRATED] > plain.probabilities[Emotion.FRUSTRATED] + 0.2


def test_mandarin_cues_by_sound_need_three_characters(scorer: TextSentiment) -> None:
    """Two syllables sound like a two-character cue by chance across words (手机是 ~ 急死): those are not matched
    by sound; a three-character cue spelt as a homophone (太过粉 for 太过分) still is."""
    [plain] = scorer.score(["我的手机是上个月买的。"], "zh")
    assert plain.cues == () and plain.label != Emotion.ANXIOUS
    [heard] = scorer.score(["这也太过粉了。"], "zh")
    assert "frustrated:≈太过分" in heard.cues and heard.label == Emotion.FRUSTRATED
    two = CueLexicon({"zh": {Emotion.ANXIOUS: {"急死": 1.0}}})
    assert two.find("我的手机是上个月买的。", "zh")[Emotion.ANXIOUS] == []


def test_negation_stops_at_the_clause(scorer: TextSentiment) -> None:
    """ "never" in one sentence does not negate "worried" in the next."""
    [result] = scorer.score(["The code never arrives. I'm worried someone has got into my account."], "en")
    assert "anxious:worried" in result.cues and "neutral:not worried" not in result.cues
    assert result.label == Emotion.ANXIOUS


@pytest.mark.parametrize(
    ("text", "language", "core"),
    [
        ("Perfect. Thank you for sorting that out so quickly.", "en", ""),
        ("Okay. Thanks, bye now.", "en", ""),
        ("Great. Do I need to book an appointment?", "en", "Do I need to book an appointment?"),
        ("Mm-hmm.", "en", ""),
        ("Fine. I'm not happy about this, but thank you. Goodbye.", "en", "I'm not happy about this,"),
        ("Brilliant! Thanks so much!", "en", "Brilliant! Thanks so much!"),  # emphatic: kept
        ("好的，谢谢你，再见。", "zh", ""),
        ("明白了，谢谢您。", "zh", ""),
        ("好，那太好了。修好以后会通知我吗？", "zh", "那太好了。 修好以后会通知我吗？"),
        ("好的，写写妮，再件。", "zh", ""),  # the formulas as Whisper may spell them (homophones)
        ("号码是五八。", "zh", "号码是五八。"),  # sounds like nothing courteous: kept
        # formulas run together without commas, as speech recognition writes them
        ("行，没别的了谢谢你们。", "zh", ""),
        ("Okay thanks bye.", "en", ""),
        ("没问题谢谢，我明天再打过来问问进度。", "zh", "我明天再打过来问问进度。"),
    ],
)
def test_strip_courtesy(scorer: TextSentiment, text: str, language: str, core: str) -> None:
    assert scorer.cues.strip_courtesy(text, language) == core


def test_cue_file_with_a_bad_pattern(tmp_path: Path) -> None:
    bad = tmp_path / "cues.json"
    bad.write_text('{"en": {}, "patterns": {"en": {"frustrated": {"(unclosed": 1.0}}}}')
    with pytest.raises(ModelError, match="cue file"):
        CueLexicon.load(bad)


def test_strip_courtesy_on_a_long_run_of_formulas(scorer: TextSentiment) -> None:
    """A clause of overlapping formulas that ends in something else is kept, and is decided
    in linear time (a single regex repeating the formulas backtracked exponentially on it)."""
    clause = "yes ok " * 200 + "but the router is still dead"
    assert scorer.cues.strip_courtesy(clause, "en") == clause.strip()
    assert scorer.cues.strip_courtesy("yes ok " * 200, "en") == ""
