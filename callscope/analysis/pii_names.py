"""Person names and street addresses in English and Mandarin call text.

No model: context cues, a name lexicon and the shape of addresses.

* English names: a lexicon of first and last names (US Census 1990 lists shipped by
  the ``names`` package, MIT) read after a cue ("my name is", "this is", "speaking
  with", "Mr.", "my wife,") or, in mixed-case text, as a capitalised first name
  followed by a capitalised surname ("Tom Baxter"). Words that are also ordinary
  words ("will", "may", "grace", "bill") count only when capitalised mid-sentence or
  after a strong cue. ASR-style text (lowercase, no punctuation) needs a cue.
* Chinese names: jieba's person-name tag (``nr``) or a common surname, next to a cue
  (我叫, 我是, 收件人是, 请问是, ...) or a title (先生, 女士, 经理).
* Addresses: a house number, street words and a street type ("42 Wallaby Way",
  "forty two wallaby way", "221b baker street"); in Chinese a road (路/街/大道/巷/弄)
  with its number (号), optionally the city and district before it and the unit
  after it (北京市朝阳区建国路88号, 解放路56号3单元501室), or a housing estate with a
  building number (幸福小区7号楼).

Spans are ``(start, end, kind)`` with kind ``"name"`` or ``"address"``.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from importlib import resources

# ------------------------------------------------------------------ lexicons

# Frequent English words that the census name lists also hold ("will", "can", "way"):
# never part of a name.
_FUNCTION = frozenset(
    """
    a about above after again against all also am an and any are as at away back be because been before
    being below between both but by can call called calling came can't come could day did do does doing done
    down during each even ever every few fine first for from get give go going good got great had has have
    having he her here hers him his how i if in into is it its just know last let like little look made
    make many me might more most much must my never new next no nor not now of off ok okay on once one
    only or other our out over own please right said same say see she should since so some still such sure
    take than thank thanks that the their them then there these they thing think this those though through
    time to today too two under until up upon us very was way we well were what when where which while who
    whom why with would yes yet you your yours
    hello hi hey bye sorry glad happy speaking waiting driving holding looking trying wondering
    order orders account number phone email address street road avenue lane drive court park
    place help store shop plan service team department support customer agent manager refund delivery
    january february march september october november december
    monday tuesday wednesday thursday friday saturday sunday
    """.split()
)
# Names that are also ordinary words: a name only when capitalised after a strong cue
# ("my name is Grace"), or as the surname after a first name ("Joseph King").
_AMBIGUOUS = frozenset(
    """
    hope grace faith joy will may mark bill rose summer dawn art guy pat sue rich frank ray jack chance
    honey penny holly ivy lily daisy iris violet ruby pearl amber crystal destiny major sterling spring
    winter autumn angel jewel sunny christian august april june july king young hall hill wood stone bell
    long star love brown gray grey black white green red blue pink gold silver price case rush page
    """.split()
)
# Capitalised words that are names in the lexicon but, mid-sentence, usually a place,
# a brand or a date.
_NOT_NAMES_CAPITALISED = frozenset(
    """
    paris london sydney chicago york jersey dallas houston phoenix austin denver boston florida georgia
    virginia carolina dakota washington lincoln jackson madison camden chelsea victoria
    apple amazon galaxy pixel prime google brightwave visa mastercard amex
    """.split()
)
# Ordinary words that may stand between a cue and the name.
_RELATIONS = r"(?:husband|wife|partner|mother|mom|mum|father|dad|son|daughter|brother|sister|friend|colleague|boss)"
_HONORIFIC = r"(?:mr|mrs|ms|miss|mx|dr|mister|doctor|madam|sir|prof)\.?"
# strong cues introduce a name: any capitalised word (cased text) or a lexicon first name
_STRONG_CUES = (
    r"my name is|my name's|the name is|the name's|name is|full name is|first name(?: is)?|last name(?: is)?"
    r"|surname(?: is)?|name:|under the name(?: of)?|account holder is|signed for by(?: a)?|an agent called"
    r"|called|named|speaking with|speak to|speak with|talk to|talking to|ask for|you've reached|you have reached"
    r"|through to|helped by|calling for|on behalf of|registered to"
)
# weak cues ("this is", greetings, thanks): only a lexicon first name follows
_WEAK_CUES = (r"this is|i'm|i am|it's|it is|is this|hi|hello|hey|thanks(?: so much| very much)?"
              r"|thank you(?: so much| very much)?|okay|ok|sorry|dear|morning|evening|afternoon|yes|sure")
_CUE_RE = re.compile(
    rf"(?:(?P<strong>\b(?:{_STRONG_CUES}))|(?P<weak>\b(?:{_WEAK_CUES}))|(?P<rel>\bmy\s+{_RELATIONS}))"
    r"[\s,:]+(?:(?:my\s+" + _RELATIONS + r"|a)[\s,]+)?",
    re.IGNORECASE,
)
_HONORIFIC_RE = re.compile(rf"\b{_HONORIFIC}\s+", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)?")


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str]]:
    """(first names, last names), lowercase, from the ``names`` package's census lists."""
    try:
        folder = resources.files("names")
        first: set[str] = set()
        for name in ("dist.male.first", "dist.female.first"):
            first |= {line.split()[0].lower() for line in folder.joinpath(name).read_text().splitlines() if line.strip()}
        last = {line.split()[0].lower() for line in folder.joinpath("dist.all.last").read_text().splitlines() if line.strip()}
    except (ModuleNotFoundError, FileNotFoundError, OSError):  # pragma: no cover - a broken install
        logging.getLogger(__name__).warning("the 'names' package is missing: English names are found by cues only")
        first, last = set(), set()
    return frozenset(first), frozenset(last)


