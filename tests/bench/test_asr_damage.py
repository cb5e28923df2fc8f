"""Simulated ASR damage for the caller-emotion benchmark does what it says, deterministically."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from asr_damage import damage, vocabulary  # noqa: E402

CALL = {
    "id": "c_en_001",
    "language": "en",
    "turns": [
        {"speaker": "agent", "text": "Thanks for calling, how can I help?"},
        {"speaker": "caller", "text": "My internet has been down since Monday and I am furious."},
        {"hold": True},
        {"speaker": "agent", "text": "I am sorry, let me check the line."},
        {"speaker": "caller", "text": "Please hurry, I work from home."},
        {"speaker": "agent", "text": "It is fixed now."},
    ],
}
ZH = {"id": "c_zh_001", "language": "zh", "turns": [{"speaker": "caller", "text": "宽带断了，我很生气。"}]}
VOCAB = vocabulary([CALL, ZH])


def test_merge_at_rate_one_joins_every_caller_turn_with_the_agent_reply():
    out = damage(CALL, "merge", 1.0, VOCAB)
    speakers = [t["speaker"] for t in out["turns"]]
    assert speakers == ["agent", "caller", "caller"]
    assert out["turns"][1]["text"].endswith("let me check the line.")
    assert "hold" not in str(out["turns"])


def test_drop_and_swap_change_words_but_keep_punctuation_and_rate_zero_changes_nothing():
    assert damage(CALL, "drop", 0.0, VOCAB)["turns"][1]["text"] == CALL["turns"][1]["text"]
    dropped = damage(CALL, "drop", 0.5, VOCAB)["turns"][1]["text"]
    assert len(dropped.split()) < len(CALL["turns"][1]["text"].split())
    assert dropped.endswith(".")
    swapped = damage(CALL, "swap", 1.0, VOCAB)["turns"][1]["text"]
    assert swapped != CALL["turns"][1]["text"]
    assert all(w.strip(".,?") in VOCAB["en"] for w in swapped.split())
    zh = damage(ZH, "drop", 0.5, VOCAB)["turns"][0]["text"]
    assert len(zh) < len(ZH["turns"][0]["text"]) and "，" in zh


def test_lose_keeps_the_first_caller_turn_and_damage_is_deterministic():
    out = damage(CALL, "lose", 1.0, VOCAB)
    assert [t["speaker"] for t in out["turns"]] == ["agent", "caller", "agent", "agent"]
    assert damage(CALL, "swap", 0.3, VOCAB, seed=4) == damage(CALL, "swap", 0.3, VOCAB, seed=4)
    with pytest.raises(ValueError):
        damage(CALL, "shout", 0.3, VOCAB)


def test_leak_repeats_agent_turns_as_caller_turns():
    out = damage(CALL, "leak", 1.0, VOCAB)
    assert [t["speaker"] for t in out["turns"]] == [
        "agent", "caller", "caller", "agent", "caller", "caller", "agent", "caller"]
    assert out["turns"][1]["text"] == CALL["turns"][0]["text"]


def test_homophone_damage_writes_mandarin_characters_that_sound_the_same_and_leaves_english_alone():
    pytest.importorskip("pypinyin")  # the corpus extra
    from pypinyin import Style, lazy_pinyin

    zh = {"id": "c_zh_002", "language": "zh", "turns": [{"speaker": "caller", "text": "生气，声音，施工，诗歌。"}]}
    vocab = vocabulary([zh])
    out = damage(zh, "homophone", 1.0, vocab)["turns"][0]["text"]
    assert out != zh["turns"][0]["text"] and len(out) == len(zh["turns"][0]["text"])
    assert lazy_pinyin(out, style=Style.NORMAL) == lazy_pinyin(zh["turns"][0]["text"], style=Style.NORMAL)
    assert damage(CALL, "homophone", 1.0, VOCAB) == {**CALL, "turns": [t for t in CALL["turns"] if "speaker" in t]}


def test_punct_damage_runs_sentences_together_with_commas_as_whisper_writes_them():
    zh = {"id": "c_zh_003", "language": "zh",
          "turns": [{"speaker": "caller", "text": "我很担心。我的手机一直显示无服务，打不了电话！"}]}
    out = damage(zh, "punct", 1.0, vocabulary([zh]))["turns"][0]["text"]
    assert out.endswith("！") and "。" not in out and "，" not in out
    assert out.replace(",", "") == "我很担心我的手机一直显示无服务打不了电话！" and out.startswith("我很担心,")
    en = {"id": "c_en_003", "language": "en",
          "turns": [{"speaker": "caller", "text": "Hi. My phone is broken. I need a new one, please."}]}
    assert damage(en, "punct", 0.0, VOCAB)["turns"][0]["text"] == en["turns"][0]["text"]
    out = damage(en, "punct", 1.0, VOCAB)["turns"][0]["text"]
    assert out.replace(",", "") == "Hi my phone is broken I need a new one please."


def test_homophone_damage_without_pypinyin_uses_the_fuzzy_sound_keys(monkeypatch: pytest.MonkeyPatch):
    from callscope.language import sound_key

    monkeypatch.setitem(sys.modules, "pypinyin", None)  # import fails: the fallback reading
    zh = {"id": "c_zh_002", "language": "zh", "turns": [{"speaker": "caller", "text": "生气，声音，施工，诗歌。"}]}
    out = damage(zh, "homophone", 1.0, vocabulary([zh]))["turns"][0]["text"]
    assert out != zh["turns"][0]["text"] and sound_key(out) == sound_key(zh["turns"][0]["text"])
