"""Language helpers shared by transcription, analysis and the IVR (English and Mandarin)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

# Spoken digits, shared by PII redaction and the IVR's keyed/spoken number parsing.
DIGIT_WORDS_EN = {
    "zero": "0", "oh": "0", "o": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
    "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}
DIGIT_REPEATS_EN = {"double": 2, "triple": 3}  # "double four" = 44
DIGITS_ZH = {
    "零": "0", "〇": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}

# Han characters: extension A, unified, compatibility, extensions B-F
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_CJK = re.compile(f"[{CJK_CLASS}]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_text_language(text: str, default: str = "en") -> str:
    """``"zh"`` when Chinese characters dominate the letters of ``text``, else ``"en"``."""
    cjk = len(_CJK.findall(text))
    latin_words = len(re.findall(r"[A-Za-z]+", text))
    if cjk == 0 and latin_words == 0:
        return default
    return "zh" if cjk >= latin_words else "en"


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Convert Traditional Chinese characters to Simplified (other text unchanged)."""
    if not has_cjk(text):
        return text
    return str(_t2s().convert(text))


def _fuzzy_syllable(syllable: str) -> str:
    """A toneless pinyin syllable folded the way fuzzy-pinyin input methods fold it.

    zh/ch/sh -> z/c/s, n -> l, ang/eng/ing -> an/en/in: the pairs Mandarin speakers and
    speech recognisers confuse most ("名下" heard as "宁下", "视频问诊" as "试题问准").
    """
    s = re.sub(r"^([zcs])h", r"\1", syllable)
    s = re.sub(r"^n(?=[aeiouv])", "l", s)
    return re.sub(r"([aei]n)g$", r"\1", s)


@lru_cache(maxsize=1)
def _sound_classes() -> dict[str, str]:
    """Han character -> the first character (in snownlp's pinyin table) with the same fuzzy reading.

    A character's reading is its own entry, else its syllable in the first word that has it.
    """
    from snownlp import normal

    path = Path(normal.__file__).with_name("pinyin.txt")
    reading: dict[str, str] = {}
    from_words: dict[str, str] = {}  # characters the table lists only inside words (one syllable each)
    for line in path.read_text(encoding="utf-8").splitlines():
        word, *syllables = line.split()
        if len(word) == 1 and len(syllables) == 1:
            reading.setdefault(word, _fuzzy_syllable(syllables[0].lower()))
        elif len(word) == len(syllables):
            for char, syllable in zip(word, syllables, strict=True):
                from_words.setdefault(char, _fuzzy_syllable(syllable.lower()))
    reading |= {char: sound for char, sound in from_words.items() if char not in reading}
    first: dict[str, str] = {}
    for char, sound in reading.items():
        first.setdefault(sound, char)
    return {char: first[sound] for char, sound in reading.items()}


def sound_key(text: str) -> str:
    """``text`` with every Han character replaced by one representative of its fuzzy toneless
    reading, character for character (same length, other characters unchanged).

    Two Mandarin texts with the same key sound alike: speech recognisers mostly err by writing
    a homophone or near-homophone (光澜 -> 光蓝, 施工 -> 诗宫, 名下 -> 宁下), so matching on keys
    finds a phrase in a transcript that spells it wrongly.
    """
    classes = _sound_classes()
    return "".join(classes.get(ch, ch) for ch in text)
