"""PII redaction on real call transcripts (tests/data/calls) and Whisper-shaped word lists."""

from __future__ import annotations

import re

import numpy as np
import pytest
from typer.testing import CliRunner

from callscope.analysis.pii import (
    PiiOptions,
    bleep_audio,
    cn_id_valid,
    luhn_valid,
    redact_text,
    redact_transcript,
)
from callscope.domain import Audio, Segment, Transcript, Word
from callscope.recordings.audio import load_audio

CARD = "4111111111111111"
SPOKEN_CARD = "four one one one one one one one one one one one one one one one"


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _segment(start: float, text: str, speaker: str, step: float = 0.3) -> Segment:
    """A segment whose words look like faster-whisper's (leading spaces, punctuation attached)."""
    words = []
    t = start
    for token in text.split():
        words.append(Word(round(t, 3), round(t + step * 0.9, 3), " " + token, 0.93, speaker))
        t += step
    return Segment(start, round(t, 3), " " + text, tuple(words), speaker=speaker)


def _call_transcript(data_dir) -> Transcript:
    """s_en_03's reference lines on its RTTM timings, with card/phone/email turns added."""
    lines = [ln.split(":", 1) for ln in (data_dir / "calls/s_en_03.txt").read_text().splitlines() if ":" in ln]
    starts = [float(ln.split()[3]) for ln in (data_dir / "calls/s_en_03.rttm").read_text().splitlines()]
    segments = [_segment(start, text.strip(), who, step=0.2) for (who, text), start in zip(lines, starts, strict=True)]
    segments += [
        _segment(80.0, "my card is 4111 1111 1111 1111, expiry ten twenty seven.", "caller"),
        _segment(86.0, "So that's " + SPOKEN_CARD + ", right?", "agent"),
        _segment(100.0, "you can text me on 415-555-0123 or mail pat.lee@example.com thanks", "caller"),
    ]
    return Transcript("en", tuple(segments), 110.0, "test", "reference")


# ------------------------------------------------------------------------ text


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("my card is 4111 1111 1111 1111 thanks", "card"),
        ("card 5555-5555-5555-4444", "card"),
        ("amex 3782 822463 10005", "card"),
        ("it's " + SPOKEN_CARD, "card"),
        ("four one one one, double one, one one, one one one one, triple one one", "card"),
        ("Oh, " + SPOKEN_CARD + ", okay", "card"),
        ("call me on +44 20 7946 0958", "phone"),
        ("my number is (415) 555-0123", "phone"),
        ("我的手机号是13800138000", "phone"),
        ("手机号是幺三八零零幺三八零零零", "phone"),
        ("my number is oh seven seven zero zero nine zero zero three two one", "phone"),
        ("mail me at pat.lee@example.com", "email"),
        ("it's pat dot lee at example dot com", "email"),
        ("身份证号 11010519491231002X", "id"),
        ("身份证号一一零一零五一九四九一二三一零零二叉", "id"),
        ("my SSN is 078-05-1120", "id"),
        ("social security number zero seven eight zero five one one two zero", "id"),
    ],
)
def test_redacts_each_kind(text: str, kind: str) -> None:
    result = redact_text(text)
    assert [s.kind for s in result.spans] == [kind]
    assert f"[{kind.upper()}]" in result.text
    span = result.spans[0]
    assert result.text == text[: span.start] + f"[{kind.upper()}]" + text[span.end :]


@pytest.mark.parametrize(
    "text",
    [
        "My order number is 4567 and it was placed at 10 a.m.",
        "It costs $1,299.99, or 45 dollars a month for 24 months.",
        "We're open from 9:30 to 17:00, Monday 2024-05-06.",
        "I have one question. Oh, two actually, and three more later.",
        "Your mobile ending in 418.",
        "周日我们的营业厅上午十点开门，下午五点关门，补卡大概十分钟。",
        "一二三四五",
        "Reference BW503872 is your order.",
        "4111 1111 1112",  # 12 digits: no card, no phone, below the long-number rule
    ],
)
def test_keeps_ordinary_numbers(text: str) -> None:
    result = redact_text(text)
    assert result.spans == ()
    assert result.text == text


