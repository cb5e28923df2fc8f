"""Call emotion from the reference transcripts and audio of the test calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.analysis.emotion import (
    EmotionOptions,
    EmotionReport,
    TurnText,
    analyze_emotions,
    echo_turns,
    turns_from_rttm_and_text,
)
from callscope.analysis.prosody import segment_prosody
from callscope.domain import Emotion, Role
from callscope.recordings.audio import load_audio


def _turns(data_dir: Path, stem: str) -> list[TurnText]:
    calls = data_dir / "calls"
    return turns_from_rttm_and_text((calls / f"{stem}.rttm").read_text(), (calls / f"{stem}.txt").read_text())


@pytest.fixture(scope="module")
def frustrated_call(data_dir: Path) -> EmotionReport:
    return analyze_emotions(_turns(data_dir, "s_en_03"), load_audio(data_dir / "calls/s_en_03.stereo.wav"), "en")


@pytest.fixture(scope="module")
def neutral_call(data_dir: Path) -> EmotionReport:
    return analyze_emotions(_turns(data_dir, "s_en_01"), load_audio(data_dir / "calls/s_en_01.stereo.wav"), "en")


def test_frustrated_caller_vs_neutral_caller(frustrated_call: EmotionReport, neutral_call: EmotionReport) -> None:
    assert frustrated_call.caller.label == Emotion.FRUSTRATED
    assert neutral_call.caller.label not in (Emotion.FRUSTRATED, Emotion.ANXIOUS)
    assert frustrated_call.caller.sentiment < neutral_call.caller.sentiment - 0.3
    assert frustrated_call.agent is not None and frustrated_call.agent.label != Emotion.FRUSTRATED
    # the call starts annoyed and is resolved: the caller's sentiment recovers
    first_half, second_half = frustrated_call.trajectory[:2], frustrated_call.trajectory[2:]
    assert len(frustrated_call.trajectory) == 4
    assert max(first_half) < min(second_half)
    assert frustrated_call.ended_better is True
    annoyed = [t for t in frustrated_call.turns if "really annoying" in t.text]
    assert annoyed[0].emotion.label == Emotion.FRUSTRATED and annoyed[0].emotion.sentiment < -0.3


def test_every_turn_gets_an_emotion_and_arousal(frustrated_call: EmotionReport, data_dir: Path) -> None:
    turns = _turns(data_dir, "s_en_03")
    assert [t.text for t in frustrated_call.turns] == [t.text for t in sorted(turns, key=lambda t: t.start)]
    assert all(t.emotion.arousal is not None for t in frustrated_call.turns)
    assert all(0.0 < t.emotion.confidence <= 1.0 for t in frustrated_call.turns)
    data = frustrated_call.to_dict()
    assert data["caller"]["label"] == "frustrated" and len(data["turns"]) == len(turns)


def test_prosody_is_read_from_the_turns_channel(data_dir: Path) -> None:
    """Dual-channel: a caller turn on channel 0 is measured there, not on the agent leg or the mix."""
    stereo = load_audio(data_dir / "calls/s_en_03.stereo.wav")
    turns = _turns(data_dir, "s_en_03")
    on_own = analyze_emotions(turns, stereo, "en")
    swapped = [TurnText(t.speaker, t.role, t.start, t.end, t.text, 1 - t.channel) for t in turns]  # type: ignore[operator]
    on_wrong = analyze_emotions(swapped, stereo, "en")
    assert [t.emotion.arousal for t in on_own.turns] != [t.emotion.arousal for t in on_wrong.turns]
    caller_turn = next(t for t in turns if t.role == Role.CALLER)
    own = segment_prosody(stereo, caller_turn.start, caller_turn.end, channel=0)
    assert own is not None and own.f0_median_hz < 160  # type: ignore[operator]
    # mono recordings are read from the mix and still give arousal
    mono = analyze_emotions(turns, load_audio(data_dir / "calls/s_en_03.mono.wav"), "en")
    assert all(t.emotion.arousal is not None for t in mono.turns)
    assert mono.caller.label == Emotion.FRUSTRATED


def test_mandarin_call_text_only(data_dir: Path) -> None:
    report = analyze_emotions(_turns(data_dir, "s_zh_01"))
    assert report.caller.label != Emotion.FRUSTRATED
    assert all(t.emotion.arousal is None for t in report.turns)
    thanks = next(t for t in report.turns if "谢谢你" in t.text)
    assert thanks.emotion.label == Emotion.POSITIVE


def test_escalation_and_recovery() -> None:
    turns = [
        TurnText("agent", Role.AGENT, 0.0, 3.0, "Thanks for calling, how can I help you today?"),
        TurnText("caller", Role.CALLER, 3.5, 7.0, "Hi, I'd like to check the status of my order please."),
        TurnText("agent", Role.AGENT, 7.5, 10.0, "Let me look. It shows it is still being processed."),
        TurnText("caller", Role.CALLER, 10.5, 13.0, "Okay, and when will it be shipped?"),
        TurnText("agent", Role.AGENT, 13.5, 16.0, "It should ship in about two weeks."),
        TurnText(
            "caller",
            Role.CALLER,
            16.5,
            22.0,
            "Two weeks? This is ridiculous, it's the third time I've been told that. Absolutely unacceptable!",
        ),
        TurnText("agent", Role.AGENT, 22.5, 26.0, "I'm sorry. I've upgraded it to express, it ships today."),
        TurnText("caller", Role.CALLER, 26.5, 30.0, "Oh, that's great. Thank you so much, I really appreciate it."),
    ]
    report = analyze_emotions(turns)
    assert report.escalations == (16.5,)
    assert report.turns[5].emotion.label == Emotion.FRUSTRATED
    assert report.caller.label == Emotion.FRUSTRATED  # one angry turn is what QA needs to see
    assert report.trajectory[2] < report.trajectory[3]


def test_edge_cases() -> None:
    empty = analyze_emotions([])
    assert empty.turns == () and empty.caller.label == Emotion.NEUTRAL and empty.agent is None
    with pytest.raises(ValueError, match="end after it starts"):
        analyze_emotions([TurnText("caller", Role.CALLER, 5.0, 4.0, "hello")])
    # no role information: the non-agent speakers stand for the caller
    report = analyze_emotions([TurnText("SPEAKER_00", Role.UNKNOWN, 0.0, 2.0, "我很担心，怎么办？")])
    assert report.caller.label == Emotion.ANXIOUS and report.agent is None and report.ended_better is None


def test_rttm_and_transcript_must_agree() -> None:
    rttm = "SPEAKER x 1 0.0 1.0 <NA> <NA> agent <NA> <NA>\n"
    with pytest.raises(ValueError, match="more 'caller' lines"):
        turns_from_rttm_and_text(rttm, "agent: hello\ncaller: hi\n")


def test_courtesy_does_not_make_a_neutral_caller_positive(data_dir: Path) -> None:
    """Callers who only ask questions and say "great, thanks, bye" are neutral, not happy."""
    from callscope.analysis.emotion import EmotionOptions

    for stem in ("s_en_01", "s_zh_01"):
        turns = _turns(data_dir, stem)
        report = analyze_emotions(turns, None, stem[2:4])
        assert report.caller.label == Emotion.NEUTRAL, stem
        whole_text = analyze_emotions(turns, None, stem[2:4], options=EmotionOptions(discount_courtesy=False))
        assert whole_text.caller.sentiment > report.caller.sentiment, stem  # the thanks were what made it positive
        # the per-turn labels still show the thanks
        assert any(t.emotion.label == Emotion.POSITIVE for t in report.turns if t.role == Role.CALLER), stem


def test_situation_and_politeness_in_one_call() -> None:
    """A caller who complains only through the situation and ends politely stays frustrated."""
    turns = [
        TurnText("agent", Role.AGENT, 0.0, 3.0, "Thanks for calling, how can I help?"),
        TurnText(
            "caller",
            Role.CALLER,
            3.5,
            9.0,
            "Hi. I've been waiting two weeks for my refund and nobody has called me back.",
        ),
        TurnText("agent", Role.AGENT, 9.5, 12.0, "I'm sorry about that, let me check."),
        TurnText(
            "caller",
            Role.CALLER,
            12.5,
            16.0,
            "I already called three times, and it was supposed to be sorted last Monday.",
        ),
        TurnText("agent", Role.AGENT, 16.5, 20.0, "I've sent it today, it will be with you in three days."),
        TurnText("caller", Role.CALLER, 20.5, 22.0, "Okay. Thanks, bye."),
    ]
    report = analyze_emotions(turns, language="en")
    assert report.caller.label == Emotion.FRUSTRATED
    assert report.turns[-1].emotion.label == Emotion.POSITIVE  # the turn itself is polite
    assert report.ended_better is not True  # ...but "thanks, bye" is not a recovery
    zh = [
        TurnText("caller", Role.CALLER, 0.0, 5.0, "我已经等了两个星期了，说好的三天就到。"),
        TurnText("agent", Role.AGENT, 5.5, 8.0, "非常抱歉，我帮您查一下。"),
        TurnText("caller", Role.CALLER, 8.5, 12.0, "我打了好几次电话，也没人联系我。"),
        TurnText("caller", Role.CALLER, 12.5, 14.0, "好的，谢谢，再见。"),
    ]
    assert analyze_emotions(zh, language="zh").caller.label == Emotion.FRUSTRATED


def test_caller_vs_agent_arousal_needs_both_sides(data_dir: Path) -> None:
    turns = _turns(data_dir, "s_en_03")
    stereo = load_audio(data_dir / "calls/s_en_03.stereo.wav")
    report = analyze_emotions(turns, stereo, "en")
    assert report.caller_vs_agent_arousal is not None
    assert report.to_dict()["caller_vs_agent_arousal"] == pytest.approx(report.caller_vs_agent_arousal, abs=1e-3)
    assert report.caller.label == Emotion.FRUSTRATED
    caller_only = analyze_emotions([t for t in turns if t.role == Role.CALLER], stereo, "en")
    assert caller_only.caller_vs_agent_arousal is None
    assert analyze_emotions(turns, None, "en").caller_vs_agent_arousal is None


def _scripted(lines: list[tuple[str, str]]) -> list[TurnText]:
    """Turns of a made-up call, 3 s each."""
    return [TurnText(who, Role(who), 3.5 * i, 3.5 * i + 3.0, said) for i, (who, said) in enumerate(lines)]


def test_a_clearly_pleased_caller_is_positive_even_after_reporting_a_fault() -> None:
    turns = _scripted([
        ("agent", "Good morning, how can I help?"),
        ("caller", "Hi, the TV box stopped showing any channels last night."),
        ("agent", "Let me run a check on it."),
        ("caller", "Sure, the account is under Morgan."),
        ("agent", "I've sent a reset signal; it should come back in two minutes."),
        ("caller", "It works again, I'm so pleased, thank you!"),
        ("agent", "Glad to hear it. Goodbye."),
    ])
    pleased = analyze_emotions(turns, language="en").caller
    assert pleased.label == Emotion.POSITIVE
    # the strongest positive turn counts beyond its share of the mean
    without_peak = analyze_emotions(turns, language="en", options=EmotionOptions(positive_peak_share=0.0)).caller
    assert without_peak.label != Emotion.POSITIVE or without_peak.confidence < pleased.confidence - 0.05
    # a polite "thanks" at the end is not enough
    polite = turns[:5] + _scripted([("caller", "Okay, thanks.")])
    assert analyze_emotions(polite, language="en").caller.label == Emotion.NEUTRAL


@pytest.mark.parametrize(
    ("language", "lines"),
    [
        ("en", [
            ("agent", "Hello, how can I help?"),
            ("caller", "My broadband router shows a red light and there is no internet connection."),
            ("agent", "Can you confirm your postcode?"),
            ("caller", "It is AB1 2CD."),
            ("agent", "There is a line fault in your area, engineers are on it and it should be fixed by six."),
            ("caller", "Okay, will you text me when it's back?"),
            ("agent", "Yes, we'll send a text."),
            ("caller", "Right, thanks."),
        ]),
        ("zh", [
            ("agent", "您好，请问有什么可以帮您？"),
            ("caller", "我家的宽带从早上开始就上不了网，路由器灯是红的。"),
            ("agent", "我帮您查一下，您的地址是？"),
            ("caller", "海淀区中关村大街一号。"),
            ("agent", "您那边线路有故障，预计下午修好。"),
            ("caller", "好的，知道了，谢谢。"),
        ]),
    ],
)
def test_a_fault_told_plainly_is_not_a_frustrated_caller(language: str, lines: list[tuple[str, str]]) -> None:
    report = analyze_emotions(_scripted(lines), language=language)
    assert report.caller.label == Emotion.NEUTRAL


def test_a_caller_calmer_than_the_agent_does_not_shift_the_call_label(
    frustrated_call: EmotionReport, data_dir: Path
) -> None:
    """Only a livelier caller moves the call label; a calmer one is read from the words and turns alone."""
    assert frustrated_call.caller_vs_agent_arousal is not None and frustrated_call.caller_vs_agent_arousal < 0
    turns, audio = _turns(data_dir, "s_en_03"), load_audio(data_dir / "calls/s_en_03.stereo.wav")
    still = EmotionOptions(call_arousal_shift=(0.0, 0.0, 0.0, 0.0))
    no_call_shift = analyze_emotions(turns, audio, "en", options=still)
    assert no_call_shift.caller == frustrated_call.caller
    as_before = analyze_emotions(turns, audio, "en", options=EmotionOptions(contrast_floor=None))
    assert as_before.caller.confidence != frustrated_call.caller.confidence


def test_the_agents_voice_leaking_into_the_callers_channel_is_not_the_callers_mood() -> None:
    """A caller turn that repeats the agent's words (leakage, transcribed on the caller's channel) is left
    out of the caller's emotion; the caller's own words decide."""
    agent_sorry = "I'm so sorry, I completely understand how upsetting and stressful this must be for you."
    turns = [
        TurnText("agent", Role.AGENT, 0.0, 3.0, "Thanks for calling Brightwave, how can I help?"),
        TurnText("caller", Role.CALLER, 3.5, 6.0, "Hello. I'd like to check when my new phone will be delivered."),
        TurnText("agent", Role.AGENT, 6.5, 11.0, agent_sorry),
        TurnText("caller", Role.CALLER, 6.6, 11.0, agent_sorry.replace("I'm so", "so")),  # the leak, a word lost
        TurnText("agent", Role.AGENT, 11.5, 14.0, "It arrives on Thursday by noon."),
        TurnText("caller", Role.CALLER, 14.5, 16.0, "Okay. Thursday then."),
    ]
    assert echo_turns(turns, 0.6, 5.0) == {3}
    assert echo_turns(turns, 0.6, 0.0) == {3}  # overlapping in time
    # far from the agent's turn, or saying little of it, is the caller's own
    far = [*turns[:3], TurnText("caller", Role.CALLER, 30.0, 34.0, turns[3].text)]
    assert echo_turns(far, 0.6, 5.0) == set()
    own = "Honestly, all of this has been really upsetting for me and my family."
    assert echo_turns([turns[2], TurnText("caller", Role.CALLER, 11.5, 14.0, own)], 0.6, 5.0) == set()
    # a short courtesy turn shares most of its words with the agent's formula, but is the caller's
    closing = [TurnText("agent", Role.AGENT, 0.0, 2.0, "Thank you for your patience. Goodbye."),
               TurnText("caller", Role.CALLER, 2.5, 4.0, "Right, thank you for your help.")]
    assert echo_turns(closing, 0.6, 5.0) == set()

    with_leak = analyze_emotions(turns, language="en", options=EmotionOptions(echo_share=None))
    without = analyze_emotions(turns, language="en")
    assert with_leak.caller.label == Emotion.ANXIOUS  # the agent's sympathy read as the caller's distress
    assert without.caller.label != Emotion.ANXIOUS
    assert len(without.turns) == len(turns)  # the echo keeps its own per-turn emotion


def _scripted(lines: list[tuple[str, str]]) -> list[TurnText]:
    return [TurnText(s, Role(s), 3.5 * k, 3.5 * k + 3, text) for k, (s, text) in enumerate(lines)]


def test_mandarin_cues_heard_as_homophones_still_count() -> None:
    """Whisper writes Mandarin cue words as homophones (第三次 -> 第三刺, 太过分 -> 太过粉, 谢谢 -> 写写): matched
    by sound (cues of three or more characters, courtesy formulas), the misheard call reads about as the spelt one;
    matched by spelling only, it loses its cues."""
    from callscope.analysis.sentiment import SentimentOptions, TextSentiment

    spelt = [("agent", "您好，请问有什么可以帮您？"), ("caller", "网络又断了，这已经是第三次了，太过分了。"),
             ("agent", "抱歉，我帮您查一下。"), ("caller", "好的，谢谢，再见。")]
    heard = [(s, t.replace("第三次", "第三刺").replace("太过分", "太过粉").replace("谢谢，再见", "写写，再件"))
             for s, t in spelt]
    by_sound, by_spelling = TextSentiment(), TextSentiment(SentimentOptions(sound_cues=None))
    reference = analyze_emotions(_scripted(spelt), language="zh", sentiment=by_sound).caller
    assert reference == analyze_emotions(_scripted(spelt), language="zh", sentiment=by_spelling).caller
    sound = analyze_emotions(_scripted(heard), language="zh", sentiment=by_sound).caller
    spelling = analyze_emotions(_scripted(heard), language="zh", sentiment=by_spelling).caller
    assert reference.label == sound.label == Emotion.FRUSTRATED
    assert sound.confidence > 0.7 and spelling.confidence < 0.5
    assert abs(sound.sentiment - reference.sentiment) < 0.1 < abs(spelling.sentiment - reference.sentiment)


@pytest.mark.parametrize(
    ("language", "fault", "heat"),
    [
        ("en", "The boiler is broken, there's no hot water and the display shows an error.",
         "This is the third time I've called about this. "),
        ("zh", "我家热水器打开就报错，显示屏也黑了。", "这已经是我第三次打电话了。"),
    ],
)
def test_frustration_needs_a_cue_before_its_strongest_turn_counts(language: str, fault: str, heat: str) -> None:
    """A fault told in negative words, with no complaint cue anywhere, is read from the mean of the caller's
    turns (neutral here); with a cue ("third time") the strongest turn counts again and the caller is frustrated."""
    zh = language == "zh"
    rest = [
        ("agent", "请问是什么型号？" if zh else "Sorry about that. Which model is it?"),
        ("caller", "白色的那个，型号是T4，三月份买的。" if zh else "The white one, model T4, bought in March."),
        ("agent", "请您长按复位键十秒。" if zh else "Please hold the reset button for ten seconds."),
        ("caller", "好的，我晚上试试。" if zh else "Okay, I'll try that tonight."),
    ]
    hello = ("agent", "您好，请问有什么可以帮您？" if zh else "Thanks for calling, how can I help?")
    plain = _scripted([hello, ("caller", fault), *rest])
    assert analyze_emotions(plain, language=language).caller.label == Emotion.NEUTRAL
    as_before = analyze_emotions(plain, language=language, options=EmotionOptions(peak_needs_cue=False)).caller
    assert as_before.label == Emotion.FRUSTRATED
    cued = _scripted([hello, ("caller", heat + fault), *rest])
    assert analyze_emotions(cued, language=language).caller.label == Emotion.FRUSTRATED


def test_relief_at_the_close_does_not_override_a_cued_worry(data_dir: Path) -> None:
    """A real Whisper transcript: a caller worried about her mother's video appointment (我特别着急, heard as
    特地着急) is reassured (那太好了 ... 我放心多了). The label is how she felt about the issue: anxious; counting
    the relief as mood, as before, labels her positive."""
    import json

    meta = json.loads((data_dir / "analysis/transferred/s_zh_03.stereo.analysis.json").read_text(encoding="utf-8"))
    turns = [TurnText(t["speaker"], Role(t["role"]), t["start"], t["end"], t["text"]) for t in meta["turns"]]
    assert any("特地着急" in t.text for t in turns) and any("放心多了" in t.text for t in turns)
    assert analyze_emotions(turns, language="zh").caller.label == Emotion.ANXIOUS
    before = analyze_emotions(turns, language="zh", options=EmotionOptions(relief_after_cue=False)).caller
    assert before.label == Emotion.POSITIVE


def test_relief_rule_needs_a_cued_negative_turn() -> None:
    """A happy caller's "what if" question is an anxious cue but not an anxious turn: the closing delight counts."""
    lines = [("agent", "Thanks for calling, how can I help?"),
             ("caller", "Hi! I'd love to add my daughter to my plan, she's just got her first phone."),
             ("agent", "Of course, I can set that up now."), ("caller", "What if she goes over her data?"),
             ("agent", "She'll get a text at 80 percent and it stops at the limit, no extra charges."),
             ("caller", "Perfect, that's great news. Thanks a lot!")]
    assert analyze_emotions(_scripted(lines), language="en").caller.label == Emotion.POSITIVE