def _is_mixed_case(text: str) -> bool:
    letters = [c for c in text if c.isascii() and c.isalpha()]
    return any(c.isupper() for c in letters) and any(c.islower() for c in letters)


# --------------------------------------------------------------- English names


def _name_tokens(text: str, at: int, *, mixed: bool, strong: bool) -> tuple[int, int] | None:
    """The name (1-3 words joined by single spaces) starting at ``at``, or None."""
    first_names, last_names = _lexicon()
    words: list[re.Match[str]] = []
    pos = at
    while len(words) < 3:
        m = _WORD.match(text, pos)
        if not m:
            break
        words.append(m)
        if text[m.end() : m.end() + 1] != " ":
            break
        pos = m.end() + 1
    if not words:
        return None
    head = words[0].group(0)
    low = re.sub(r"['’]s$", "", head.lower())
    capital = mixed and head[0].isupper()
    if low in _FUNCTION or low in _NOT_NAMES_CAPITALISED:
        return None
    if (mixed and not capital) or (len(head) > 1 and head.isupper()):
        return None  # lowercase in cased text ("it's due"), or an acronym ("it's BW503872")
    if low in _AMBIGUOUS and not (strong and capital):
        return None
    if not (low in first_names or (strong and capital)):
        return None
    end = words[0].end()
    for word in words[1:]:
        token = word.group(0)
        low_t = token.lower()
        if low_t in _FUNCTION or low_t in _NOT_NAMES_CAPITALISED:
            break
        if mixed and not token[0].isupper():
            break
        if not mixed and low_t not in last_names and low_t not in first_names:
            break
        end = word.end()
    return words[0].start(), end