def test_long_unvalidated_number_is_still_redacted() -> None:
    # a 16-digit card the recogniser got one digit wrong: fails Luhn, must not survive
    result = redact_text("card 4111 1111 1111 1112 3")
    assert result.kinds == ("number",)
    assert (
        PiiOptions(long_number_digits=None)
        and redact_text("card 4111 1111 1111 1112 3", options=PiiOptions(long_number_digits=None)).spans == ()
    )


def test_configured_account_numbers() -> None:
    text = "Order ORD-88231, account number 99182733, 订单号是12345678, ref AB-12."
    assert redact_text(text).spans == ()
    options = PiiOptions(
        account_prefixes=("ORD-",),
        account_keywords=("account number", "订单号"),
        account_patterns=(r"\bAB-\d+\b",),
    )
    result = redact_text(text, options=options)
    assert result.text == "Order [ACCOUNT], account number [ACCOUNT], 订单号是[ACCOUNT], ref [ACCOUNT]."


def test_options_validate() -> None:
    with pytest.raises(ValueError, match="unknown PII kinds"):
        PiiOptions(kinds=frozenset({"card", "passport"}))
    with pytest.raises(ValueError, match="not a valid regular expression"):
        PiiOptions(account_patterns=("([",))
    only_email = PiiOptions(kinds=frozenset({"email"}))
    assert redact_text("4111 1111 1111 1111 a@b.co", options=only_email).text == "4111 1111 1111 1111 [EMAIL]"


def test_checksums() -> None:
    assert luhn_valid(CARD) and not luhn_valid("4111111111111112")
    assert cn_id_valid("11010519491231002X") and not cn_id_valid("110105194912310021")
    assert not cn_id_valid("11010519491331002X")  # month 13