def test_with_cues_of_both_kinds_the_more_cued_class_counts_its_peak() -> None:
    """A caller who says twice that she is worried, and once names a broken promise ("was supposed to"), is
    anxious: only the class with more cued turns counts its strongest turn (both would read frustrated here)."""
    lines = [("agent", "Thanks for calling, how can I help?"),
             ("caller", "Hi, I'm a bit nervous about this. Why was my card charged twice for one order? "
                        "It was supposed to be a single payment."),
             ("agent", "I can see both payments, one moment please."), ("caller", "The order number is 5521."),
             ("agent", "The second one is only a hold, it drops off in three days."),
             ("caller", "I'm worried I won't have enough left for my rent.")]
    assert analyze_emotions(_scripted(lines), language="en").caller.label == Emotion.ANXIOUS


def _recorded_zh_calls(data_dir: Path) -> dict[str, tuple[list[TurnText], dict[Emotion, float], str]]:
    """Real Whisper turns of three Mandarin dev calls with the bundled LLM's recorded reading of the caller."""
    import json

    meta = json.loads((data_dir / "analysis/whisper_zh_dev_opinions.json").read_text(encoding="utf-8"))
    return {
        cid: ([TurnText(t["role"], Role(t["role"]), t["start"], t["end"], t["text"]) for t in call["turns"]],
              {Emotion(k): v for k, v in call["llm_opinion"].items()}, call["script_emotion"])
        for cid, call in meta["calls"].items()
    }