def _english_names(text: str) -> list[tuple[int, int]]:
    mixed = _is_mixed_case(text)
    first_names, last_names = _lexicon()
    spans: list[tuple[int, int]] = []
    for m in _HONORIFIC_RE.finditer(text):
        found = _name_tokens(text, m.end(), mixed=mixed, strong=True)
        if found is None:
            word = _WORD.match(text, m.end())
            if word and (word.group(0)[0].isupper() or word.group(0).lower() in last_names) \
                    and word.group(0).lower() not in _FUNCTION:
                found = (word.start(), word.end())
        if found is not None:
            spans.append((m.start(), found[1]))
    for m in _CUE_RE.finditer(text):
        strong = m.group("strong") is not None
        found = _name_tokens(text, m.end(), mixed=mixed, strong=strong)
        if found is not None:
            spans.append(found)
    if mixed:
        # "Tom Baxter", "Peter Walsh here": a capitalised first name and surname, no cue needed;
        # a capitalised first name mid-sentence ("helped by Amanda on Tuesday") too
        for m in _WORD.finditer(text):
            token = m.group(0)
            low = token.lower()
            if not token[0].isupper() or low not in first_names or low in _FUNCTION \
                    or low in _AMBIGUOUS or low in _NOT_NAMES_CAPITALISED:
                continue
            nxt = _WORD.match(text, m.end() + 1) if text[m.end() : m.end() + 1] == " " else None
            if nxt and nxt.group(0)[0].isupper() and nxt.group(0).lower() in last_names \
                    and nxt.group(0).lower() not in _FUNCTION:
                spans.append((m.start(), nxt.end()))
                continue
            before = text[: m.start()].rstrip()
            sentence_start = not before or before[-1] in ".!?:;\"“"
            if not sentence_start:
                spans.append((m.start(), m.end()))
    # once a name is known, its first word elsewhere is the same person ("Tom, Tom Baxter")
    heads = {text[s:e].split()[0].lower() for s, e in spans if text[s:e].split()}
    heads = {h for h in heads if h not in _FUNCTION and not re.fullmatch(_HONORIFIC, h) and len(h) > 1}
    for m in _WORD.finditer(text):
        if m.group(0).lower() in heads:
            spans.append((m.start(), m.end()))
    return spans


# --------------------------------------------------------------- English addresses

_NUMBER_WORDS = (
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    "seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand"
)
_STREET_TYPES = (
    "street|st|road|rd|avenue|ave|way|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|terrace|crescent|"
    "close|grove|parkway|pkwy|highway|hwy|square|sq|walk|row|gardens|mews|alley|circle|trail|parade|esplanade"
)
_HOUSE_NUMBER = rf"(?:\d{{1,5}}[a-z]?|(?:(?:{_NUMBER_WORDS})(?:[\s-]+(?:and\s+)?)?){{1,4}})"
_EN_ADDRESS = re.compile(
    rf"\b{_HOUSE_NUMBER}\s+(?:(?!(?:{_STREET_TYPES})\b)[A-Za-z][A-Za-z'’]*\.?\s+){{1,3}}(?:{_STREET_TYPES})\b\.?"
    r"(?:,?\s+(?:apartment|apt\.?|flat|unit|suite)\s+\w+)?",
    re.IGNORECASE,
)
_NOT_STREET_WORDS = frozenset({"of", "the", "and", "a", "an", "in", "on", "at", "my", "your", "to", "for", "or",
                               "is", "was", "minutes", "hours", "days", "times", "items", "dollars"})


