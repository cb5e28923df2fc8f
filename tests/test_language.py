"""Language helpers shared by transcription, analysis and the IVR."""

from __future__ import annotations

from callscope.language import detect_text_language, has_cjk, to_simplified


def test_detect_text_language() -> None:
    assert detect_text_language("Where is my order?") == "en"
    assert detect_text_language("我的订单到哪里了？") == "zh"
    assert detect_text_language("我的 order 到哪里了") == "zh"  # code-switching: the Chinese dominates
    assert detect_text_language("1234 5678", default="zh") == "zh"
    assert detect_text_language("") == "en"


def test_to_simplified() -> None:
    assert has_cjk("訂單") and not has_cjk("order")
    assert to_simplified("您的訂單已經發貨了") == "您的订单已经发货了"
    assert to_simplified("order 42") == "order 42"


def test_sound_key_folds_homophones_and_near_homophones() -> None:
    from callscope.language import sound_key

    # Whisper's spellings of the shared Kokoro calls' Mandarin (光澜 -> 光蓝, 施工 -> 诗宫, 名下 stays apart from 宁下)
    for spelt, heard in [("光澜", "光蓝"), ("施工", "诗宫"), ("投诉", "头速"), ("着急", "着及"), ("名字", "明字")]:
        assert sound_key(spelt) == sound_key(heard), (spelt, heard)
    assert sound_key("生气") != sound_key("高兴")
    assert sound_key("no Han, 123。") == "no Han, 123。"
    assert len(sound_key("第三次了，我要投诉！")) == len("第三次了，我要投诉！")