def test_the_llm_opinion_settles_mandarin_callers_the_cues_leave_open(data_dir: Path) -> None:
    """Real Whisper text of three Mandarin dev calls. c_zh_027 (a neutral caller: 从昨晚到现在都连不上) has no cue and
    reads frustrated from the fault's wording; c_zh_049 (担心 ... 一直没有到) and c_zh_038 (怎么办 ... 我等着看结果) hold
    as many worry as complaint cues. The cues alone get all three wrong; with the LLM's recorded reading, all three
    are right. Without an opinion (no model) the label is the cues' own."""
    calls = _recorded_zh_calls(data_dir)
    expected = {"c_zh_027": Emotion.NEUTRAL, "c_zh_049": Emotion.ANXIOUS, "c_zh_038": Emotion.FRUSTRATED}
    by_cues = {"c_zh_027": Emotion.FRUSTRATED, "c_zh_049": Emotion.FRUSTRATED, "c_zh_038": Emotion.ANXIOUS}
    for cid, (turns, opinion, script) in calls.items():
        alone = analyze_emotions(turns, language="zh")
        assert alone.caller.label == by_cues[cid] and alone.caller_opinion is None and alone.caller_by_cues is None
        settled = analyze_emotions(turns, language="zh", opinion=opinion)
        assert settled.caller.label == expected[cid], cid
        assert settled.caller_by_cues == by_cues[cid] and settled.caller_opinion == opinion
        assert settled.to_dict()["caller_by_cues"] == str(by_cues[cid])
        off = analyze_emotions(turns, language="zh", opinion=opinion, options=EmotionOptions(second_opinion=False))
        assert off.caller == alone.caller
    assert {"c_zh_049": "anxious", "c_zh_038": "angry", "c_zh_027": "neutral"} == {c: v[2] for c, v in calls.items()}