def _english_addresses(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _EN_ADDRESS.finditer(text):
        words = re.findall(r"[A-Za-z']+", m.group(0).lower())
        if any(w in _NOT_STREET_WORDS for w in words):
            continue
        end = m.end() - (1 if m.group(0).endswith(".") and not re.search(r"\b(?:st|rd|ave|ln|dr|blvd|ct|pl|sq)\.$",
                                                                            m.group(0), re.I) else 0)
        spans.append((m.start(), end))
    return spans


# --------------------------------------------------------------- Chinese

_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_ZH_NAME_CUES = re.compile(
    r"(?:我叫|名字叫|名字是|名字为|我是|我姓\S{0,3}叫|叫做|收件人是|收件人|联系人是|联系人写的是|联系人|签收人是|签收人"
    r"|机主是|机主|请问是|您是|你是|是不是|客服|转告一下|转告|找一下|寄给|交给|给|老公叫|老婆叫|女儿|儿子|老公|老婆"
    r"|爸爸叫|妈妈叫|爸爸|妈妈|名字|持卡人是|持卡人|本人是|叫)$"
)
_ZH_TITLES = re.compile(r"^(?:先生|女士|小姐|经理|老师|师傅|本人|同学)")
_ZH_FUNCTION = frozenset("的了是在我你他她它们这那就也都和与或吗呢吧啊呀要想来去会能可有没不很还再又请您")
_ZH_DIGIT = "零〇一二两三四五六七八九十百千幺\\d０-９"
_ZH_ROAD = "路|街|大道|大街|巷|弄|胡同|道"
_ZH_ADDRESS = re.compile(
    rf"(?:[^\sA-Za-z0-9{_ZH_DIGIT}，。、！？：；,.!?:;的了是在到住寄送给我你他她址就为往]{{1,14}}?(?:{_ZH_ROAD}))"
    rf"(?:[东西南北中]?[{_ZH_DIGIT}]+段)?[{_ZH_DIGIT}]+号(?:院|楼)?"
    rf"(?:[{_ZH_DIGIT}]+(?:号楼|栋|幢|单元|楼|层|室|号))*"
)
_ZH_ESTATE = re.compile(
    rf"[^\sA-Za-z0-9{_ZH_DIGIT}，。、！？：；,.!?:;的了是在到住寄送给我你他她址就为往放]{{2,8}}?(?:小区|花园|公寓|大厦|新村|家园)"
    rf"(?:[{_ZH_DIGIT}]+(?:号楼|栋|幢|单元|楼|层|室|号))+"
)


def _jieba_names(text: str) -> list[tuple[int, int, str]]:
    try:
        import jieba
        import jieba.posseg as pseg
    except ImportError:  # pragma: no cover - jieba is a dependency
        return []
    jieba.setLogLevel(logging.ERROR)
    out = []
    at = 0
    for token in pseg.cut(text):
        start = text.find(token.word, at)
        if start < 0:
            continue
        at = start + len(token.word)
        out.append((start, at, token.flag))
    return out


def _chinese_names(text: str) -> list[tuple[int, int]]:
    if not re.search(r"[\u4e00-\u9fff]", text):
        return []
    spans = []
    tokens = _jieba_names(text)
    for start, end, flag in tokens:
        word = text[start:end]
        if not flag.startswith("nr") or not 2 <= len(word) <= 5 or word[0] not in _SURNAMES:
            continue
        before = text[max(0, start - 8) : start].rstrip("，, ")
        after = text[end : end + 3]
        if _ZH_NAME_CUES.search(before) or _ZH_TITLES.match(after) or _ZH_TITLES.search(word):
            title = _ZH_TITLES.match(after)
            spans.append((start, end + (title.end() if title and len(word) == 1 else 0)))
    # a cue then a surname and one or two given-name characters, whatever jieba made of it
    for m in re.finditer(r"(?:我叫|名字叫|名字是|我的名字是|叫做)([\u4e00-\u9fff]{2,3})", text):
        name = m.group(1)
        if name[0] not in _SURNAMES:
            continue
        while name and name[-1] in _ZH_FUNCTION:
            name = name[:-1]
        if len(name) >= 2:
            spans.append((m.start(1), m.start(1) + len(name)))
    # surname + title ("陈先生", "宋佳女士"): keep the title with a bare surname
    for m in re.finditer(r"([\u4e00-\u9fff]{1,3})(先生|女士|小姐)", text):
        name = m.group(1)
        while len(name) > 1 and (name[0] not in _SURNAMES):
            name = name[1:]
        if name and name[0] in _SURNAMES:
            start = m.start(2) - len(name)
            spans.append((start, m.end(2) if len(name) == 1 else m.start(2)))
    return spans


def _chinese_addresses(text: str) -> list[tuple[int, int]]:
    spans = [(m.start(), m.end()) for m in _ZH_ADDRESS.finditer(text)]
    spans += [(m.start(), m.end()) for m in _ZH_ESTATE.finditer(text)]
    return spans


# ------------------------------------------------------------------ entry point


def find_names_and_addresses(text: str, kinds: frozenset[str] | set[str] = frozenset({"name", "address"})
                             ) -> list[tuple[int, int, str]]:
    """Person names and street addresses in ``text`` (English and Mandarin).

    Returns:
        ``(start, end, kind)`` spans, possibly overlapping (the caller merges them).
    """
    if not text:
        return []
    out: list[tuple[int, int, str]] = []
    if "name" in kinds:
        out += [(s, e, "name") for s, e in _english_names(text) + _chinese_names(text) if e > s]
    if "address" in kinds:
        out += [(s, e, "address") for s, e in _english_addresses(text) + _chinese_addresses(text) if e > s]
    return out
