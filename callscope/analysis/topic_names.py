"""Short topic names for issues ("Store opening hours", "宽带故障"), not callers' sentences.

The local LLM (:mod:`callscope.llm`) names each issue from its most representative reasons,
with an instruction written in the issue's language. Its answer is checked (length, language,
not a copy of a reason, no sentence punctuation); when it fails, or no LLM is installed, the
name is the issue's best key phrase, ranked class-based TF-IDF style (phrases many members
say that other issues do not), so a name is always there.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from callscope.language import detect_text_language, has_cjk, to_simplified
from callscope.analysis.issues import _EN_STOP, _ZH_STOP, _jieba
from callscope.llm import get_llm

if TYPE_CHECKING:
    from callscope.analysis.issues import IssueItem, IssueMiningResult
    from callscope.llm import LocalLLM

log = logging.getLogger(__name__)

Method = Literal["llm", "keyphrase"]
MAX_EN_WORDS = 6
MAX_ZH_CHARS = 12
PROMPT_TEXTS = 6  # representative reasons shown to the LLM
_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class TopicGroup:
    """One issue's texts in one language, most representative first."""

    texts: tuple[str, ...]
    language: str  # "en" / "zh"


@dataclass(frozen=True, slots=True)
class TopicName:
    text: str
    language: str
    method: Method


# ---------------------------------------------------------------------- key phrases

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_BREAK = re.compile(r"[.,;:!?()\[\]\"“”、，。；：！？（）]")
# Words that carry no topic even though they are not stop-words in the keyword list.
_EN_WEAK = frozenset(
    """call calling called ring phone number customer service agent account please question questions
    wondering wonder find check let give make see look looking use new old im ive id dont cant whats
    recently bought dollars dollar pounds euros week weeks month months day days morning evening
    assistance usually take taking long checking seeing ask asking bloody situation situations case cases
    ya ur pls happen happened happening come came possible information info details way ways""".split()
)


def _stops() -> tuple[frozenset[str], frozenset[str]]:
    return _EN_STOP | _EN_WEAK, _ZH_STOP


def _stem(word: str) -> str:
    """Plural to singular, roughly ("refunds" -> "refund"), so both count as one word."""
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _phrases_en(text: str, stop: frozenset[str], surface: dict | None = None) -> set[tuple[str, ...]]:
    """Runs of 1-3 consecutive content words, stemmed (stop-words and punctuation break a run;
    numbers such as order ids are skipped). ``surface`` collects the words as said."""
    out: set[tuple[str, ...]] = set()
    for chunk in _BREAK.split(text.lower()):
        run: list[str] = []
        for word in [*(_WORD.findall(chunk)), ""]:
            word = word.strip("'-")
            if word and any(ch.isdigit() for ch in word):
                continue
            if word and len(word) >= 2 and word not in stop and not word.endswith("n't"):
                run.append(word)
                continue
            for n in (1, 2, 3):
                for i in range(len(run) - n + 1):
                    said = tuple(run[i : i + n])
                    key = tuple(_stem(w) for w in said)
                    out.add(key)
                    if surface is not None:
                        surface.setdefault(key, Counter())[said] += 1
            run = []
    return out


def _phrases_zh(text: str, stop: frozenset[str]) -> set[tuple[str, ...]]:
    """Single jieba words and adjacent pairs of content words."""

    out: set[tuple[str, ...]] = set()
    for chunk in _BREAK.split(to_simplified(text)):
        run: list[str] = []
        for tok in [*(_jieba().lcut(chunk)), ""]:
            tok = tok.strip()
            if len(tok) >= 2 and has_cjk(tok) and tok not in stop:
                run.append(tok)
                continue
            for n in (1, 2):
                for i in range(len(run) - n + 1):
                    out.add(tuple(run[i : i + n]))
            run = []
    return out


