"""The canonical question of a FAQ draft: the clearest thing callers asked, optionally reworded.

Callers' reasons come from speech ("yeah hi so um I wanted to ask are your shop open on
the bank holiday Monday"), so the canonical question is the clearest of the issue's most
central reasons (a question, of reasonable length), and the local LLM may reword it into a
short FAQ question. A rewording is kept only when it is a short question grounded in what
callers said: every content word of it appears in the callers' questions or, given an encoder
and two or more questions, it states no fact (number, name) they did not say, shares a word
with them, and is at least as close to their common meaning as the furthest of them is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from callscope.language import has_cjk, to_simplified
from callscope.analysis.embeddings import l2_normalise
from callscope.analysis.issues import tokenize
from callscope.llm import get_llm

if TYPE_CHECKING:
    from callscope.llm import LocalLLM

log = logging.getLogger(__name__)

_FILLER_EN = re.compile(r"^(?:(?:yeah|yes|hi|hello|hey|so|um+|uh+|erm|ok(?:ay)?|well|right|oh)[,.!]?\s+)+", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z']+|[\u4e00-\u9fff]", text)


def clarity(question: str, language: str) -> float:
    """Higher is clearer: a question, 5-18 words (8-30 characters in Chinese), few fillers."""
    text = question.strip()
    score = 0.0
    if text.endswith(("?", "？")) or re.match(r"(?i)^(?:what|when|where|why|how|can|could|do|does|is|are|will|which|who)\b", text):
        score += 1.0
    if language == "zh":
        n = len(re.sub(r"\s", "", text))
        score += 1.0 if 6 <= n <= 30 else 0.0
        score += 0.5 if any(w in text for w in ("吗", "怎么", "什么", "几点", "多久", "能不能", "可以", "哪")) else 0.0
    else:
        n = len(text.split())
        score += 1.0 if 5 <= n <= 18 else (0.5 if 3 <= n <= 25 else 0.0)
        if _FILLER_EN.match(text):
            score -= 0.5
    return score


def clearest(questions: Sequence[str], language: str, top: int = 3) -> int:
    """Index of the clearest of the first ``top`` questions (ties go to the most central)."""
    if not questions:
        return 0
    head = list(questions[:top])
    return max(range(len(head)), key=lambda i: (clarity(head[i], language), -i))


def _tidy_en(text: str) -> str:
    text = _FILLER_EN.sub("", text.strip())
    return text[:1].upper() + text[1:]


_EN_SYSTEM = "You write FAQ questions for a customer-service knowledge base."
_EN_USER = (
    "Callers asked:\n{questions}\n\nRewrite this as one short, clear FAQ question (at most 15 words), "
    "using only the callers' own words and facts. Reply with the question only."
)
_ZH_SYSTEM = "你负责为客服知识库撰写常见问题。"
_ZH_USER = (
    "客户这样问：\n{questions}\n\n请把它改写成一个简短清楚的常见问题：一个以“？”结尾的问句，不超过25个字，"
    "只用客户说过的内容。只回答这个问句。"
)


def _content(text: str, language: str) -> set[str]:
    return {w.rstrip("s") for w in tokenize(text, language)}


Encode = Callable[[list[str]], np.ndarray]


def _facts(text: str, language: str) -> set[str]:
    """What a question states as fact: numbers, and in English capitalised words after the first
    (names, products, places), lower-cased."""
    tokens = re.findall(r"[A-Za-z0-9'][A-Za-z0-9'.-]*", text)
    facts = {t.lower() for t in tokens if any(c.isdigit() for c in t)}
    if language != "zh":
        facts |= {t.lower() for t in tokens[1:] if t[:1].isupper() and t != "I" and not t.startswith("I'")}
    else:
        facts |= {t.lower() for t in tokens}  # Latin words in Chinese text: names, products
    return facts


def ungrounded(rewrite: str, questions: Sequence[str], language: str, encode: Encode | None = None) -> str | None:
    """Why ``rewrite`` is not grounded in the callers' ``questions`` (None: it is).

    Grounded: all its content words were said; or, with ``encode`` and two or more questions, no
    new fact (:func:`_facts`), at least one shared content word, and a cosine to the questions'
    mean direction no lower than the lowest cosine of one of them to the mean of the others (the
    bar each issue sets from its own spread: the rewording fits among them as one more caller).
    """
    said = set().union(*(_content(q, language) for q in questions))
    content = _content(rewrite, language)
    new = content - said
    if not new:
        return None
    words = f"new words {sorted(new)[:5]}"
    if encode is None or len(questions) < 2:
        return words
    facts = _facts(rewrite, language) - set().union(*(_facts(q, language) for q in questions))
    if facts:
        return f"{words}, facts no caller stated {sorted(facts)[:3]}"
    if not content & said:
        return f"{words}, none the callers said"
    vectors = l2_normalise(encode([rewrite, *questions]))
    said_vectors = vectors[1:]
    closeness = float(vectors[0] @ l2_normalise(said_vectors.sum(axis=0)))
    others = l2_normalise(said_vectors.sum(axis=0) - said_vectors)  # each question's companions' mean direction
    bar = float(np.einsum("ij,ij->i", said_vectors, others).min())
    if closeness < bar:
        return f"{words}, further from the callers' meaning ({closeness:.2f}) than any of them ({bar:.2f})"
    return None


def grounded_rewrite(
    questions: Sequence[str], language: str, llm: LocalLLM | None | Literal["auto"] = "auto", encode: Encode | None = None
) -> str | None:
    """The LLM's rewording of the callers' questions as one FAQ question, or None when it is not
    grounded (:func:`ungrounded`), not a question, too long, or no LLM is available."""
    if llm == "auto":
        llm = get_llm()
    if llm is None or not questions:
        return None
    shown = "\n".join(f"- {' '.join(q.split())[:200]}" for q in questions[:4])
    if language == "zh":
        messages = [{"role": "system", "content": _ZH_SYSTEM}, {"role": "user", "content": _ZH_USER.format(questions=shown)}]
    else:
        messages = [{"role": "system", "content": _EN_SYSTEM}, {"role": "user", "content": _EN_USER.format(questions=shown)}]
    try:
        raw = llm.chat(messages, max_tokens=48)
    except Exception as exc:  # the draft keeps the callers' own words
        log.warning("FAQ question: the local LLM failed (%s)", exc)
        return None
    line = next((s.strip() for s in raw.splitlines() if s.strip()), "")
    line = line.strip(" \"'`*“”「」")
    if not line:
        return None
    if language == "zh":
        line = to_simplified(line)
        if not has_cjk(line) or len(line) > 30 or not line.endswith(("？", "?", "吗")):
            return None
    else:
        if has_cjk(line) or len(line.split()) > 18 or not line.endswith("?"):
            return None
    why = ungrounded(line, questions, language, encode)
    if why is not None:
        log.info("FAQ question: rewrite %r not grounded (%s)", line, why)
        return None
    return line


def canonical_questions(
    questions: Sequence[str],
    language: str,
    *,
    llm: LocalLLM | None | Literal["auto"] = None,
    encode: Encode | None = None,
    max_paraphrases: int = 10,
) -> tuple[str, ...]:
    """The draft's questions: the canonical one first (grounded rewrite, else the clearest of
    the most central), then the callers' own paraphrases. ``encode`` lets a rewording use words
    the callers did not (see :func:`ungrounded`)."""
    qs = [q for q in questions if q.strip()]
    if not qs:
        return ()
    best = qs.pop(clearest(qs, language))
    rewrite = grounded_rewrite([best, *qs[:3]], language, llm, encode) if llm is not None else None
    first = rewrite or (best if language == "zh" else _tidy_en(best))
    rest = [q for q in [best, *qs] if q != first]
    return tuple([first, *rest][: 1 + max_paraphrases])