def test_the_llm_opinion_does_not_overrule_a_cue_backed_label() -> None:
    """Where the cues back the label, the opinion changes nothing: a caller who says this is her third call stays
    frustrated even when the model reads her as calm."""
    plain = [("agent", "您好，请问有什么可以帮您？"), ("caller", "这已经是我第三次打电话了，网络还是连不上。"),
             ("agent", "抱歉，我帮您查一下。"), ("caller", "好的。")]
    calm = {Emotion.NEUTRAL: 0.8, Emotion.POSITIVE: 0.05, Emotion.FRUSTRATED: 0.1, Emotion.ANXIOUS: 0.05}
    report = analyze_emotions(_scripted(plain), language="zh", opinion=calm)
    assert report.caller.label == Emotion.FRUSTRATED and report.caller_by_cues is None


def test_settle_with_opinion() -> None:
    from callscope.analysis.emotion import settle_with_opinion

    worried = {Emotion.NEUTRAL: 0.2, Emotion.POSITIVE: 0.0, Emotion.FRUSTRATED: 0.3, Emotion.ANXIOUS: 0.5}
    calm = {Emotion.NEUTRAL: 0.6, Emotion.POSITIVE: 0.0, Emotion.FRUSTRATED: 0.3, Emotion.ANXIOUS: 0.1}
    both = [Emotion.FRUSTRATED, Emotion.ANXIOUS]
    assert settle_with_opinion(Emotion.FRUSTRATED, both, worried) == Emotion.ANXIOUS  # contradictory cues
    assert settle_with_opinion(Emotion.FRUSTRATED, both, calm) == Emotion.FRUSTRATED  # a tie never goes neutral
    assert settle_with_opinion(Emotion.FRUSTRATED, [], calm) == Emotion.NEUTRAL  # no cue behind the label
    assert settle_with_opinion(Emotion.FRUSTRATED, [Emotion.ANXIOUS], calm) == Emotion.NEUTRAL
    assert settle_with_opinion(Emotion.FRUSTRATED, [], worried) == Emotion.FRUSTRATED  # the model is not calm
    assert settle_with_opinion(Emotion.FRUSTRATED, [Emotion.FRUSTRATED], calm) == Emotion.FRUSTRATED
    assert settle_with_opinion(Emotion.POSITIVE, [], calm) == Emotion.POSITIVE  # only negative labels move
    assert settle_with_opinion(Emotion.NEUTRAL, both, worried) == Emotion.NEUTRAL
