"""A quality gate for FAQ drafts: is the answer about the question?

Absolute cosines between a question and an answer say little (on the bundled knowledge
base, matched pairs score 0.13-0.42 with the multilingual encoder, mismatched ones up to
0.31), so relevance is *relative*: the drafted answer must fit its question better than
the answers of other topics do, and better than it fits other topics' questions. The other
topics are the bundled knowledge base's entries and the other drafts of the batch (minus
any that ask the same thing). For each sentence encoder the score is the share of those
comparisons the pair wins; the quality score is the mean over the encoders, 0-1.

Related topics missing from the references would let a wrong answer win those comparisons,
so two more checks halve the score when they fail: the answer must share a content word with
the question (or another caller phrasing of it, or the issue's keywords) unless the local LLM
says it answers it, and the local LLM (when installed) must not judge that it does not answer it.
A draft passes the gate when every language's answer scores at least :data:`GATE` and no
check fails (also: empty or very short answer, answer in another language). The score and
the reasons are stored with the draft (``AnswerSource.quality``/``quality_notes``) and shown
to reviewers; ``callscope demo`` never publishes a draft below the gate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

import numpy as np

from callscope.language import detect_text_language
from callscope.domain import FaqEntry
from callscope.analysis.embeddings import Encoder, l2_normalise, load_encoder
from callscope.analysis.issues import tokenize
from callscope.domain import AnswerMethod, AnswerSource
from callscope.llm import get_llm

if TYPE_CHECKING:
    from callscope.llm import LocalLLM


ENCODERS = ("use-multilingual", "e5-small")
# Chosen on the bundled knowledge base (dev, leave-one-out) and checked once on the shared
# calls' reference FAQ pairs (test): bench/bench_faq_quality.py, BENCHMARKS.md "FAQ quality gate".
GATE = 0.8
SAME_TOPIC = 0.45  # USE cosine between two questions that ask the same thing (FaqOptions.match_threshold)
MIN_WORDS_EN = 4
MIN_CHARS_ZH = 6


@dataclass(frozen=True, slots=True)
class Quality:
    """The gate's verdict on one language of a draft."""

    score: float  # 0-1
    passed: bool
    reasons: tuple[str, ...]



def default_encoders() -> dict[str, Encoder]:
    return {name: load_encoder(name).encode for name in ENCODERS}


def reference_pairs(language: str, entries: Sequence[FaqEntry]) -> list[tuple[str, str]]:
    """(question, answer) pairs of other topics (e.g. the knowledge base's entries) in ``language``."""
    return [(e.questions[language][0], e.answers[language]) for e in entries if e.questions.get(language) and e.answers.get(language)]


def _hard_checks(question: str, answer: str, language: str) -> list[str]:
    problems = []
    if not question.strip():
        problems.append("no question")
    text = answer.strip()
    if not text:
        return problems + ["no answer"]
    if language == "zh":
        if len(re.sub(r"\s", "", text)) < MIN_CHARS_ZH:
            problems.append(f"answer too short ({len(text)} characters)")
    elif len(text.split()) < MIN_WORDS_EN:
        problems.append(f"answer too short ({len(text.split())} words)")
    if detect_text_language(text, default=language) != language:
        problems.append(f"answer is not in the question's language ({language})")
    return problems


def _stem(word: str) -> str:
    for suffix in ("es", "s"):  # plurals only: "opened" is not "open" (a returns answer is not about opening hours)
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def shared_words(question: str, answer: str, language: str) -> list[str]:
    """Content words of the question that the answer also uses (stemmed; jieba words in Chinese)."""

    said = {_stem(w) for w in tokenize(answer, language)}
    out = []
    for word in tokenize(question, language):
        if _stem(word) in said and word not in out:
            out.append(word)
    if language == "zh" and not out:  # jieba may cut the same term differently: shared 2-character terms
        grams = {answer[i : i + 2] for i in range(len(answer) - 1)}
        out = [g for g in dict.fromkeys(question[i : i + 2] for i in range(len(question) - 1)) if g in grams and all("\u4e00" <= ch <= "\u9fff" for ch in g) and g not in ("什么", "怎么", "可以", "几点", "您的", "我们", "你们")]
    return out