def test_redact_text_rejects_non_strings() -> None:
    with pytest.raises(TypeError):
        redact_text(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------ transcripts


def test_no_card_survives_in_a_redacted_call(data_dir) -> None:
    transcript = _call_transcript(data_dir)
    assert CARD in _digits(transcript.text)  # the fixture really holds the card
    redacted, spans = redact_transcript(transcript)

    for segment in redacted.segments:
        assert CARD not in _digits(segment.text)
        assert CARD not in _digits("".join(w.word for w in segment.words))
        assert not re.search(r"\b(four|one)( one){6,}", segment.text)
        # the text is what the words spell
        assert segment.text.strip() == "".join(w.word for w in segment.words).strip()
    assert "415-555-0123" not in redacted.text and "pat.lee@example.com" not in redacted.text
    text = redacted.text
    assert text.count("[CARD]") == 2 and "[PHONE]" in text and "[EMAIL]" in text
    # ordinary talk of the call is untouched
    original = dict(zip([s.start for s in transcript.segments], transcript.segments, strict=True))
    for segment in redacted.segments[:12]:
        assert segment == original[segment.start]
    # the time spans come from the words
    kinds = [k for _, _, k in spans]
    assert kinds == ["card", "card", "phone", "email"]
    card_words = [w for w in transcript.segments[12].words if _digits(w.word) == "1111" or "4111" in w.word]
    assert spans[0][0] == card_words[0].start and spans[0][1] == card_words[-1].end
    assert all(start < end for start, end, _ in spans)


def test_card_split_over_segments_and_mandarin_words() -> None:
    words_a = [Word(0.0, 0.3, " it's", 0.9)] + [
        Word(0.3 + i * 0.3, 0.55 + i * 0.3, " " + w, 0.9)
        for i, w in enumerate(["four", "one", "one", "one", "one", "one", "one", "one"])
    ]
    words_b = [
        Word(3.0 + i * 0.3, 3.25 + i * 0.3, " " + w, 0.9)
        for i, w in enumerate(["one", "one", "one", "one", "one", "one", "one", "one."])
    ]
    zh_words = [
        Word(8.0, 8.3, "手机", 0.9),
        Word(8.3, 8.5, "是", 0.9),
        Word(8.5, 9.0, "138", 0.9),
        Word(9.0, 9.4, "0013", 0.9),
        Word(9.4, 9.8, "8000", 0.9),
        Word(9.8, 9.9, "。", 0.9),
    ]
    transcript = Transcript(
        "en",
        (
            Segment(0.0, 2.8, "".join(w.word for w in words_a), tuple(words_a), speaker="caller"),
            Segment(3.0, 5.5, "".join(w.word for w in words_b), tuple(words_b), speaker="caller"),
            Segment(8.0, 9.9, "手机是138 0013 8000。", tuple(zh_words), speaker="caller"),
        ),
        10.0,
        "test",
        "reference",
    )
    redacted, spans = redact_transcript(transcript)
    assert redacted.segments[0].text == " it's [CARD]"
    assert redacted.segments[1].text == " [CARD]."
    assert [w.word for w in redacted.segments[2].words] == ["手机", "是", "[PHONE]", "。"]
    assert redacted.segments[2].text == "手机是[PHONE]。"
    assert spans == ((0.3, 5.35, "card"), (8.5, 9.8, "phone"))


def test_segment_without_words_is_redacted_whole() -> None:
    transcript = Transcript("en", (Segment(1.0, 4.0, "card 4111 1111 1111 1111"),), 4.0, "t", "e")
    redacted, spans = redact_transcript(transcript)
    assert redacted.segments[0].text == "card [CARD]"
    assert spans == ((1.0, 4.0, "card"),)


# ------------------------------------------------------------------------ audio


def test_bleep_and_silence_on_the_call_audio(data_dir) -> None:
    audio = load_audio(data_dir / "calls/s_en_03.stereo.wav")
    span = (4.8, 5.8, "card")
    bleeped = bleep_audio(audio, [span])
    a, b = int(4.8 * audio.sample_rate), int(5.8 * audio.sample_rate)
    assert bleeped.samples.shape == audio.samples.shape
    for ch in range(audio.channels):
        region = bleeped.samples[ch, a:b]
        spectrum = np.abs(np.fft.rfft(region))
        peak_hz = np.argmax(spectrum) * audio.sample_rate / len(region)
        assert abs(peak_hz - 1000.0) < 5.0
        assert np.corrcoef(region, audio.samples[ch, a:b])[0, 1] < 0.2  # the speech is gone
    # outside the span nothing changed, and the input was not modified
    assert np.array_equal(bleeped.samples[:, : a - 1], audio.samples[:, : a - 1])
    assert np.array_equal(bleeped.samples[:, b + 1 :], audio.samples[:, b + 1 :])
    assert np.abs(audio.samples[0, a:b]).max() > 0.01

    silent = bleep_audio(audio, [span], mode="silence", channels=[0])
    assert np.all(silent.samples[0, a:b] == 0.0)
    assert np.array_equal(silent.samples[1], audio.samples[1])


def test_bleep_rejects_bad_input() -> None:
    audio = Audio(np.zeros((1, 8000), dtype=np.float32), 8000)
    with pytest.raises(ValueError, match="bleep mode"):
        bleep_audio(audio, [(0.0, 0.5)], mode="beep")
    with pytest.raises(ValueError, match="bad span"):
        bleep_audio(audio, [(0.5, 0.2)])
    with pytest.raises(ValueError, match="channel 3"):
        bleep_audio(audio, [(0.0, 0.5)], channels=[3])
    # spans past the end are clipped, not an error
    assert bleep_audio(audio, [(0.9, 5.0)]).frames == 8000


# -------------------------------------------------------------------------- CLI


def test_redact_cli_stdin_to_stdout() -> None:
    from callscope.cli import app

    runner = CliRunner()
    text = "My card is 4111 1111 1111 1111 and my phone is 13800138000.\nOrder 4567 arrives at 10 a.m.\n"
    result = runner.invoke(app, ["redact"], input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == "My card is [CARD] and my phone is [PHONE].\nOrder 4567 arrives at 10 a.m.\n"
    result = runner.invoke(app, ["redact", "--language", "zh"], input="身份证号码是11010519491231002X。")
    assert result.exit_code == 0
    assert result.stdout == "身份证号码是[ID]。"
