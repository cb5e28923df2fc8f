"""The caller's reason for calling, extracted from a transcript with speaker roles.

The reason is the caller's first substantive question or problem: greetings, small
talk, acknowledgements and identity verification ("my name is…", "my account number
is…", 你好/喂, 订单号是…) are dropped sentence by sentence, and the first caller turn
with anything left is the reason. Within that turn the sentences up to the first request or problem
cue ("I want to know…", "it keeps telling me…", 想问一下, 上不了网) are kept, and after
it only further questions, so background chatter ("it's a present for my son") is left
out.

Rule-based on purpose: it is fast, works the same on English and Mandarin, and its
output is the text that issue mining embeds, so it must not add words of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from callscope.language import detect_text_language
from callscope.models import Role

__all__ = ["extract_reason", "split_sentences", "is_filler_sentence"]

MAX_REASON_CHARS = 300

_SENTENCE_EN = re.compile(
    r"(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bNo\.)(?<=[.!?])\s+(?=[A-Z0-9\"'(])"
)
_SENTENCE_ZH = re.compile(r"(?<=[。！？!?；;])")

# Whole sentences that carry no reason: greetings, thanks, goodbyes, acknowledgements.
_FILLER_EN = re.compile(
    r"^(?:(?:(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))(?: there)?(?: [a-z]+)?|"
    r"(?:i'?m |i am )?sorry to (?:bother|trouble) you|yes|yeah|yep|no|nope|ok|okay|right|sure|"
    r"fine|great|perfect|quick question|one (?:more )?question|a question|"
    r"thanks?(?: you)?(?: (?:so|very) much)?|thank you|cheers|bye|goodbye|bye now|"
    r"um+|uh+|er+m?|ah+|oh|oh dear|well|alright|all right|got it|i see|sorry|excuse me|"
    r"how are you(?: doing)?(?: today)?|i'?m (?:fine|good|well)(?:,? thanks?(?: you)?)?|"
    r"(?:and )?you|speaking|it's me|this is \w+(?: \w+)?|my name is [\w' -]+|"
    r"i'?m [A-Z][a-z]+(?: [A-Z][a-z]+)?)[\s,.!?]*)+$",
    re.IGNORECASE,
)
_GREETING_PREFIX_EN = re.compile(
    r"^(?:(?i:hi|hello|hey|good (?:morning|afternoon|evening)|yes|yeah|ok(?:ay)?|um+|uh+|oh|well|so)"
    r"(?i: there)?(?: [A-Z][a-z]+)?[,.!]\s*)+"
)
_FILLER_ZH = re.compile(
    r"^(?:(?:你好|您好|喂|哎|诶|嗯|哦|噢|啊|好的?|对|是的?|行吧?|可以|没问题|谢谢(?:你|您)?(?:啊|了)?|再见|拜拜|"
    r"没有了|没事了|明白了?|知道了|收到了?|麻烦了|不客气|请问|那个|就是)[\s，,。.！!？?~～啊呀吧了呢]*)+$"
)
_GREETING_PREFIX_ZH = re.compile(r"^(?:(?:你好|您好|喂|哎|诶|嗯|那个)[\s，,。.！!~～啊呀]*)+")

# Identity verification and reading out numbers: never the reason.
_IDENTITY_EN = re.compile(
    r"\b(?:my name is|my name's|this is [A-Z]|the account holder|date of birth|post ?code|zip code|"
    r"(?:account|order|reference|customer|phone|mobile|membership|card) number is|"
    r"(?:it's|it is|that's) (?:[A-Z]{1,3}\s?)?\d[\d\s-]{3,})",
    re.IGNORECASE,
)
_IDENTITY_ZH = re.compile(
    r"(?:我叫|我的名字|姓名是|(?:订单|账户|账号|会员|卡|手机|电话|身份证)(?:号码?)?(?:就)?是[\s:：]*[A-Za-z0-9]|生日是)"
)
_CODE = re.compile(r"[A-Za-z]{0,3}\d{5,}")

# Cues that a sentence states the request or the problem.
_CUE_EN = re.compile(
    r"\?|\b(?:want(?:ed)? to|would like to|need(?:ed)? to|trying to|try to|tried to|wonder(?:ing)?|"
    r"can i|could i|can you|could you|how (?:do|can|long|much)|what(?:'s| is| are| time)|when|where|why|"
    r"is there|are there|do you|does|problem|issue|wrong|not working|doesn't|don't|didn't|isn't|hasn't|"
    r"haven't|won't|can't|cannot|couldn't|never|still|keeps?|stopped|broken|faulty|locked|charged|twice|"
    r"mistake|error|down|missing|late|delay(?:ed)?|refund|cancel|return|complain(?:t)?|check)\b",
    re.IGNORECASE,
)
_CUE_ZH = re.compile(
    r"[？?]|想(?:问|知道|查|要|办|改|换|退|取消)|请问|怎么|为什么|什么时候|几点|多少|能不能|可不可以|可以.*吗|"
    r"吗|呢|没(?:有)?(?:收到|到|用|反应|信号)|不了|不能|不行|不到|坏了|故障|问题|错|扣|多收|退款|退货|取消|"
    r"投诉|还没|一直|着急|查一下|帮我"
)


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Split a turn into sentences (Chinese on 。！？；, English on . ! ? before a capital)."""
    text = " ".join(text.split())
    if not text:
        return []
    language = language or detect_text_language(text)
    pattern = _SENTENCE_ZH if language == "zh" else _SENTENCE_EN
    return [s.strip() for s in pattern.split(text) if s and s.strip()]