def llm_judge(question: str, answer: str, language: str, llm: LocalLLM | None) -> bool | None:
    """The local LLM's yes/no: does the answer respond to the question? (None: no LLM / unclear)."""
    if llm is None:
        return None
    if language == "zh":
        prompt = f"问题：{question}\n回答：{answer}\n\n这个回答是在回答这个问题吗？只回答“是”或“否”。"
    else:
        prompt = f"Question: {question}\nAnswer: {answer}\n\nDoes this answer respond to this question? Reply with yes or no only."
    try:
        reply = llm.chat([{"role": "user", "content": prompt}], max_tokens=3).strip().lower()
    except Exception:  # the encoders' verdict stands
        return None
    if reply.startswith(("yes", "是")):
        return True
    if reply.startswith(("no", "否", "不")):
        return False
    return None


def score_pairs(
    pairs: Sequence[tuple[str, str]],
    references: Sequence[tuple[str, str]],
    encoders: Mapping[str, Encoder],
) -> list[tuple[float, dict[str, float], int]]:
    """For each (question, answer): the mean win rate over encoders, the cosine per encoder, and
    how many other-topic pairs it was compared with (references asking the same thing are skipped)."""
    if not pairs:
        return []
    questions = [q for q, _ in pairs]
    answers = [a for _, a in pairs]
    ref_q = [q for q, _ in references]
    ref_a = [a for _, a in references]
    vectors = {name: l2_normalise(enc([*questions, *answers, *ref_q, *ref_a])) for name, enc in encoders.items()}
    n, m = len(pairs), len(references)
    first = next(iter(vectors.values())) if "use-multilingual" not in vectors else vectors["use-multilingual"]
    # Same-topic references (their question asks what this draft asks) are not "other topics".
    same = (first[:n] @ first[2 * n : 2 * n + m].T) >= SAME_TOPIC if m else np.zeros((n, 0), bool)
    out = []
    for i in range(n):
        keep = ~same[i] if m else np.zeros(0, bool)
        rates, cosines = [], {}
        for name, v in vectors.items():
            q, a = v[i], v[n + i]
            rq, ra = v[2 * n : 2 * n + m][keep], v[2 * n + m :][keep]
            own = float(q @ a)
            cosines[name] = own
            if len(rq) == 0:
                continue
            wins = np.concatenate([own > ra @ q, own > rq @ a])
            rates.append(float(wins.mean()))
        out.append((float(np.mean(rates)) if rates else 0.0, cosines, int(keep.sum())))
    return out


def assess(
    question: str,
    answer: str,
    language: str,
    *,
    references: Sequence[tuple[str, str]] | None = None,
    encoders: Mapping[str, Encoder] | None = None,
    llm: LocalLLM | None | Literal["auto"] = None,
    gate: float = GATE,
    phrasings: Sequence[str] = (),
) -> Quality:
    """The quality of one question/answer pair (see the module docstring).

    ``phrasings`` are the other ways callers asked the same question (and the issue's
    keywords): the answer may share its content word with any of them.

    The score is the encoders' relative relevance, halved when the answer shares no content
    word with the question and halved again when the local LLM (if given) says it does not
    answer it; the pair passes when the score reaches ``gate`` and no hard check fails.
    """
    if llm == "auto":
        llm = get_llm()
    refs = list(references or ())
    problems = _hard_checks(question, answer, language)
    if "no answer" in problems or "no question" in problems:
        return Quality(0.0, False, tuple(problems))
    [(rate, cosines, compared)] = score_pairs([(question, answer)], refs, encoders or default_encoders())
    reasons = []
    if compared == 0:
        problems.append("relevance unknown: no other topics to compare with")
        rate = 0.0
    elif rate >= gate:
        reasons.append(f"answer is about the question: it fits better than {rate:.0%} of {compared} other topics' answers and questions")
    else:
        problems.append(
            f"answer may not be about the question: it fits better than only {rate:.0%} of {compared} other topics' "
            f"answers and questions"
        )
    score = rate
    shared = shared_words(" ".join((question, *phrasings)), answer, language)
    verdict = llm_judge(question, answer, language, llm)
    if shared:
        reasons.append("shares " + ", ".join(shared[:4]) + " with the question")
    elif verdict is True:  # a right answer need not repeat the question's words
        reasons.append("shares no content word with the question, but the local LLM says it answers it")
    else:
        problems.append("answer shares no content word with the question")
        score *= 0.5
    if verdict is False:
        problems.append("the local LLM says the answer does not respond to the question")
        score *= 0.5
    elif verdict is True:
        reasons.append("the local LLM says it answers the question")
    reasons.append("similarity " + ", ".join(f"{k} {v:.2f}" for k, v in cosines.items()))
    return Quality(round(score, 3), score >= gate and not problems, tuple(problems + reasons))


