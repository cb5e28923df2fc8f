"""Names and street addresses (en + zh) are redacted; ordinary words are kept; the audio
bleeps follow the text spans."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from callscope.analysis.pii import PiiOptions, bleep_audio, find_pii, redact_text, redact_transcript
from callscope.domain import Audio, Segment, Transcript, Word

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        ("Hi, my name is Margaret Olsen and I'm calling about my bill.", "name", "Margaret Olsen"),
        ("Good morning, this is Daniel Whitaker speaking.", "name", "Daniel Whitaker"),
        ("The name on the account? Tom, Tom Baxter.", "name", "Tom"),
        ("my name is margaret olsen i want to cancel", "name", "margaret olsen"),  # ASR style
        ("this is daniel whitaker speaking", "name", "whitaker"),
        ("Thank you, Mrs. Okafor, that's updated.", "name", "Okafor"),
        ("我叫王晓明，想查一下订单。", "name", "王晓明"),
        ("我是李娜", "name", "李娜"),
        ("请问是陈先生吗", "name", "陈"),
        ("I live at 42 Wallaby Way, Sydney.", "address", "42 Wallaby Way"),
        ("it's forty two wallaby way", "address", "wallaby way"),
        ("我的地址是北京市朝阳区建国路88号。", "address", "建国路88号"),
        ("我住解放路56号3单元501室", "address", "501室"),
    ],
)
def test_names_and_addresses_are_redacted(text: str, kind: str, secret: str) -> None:
    result = redact_text(text)
    assert secret not in result.text, result.text
    assert kind in result.kinds
    assert f"[{kind.upper()}]" in result.text


@pytest.mark.parametrize(
    "text",
    [
        "Can it be delivered on Saturday?",
        "I'd like to check the status of my order.",
        "i have a question about my bill",
        "this is ridiculous i've been waiting for an hour",
        "I'm fine, thanks for asking. Will it arrive by Monday?",
        "Main Street was closed so the driver couldn't get through.",
        "It's BW503872.",  # an order reference after "it's", not a name
        "The Galaxy phone I bought in Paris stopped charging.",
        "我想查一下订单。",
        "星期六能送到吗？",
        "我是来退货的。",
        "我刚才叫了外卖。",
        "李宁的鞋子什么时候到货？",  # a brand that is also a person's name
        "路上堵车，订单号是4567。",
    ],
)
def test_ordinary_words_are_kept(text: str) -> None:
    assert [s for s in find_pii(text) if s.kind in ("name", "address")] == []


def test_name_and_address_kinds_can_be_turned_off() -> None:
    text = "my name is margaret olsen and i live at 42 wallaby way"
    options = PiiOptions(kinds=frozenset({"card", "phone", "email", "id", "account", "number"}))
    assert redact_text(text, options=options).text == text
    assert redact_text(text).text == "my name is [NAME] and i live at [ADDRESS]"


def _words(start: float, text: str) -> Segment:
    words, t = [], start
    for token in text.split():
        words.append(Word(round(t, 2), round(t + 0.3, 2), " " + token, 0.9, "caller"))
        t += 0.35
    return Segment(start, t, " " + text, tuple(words), speaker="caller")


def test_audio_bleeps_follow_name_and_address_spans() -> None:
    segment = _words(1.0, "hello my name is margaret olsen i live at 42 wallaby way thanks")
    redacted, spans = redact_transcript(Transcript("en", (segment,), 10.0, "t", "t"))
    text = redacted.segments[0].text
    assert "margaret" not in text and "wallaby" not in text
    assert "[NAME]" in text and "[ADDRESS]" in text and text.endswith("thanks")
    by_kind = {kind: (a, b) for a, b, kind in spans}
    words = segment.words
    assert by_kind["name"] == (words[4].start, words[5].end)  # "margaret olsen"
    assert by_kind["address"] == (words[9].start, words[11].end)  # "42 wallaby way"
    rate = 8000
    audio = Audio(np.full((1, rate * 10), 0.05, dtype=np.float32), rate)
    bleeped = bleep_audio(audio, spans)
    inside = bleeped.samples[0, int(by_kind["name"][0] * rate) + 50 : int(by_kind["name"][1] * rate) - 50]
    assert np.abs(inside - 0.05).max() > 0.1  # the tone replaced the speech
    outside = bleeped.samples[0, int(words[12].start * rate) + 10 : int(words[12].end * rate)]  # "thanks"
    assert np.allclose(outside, 0.05)


def test_labelled_dev_set_meets_the_targets() -> None:
    """A regression guard on the dev half of bench/data/pii_labelled.jsonl (the test half
    is reported once in BENCHMARKS.md by bench/bench_pii.py)."""
    spec = importlib.util.spec_from_file_location("bench_pii", REPO / "bench" / "bench_pii.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    rows = [json.loads(line) for line in bench.DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    scores = bench.evaluate([r for r in rows if r["split"] == "dev"], PiiOptions())
    for kind in ("card", "phone", "email", "id"):
        assert scores[kind]["recall"] >= 0.95, (kind, scores[kind])
    for kind in ("name", "address"):
        assert scores[kind]["recall"] >= 0.85, (kind, scores[kind])
    assert scores["all"]["precision"] >= 0.90