def keyphrase_names(groups: Sequence[TopicGroup]) -> list[str]:
    """The best key phrase of each group, class-based TF-IDF: said by many of its texts, few others'.

    Longer phrases win over their own words when nearly as many members say them.
    """
    en_stop, zh_stop = _stops()
    counts: list[Counter[tuple[str, ...]]] = []
    surface: dict[tuple[str, ...], Counter[tuple[str, ...]]] = {}
    for group in groups:
        c: Counter[tuple[str, ...]] = Counter()
        for text in group.texts:
            c.update(_phrases_zh(text, zh_stop) if group.language == "zh" else _phrases_en(text, en_stop, surface))
        counts.append(c)
    total: Counter[tuple[str, ...]] = Counter()
    for c in counts:
        total.update(c)
    avg = sum(sum(c.values()) for c in counts) / max(len(counts), 1)
    names = []
    for group, c in zip(groups, counts, strict=True):
        if not c:
            names.append(_fallback_words(group))
            continue
        size = max(len(group.texts), 1)

        def score(p: tuple[str, ...], c: Counter[tuple[str, ...]] = c, size: int = size) -> float:
            return (c[p] / size) * math.log(1.0 + avg / total[p])

        ranked = sorted(c, key=lambda p: (-score(p), -len(p), p))
        best = ranked[0]
        if len(best) == 1:
            # A single word reads better with the words most often said next to it.
            longer = [p for p in ranked[:40] if len(p) >= 2 and best[0] in p and c[p] >= max(2, 0.5 * c[best])]
            if longer:
                best = max(longer, key=lambda p: (c[p], -len(p)))
        said = surface.get(best)
        names.append(_format(said.most_common(1)[0][0] if said else best, group.language))
    return names


def _fallback_words(group: TopicGroup) -> str:
    text = group.texts[0] if group.texts else ""
    if group.language == "zh":
        return re.sub(r"[\s，。？！、]", "", to_simplified(text))[:MAX_ZH_CHARS]
    return " ".join(text.split()[:MAX_EN_WORDS])


def _format(phrase: tuple[str, ...], language: str) -> str:
    if language == "zh":
        return "".join(phrase)[:MAX_ZH_CHARS]
    text = " ".join(phrase)
    return text[:1].upper() + text[1:]


# ---------------------------------------------------------------------- the LLM

_EN_SYSTEM = "You are a call-centre supervisor. You give each group of customer calls a short topic name."
_EN_USER = (
    "Customers gave these reasons for calling:\n{reasons}\n\n"
    "Name the topic of these calls in 2 to 5 words, the way a supervisor would label it on a report "
    "(for example: \"Parking permit renewal\"). Reply with the topic name only."
)
_ZH_SYSTEM = "你是呼叫中心的主管，负责给每一类客户来电起一个简短的主题名称。"
_ZH_USER = (
    "客户来电的原因如下：\n{reasons}\n\n"
    "请用2到8个汉字概括这类来电的主题，像主管在报表上写的那样（例如：“停车证续办”）。只回答主题名称。"
)
_PREFIX = re.compile(r"^(topic( name)?|name|label|主题名称|主题|名称)\s*[:：]\s*", re.IGNORECASE)
_EN_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 '&/\-]*$")
_ZH_OK = re.compile(r"^[\u4e00-\u9fffA-Za-z0-9/]+$")


def llm_messages(texts: Sequence[str], language: str) -> list[dict[str, str]]:
    """The chat request that asks for a topic name, in the texts' language."""
    shown = []
    for text in texts[:PROMPT_TEXTS]:
        text = " ".join(text.split())
        shown.append("- " + (text if len(text) <= 160 else text[:159] + "…"))
    reasons = "\n".join(shown)
    if language == "zh":
        return [{"role": "system", "content": _ZH_SYSTEM}, {"role": "user", "content": _ZH_USER.format(reasons=reasons)}]
    return [{"role": "system", "content": _EN_SYSTEM}, {"role": "user", "content": _EN_USER.format(reasons=reasons)}]


def clean_name(raw: str, language: str, texts: Sequence[str] = ()) -> str | None:
    """The LLM's answer as a name, or None when it is not one (too long, wrong language, a copy)."""
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    if not lines:
        return None
    text = _PREFIX.sub("", lines[0]).strip()
    text = text.strip(" \"'`*“”‘’「」《》.。!！?？:：-")
    if language == "zh":
        text = to_simplified(re.sub(r"\s+", "", text))
        cjk = sum(1 for ch in text if has_cjk(ch))
        if not (2 <= len(text) <= MAX_ZH_CHARS) or cjk < 0.6 * len(text) or not _ZH_OK.match(text):
            return None
        copies = [re.sub(r"\s+", "", to_simplified(t)) for t in texts]
        if any(text == t for t in copies):
            return None
        return text
    if has_cjk(text) or not _EN_OK.match(text):
        return None
    words = text.split()
    if not (1 <= len(words) <= MAX_EN_WORDS) or len(text) > 60:
        return None
    lowered = text.lower()
    if any(lowered == " ".join(t.lower().split()).strip(" .?!") for t in texts):
        return None  # a caller's reason, not a name
    return sentence_case(text)