def gate_drafts(
    drafts: Sequence[FaqEntry],
    *,
    encoders: Mapping[str, Encoder] | None = None,
    kb_entries: Sequence[FaqEntry] = (),
    llm: LocalLLM | None | Literal["auto"] = "auto",
    gate: float = GATE,
) -> list[FaqEntry]:
    """``drafts`` with every language's quality score and reasons in ``answer_sources``.

    The references of a draft are ``kb_entries`` (the knowledge base the IVR uses) and the
    batch's other drafts.
    """

    encoders = encoders or default_encoders()
    if llm == "auto":
        llm = get_llm()
    out = []
    for k, draft in enumerate(drafts):
        others = [d for j, d in enumerate(drafts) if j != k]
        sources = dict(draft.answer_sources)
        for lang in sorted(set(draft.questions) | set(draft.answers)):
            sources[lang] = gate_language(draft, lang, others, encoders=encoders, kb_entries=kb_entries, llm=llm, gate=gate)
        out.append(replace(draft, answer_sources=sources))
    return out


def gate_language(
    draft: FaqEntry,
    lang: str,
    others: Sequence[FaqEntry],
    *,
    encoders: Mapping[str, Encoder],
    kb_entries: Sequence[FaqEntry] = (),
    llm: LocalLLM | None = None,
    gate: float = GATE,
) -> AnswerSource:
    """``draft``'s answer source in ``lang`` with the gate's score and reasons; the
    references are ``kb_entries`` and the ``others`` drafts of the batch."""
    question = (draft.questions.get(lang) or ("",))[0]
    answer = draft.answers.get(lang, "")
    refs = reference_pairs(lang, kb_entries)
    refs += [(d.questions[lang][0], d.answers[lang]) for d in others if d.questions.get(lang) and d.answers.get(lang)]
    phrasings = [*draft.questions.get(lang, ())[1:], *draft.tags]
    verdict = assess(question, answer, lang, references=refs, encoders=encoders, llm=llm, gate=gate, phrasings=phrasings)
    source = draft.answer_sources.get(lang) or AnswerSource(AnswerMethod.EXTRACTIVE, answer)
    return replace(source, quality=verdict.score, quality_notes=verdict.reasons, quality_passed=verdict.passed)


def entry_quality(entry: FaqEntry) -> tuple[float | None, bool, list[str]]:
    """(lowest score over languages, passed in every language, reasons) of a gated entry;
    (None, False, [...]) when it was never checked."""
    checked = {lang: s for lang, s in entry.answer_sources.items() if s.quality is not None}
    if not checked:
        return None, False, ["quality not checked"]
    score = min(s.quality for s in checked.values())  # type: ignore[type-var]
    passed = all(s.quality_passed for s in checked.values()) and set(checked) >= set(entry.answers)
    # the languages that failed first: their first note is why the entry is below the gate
    order = sorted(checked.items(), key=lambda item: (bool(item[1].quality_passed), item[0]))
    reasons = [f"{lang}: {note}" for lang, s in order for note in s.quality_notes]
    return score, passed, reasons
