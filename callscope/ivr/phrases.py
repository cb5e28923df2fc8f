"""What callers say besides questions: agent requests, yes/no, goodbyes, numbers.

Small bilingual lexicons (English, Mandarin) and parsers for spoken digits. They are
checked before the knowledge base, so "agent" or "人工" always reaches a person, and
they run in microseconds (no model).
"""

from __future__ import annotations

import re
import unicodedata

from callscope.language import (
    DIGIT_REPEATS_EN,
    DIGIT_WORDS_EN,
    DIGITS_ZH,
    has_cjk,
    to_simplified,
)

MAX_UTTERANCE_CHARS = 400
"""Longer speech results are cut here: nobody asks a 400-character question."""

_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s'\u3400-\u4dbf\u4e00-\u9fff]+")


def clean_utterance(text: str | None) -> str:
    """Whitespace-normalised, NFKC, Simplified Chinese, at most MAX_UTTERANCE_CHARS."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text))
    text = "".join(ch for ch in text if ch.isprintable() or ch == " ")
    text = _SPACE.sub(" ", text).strip()[:MAX_UTTERANCE_CHARS]
    return to_simplified(text) if has_cjk(text) else text


def normalise(text: str) -> str:
    """Lower-case, punctuation removed: the form the lexicons are matched against."""
    return _SPACE.sub(" ", _PUNCT.sub(" ", text.lower())).strip()


def _en_pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(p.replace(" ", r"\s+") for p in phrases) + r")\b")


# ------------------------------------------------------------------ agent requests

_AGENT_EN = _en_pattern(
    (
        "agent",
        "agents",
        "representative",
        "rep",
        "operator",
        "human",
        "real person",
        "live person",
        "a person",
        "someone real",
        "talk to someone",
        "speak to someone",
        "speak with someone",
        "talk to a person",
        "customer service",
        "customer services",
        "advisor",
        "adviser",
    )
)
_AGENT_ZH = ("人工", "真人", "接线员", "转客服", "找客服", "客服人员", "接客服", "坐席")


def is_agent_request(text: str) -> bool:
    """True when the caller asks for a person ("agent", "representative", "人工", ...)."""
    if not text:
        return False
    if has_cjk(text) and any(p in text for p in _AGENT_ZH):
        return True
    return bool(_AGENT_EN.search(normalise(text)))


# ------------------------------------------------------------------------ yes / no

_YES_EN = _en_pattern(
    (
        "yes",
        "yeah",
        "yep",
        "yup",
        "correct",
        "right",
        "that's right",
        "that is right",
        "sure",
        "please do",
        "exactly",
        "ok",
        "okay",
        "affirmative",
        "uh huh",
    )
)
_NO_EN = _en_pattern(("no", "nope", "nah", "not really", "wrong", "incorrect", "that's wrong", "negative", "not that"))
_YES_ZH = ("是的", "对", "是", "好的", "没错", "嗯", "正确", "可以", "行")
_NO_ZH = ("不是", "不对", "不", "没有", "错了", "否")


def yes_no(text: str, digits: str = "") -> bool | None:
    """True for yes (or key 1), False for no (or key 2), None when neither."""
    if digits:
        return {"1": True, "2": False}.get(digits[:1])
    if not text:
        return None
    if has_cjk(text):
        t = normalise(text).replace(" ", "")
        # negatives first: "不是" contains "是"
        if any(t.startswith(p) for p in _NO_ZH) or t in _NO_ZH:
            return False
        if any(t.startswith(p) for p in _YES_ZH):
            return True
        return None
    t = normalise(text)
    words = t.split()
    if not words or len(words) > 6:
        return None  # a long sentence is a new question, not an answer to "did you mean"
    no, yes = _NO_EN.search(t), _YES_EN.search(t)
    if no and not (yes and yes.start() < no.start()):
        return False
    if yes:
        return True
    return None


# -------------------------------------------------------------- finished / goodbye
#
# A closing is an utterance made only of closing phrases ("that's all", "bye", "没有了")
# and filler ("no", "thanks", "for today", "好的", "了"): whatever is left after removing
# them must be empty, so "nothing else works after the reset" stays a question.

_CLOSING_EN = (
    "that's all",
    "that is all",
    "that's it",
    "that is it",
    "that's everything",
    "that is everything",
    "that'll be all",
    "that will be all",
    "that'll be it",
    "that will be it",
    "that'll do",
    "that will do",
    "nothing else",
    "nothing more",
    "nothing",
    "no more questions",
    "no other questions",
    "no further questions",
    "no more",
    "i'm good",
    "i am good",
    "i'm fine",
    "i am fine",
    "i'm ok",
    "i'm okay",
    "i am ok",
    "i am okay",
    "i'm done",
    "i am done",
    "we're good",
    "we're done",
    "i'm all set",
    "i am all set",
    "we're all set",
    "all set",
    "all good",
    "all done",
    "done",
    "goodbye",
    "good bye",
    "bye bye",
    "bye",
    "have a nice day",
    "have a good day",
    "have a great day",
    "have a good one",
    "take care",
    "never mind",
    "nevermind",
    "forget it",
    "you've been helpful",
    "you have been helpful",
    "you've been very helpful",
    "that helps",
    "that helped",
    "that's helpful",
    "that answers my question",
)
_THANKS_EN = ("thank you", "thanks", "thankyou", "cheers", "much appreciated", "appreciate it", "appreciated")
_NEGATIVE_EN = ("no", "nope", "nah", "not really", "no thanks", "no thank you")
_FILLER_EN = (
    "no",
    "nope",
    "nah",
    "ok",
    "okay",
    "alright",
    "all right",
    "well",
    "oh",
    "um",
    "umm",
    "uh",
    "er",
    "hmm",
    "so",
    "then",
    "great",
    "perfect",
    "cool",
    "fine",
    "good",
    "yes",
    "yeah",
    "actually",
    "really",
    "i think",
    "i guess",
    "for now",
    "for today",
    "today",
    "i needed",
    "i need",
    "i wanted",
    "i had",
    "please",
    "very much",
    "so much",
    "a lot",
    "again",
    "you",
    "and",
    "for",
    "your help",
    "the help",
    "helping",
    "that's fine",
    "that's great",
    "that's perfect",
    "sir",
    "ma'am",
)
_CLOSING_ZH = (
    "没有其他问题",
    "没有别的问题",
    "没有其他",
    "没有别的",
    "没别的",
    "没其他",
    "没有了",
    "没了",
    "没事了",
    "没事",
    "没问题了",
    "不用了",
    "不需要了",
    "不用",
    "不需要",
    "就这些",
    "就这样",
    "就这么多",
    "就这个",
    "再见",
    "拜拜",
    "好了",
    "可以了",
    "行了",
    "算了",
    "够了",
    "清楚了",
    "明白了",
    "知道了",
)
_THANKS_ZH = ("谢谢", "多谢", "感谢", "谢了")
_NEGATIVE_ZH = ("没有", "不", "不了", "没")
_FILLER_ZH = (
    "好的",
    "好",
    "嗯",
    "哦",
    "噢",
    "喔",
    "啊",
    "呀",
    "吧",
    "呢",
    "了",
    "的",
    "那",
    "就",
    "先",
    "暂时",
    "目前",
    "今天",
    "问题",
    "事情",
    "事",
    "你",
    "您",
    "你们",
    "非常",
    "很",
    "啦",
    "哈",
    "帮助",
    "帮忙",
    "对",
    "是",
    "没有",
    "不",
    "我",
    "这边",
)


def _alternation(words: tuple[str, ...]) -> str:
    ordered = sorted(set(words), key=len, reverse=True)  # longest first: "thank you" before "thank"
    return "|".join(re.escape(w).replace(r"\ ", r"\s+").replace("'", "'?") for w in ordered)


def _en_closing_parts(core: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    return (
        re.compile(r"\b(?:" + _alternation(core) + r")\b"),
        re.compile(r"\b(?:" + _alternation(core + _FILLER_EN + _THANKS_EN) + r")\b"),
    )


_EN_CLOSING = {
    (thanks, negative): _en_closing_parts(
        _CLOSING_EN + (_THANKS_EN if thanks else ()) + (_NEGATIVE_EN if negative else ())
    )
    for thanks in (False, True)
    for negative in (False, True)
}


def _zh_closing_core(thanks: bool, negative: bool) -> re.Pattern[str]:
    core = _CLOSING_ZH + (_THANKS_ZH if thanks else ()) + (_NEGATIVE_ZH if negative else ())
    return re.compile(_alternation(core))


_ZH_CLOSING = {(t, n): _zh_closing_core(t, n) for t in (False, True) for n in (False, True)}
_YES_WORD_EN = re.compile(r"\b(?:yes|yeah|yep|yup|sure|please)\b")
_YES_LEAD_ZH = ("是", "对", "有", "嗯")
_ZH_ANY = re.compile(_alternation(_CLOSING_ZH + _THANKS_ZH + _NEGATIVE_ZH + _FILLER_ZH))


def is_closing(text: str, *, thanks: bool = True, negative: bool = False) -> bool:
    """True when ``text`` only ends the call: "that's all", "no thanks, bye", "没有了，谢谢".

    Args:
        text: what the caller said.
        thanks: a bare "thank you" / "谢谢" counts as a closing (not at the greeting).
        negative: a bare "no" / "没有" counts as a closing (at "anything else?" only).
    """
    if not text:
        return False
    if has_cjk(text):
        t = normalise(to_simplified(text)).replace(" ", "")
        if not _ZH_CLOSING[(thanks, negative)].search(t):
            return False
        if t.startswith(_YES_LEAD_ZH) and not _ZH_CLOSING[(False, False)].search(t):
            return False  # "是的，谢谢": a yes, not a goodbye
        return not _ZH_ANY.sub("", t)
    t = normalise(text.replace("\u2019", "'"))  # the recogniser may write a curly apostrophe
    core, everything = _EN_CLOSING[(thanks, negative)]
    if not core.search(t):
        return False
    if _YES_WORD_EN.search(t) and not _EN_CLOSING[(False, False)][0].search(t):
        return False  # "yes, thanks": a yes; but "yeah, that's all, thanks" is a goodbye
    return not everything.sub(" ", t).strip(" '")


def is_done(text: str, digits: str = "") -> bool:
    """True when the caller has nothing else ("no thanks", "that's all", "没有了", key 2)."""
    if digits:
        return digits[:1] == "2"
    return is_closing(text, thanks=True, negative=True)


_CONTENT_FREE_EN = re.compile(
    r"\b(?:"
    + _alternation(
        (
            "hello",
            "hi",
            "hey",
            "yes",
            "yeah",
            "no",
            "nope",
            "ok",
            "okay",
            "um",
            "umm",
            "uh",
            "er",
            "hmm",
            "sorry",
            "what",
            "huh",
            "excuse me",
            "pardon",
            "is anyone there",
            "anyone there",
            "are you there",
            "hello there",
            "thanks",
            "thank you",
            "please",
        )
    )
    + r")\b"
)
_CONTENT_FREE_ZH = re.compile(
    _alternation(
        ("喂", "你好", "您好", "嗯", "啊", "哦", "什么", "是", "不是", "对", "好的", "好", "谢谢", "请问", "有人吗", "在吗")
        + ("的", "了", "吗", "呢")
    )
)


def has_content(text: str) -> bool:
    """False for utterances that cannot be a question ("hello?", "um", "yes", "喂？你好"): they
    are not understood, but they are not unanswered questions either."""
    if not text:
        return False
    if has_cjk(text):
        return bool(_CONTENT_FREE_ZH.sub("", normalise(text).replace(" ", "")))
    return bool(_CONTENT_FREE_EN.sub(" ", normalise(text)).strip(" '"))


_REPEAT_EN = _en_pattern(("repeat", "say that again", "say it again", "pardon", "come again", "what did you say"))
_REPEAT_ZH = ("重复", "再说一遍", "没听清", "再讲一遍")


def is_repeat_request(text: str) -> bool:
    """True for "repeat that", "pardon?", "再说一遍"."""
    if has_cjk(text):
        return any(p in text for p in _REPEAT_ZH)
    return bool(_REPEAT_EN.search(normalise(text)))


# --------------------------------------------------------------------- languages

_LANG_ZH_EN = _en_pattern(("chinese", "mandarin", "putonghua", "pu tong hua", "zhongwen", "zhong wen"))
_LANG_EN_EN = _en_pattern(("english",))


def language_request(text: str) -> str | None:
    """ "zh" when the caller names Mandarin/Chinese (中文, 普通话), "en" for English, else None."""
    if not text:
        return None
    if has_cjk(text):
        if any(p in text for p in ("普通话", "中文", "国语", "汉语", "华语")):
            return "zh"
        if "英文" in text or "英语" in text:
            return "en"
        return None
    t = normalise(text)
    if _LANG_ZH_EN.search(t):
        return "zh"
    if _LANG_EN_EN.search(t) and len(t.split()) <= 4:
        return "en"
    return None


# ----------------------------------------------------------------------- numbers

# spoken homophones the recogniser writes for digits ("to", "for") count only next to digits
_EN_DIGITS = {**DIGIT_WORDS_EN, "to": "2", "too": "2", "for": "4"}
_EN_TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_EN_TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_ZH_DIGITS = {**DIGITS_ZH, "洞": "0"}  # 洞: radio-style zero
_MULT = DIGIT_REPEATS_EN


def spoken_digits(text: str) -> str:
    """Turn spoken digits into a digit string: "b w five oh three" -> "bw503", "五零三" -> "503".

    Letters and digits that are already there are kept (lower-cased), other words are
    dropped, so the result can be searched with a regex for an id pattern.
    """
    if not text:
        return ""
    out: list[str] = []
    for ch in text:
        if ch in _ZH_DIGITS:
            out.append(_ZH_DIGITS[ch])
        elif ch == "十":
            out.append("10")
        else:
            out.append(ch)
    text = "".join(out)
    words = re.findall(r"[a-z]+|\d+", text.lower())
    result: list[str] = []
    repeat = 1
    i = 0
    while i < len(words):
        w = words[i]
        if w in _MULT:
            repeat = _MULT[w]
            i += 1
            continue
        if w.isdigit():
            result.append(w * repeat if len(w) == 1 else w)
        elif w in _EN_DIGITS and not (w in ("to", "too", "for", "o") and not _next_is_digit(words, i)):
            result.append(_EN_DIGITS[w] * repeat)
        elif w in _EN_TEENS:
            result.append(str(_EN_TEENS[w]))
        elif w in _EN_TENS:
            value = _EN_TENS[w]
            if (
                i + 1 < len(words)
                and words[i + 1] in _EN_DIGITS
                and words[i + 1] not in ("oh", "o", "to", "too", "for")
            ):
                value += int(_EN_DIGITS[words[i + 1]])
                i += 1
            result.append(str(value))
        elif w in ("hundred",) and result:
            result[-1] = result[-1] + "00"
        elif len(w) <= 2 and w.isalpha():
            result.append(w)  # spelled letters: "b w"
        repeat = 1
        i += 1
    return "".join(result)


def _next_is_digit(words: list[str], i: int) -> bool:
    """Homophones ("to", "for", "o") count as digits only inside a run of digits."""
    neighbours = words[max(0, i - 1) : i] + words[i + 1 : i + 2]
    return any(n.isdigit() or (n in _EN_DIGITS and n not in ("to", "too", "for", "o")) for n in neighbours)


def parse_rating(text: str, digits: str, low: int, high: int) -> int | None:
    """A score in [low, high] from keys ("4", "10") or speech ("four", "十", "9 out of 10")."""
    raw = digits.strip().rstrip("#") if digits else ""
    if not raw and text:
        found = re.findall(r"\d+", spoken_digits(text) if not re.search(r"\d", text) else text)
        raw = found[0] if found else ""
    if not raw.isdigit():
        return None
    value = int(raw)
    return value if low <= value <= high else None


# ---------------------------------------------------------------------- privacy

_LONG_DIGITS = re.compile(r"(?:\d[ -]?){13,19}")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_card_numbers(text: str) -> str:
    """Replace 13-19 digit Luhn-valid runs (payment cards) with [card] before storing."""

    def repl(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(0))
        return "[card] " if 13 <= len(digits) <= 19 and _luhn_ok(digits) else m.group(0)

    return _LONG_DIGITS.sub(repl, text).strip() if text else text