def sentence_case(text: str) -> str:
    """"Bank Account Interest Rates" -> "Bank account interest rates"; acronyms (PIN, APR) kept."""
    words = text.split()
    if len(words) > 1 and all(w[:1].isupper() or not w[:1].isalpha() for w in words):
        words = [w if (w.isupper() and len(w) <= 4) else w.lower() for w in words]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


_cache: OrderedDict[tuple[str, tuple[str, ...]], str | None] = OrderedDict()
_cache_lock = threading.Lock()


def llm_name(texts: Sequence[str], language: str, llm: LocalLLM) -> str | None:
    """The LLM's name for ``texts`` (checked), or None; answers are cached per process."""
    key = (language, tuple(" ".join(t.split()) for t in texts[:PROMPT_TEXTS]))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        raw = llm.chat(llm_messages(texts, language), max_tokens=24)
    except Exception as exc:  # a broken model must not stop issue mining
        log.warning("topic name: the local LLM failed (%s); using key phrases", exc)
        return None
    name = clean_name(raw, language, texts)
    if name is None:
        log.info("topic name: rejected the LLM's answer %r (%s)", raw[:80], language)
    with _cache_lock:
        _cache[key] = name
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return name


def name_topics(groups: Sequence[TopicGroup], llm: LocalLLM | None | Literal["auto"] = "auto") -> list[TopicName]:
    """A name per group: the LLM's when it gives a valid one, else the group's best key phrase.

    Args:
        groups: each issue's texts (in one language), most representative first.
        llm: a loaded model, None for key phrases only, or "auto" (:func:`callscope.llm.get_llm`).
    """
    if llm == "auto":
        llm = get_llm()
    fallback = keyphrase_names(groups)
    names = []
    for group, phrase in zip(groups, fallback, strict=True):
        text = llm_name(group.texts, group.language, llm) if llm is not None and group.texts else None
        names.append(TopicName(text, group.language, "llm") if text else TopicName(phrase, group.language, "keyphrase"))
    return names


# ---------------------------------------------------------------------- issues


def name_issues(
    result: IssueMiningResult,
    items: Sequence[IssueItem] | Mapping[str, IssueItem] | None = None,
    *,
    llm: LocalLLM | None | Literal["auto"] = "auto",
) -> IssueMiningResult:
    """``result`` with every issue's label (and per-language labels) replaced by a topic name.

    The representative texts of an issue in a language are its central examples in that
    language, then its other members' texts (``items`` gives them; without it only the
    examples are used). The model's labels follow, so later assignments show the names.
    """
    by_id: dict[str, Any]
    if items is None:
        by_id = {}
    elif isinstance(items, Mapping):
        by_id = dict(items)
    else:
        by_id = {i.id: i for i in items}
    groups: list[TopicGroup] = []
    where: list[tuple[int, str]] = []
    for k, mined in enumerate(result.issues):
        per_lang: dict[str, list[str]] = {}
        ordered = list(mined.example_ids) + [m for m in mined.issue.members if m not in mined.example_ids]
        for member in ordered:
            item = by_id.get(member)
            if item is None or not item.text.strip():
                continue
            lang = item.language or detect_text_language(item.text)
            per_lang.setdefault(lang, []).append(item.text)
        if not per_lang:
            for text in mined.issue.examples:
                per_lang.setdefault(detect_text_language(text), []).append(text)
        for lang in sorted(set(per_lang) | set(mined.labels)):
            texts = per_lang.get(lang) or [mined.labels.get(lang, "")]
            groups.append(TopicGroup(tuple(t for t in texts if t), lang))
            where.append((k, lang))
    names = name_topics(groups, llm) if groups else []
    by_issue: dict[int, dict[str, TopicName]] = {}
    for (k, lang), name in zip(where, names, strict=True):
        by_issue.setdefault(k, {})[lang] = name
    issues = []
    for k, mined in enumerate(result.issues):
        named = by_issue.get(k, {})
        if not named:
            issues.append(mined)
            continue
        counts = mined.languages or {lang: 1 for lang in named}
        main = max(sorted(named), key=lambda lang: (counts.get(lang, 0), lang == "en"))
        labels = {lang: n.text for lang, n in sorted(named.items())}
        issues.append(replace(mined, issue=replace(mined.issue, label=labels[main]), labels=labels))
    label_of = {i.id: i.label for i in issues}
    model = replace(result.model, labels=[label_of.get(i, old) for i, old in zip(result.model.issue_ids, result.model.labels, strict=True)])
    methods = Counter(n.method for n in names)
    log.info("named %d issues (%s)", len(issues), ", ".join(f"{v} by {k}" for k, v in sorted(methods.items())) or "none")
    return replace(result, issues=tuple(issues), model=model)
