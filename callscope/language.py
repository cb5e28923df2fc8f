"""Language helpers shared by transcription, analysis and the IVR (English and Mandarin)."""

from __future__ import annotations

import re
from functools import lru_cache

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