def is_filler_sentence(sentence: str, language: str | None = None) -> bool:
    """True for greetings, thanks, acknowledgements, small talk and identity details."""
    s = sentence.strip()
    if not s:
        return True
    language = language or detect_text_language(s)
    if language == "zh":
        if _FILLER_ZH.match(s) or _IDENTITY_ZH.search(s):
            return True
    else:
        if _FILLER_EN.match(s) or _IDENTITY_EN.search(s):
            return True
    # A sentence that is mostly an order/account/phone number is identity, not a reason.
    letters = re.sub(r"[\W\d_]", "", _CODE.sub("", s))
    return bool(_CODE.search(s)) and len(letters) < 8


def _strip_greeting(sentence: str, language: str) -> str:
    pattern = _GREETING_PREFIX_ZH if language == "zh" else _GREETING_PREFIX_EN
    stripped = pattern.sub("", sentence).strip()
    if language != "zh" and stripped[:1].islower():
        stripped = stripped[0].upper() + stripped[1:]
    return stripped or sentence


def _has_cue(sentence: str, language: str) -> bool:
    return bool((_CUE_ZH if language == "zh" else _CUE_EN).search(sentence))


def _caller_turns(turns: Sequence[tuple[Role, str]]) -> list[str]:
    callers = [text for role, text in turns if role == Role.CALLER]
    if callers:
        return callers
    # No roles known (mono call, no diarization roles): every turn is a candidate,
    # except the agent's scripted opening ("thank you for calling…, how can I help").
    opening = re.compile(
        r"thank(?:s| you) for calling|how (?:can|may) i help|what can i do for you|"
        r"有什么可以帮|很高兴为您服务|欢迎致电",
        re.IGNORECASE,
    )
    return [text for _, text in turns if not opening.search(text)]


def extract_reason(turns: Sequence[tuple[Role, str]], language: str | None = None) -> str:
    """The caller's question or problem, in the caller's own words.

    Args:
        turns: the call's turns in order, as (role, text); caller turns are used
            (all turns but the agent's scripted opening when no turn is a caller's).
        language: "en" or "zh"; detected from the caller's text when None.

    Returns:
        The reason (at most about 300 characters), or "" when no caller turn says
        anything beyond greetings and identity details.
    """
    candidates = _caller_turns(turns)
    if language is None:
        language = detect_text_language(" ".join(candidates))
    for text in candidates:
        lang = language if language in ("en", "zh") else detect_text_language(text)
        sentences = [_strip_greeting(s, lang) for s in split_sentences(text, lang) if not is_filler_sentence(s, lang)]
        sentences = [s for s in sentences if not is_filler_sentence(s, lang)]
        if not sentences:
            continue
        chosen = _reason_sentences(sentences, lang)
        return _join(chosen, lang)
    return ""


def _reason_sentences(sentences: list[str], language: str) -> list[str]:
    """Sentences up to the first request/problem cue, then only further questions."""
    first_cue = next((i for i, s in enumerate(sentences) if _has_cue(s, language)), None)
    if first_cue is None:
        return sentences
    question = re.compile(r"[?？]|[吗呢]$")
    return sentences[: first_cue + 1] + [s for s in sentences[first_cue + 1 :] if question.search(s)]


def _join(sentences: list[str], language: str) -> str:
    out = ""
    sep = "" if language == "zh" else " "
    for sentence in sentences:
        candidate = (out + sep + sentence) if out else sentence
        if out and len(candidate) > MAX_REASON_CHARS:
            break
        out = candidate
    return out[: MAX_REASON_CHARS * 2]
