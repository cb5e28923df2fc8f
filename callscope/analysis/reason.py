"""The caller's reason for calling, extracted from a transcript with speaker roles.

The reason is the caller's first substantive question or problem: greetings, small
talk, acknowledgements and identity verification ("my name is…", "my account number
is…", 你好/喂, 订单号是…, digits read out one by one) are dropped sentence by sentence,
and the first caller turn with anything left is the reason. Within that turn the
sentences up to the first request or problem cue ("I want to know…", "it keeps telling
me…", 想问一下, 上不了网) are kept, and after it only further questions, so background
chatter ("it's a present for my son") is left out.

Robust to speech-recognition output: run-on turns without punctuation, a name left
over after a greeting, digit strings read out in words, and recognition loops (the
same words repeated over and over, a known Whisper failure) are skipped; when the first
caller turn left is a fragment without a request cue, the next caller turn is added;
when no caller turn says anything substantive, the agent's restatement ("I see you're
calling about…", 我看到您…) is the fallback. Feelings said before the request are left out
when the request says enough on its own, also when a transcript runs them into the request's
sentence with a comma ("我真的非常生气，能不能…").

:func:`call_context` gives the rest of the conversation that tells what the call is
about (the agent's restatement and answers, routine lines such as "please hold"
dropped, nothing after the caller turns to another topic); issue mining mixes it into the
call's vector.

Rule-based on purpose: it is fast, works the same on English and Mandarin, and its
output is the text that issue mining embeds, so it must not add words of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from callscope.analysis.sentiment import cue_lexicon
from callscope.domain import Role
from callscope.language import DIGIT_REPEATS_EN, DIGIT_WORDS_EN, DIGITS_ZH, detect_text_language, to_simplified

__all__ = ["extract_reason", "call_context", "split_sentences", "is_filler_sentence"]

MAX_REASON_CHARS = 300
# Content (Chinese characters, or 2 per English word: :func:`_content_size`) a request sentence
# needs for the feelings said before it to be left out of the reason: about five words. Set a priori.
REQUEST_CONTENT = 10
# A request that points back to an earlier sentence ("why is it so high?"): (English, Mandarin).
_REFERS_BACK = (re.compile(r"\b(?:it|this|that|they|them)\b", re.IGNORECASE), re.compile(r"它"))

_SENTENCE_EN = re.compile(
    r"(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bMrs\.)(?<!\bNo\.)(?<=[.!?])\s+(?=[A-Z0-9\"'(])"
)
_SENTENCE_ZH = re.compile(r"(?<=[。！？!?；;])")

# A person's name of one or two words, or the tag PII redaction (which runs before analysis) leaves for it.
_NAME_EN = r"(?:[A-Z][a-z]+(?: [A-Z][a-z]+)?|\[NAME\])"
# Whole sentences that carry no reason: greetings, thanks, goodbyes, acknowledgements.
_FILLER_EN = re.compile(
    r"^(?:(?:(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))(?: there)?(?: [a-z]+| \[name\])?|"
    r"(?:i'?m |i am )?sorry to (?:bother|trouble) you|yes|yeah|yep|no|nope|ok|okay|right|sure|"
    r"fine|great|perfect|quick question|one (?:more )?question|a question|"
    r"thanks?(?: you)?(?: (?:so|very) much)?(?:,? \[name\])?|thank you|cheers|bye|goodbye|bye now|"
    r"um+|uh+|er+m?|ah+|oh|oh dear|well|alright|all right|got it|i see|sorry|excuse me|"
    r"how are you(?: doing)?(?: today)?|i'?m (?:fine|good|well)(?:,? thanks?(?: you)?)?|"
    r"(?:and )?you|speaking|it's me|this is (?:\[name\]|\w+(?: \w+)?)|my name is (?:\[name\]|[\w' -]+)|"
    rf"i'?m {_NAME_EN})[\s,.!?]*)+$",
    re.IGNORECASE,
)
# A name on its own (what is left of "Hi, Hannah." once the greeting is stripped), or its redaction tag.
_LONE_NAME_EN = re.compile(rf"^{_NAME_EN}[.!,]?$")
_GREETING_PREFIX_EN = re.compile(
    r"^(?:(?i:hi|hello|hey|good (?:morning|afternoon|evening)|yes|yeah|ok(?:ay)?|um+|uh+|oh|well|so)"
    r"(?i: there)?(?: [A-Z][a-z]+| \[NAME\])?[,.!]\s*)+"
)
_FILLER_ZH = re.compile(
    r"^(?:(?:你好|您好|喂|哎|诶|嗯|哦|噢|啊|好的?|对|是的?|行吧?|可以|没问题|谢谢(?:你|您)?(?:啊|了)?|再见|拜拜|"
    r"没有了|没事了|明白了?|知道了|收到了?|麻烦了|不客气|请问|那个|就是)[\s，,。.！!？?~～啊呀吧了呢]*)+$"
)
_GREETING_PREFIX_ZH = re.compile(r"^(?:(?:你好|您好|喂|哎|诶|嗯|那个)(?:\[NAME\])?[\s，,。.！!~～啊呀]*)+")

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
        if _FILLER_EN.match(s) or _IDENTITY_EN.search(s) or _LONE_NAME_EN.match(s):
            return True
    if _mostly_digits(s, language) or _repetitive(s, language):
        return True
    # A sentence that is mostly an order/account/phone number is identity, not a reason.
    letters = re.sub(r"[\W\d_]", "", _CODE.sub("", s))
    return bool(_CODE.search(s)) and len(letters) < 8


_DIGIT_TOKEN_EN = frozenset(DIGIT_WORDS_EN) | frozenset(DIGIT_REPEATS_EN) - {"o"}


def _mostly_digits(sentence: str, language: str) -> bool:
    """A number read out digit by digit ("eight eight seven two", 一三九零…): identity, not a reason."""
    if language == "zh":
        chars = re.findall(r"[\u4e00-\u9fff0-9]", sentence)
        digits = sum(c in DIGITS_ZH or c.isdigit() for c in chars)
        return digits >= 4 and digits >= 0.4 * len(chars)
    words = re.findall(r"[A-Za-z]+|\d+", sentence.lower())
    digits = sum(w in _DIGIT_TOKEN_EN or w.isdigit() for w in words)
    return digits >= 3 and digits >= 0.3 * len(words)


def _repetitive(text: str, language: str) -> bool:
    """A recognition loop: the same few words (or characters) over and over."""
    units = re.findall(r"[\u4e00-\u9fff]", text) if language == "zh" else re.findall(r"[a-z']+", text.lower())
    return len(units) >= 12 and len(set(units)) < 0.4 * len(units)


# What an agent says before answering: "Okay, so…", "Thanks, [NAME]. …", "Sure, …", 好的，…
_ACK_PREFIX_EN = re.compile(
    r"^(?:(?i:ok(?:ay)?|right|sure|alright|all right|of course|great|perfect|certainly|absolutely|so|well|"
    r"yes|yeah|thanks?(?: you)?(?: (?:so|very) much)?)(?: \[NAME\]| [A-Z][a-z]+)?[,.!]\s*)+"
)
_ACK_PREFIX_ZH = re.compile(r"^(?:(?:好的?|对的?|嗯|是的?|行|没问题|明白了?|了解了?|收到)(?:\[NAME\])?[\s，,。.！!~～]+)+")


def strip_acknowledgement(sentence: str, language: str) -> str:
    """``sentence`` without the greeting or acknowledgement it opens with (an agent's "Okay, so your
    order…" → "Your order…"); unchanged when nothing else would be left."""
    text = sentence.strip()
    while True:
        shorter = _strip_greeting(text, language)
        shorter = (_ACK_PREFIX_ZH if language == "zh" else _ACK_PREFIX_EN).sub("", shorter).strip()
        if shorter == text or not shorter:
            break
        text = shorter
    return _capitalised(text, language)


def _strip_greeting(sentence: str, language: str) -> str:
    pattern = _GREETING_PREFIX_ZH if language == "zh" else _GREETING_PREFIX_EN
    stripped = _capitalised(pattern.sub("", sentence).strip(), language)
    return stripped or sentence


def _capitalised(text: str, language: str) -> str:
    """English text with its first letter upper-cased (what is left once an opening is cut off)."""
    return text if language == "zh" else text[:1].upper() + text[1:]


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
        The reason (at most about 300 characters); the agent's restatement of it when
        no caller turn says anything beyond greetings and identity details; "" when
        neither does.
    """
    candidates = _caller_turns(turns)
    if language is None:
        language = detect_text_language(" ".join(candidates))
    chosen: list[str] = []
    for text in candidates:
        lang = _lang(language, text)
        sentences = _substantive(text, lang)
        if not sentences:
            continue
        chosen += _reason_sentences(sentences, lang)
        # A fragment with no request or problem cue (speech recognition often splits
        # the caller's first sentence): take the next substantive caller turn as well.
        if any(_has_cue(s, lang) for s in chosen) or _content_size(" ".join(chosen), lang) >= 12:
            break
    if chosen:
        lang = _lang(language, chosen[0])
        return _capitalised(_join(chosen, lang), lang)  # a clause may be left first ("none of the…")
    restatement = _agent_restatements(turns, language)
    return _join(restatement[:1], _lang(language, restatement[0])) if restatement else ""


def _lang(language: str | None, text: str) -> str:
    return language if language in ("en", "zh") else detect_text_language(text)


def _substantive(text: str, language: str) -> list[str]:
    """The sentences of a turn that are not greetings, small talk, identity or noise."""
    if _repetitive(text, language):
        return []
    sentences = [_strip_greeting(s, language) for s in split_sentences(text, language)]
    if language == "zh":
        # "我叫王芳，想问一下…": drop the identity clause, keep the question.
        sentences = [_drop_identity_clauses(s) if _has_cue(s, language) else s for s in sentences]
    return [s for s in sentences if s and not is_filler_sentence(s, language) and _content_size(s, language) >= 2]


def _drop_identity_clauses(sentence: str) -> str:
    clauses = re.split(r"(?<=[，,、])", sentence)
    return "".join(c for c in clauses if not _IDENTITY_ZH.search(c)).strip("，, ")


def _content_size(text: str, language: str) -> int:
    """Rough amount of content: Chinese characters, or English words (x2 so both scales match)."""
    if language == "zh":
        return len(re.findall(r"[\u4e00-\u9fff]", text))
    return 2 * len(re.findall(r"[A-Za-z']+", text))


# The agent saying back why the customer called.
_RESTATE_EN = re.compile(
    r"\b(?:(?:i )?(?:see|understand|hear|gather)(?: that)? you(?:'re| are| were|'ve| have)?|"
    r"you(?:'re| are) calling (?:about|because|to)|so you(?:'re| are)? (?:saying|asking|want|need|would like)|"
    r"(?:you|your) (?:said|mentioned)|if i understand)",
    re.IGNORECASE,
)
_RESTATE_ZH = re.compile(r"我看到您|我了解到您|您是说|您是想|您的意思是|您反映的|您说的是|您来电是")
# Routine agent lines that say nothing about the issue.
_ROUTINE_EN = re.compile(
    r"thank(?:s| you)(?: so much| very much)? for (?:calling|holding|waiting|your patience|letting us know)|"
    r"please hold|bear with me|one moment|just a (?:moment|second)|"
    r"let me (?:check|look|see|have a look|take a look|pull)|(?:can|could|may) i (?:have|take|get|confirm)|"
    r"verify|confirm your|anything else|have a (?:good|great|lovely|nice)|"
    r"you're (?:very )?welcome|my pleasure|how (?:can|may) i help|what can i do for you|speaking\b|"
    r"sorry (?:about|to hear|for)|i apologi[sz]e|i understand\.?$",
    re.IGNORECASE,
)
_ROUTINE_ZH = re.compile(
    r"请(?:您)?稍等|久等|耐心|请(?:您)?提供|请(?:您)?告诉我|核实|验证|还有(?:什么|其他)|不客气|祝您|再见|"
    r"有什么可以帮|很高兴为您服务|欢迎致电|抱歉|不好意思|别着急"
)


def _agent_restatements(turns: Sequence[tuple[Role, str]], language: str | None) -> list[str]:
    out = []
    for role, text in turns:
        if role != Role.AGENT:
            continue
        lang = _lang(language, text)
        pattern = _RESTATE_ZH if lang == "zh" else _RESTATE_EN
        out += [s for s in split_sentences(text, lang) if pattern.search(s) and not is_filler_sentence(s, lang)]
    return out


# A caller turn that opens another topic ("One more thing.", "While I'm on the phone, …", 对了，…, 另外…).
_NEW_TOPIC_EN = re.compile(
    r"^(?:(?:ok(?:ay)?|right|oh|um+|uh+|yes|yeah|and|so|actually)[,.]?\s+)*"
    r"(?:one more thing|another (?:thing|question)|while i(?:'m| am) (?:on the (?:phone|line)|at it)|by the way|"
    r"also\b|separately|on another (?:note|matter)|i also\b|i(?:'ve| have) also)",
    re.IGNORECASE,
)
_NEW_TOPIC_ZH = re.compile(r"^(?:好的?|嗯|哦|那)?[，,\s]*(?:对了|还有(?:一件事|个事|一个问题|[，,])|另外|顺便|再问一下|还想问)")


def _opens_new_topic(text: str, language: str) -> bool:
    """Whether the turn's first substantive sentence (after "Great.", 好的。) opens another topic."""
    sentences = _substantive(text, language)
    return bool(sentences) and bool((_NEW_TOPIC_ZH if language == "zh" else _NEW_TOPIC_EN).match(sentences[0]))


def call_context(turns: Sequence[tuple[Role, str]], language: str | None = None, limit: int = 8) -> tuple[str, ...]:
    """What else in the call says what it is about: the agent's restatement and answers.

    Issue mining mixes these into the call's vector (the reason stays the call's
    label and quote). Agents say the issue in the company's words ("the courier had a
    problem at the depot", "there's a fault at the local exchange"), which separates
    issues the callers describe alike ("my order hasn't arrived"). Greetings, holds,
    verification and pleasantries are dropped; the first ``limit`` substantive agent
    turns after the agent's opening are kept, one text per turn, up to the caller's first
    turn that opens another topic ("One more thing…", "While I'm on the phone…", 对了，…,
    另外…): the answers after it are about a second issue, and they pulled the call
    towards that issue's calls. Calls without roles use the turns after the first, with
    the same filters.

    Args:
        turns: the call's turns in order, as (role, text).
        language: "en" or "zh"; detected per turn when None.
        limit: the most turns returned.
    """
    has_agent = any(role == Role.AGENT for role, _ in turns)
    # The agent's opening (everything the agent says before the caller first speaks).
    first_caller = next((n for n, (role, _) in enumerate(turns) if role == Role.CALLER), 0)
    texts = []
    for n, (role, text) in enumerate(turns):
        if has_agent and role == Role.CALLER and n > first_caller and _opens_new_topic(text, _lang(language, text)):
            break  # "One more thing: …", 另外…: what the agent says next is about another issue
        if has_agent and (role != Role.AGENT or n < first_caller):
            continue
        if not has_agent and n == 0:
            continue
        lang = _lang(language, text)
        routine = _ROUTINE_ZH if lang == "zh" else _ROUTINE_EN
        kept = [s for s in _substantive(text, lang) if not routine.search(s)]
        kept = [s for s in kept if _content_size(s, lang) >= 6]
        if kept:
            texts.append(_join(kept, lang))
        if len(texts) >= limit:
            break
    return tuple(texts)


def _reason_sentences(sentences: list[str], language: str) -> list[str]:
    """Sentences up to the first request/problem cue, then only further questions.

    Before the request, sentences that only say how the caller feels or thank the agent
    ("Sorry, I'm a bit worried about this.", "Thanks for picking up so quickly.",
    说实话，这已经是我第二次打电话来说这个事了) are left out when the request itself says
    enough (:data:`REQUEST_CONTENT`) and does not point back to them ("I'm worried about my
    bill. Why is *it* so high?"): they are the same across issues, so they pulled calls about
    different things together, and they make poor quotes. Caller emotion reads them from the
    turns, not from the reason.
    """
    sentences = [unit for s in sentences for unit in _detach_leading_feelings(s, language)]
    first_cue = next((i for i, s in enumerate(sentences) if _has_cue(s, language)), None)
    if first_cue is None:
        # No cue anywhere ("I'm so fed up. I'd love a copy of my statements."): the request is the
        # first sentence that does not name a feeling, and every sentence after it stays.
        # Only sentences that name a feeling count here (:func:`_feeling_clause`): a situation cue
        # ("we've lost the internet") may be the problem itself when no sentence has a cue.
        first = next((i for i, s in enumerate(sentences) if not _feeling_clause(s, language)), None)
        if first is None or not _drops_feelings(sentences[first], language):
            return sentences
        return sentences[first:]
    before = sentences[:first_cue]
    request = sentences[first_cue]
    if _drops_feelings(request, language):
        before = [s for s in before if not _feeling_only(s, language)]
    question = re.compile(r"[?？]|[吗呢]$")
    return [*before, sentences[first_cue]] + [s for s in sentences[first_cue + 1 :] if question.search(s)]


# Where a clause ends inside a sentence: speech recognition often writes "我真的非常生气，能不能…"
# or "I'm really angry about this, I bought…" as one sentence, commas for full stops.
_CLAUSE_END = re.compile(r"(?<=[，,、；;])\s*")


def _detach_leading_feelings(sentence: str, language: str) -> list[str]:
    """The sentence as units: its leading clauses that name a feeling or only thank
    (:func:`_feeling_clause`), then the rest.

    :func:`_reason_sentences` leaves such units out before a request as it leaves out whole
    sentences, so a feeling said in the same run-on sentence as the request (a transcript's
    comma where the script had a full stop) is treated like one said in a sentence of its own.
    A feeling may span clauses: the shortest run of leading clauses that names a feeling
    (:func:`_feeling_clause`) is one unit, and the search goes on after it.
    """
    clauses = [c.strip() for c in _CLAUSE_END.split(sentence) if c.strip()]
    sep = "" if language == "zh" else " "
    units: list[str] = []
    start = 0
    while start < len(clauses) - 1:
        end = next((k for k in range(start + 1, len(clauses)) if _feeling_clause(sep.join(clauses[start:k]), language)), None)
        if end is None:
            break
        units.append(sep.join(clauses[start:end]))
        start = end
    rest = sep.join(clauses[start:])
    # Split only where what is left is a request that says enough on its own; else the sentence is
    # judged whole ("I'm really angry about this, to be honest." is a feeling, not a feeling and a request).
    if not units or not _drops_feelings(rest, language) or not (_has_cue(rest, language) or not _feeling_only(rest, language)):
        return [sentence]
    return [*units, rest]


def _feeling_clause(text: str, language: str) -> bool:
    """A clause that names a feeling (an emotion word of full weight, not a situation cue such as
    "lost" or 第二次, which a clause describing the problem also has) or is only courtesy."""
    core = text.strip(" ,，、;；")
    if not core or _has_cue(core, language):
        return False
    lexicon = cue_lexicon()
    text = to_simplified(core) if language == "zh" else core
    if any(w >= 1.0 for cues in lexicon.find(text, language).values() for _, w in cues):
        return True
    return not lexicon.strip_courtesy(text, language).strip(" ,.!?，。！？、")


def _drops_feelings(request: str, language: str) -> bool:
    """Whether the feelings said before ``request`` are left out: it says enough on its own
    (:data:`REQUEST_CONTENT`) and does not point back to them."""
    return _content_size(request, language) >= REQUEST_CONTENT and not _REFERS_BACK[language == "zh"].search(request)


def _feeling_only(sentence: str, language: str) -> bool:
    """A sentence with an emotion cue (or a situation cue: repeat calls, waiting, urgency) of the
    emotion lexicon, or nothing but courtesy formulas, and no request or problem cue."""
    lexicon = cue_lexicon()
    text = to_simplified(sentence) if language == "zh" else sentence
    if any(lexicon.find(text, language).values()):
        return True
    return not lexicon.strip_courtesy(text, language).strip(" ,.!?，。！？、")


def _join(sentences: list[str], language: str) -> str:
    out = ""
    sep = "" if language == "zh" else " "
    for sentence in sentences:
        candidate = (out + sep + sentence) if out else sentence
        if out and len(candidate) > MAX_REASON_CHARS:
            break
        out = candidate
    return out[: MAX_REASON_CHARS * 2]
