"""Speaker turns from a transcript: a sentence the other party cut into stays whole."""

from __future__ import annotations

from callscope.domain import Diarization, Segment, Transcript
from callscope.pipeline import speaker_turns

NO_ROLES = Diarization(turns=())


def _turns(language: str, *segments: tuple[float, float, str, str]) -> list[tuple[str, str]]:
    transcript = Transcript(
        language, tuple(Segment(a, b, text, speaker=who) for a, b, who, text in segments), 80.0, "base", "test"
    )
    return [(t.role.value, t.text) for t in speaker_turns(transcript, NO_ROLES)]


def test_a_sentence_the_other_party_cut_into_stays_whole() -> None:
    # s_en_06 of the demo calls as Whisper and the channels split it
    turns = _turns(
        "en",
        (31.1, 34.0, "caller", "Yes, everything's still in the box. How do I send them back?"),
        (34.6, 36.8, "agent", "You can print a free returns label from your account,"),
        (37.0, 37.4, "caller", "Okay, the"),
        (37.5, 41.0, "agent", "or drop them off at any Brightwave store with your order number."),
        (41.7, 45.0, "caller", "store would be easier and how long until I get my money back."),
        (45.7, 51.0, "agent", "Once we receive the headphones, the refund goes back within 5-7 business days."),
    )
    assert turns == [
        ("caller", "Yes, everything's still in the box. How do I send them back?"),
        ("agent", "You can print a free returns label from your account, or drop them off at any Brightwave store "
                  "with your order number."),
        ("caller", "Okay, the store would be easier and how long until I get my money back."),
        ("agent", "Once we receive the headphones, the refund goes back within 5-7 business days."),
    ]


def test_finished_sentences_and_long_pauses_keep_their_turns() -> None:
    turns = _turns(
        "en",
        (27.6, 33.0, "agent", "It sold out shortly after your order."),
        (33.4, 33.8, "agent", "New"),
        (33.9, 36.4, "caller", "So when am I actually going to get it?"),
        (36.5, 42.0, "agent", "stock arrives at our warehouse on Thursday."),
        (42.9, 45.0, "caller", "This is really poor service."),  # a new sentence: its own turn after the answer
        (46.0, 48.0, "agent", "I understand."),
        (49.0, 50.0, "caller", "fine"),  # lowercase, but the agent's turn before it was finished
    )
    assert turns == [
        ("agent", "It sold out shortly after your order. New stock arrives at our warehouse on Thursday."),
        ("caller", "So when am I actually going to get it?"),
        ("caller", "This is really poor service."),
        ("agent", "I understand."),
        ("caller", "fine"),
    ]
    late = _turns("en", (0.0, 2.0, "agent", "You can also"), (2.1, 3.0, "caller", "Sorry?"),
                  (7.0, 9.0, "agent", "call us back later."))
    assert [role for role, _ in late] == ["agent", "caller", "agent"]  # resumed 5 s later: a new turn


def test_mandarin_resumes_after_a_comma() -> None:
    turns = _turns(
        "zh",
        (1.0, 3.0, "agent", "故障恢复以后会发短信通知您，"),
        (3.1, 3.5, "caller", "好的"),
        (3.6, 6.0, "agent", "断网超过24小时的话还会自动减免部分费用。"),
        (6.5, 7.0, "caller", "谢谢"),
    )
    assert turns == [
        ("agent", "故障恢复以后会发短信通知您，断网超过24小时的话还会自动减免部分费用。"),
        ("caller", "好的"),
        ("caller", "谢谢"),
    ]
