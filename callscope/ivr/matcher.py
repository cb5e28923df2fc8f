"""Match what a caller said to a knowledge-base entry, with a calibrated confidence level.

Signals, combined per entry:

* **semantic**, from one or more multilingual sentence encoders (by default both
  shipped ones: USE multilingual and multilingual-e5-small): cosine similarity between
  the utterance and every *variant* of the entry (its example questions in any
  language, its title/label, and its answers, which are slightly discounted), best
  variant blended with the entry's centroid;
* **keywords**: IDF-weighted overlap between the utterance's content words (English
  words, Chinese character bigrams) and the entry's questions, tags and label;
* **classifier**: a logistic regression trained when the knowledge base is loaded, on
  every variant of every entry (both encoders' vectors side by side, centred on the
  knowledge base's mean), so that what tells one entry from its neighbours weighs more
  than what all of a domain's questions share. Its probability is added to the score.

**Calibration per knowledge base, at load time.** Raw cosines mean different things
for different encoders and knowledge bases (e5's sit in 0.78-0.97, USE's in 0-1; a
knowledge base of near-identical banking topics is denser than a shop's). Two steps:

1. each encoder's score is rescaled with two reference points measured on the knowledge
   base: *off-topic* = the mean best score of a bank of off-topic sentences
   (``data/off_topic.txt``, en + zh; the half in the scripts of the KB's questions), *on-topic* = the median leave-one-out score of
   every example question against the rest of its own entry;
2. every example question is then scored, left out, against the whole knowledge base as
   a caller's question would be, and the final score is read on *that* distribution: 1 =
   the median example question's best score, 0 = the weakest 5 % of them
   (:class:`ScoreScale`). The leave-one-out questions are in-scope questions by
   construction, so a line at 0 hands over about 5 % of in-scope callers, whatever the
   knowledge base's density; a fixed line on the first scale handed over a quarter of
   the callers of a 150-topic knowledge base whose topics include small talk.

**Callers in another language.** Cross-lingual cosines sit lower and closer together: a
Mandarin question scores less on an English-only knowledge base than the same question
in English. The off-topic bank says the same sentences in English and in Mandarin, so
each encoder measures, per knowledge base, how the bank's scores in a script the KB's
questions lack compare with the same sentences in the KB's own script (mean best score
and spread over the entries), and reads such a caller's raw scores through that linear
map before step 1 (:attr:`Calibration.scripts`). A knowledge base with Mandarin questions
of its own maps nothing.

**An encoder tuned on the knowledge base.** When fine-tuning is available
(:mod:`callscope.ivr.tuning`) and its cache for this knowledge-base version is ready, a small
English encoder fine-tuned on the KB's own questions joins the shipped ones (own calibration,
classifier features) for the callers it reads; they get their own thresholds
(``MatcherOptions.tuned_levels``). It ranks the entries and sets the lead over the runner-up;
the score the out-of-scope line reads is the higher of its scale and the shipped encoders'
(``MatcherOptions.tuned_confidence``): its own leave-one-out scale is measured on questions it
was trained on and reads new phrasings too low. A caller it does not read (Mandarin) is scored with a scale
and a classifier measured without it and leveled with the plain thresholds, exactly as without it.

The confidence levels are thresholds on that scale (and on the lead over the runner-up),
tuned once on development data of several knowledge bases (``bench/ivr_fewshot.py``),
not on one KB.

Everything is computed once per knowledge-base version (only new texts are encoded
after a reload); each utterance is encoded once per encoder and cached, so a Gather
turn costs one encoder call per encoder at most, then matrix-vector products.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np

from callscope.analysis.embeddings import SentenceEncoder, load_encoder
from callscope.ivr import tuning
from callscope.ivr.expansion import cache_signature, load_paraphrases
from callscope.ivr.kb import KnowledgeBase, KnowledgeBaseSource
from callscope.ivr.phrases import normalise
from callscope.language import has_cjk, to_simplified
from callscope.domain import FaqEntry, FaqStatus

log = logging.getLogger(__name__)

OFF_TOPIC_FILE = Path(__file__).parent / "data" / "off_topic.txt"


class MatchLevel(StrEnum):
    HIGH = "high"  # answer
    MEDIUM = "medium"  # a plausible topic: "Did you mean ...?"
    LOW = "low"  # unclear: reprompt with the closest topics
    NONE = "none"  # out of scope: nothing in the knowledge base answers it


@dataclass(frozen=True, slots=True)
class MatcherOptions:
    """Thresholds on the final score (1 = like the median example question of the
    knowledge base, 0 = like its weakest 5 %, both measured by leave-one-out when the
    knowledge base is loaded; see the module docstring) and what to index. Tuned on the
    development split of ``bench/ivr_fewshot.py`` (CLINC150 few-shot knowledge bases +
    the Brightwave calibration set).

    Levels (:func:`level_of`): HIGH when the best scores ``high`` or more *and* leads the
    runner-up by ``margin``; otherwise MEDIUM ("Did you mean ...?") from ``medium``, or
    whenever the best leads the runner-up by ``ahead`` or more (one topic stands out,
    even below the out-of-scope line: a covered topic phrased unlike the examples);
    otherwise LOW (the closest topics as options) from ``low``; below it NONE (out of
    scope: "I can't answer that here" and an agent).
    """

    high: float = 0.8
    medium: float = math.inf  # tuned: no score-only "Did you mean" band below ``high`` (the top three as options did better)
    low: float = -0.3
    margin: float = 0.6  # a HIGH best must lead the runner-up by this much
    ahead: float = 1.05  # a lead this large reads as one clear topic: "Did you mean ...?" at any score
    keyword_weight: float = 0.1
    classifier_weight: float = 0.3  # weight of the load-time classifier's probability in the score
    classifier_c: float = 30.0  # inverse L2 regularisation of that logistic regression
    answer_weight: float = 0.9  # answers are statements, not questions: discount their cosine
    centroid_weight: float = 0.7  # blend of the best variant's cosine with the cosine to the entry's centroid
    in_scope_quantile: float = 0.05  # the leave-one-out quantile read as score 0
    index_titles: bool = True
    index_answers: bool = True
    paraphrases: bool = True  # index the LLM paraphrases cached beside the KB (callscope.ivr.expansion)
    script_scale: bool = True  # callers in a script the KB's questions lack are read on its scale (Calibration.scripts)
    calibrate: bool = True  # False: raw cosine, no classifier (the nearest-neighbour baseline of the bench)
    top_k: int = 3
    encoders: tuple[str, ...] = ("use-multilingual", "e5-small")
    # an encoder fine-tuned on the knowledge base at publish/load time (callscope.ivr.tuning),
    # used beside the shipped ones once its cache is ready; off or unavailable: as before
    tuned: bool = True
    tuned_dir: Path | None = None  # its cache (server and CLI: <model dir>/ivr-tuned; default: beside the KB file)
    tuned_weight: float = 1.0  # its weight in the semantic mean (the shipped encoders weigh 1 each)
    tuned_classifier: bool = True  # its vectors are also features of the load-time classifier
    # for callers the tuned encoder reads (the others are scored exactly as without it): the
    # policy's thresholds (high, medium, low, margin, ahead) and the classifier's weight
    # (tuned on dev like the plain ones; None: the plain ones)
    tuned_levels: tuple[float, float, float, float, float] | None = (0.7, math.inf, -0.45, 0.7, 1.0)
    tuned_classifier_weight: float | None = 0.5
    # shipped encoders left out for the callers the tuned encoder reads (the others keep them):
    # :func:`fast_options` leaves out e5, two thirds of a question turn's CPU
    tuned_skips: tuple[str, ...] = ()
    # e5 only where it is needed: a caller the tuned encoder reads is first scored as by
    # :func:`fast_options` (no e5, a third of the CPU); when that already answers (level HIGH) with a
    # score >= quick_answer[0] and a lead over the runner-up >= quick_answer[1], the answer stands and
    # e5 never runs; otherwise the caller is scored with every encoder. Chosen on the dev split of
    # bench/ivr_fewshot.py (bench/bench_ivr_screen.py) as a gate inside which no dev outcome changes;
    # None: every encoder for every caller. No effect with ``tuned_skips`` or without a tuned encoder.
    quick_answer: tuple[float, float] | None = (1.0, 1.25)
    # A turn's time budget, from the webhook's arrival (:data:`turn_started`, set by the IVR app). A
    # caller the tuned encoder reads whose scoring with e5 (its recent CPU time, measured here) would
    # end after it, and whose turn has already waited longer than e5 takes (a queue, not a slow CPU),
    # gets the screen's result as it stands, with fast mode's levels (:func:`fast_options`, tuned on
    # dev for scoring without e5). Under a burst a few callers are matched as in fast mode instead of
    # queueing for e5 too; ``scoring_counts["late"]`` says how many. None: no budget. Mandarin callers
    # (the tuned encoder does not read them) and callers outside a webhook (CLI, simulator: no
    # arrival time) always get e5.
    latency_budget_ms: float | None = 40.0
    # where a tuned caller's confidence (the score the levels read) comes from; the tuned encoder
    # always ranks the entries and sets the lead over the runner-up. Its own scale is measured by
    # leave-one-out on questions it was trained on, so it reads a new phrasing too low (a small KB's
    # callers fell under the out-of-scope line); the shipped encoders never saw the KB, so theirs is
    # honest. "max" (chosen on dev): the higher of the two scales at the top entry, i.e. out of scope
    # only when neither puts the caller in scope; "shipped": the shipped encoders' score of the top
    # entry alone; "tuned": the mean with the tuned encoder on its own scale (session 5, round 2)
    tuned_confidence: str = "max"
    encoder_threads: int = 1  # one BLAS thread: fastest per sentence under concurrent load
    cache_size: int = 4096


turn_started: ContextVar[float | None] = ContextVar("turn_started", default=None)
"""When the webhook of the turn being handled arrived (``time.perf_counter()``); set by the IVR app
(:class:`callscope.ivr.deps.TurnClock`), read by ``MatcherOptions.latency_budget_ms``."""
turn_cpu_started: ContextVar[float | None] = ContextVar("turn_cpu_started", default=None)
"""The handling thread's CPU clock (``time.thread_time()``) when it took the turn up
(:func:`callscope.ivr.deps.in_lane`): what the turn waited is its wall time minus its own CPU."""


FAST_TUNED_LEVELS = (0.8, math.inf, -0.4, 0.45, 1.25)
"""``tuned_levels`` tuned on the dev split of ``bench/ivr_fewshot.py`` with e5 left out."""


def fast_options(options: MatcherOptions) -> MatcherOptions:
    """``options`` with e5 left out for the callers the KB-tuned encoder reads (English), and
    the levels tuned that way (``CALLSCOPE_IVR_FAST``). A question turn costs about a third of
    the CPU; on the few-shot test split right outcomes drop by up to 2 points and wrong answers
    about double (BENCHMARKS.md, "IVR"). Mandarin callers are scored as before."""
    return replace(options, tuned_skips=("e5-small",), tuned_levels=FAST_TUNED_LEVELS)


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: FaqEntry
    score: float  # combined, on the knowledge base's scale (see MatcherOptions)
    semantic: float  # calibrated semantic score (mean over encoders)
    keyword: float
    matched_question: str
    classifier: float = 0.0  # the load-time classifier's probability for the entry


@dataclass(frozen=True, slots=True)
class MatchResult:
    text: str
    language: str
    level: MatchLevel
    candidates: tuple[Candidate, ...]

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def margin(self) -> float:
        """The best candidate's lead over the runner-up (calibrated units)."""
        if not self.candidates:
            return 0.0
        return self.candidates[0].score - (self.candidates[1].score if len(self.candidates) > 1 else 0.0)


_EN_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "i",
        "i'm",
        "im",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "yours",
        "we",
        "our",
        "us",
        "it",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "doing",
        "have",
        "has",
        "had",
        "having",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "about",
        "into",
        "over",
        "after",
        "before",
        "up",
        "down",
        "out",
        "off",
        "and",
        "or",
        "but",
        "if",
        "so",
        "than",
        "then",
        "there",
        "here",
        "this",
        "that",
        "these",
        "those",
        "what",
        "what's",
        "whats",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "please",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "just",
        "want",
        "wanted",
        "like",
        "need",
        "know",
        "tell",
        "ask",
        "asking",
        "question",
        "um",
        "uh",
        "er",
        "erm",
        "well",
        "okay",
        "ok",
        "yes",
        "no",
        "not",
        "don't",
        "dont",
        "get",
        "got",
        "any",
        "some",
        "there's",
        "theres",
        "am",
        "also",
        "still",
        "yet",
        "again",
        "really",
        "very",
        "much",
        "more",
        "one",
    ]
)
_ZH_STOP = frozenset("的了吗呢吧啊呀我你您他她它们是在有和就都也还要想请问一下个这那么什")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_EN_WORD = re.compile(r"[a-z][a-z']*|\d+")


def keywords(text: str) -> list[str]:
    """Content tokens: English words without stopwords (crude plural stemming) and
    Chinese character bigrams (single characters for one-character runs)."""
    text = normalise(text)
    tokens: list[str] = []
    for word in _EN_WORD.findall(text):
        if word in _EN_STOP or len(word) < 2:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        tokens.append(word)
    if has_cjk(text):
        for run in _CJK_RUN.findall(text):
            chars = [c for c in run if c not in _ZH_STOP]
            if len(chars) == 1:
                tokens.append(chars[0])
            tokens.extend(chars[i] + chars[i + 1] for i in range(len(chars) - 1))
    return tokens


@lru_cache(maxsize=1)
def off_topic_sentences() -> tuple[str, ...]:
    """The off-topic calibration bank (en + zh), one sentence a line, '#' comments."""
    lines = OFF_TOPIC_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(s.strip() for s in lines if s.strip() and not s.lstrip().startswith("#"))


def entry_title(kb: KnowledgeBase, entry: FaqEntry) -> dict[str, str]:
    """The entry's title per language: its ``label`` (per language or one string), else
    its id read as words ("opening_hours" -> "opening hours")."""
    label = kb.extra.get(entry.id, {}).get("label")
    if isinstance(label, dict):
        out = {str(k): v.strip() for k, v in label.items() if isinstance(v, str) and v.strip()}
        if out:
            return out
    if isinstance(label, str) and label.strip():
        return {"": label.strip()}
    words = re.sub(r"[_\-.]+", " ", entry.id).strip()
    return {"": words} if re.search(r"[A-Za-z]{3}", words) else {}


def script_of(text: str) -> str:
    """The writing system that decides how a sentence scores cross-lingually: "zh" (CJK
    characters) or "latin"."""
    return "zh" if has_cjk(text) else "latin"


@dataclass(frozen=True, slots=True)
class Calibration:
    """Reference points of one encoder on one knowledge base (raw cosine)."""

    off_topic: float  # mean best score of the off-topic bank, in the scripts the KB's questions use
    on_topic: float  # median leave-one-out score of the entries' own questions
    # per caller script the KB's questions do not use: (script, offset, slope) mapping such a
    # caller's raw scores onto the KB's own scripts, raw -> offset + slope * raw, measured on the
    # off-topic bank said in both (its mean best score and its spread over the entries)
    scripts: tuple[tuple[str, float, float], ...] = ()

    def scale(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.off_topic) / max(self.on_topic - self.off_topic, 0.05)

    def to_home(self, raw: np.ndarray, script: str) -> np.ndarray:
        """A caller's raw scores read as if said in the knowledge base's own scripts."""
        for name, offset, slope in self.scripts:
            if name == script:
                return offset + slope * raw
        return raw

    def lift(self, script: str, raw: float) -> float:
        """How much :meth:`to_home` raises a raw score of ``raw`` in ``script`` (0 in the KB's own scripts)."""
        return float(self.to_home(np.float32(raw), script)) - raw


@dataclass(frozen=True, slots=True)
class ScoreScale:
    """Where the knowledge base's own example questions score when each is left out and
    matched against the whole knowledge base like a caller's question (calibrated semantic
    units): the final score is 1 at their median best score and 0 at their weakest
    ``in_scope_quantile``."""

    weak: float
    typical: float
    questions: int  # how many example questions were scored

    # with fewer questions than this the quantiles mean little: typical dev values instead
    MIN_QUESTIONS = 8
    DEFAULT = (0.65, 1.0)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.weak) / max(self.typical - self.weak, 0.05)

    @classmethod
    def measure(cls, best: np.ndarray, quantile: float) -> ScoreScale:
        best = best[np.isfinite(best)]
        if len(best) < cls.MIN_QUESTIONS:
            return cls(*cls.DEFAULT, questions=len(best))
        weak, typical = float(np.quantile(best, quantile)), float(np.median(best))
        return cls(weak=weak, typical=max(typical, weak + 0.05), questions=len(best))


@dataclass(frozen=True, slots=True)
class EntryClassifier:
    """A multinomial logistic regression over the entries, trained on their variants when
    the knowledge base is loaded. Features: each encoder's vector minus the knowledge
    base's mean vector, renormalised, the encoders side by side."""

    means: tuple[np.ndarray, ...]  # per encoder, in encoder order
    coef: np.ndarray  # (entries, features)
    intercept: np.ndarray  # (entries,)

    @staticmethod
    def features(vectors: Sequence[np.ndarray], means: Sequence[np.ndarray]) -> np.ndarray:
        parts = []
        for v, mu in zip(vectors, means, strict=True):
            centred = np.atleast_2d(v) - mu
            parts.append(centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12))
        return np.hstack(parts) / math.sqrt(len(parts))

    @classmethod
    def fit(cls, vectors: Sequence[np.ndarray], owners: np.ndarray, n_entries: int, c: float) -> EntryClassifier | None:
        """None when there is nothing to tell apart (fewer than two entries)."""
        if n_entries < 2 or len(set(owners.tolist())) < n_entries:
            return None
        from sklearn.linear_model import LogisticRegression  # heavy: only when a knowledge base is indexed

        means = tuple(v.mean(axis=0) for v in vectors)
        model = LogisticRegression(C=c, max_iter=500).fit(cls.features(vectors, means), owners)
        return cls(means, model.coef_.astype(np.float32), model.intercept_.astype(np.float32))

    def proba(self, vectors: Sequence[np.ndarray]) -> np.ndarray:
        """Per entry probabilities, one row per utterance (rows of the vectors)."""
        logits = self.features(vectors, self.means) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(axis=1, keepdims=True)


class _Index:
    """Variants, embeddings, calibration and keyword tables of one knowledge-base version."""

    def __init__(
        self, kb: KnowledgeBase, opts: MatcherOptions, paraphrases: dict[str, tuple[str, ...]] | None = None
    ) -> None:
        self.entries = [e for e in kb.entries if e.status == FaqStatus.PUBLISHED]
        paraphrases = paraphrases or {}
        self.paraphrase_count = 0
        texts: list[str] = []
        owners: list[int] = []
        weights: list[float] = []
        is_question: list[bool] = []
        for i, entry in enumerate(self.entries):
            variants: dict[str, tuple[float, bool]] = {}
            for qs in entry.questions.values():
                for q in qs:
                    variants.setdefault(q, (1.0, True))
            if opts.index_titles:
                for title in entry_title(kb, entry).values():
                    variants.setdefault(title, (1.0, False))
            if opts.index_answers:
                for answer in entry.answers.values():
                    variants.setdefault(_answer_text(answer), (opts.answer_weight, False))
            for text in paraphrases.get(entry.id, ()):  # not questions: leave-one-out would count near-copies
                if text not in variants:
                    variants[text] = (1.0, False)
                    self.paraphrase_count += 1
            for text, (weight, question) in variants.items():
                texts.append(text)
                owners.append(i)
                weights.append(weight)
                is_question.append(question)
        self.texts = texts
        self.owners = np.asarray(owners, dtype=np.int64)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.is_question = np.asarray(is_question, dtype=bool)
        # first variant of each entry (variants are stored entry by entry), for reduceat
        self.starts = np.searchsorted(self.owners, np.arange(len(self.entries))) if texts else np.zeros(0, np.int64)
        self.encoders: list[SentenceEncoder] = []  # the shipped ones, then the tuned one if ready
        self.encoder_weights: list[float] = []  # in the semantic mean
        self.classifier_encoders: list[int] = []  # positions in ``encoders`` the classifier reads
        self.tuned: tuning.TunedEncoder | None = None
        # positions in ``encoders`` that score a caller the tuned encoder reads (the tuned one and
        # the shipped ones not in ``tuned_skips``), and those of them that give its confidence
        self.tuned_positions: list[int] = []
        self.confidence_positions: list[int] = []
        self.vectors: dict[str, np.ndarray] = {}
        self.sums: dict[str, np.ndarray] = {}
        self.centroids: dict[str, np.ndarray] = {}
        self.calibration: dict[str, Calibration] = {}
        self.scale = ScoreScale(*ScoreScale.DEFAULT, questions=0)
        self.base_scale = self.scale  # without the tuned encoder: for callers it does not read
        self.base_classifier: EntryClassifier | None = None
        self.classifier: EntryClassifier | None = None
        # a tuned caller's confidence (``confidence_positions``); the base ones when no encoder is skipped
        self.confidence_scale = self.scale
        self.confidence_classifier: EntryClassifier | None = None
        # keyword tables
        self.entry_scripts: list[set[str]] = [
            {script_of(q) for qs in e.questions.values() for q in qs} for e in self.entries
        ]
        self.entry_tokens: list[set[str]] = []
        df: dict[str, int] = {}
        for entry in self.entries:
            toks: set[str] = set()
            for qs in entry.questions.values():
                for q in qs:
                    toks.update(keywords(q))
            for tag in entry.tags:
                toks.update(keywords(tag.replace("_", " ")))
            if opts.index_titles:
                for title in entry_title(kb, entry).values():
                    toks.update(keywords(title))
            self.entry_tokens.append(toks)
            for t in toks:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(self.entries))
        self.idf = {t: math.log(1.0 + n / c) for t, c in df.items()}
        self.unknown_idf = math.log(1.0 + n)

    def entry_max(self, sims: np.ndarray) -> np.ndarray:
        """Per-entry best of variant scores (the last axis)."""
        return np.maximum.reduceat(sims * self.weights, self.starts, axis=-1)

    def add_centroids(self, name: str) -> None:
        """Each entry's centroid: the normalised weighted sum of its variants' vectors."""
        vectors = self.vectors[name]
        sums = np.add.reduceat(vectors * self.weights[:, None], self.starts, axis=0)
        self.sums[name] = sums
        self.centroids[name] = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)

    def entry_scores(self, name: str, utterances: np.ndarray, centroid_weight: float) -> np.ndarray:
        """Raw per-entry scores of utterance vectors (rows): best variant blended with the centroid."""
        best = self.entry_max(utterances @ self.vectors[name].T)
        if centroid_weight <= 0:
            return best
        return (1.0 - centroid_weight) * best + centroid_weight * (utterances @ self.centroids[name].T)

    def leave_one_out_sample(self, max_questions: int = 2000) -> np.ndarray:
        """The example questions (variant indices) scored left out: all, or a seeded sample."""
        idx = np.nonzero(self.is_question)[0]
        if len(idx) > max_questions:
            idx = np.sort(np.random.default_rng(0).choice(idx, max_questions, replace=False))
        return idx

    def calibrate(
        self,
        name: str,
        bank: np.ndarray,
        centroid_weight: float,
        bank_scripts: Sequence[str] = (),
        valid: np.ndarray | None = None,
    ) -> tuple[Calibration, np.ndarray]:
        """The encoder's reference points, and the raw leave-one-out scores of the sampled
        example questions against every entry (rows: questions, columns: entries).

        The off-topic bank is read per script (``bank_scripts``, one per bank sentence; the
        shipped bank says the same sentences in English and Mandarin): the zero point is the
        bank in the scripts the knowledge base's questions use, and every other script gets a
        linear map onto those (:attr:`Calibration.scripts`): its slope matches the bank's
        spread of scores over the entries there to the spread in the KB's own scripts, its
        offset the bank's mean best score. Cross-lingual scores sit lower and closer together;
        a Mandarin caller on an English-only knowledge base is read on the English scale.

        ``valid`` marks the variants this encoder has a vector for (an English-only encoder
        gives Mandarin texts none): the others' leave-one-out rows are NaN."""
        vectors = self.vectors[name]
        maps: list[tuple[str, float, float]] = []
        if len(bank):
            full = self.entry_scores(name, bank, centroid_weight)
            null, spread = full.max(axis=1), full.std(axis=1)
            scripts = np.asarray(bank_scripts if len(bank_scripts) == len(bank) else ["latin"] * len(bank))
            present = sorted(set(scripts.tolist()))
            covered = [s for s in present if any(s in es for es in self.entry_scripts)]
            if covered:
                home = np.isin(scripts, covered)
                for script in present:
                    if script not in covered:
                        there = scripts == script
                        slope = float(np.mean(spread[home])) / max(float(np.mean(spread[there])), 1e-6)
                        slope = min(max(slope, 0.5), 2.0)  # a guard against a degenerate bank
                        maps.append((script, float(np.mean(null[home])) - slope * float(np.mean(null[there])), slope))
                null = null[home]
        else:
            null = np.zeros(1, np.float32)
        idx = self.leave_one_out_sample()
        rows = np.arange(len(idx))
        owners = self.owners[idx]
        sims = vectors[idx] @ vectors.T
        sims[rows, idx] = -np.inf  # leave the question itself out
        loo = self.entry_max(sims)
        if centroid_weight > 0:  # other entries: their centroid; its own entry: the centroid without it
            centroid = vectors[idx] @ self.centroids[name].T
            rest = self.sums[name][owners] - vectors[idx] * self.weights[idx, None]
            rest /= np.maximum(np.linalg.norm(rest, axis=1, keepdims=True), 1e-12)
            centroid[rows, owners] = np.sum(rest * vectors[idx], axis=1)
            loo = (1.0 - centroid_weight) * loo + centroid_weight * centroid
        if valid is not None:
            loo[~valid[idx]] = np.nan
        own = loo[rows, owners]
        own = own[np.isfinite(own)]
        off = float(np.mean(null))
        on = float(np.median(own)) if len(own) else off + 0.3
        return Calibration(off_topic=off, on_topic=max(on, off + 0.05), scripts=tuple(maps)), loo


def _answer_text(answer: str, limit: int = 300) -> str:
    """The part of an answer worth embedding (answers can be long)."""
    answer = " ".join(answer.split())
    return answer if len(answer) <= limit else answer[:limit].rsplit(" ", 1)[0]


_VECTORS: dict[tuple[str, str], np.ndarray] = {}
"""Text embeddings shared by every matcher of the process, by (encoder, text)."""
_QUESTION_VECTORS = _VECTORS  # the former name


class IntentMatcher:
    """Finds the knowledge-base entry a caller asked about.

    Args:
        kb: a KnowledgeBaseSource (hot reload) or a fixed KnowledgeBase.
        encoder: one sentence encoder to use instead of ``options.encoders``.
        options: thresholds, what to index, encoders and cache size.
        encoders: several encoders to use instead of ``options.encoders``.
    """

    def __init__(
        self,
        kb: KnowledgeBaseSource | KnowledgeBase,
        encoder: SentenceEncoder | None = None,
        options: MatcherOptions | None = None,
        *,
        encoders: Sequence[SentenceEncoder] | None = None,
    ) -> None:
        self.options = options or MatcherOptions()
        self._source = kb if isinstance(kb, KnowledgeBaseSource) else None
        self._fixed = kb if isinstance(kb, KnowledgeBase) else None
        given = list(encoders or ([encoder] if encoder is not None else []))
        self._encoders: list[SentenceEncoder] | None = given or None
        self._lock = threading.Lock()
        self._utterance_cache: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()
        self._index: _Index | None = None
        self._index_key: object = None
        self._paraphrases_sig: tuple[int, ...] = ()
        self._paraphrases_checked = -1e9
        self._paraphrases_kb = 0
        self._tuned_sig: tuple[str, bool] | None = None
        self._tuned_checked = -1e9
        self._tuned_for: KnowledgeBase | None = None  # the version _tuned_path was hashed for
        self._tuned_path: Path | None = None
        self._quick: IntentMatcher | None = None
        if self.options.quick_answer is not None and self.options.tuned and not self.options.tuned_skips:
            self._quick = IntentMatcher(
                kb,
                options=replace(fast_options(self.options), quick_answer=None, latency_budget_ms=None),
                encoders=given or None,
            )
            self._quick._utterance_cache = self._utterance_cache  # a sentence is encoded once for both
        self._full_s = 0.0  # recent CPU time of scoring a caller the tuned encoder reads with e5 (moving average)
        self._counts_lock = threading.Lock()
        self.scoring_counts: dict[str, int] = {"full": 0, "screen": 0, "late": 0}

    @property
    def encoders(self) -> list[SentenceEncoder]:
        if self._encoders is None:
            self._encoders = [load_encoder(n, self.options.encoder_threads) for n in self.options.encoders]
        return self._encoders

    @property
    def encoder(self) -> SentenceEncoder:
        """The first encoder (kept for callers that use one)."""
        return self.encoders[0]

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base in service now (reloaded if its file changed)."""
        if self._source is not None:
            return self._source.current()
        assert self._fixed is not None
        return self._fixed

    def warm(self) -> None:
        """Load the encoders and embed the knowledge base now instead of on the first call."""
        index = self._current_index()
        self._encode_utterance(index, "hello", range(len(index.encoders)))
        if self._quick is not None:
            self._quick.warm()
        to_simplified("查询")  # loads the Traditional->Simplified converter (seconds) now

    def calibration(self) -> dict[str, Calibration]:
        """The per-encoder reference points of the knowledge base in service."""
        return dict(self._current_index().calibration)

    def _embed(self, encoder: SentenceEncoder, texts: Sequence[str]) -> np.ndarray:
        name = encoder.name
        missing = [t for t in dict.fromkeys(texts) if (name, t) not in _VECTORS]
        if missing:
            vecs = encoder.encode(missing)
            _VECTORS.update(((name, t), v) for t, v in zip(missing, vecs, strict=True))
            log.info("embedded %d new knowledge-base texts with %s", len(missing), name)
        if not texts:
            return np.zeros((0, encoder.dim), np.float32)
        return np.stack([_VECTORS[(name, t)] for t in texts])

    def _paraphrase_signature(self, kb: KnowledgeBase) -> tuple[int, ...]:
        """The expansion cache's file times, looked at most once a second."""
        if not self.options.paraphrases:
            return ()
        now = time.monotonic()
        if now - self._paraphrases_checked < 1.0 and self._paraphrases_kb == id(kb):
            return self._paraphrases_sig
        self._paraphrases_sig = cache_signature(kb)
        self._paraphrases_checked, self._paraphrases_kb = now, id(kb)
        return self._paraphrases_sig

    def _tuning_inputs(self, kb: KnowledgeBase) -> tuple[list[str], list[int], tuple[str, ...], Path | None]:
        """What the tuned encoder of ``kb`` is trained on, and where its cache is."""
        published = [e for e in kb.entries if e.status == FaqStatus.PUBLISHED]
        titles = [list(entry_title(kb, e).values()) if self.options.index_titles else [] for e in published]
        texts, owners = tuning.training_texts(kb, titles)
        return texts, owners, off_topic_sentences(), self.options.tuned_dir or tuning.cache_dir_for(kb)

    def _tuned_signature(self, kb: KnowledgeBase) -> tuple[str, bool] | None:
        """(content hash, whether its cache exists): the hash once per knowledge-base version,
        the cache looked at most once a second (a background training may finish)."""
        opts = self.options
        if not (opts.tuned and opts.calibrate) or not tuning.available():
            return None
        if self._tuned_for is not kb:
            texts, owners, bank, cache_dir = self._tuning_inputs(kb)
            ok = cache_dir is not None and len(set(owners)) >= 2
            self._tuned_path = (
                cache_dir / f"{tuning.content_hash(texts, owners, bank, tuning.TuningOptions())}.pt" if ok else None
            )
            self._tuned_for, self._tuned_checked = kb, -1e9
        now = time.monotonic()
        if now - self._tuned_checked >= 1.0:
            path = self._tuned_path
            self._tuned_sig = None if path is None else (path.stem, path.exists())
            self._tuned_checked = now
        return self._tuned_sig

    def tune(self, *, wait: bool = True) -> tuning.TuningReport | None:
        """Fine-tune an encoder on the current knowledge base (publish/load time, never on a
        call) unless its cache is fresh; the next match uses it. ``wait=False`` trains in a
        background thread and returns None.

        Returns:
            What was done (``skipped`` says why nothing was, e.g. fine-tuning unavailable).
        """
        kb = self.knowledge_base()
        texts, owners, bank, cache_dir = self._tuning_inputs(kb)
        if cache_dir is None:
            return tuning.TuningReport(None, skipped="the knowledge base has no file to keep the tuned encoder beside")
        if not wait:
            tuning.tune_in_background(texts, owners, bank, cache_dir)
            return None
        report = tuning.tune(texts, owners, bank, cache_dir)
        self._tuned_checked = -1e9  # look again at the next match
        return report

    def active_encoders(self) -> list[SentenceEncoder]:
        """The encoders the current knowledge-base version is matched with."""
        return list(self._current_index().encoders)

    def _current_index(self) -> _Index:
        kb = self.knowledge_base()
        tuned_sig = self._tuned_signature(kb)
        key = (id(kb), len(kb.entries), self._paraphrase_signature(kb), tuned_sig)
        index = self._index
        if index is not None and self._index_key == key:
            return index
        if not self._lock.acquire(blocking=index is None):
            # another thread is indexing the new version (the classifier takes seconds on a large
            # knowledge base): calls meanwhile are matched against the previous version
            assert index is not None
            return index
        try:
            if self._index is not None and self._index_key == key:
                return self._index
            paraphrases = None
            if self.options.paraphrases:
                paraphrases = load_paraphrases(kb)
            index = _Index(kb, self.options, paraphrases)
            opts = self.options
            index.encoders = list(self.encoders)
            index.encoder_weights = [1.0] * len(index.encoders)
            index.classifier_encoders = list(range(len(index.encoders)))
            if tuned_sig is not None and tuned_sig[1]:
                texts, owners, bank_texts, cache_dir = self._tuning_inputs(kb)
                assert cache_dir is not None
                index.tuned = tuning.load(texts, owners, bank_texts, cache_dir)
                if index.tuned is not None:
                    index.encoders.append(index.tuned)
                    index.encoder_weights.append(opts.tuned_weight)
                    kept = [i for i, e in enumerate(self.encoders) if e.name not in opts.tuned_skips]
                    index.confidence_positions = kept or list(range(len(self.encoders)))
                    index.tuned_positions = [*index.confidence_positions, len(index.encoders) - 1]
                    index.classifier_encoders = list(index.tuned_positions if opts.tuned_classifier else kept)
            bank = off_topic_sentences()
            bank_scripts = np.asarray([script_of(t) for t in bank])
            scaled_loo: list[np.ndarray] = []
            for encoder in index.encoders:
                vectors = index.vectors[encoder.name] = self._embed(encoder, index.texts)
                if index.texts:
                    index.add_centroids(encoder.name)
                    valid = np.linalg.norm(vectors, axis=1) > 0
                    bank_vectors = self._embed(encoder, bank)
                    keep = np.linalg.norm(bank_vectors, axis=1) > 0  # an English-only encoder: the English half
                    cal, loo = index.calibrate(
                        encoder.name,
                        bank_vectors[keep],
                        opts.centroid_weight,
                        bank_scripts[keep].tolist() if opts.script_scale else (),
                        valid=None if valid.all() else valid,
                    )
                    index.calibration[encoder.name] = cal
                    scaled_loo.append(cal.scale(loo))
            if scaled_loo and opts.calibrate:
                shipped = list(range(len(self.encoders)))
                scale = lambda positions: self._measure_scale(  # noqa: E731
                    [scaled_loo[i] for i in positions], [index.encoder_weights[i] for i in positions]
                )
                fit = lambda positions: EntryClassifier.fit(  # noqa: E731
                    [index.vectors[index.encoders[i].name] for i in positions],
                    index.owners,
                    len(index.entries),
                    opts.classifier_c,
                )
                index.base_scale = scale(shipped)
                index.scale = scale(index.tuned_positions) if index.tuned is not None else index.base_scale
                confidence = index.confidence_positions
                same = index.tuned is None or confidence == shipped
                index.confidence_scale = index.base_scale if same else scale(confidence)
                if opts.classifier_weight > 0:
                    index.base_classifier = fit(shipped)
                    index.classifier = (
                        fit(index.classifier_encoders)
                        if index.tuned is not None and index.classifier_encoders != shipped
                        else index.base_classifier
                    )
                    index.confidence_classifier = index.base_classifier if same else fit(confidence)
            self._index = index
            self._index_key = key
            return index
        finally:
            self._lock.release()

    def _measure_scale(self, scaled_loo: list[np.ndarray], weights: Sequence[float]) -> ScoreScale:
        """The leave-one-out scale of these encoders' (weighted) mean score; a question an
        encoder has no vector for is averaged over the others."""
        num = np.zeros_like(scaled_loo[0])
        den = np.zeros_like(scaled_loo[0])
        for scaled, weight in zip(scaled_loo, weights, strict=False):
            finite = np.isfinite(scaled)
            num += weight * np.where(finite, scaled, 0.0)
            den += weight * finite
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = num / den
        best = mean.max(axis=1) if mean.shape[1] else np.zeros(0)
        return ScoreScale.measure(best, self.options.in_scope_quantile)

    def reads_tuned(self, text: str) -> bool:
        """Whether the knowledge-base-tuned encoder scores ``text`` (it is in use and the text
        is in a language it reads); other callers are scored exactly as without it."""
        index = self._current_index()
        return index.tuned is not None and tuning.reads(text)

    def _encode_utterance(self, index: _Index, text: str, positions: Sequence[int]) -> dict[int, np.ndarray]:
        """The utterance's vector from each of the index's encoders at ``positions``, by position
        (cached by text)."""
        key = text.lower()
        cache = self._utterance_cache
        vecs = cache.get(key)
        if vecs is None:
            vecs = cache[key] = {}
            if len(cache) > self.options.cache_size:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        out = {}
        for i in positions:
            encoder = index.encoders[i]
            if encoder.name not in vecs:
                vecs[encoder.name] = encoder.encode([text])[0]
            out[i] = vecs[encoder.name]
        return out

    def entry_scores(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The parts of every published entry's score for ``text``: the semantic score
        (calibrated unless ``calibrate`` is off, mean over encoders), the keyword overlap
        (0-1), whether keywords count (the caller's script appears in the entry), the
        classifier's probability (zeros without a classifier), and the raw per-variant
        cosine sums. :meth:`combine` turns them into the final scores."""
        return self._entry_scores(self._current_index(), text)[:5]

    def shipped_scores(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The semantic score and classifier probabilities of ``text`` from the shipped encoders
        that score it (all of them, or those not in ``tuned_skips`` for a caller the tuned
        encoder reads): the confidence of a tuned caller unless ``tuned_confidence="tuned"``
        (:meth:`combine`'s ``shipped``)."""
        return self._entry_scores(self._current_index(), text)[5:]

    def _entry_scores(self, index: _Index, text: str) -> tuple[np.ndarray, ...]:
        opts = self.options
        n = len(index.entries)
        tuned = index.tuned is not None and tuning.reads(text)
        shipped = list(range(len(self.encoders)))
        positions = index.tuned_positions if tuned else shipped
        confidence = set(index.confidence_positions if tuned else shipped)
        vecs = self._encode_utterance(index, text, positions)
        semantic = np.zeros(n, np.float32)
        base_semantic = np.zeros(n, np.float32)
        variant_sims = np.zeros(len(index.texts), np.float32)
        script = script_of(text)
        total = base_total = 0.0
        for i in positions:
            vec = vecs[i]
            if not vec.any():
                continue  # an English-only encoder and a Mandarin utterance: no vector
            encoder, weight = index.encoders[i], index.encoder_weights[i]
            sims = index.vectors[encoder.name] @ vec
            variant_sims += sims
            best = index.entry_max(sims)
            if opts.centroid_weight > 0:
                best = (1.0 - opts.centroid_weight) * best + opts.centroid_weight * (index.centroids[encoder.name] @ vec)
            if opts.calibrate:
                cal = index.calibration[encoder.name]
                best = cal.scale(cal.to_home(best, script))
            semantic += weight * best
            total += weight
            if i in confidence:
                base_semantic += weight * best
                base_total += weight
        semantic = semantic / max(total, 1e-9)
        base_semantic = base_semantic / max(base_total, 1e-9)
        toks = keywords(text)
        weights = [index.idf.get(t, index.unknown_idf * 0.5) for t in toks]
        total = sum(weights)
        kw = np.zeros(n, np.float32)
        if total > 0:
            for i in range(n):
                kw[i] = sum(w for t, w in zip(toks, weights, strict=True) if t in index.entry_tokens[i]) / total
        mixed = np.array([script in scripts for scripts in index.entry_scripts], dtype=bool)
        classifier = index.classifier if tuned else index.base_classifier
        if classifier is not None:
            positions = index.classifier_encoders if tuned else shipped
            proba = classifier.proba([vecs[i] for i in positions])[0]
        else:
            proba = np.full(n, 1.0 if n == 1 and opts.calibrate else 0.0, np.float32)
        base_proba = proba
        base_classifier = index.confidence_classifier if tuned else None
        if base_classifier is not None and base_classifier is not classifier:
            base_proba = base_classifier.proba([vecs[i] for i in index.confidence_positions])[0]
        return semantic, kw, mixed, proba, variant_sims, base_semantic, base_proba

    def combine(
        self,
        semantic: np.ndarray,
        kw: np.ndarray,
        mixed: np.ndarray,
        proba: np.ndarray,
        *,
        keyword_weight: float | None = None,
        classifier_weight: float | None = None,
        tuned: bool | np.ndarray = False,
        shipped: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        """Final scores from the parts of :meth:`entry_scores` (any leading shape), on the
        knowledge base's scale when ``calibrate`` is on. The weights default to the options'.
        ``tuned`` (per row): the text was scored with the tuned encoder (:meth:`reads_tuned`);
        ``classifier_weight`` then applies to those rows only. ``shipped``: the
        :meth:`shipped_scores` of the same rows (needed for tuned rows unless
        ``tuned_confidence="tuned"``)."""
        return self._combine(
            self._current_index(), semantic, kw, mixed, proba, keyword_weight, classifier_weight, tuned, shipped
        )

    def _combine(
        self,
        index: _Index,
        semantic: np.ndarray,
        kw: np.ndarray,
        mixed: np.ndarray,
        proba: np.ndarray,
        keyword_weight: float | None = None,
        classifier_weight: float | None = None,
        tuned: bool | np.ndarray = False,
        shipped: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> np.ndarray:
        opts = self.options
        kw_w = opts.keyword_weight if keyword_weight is None else keyword_weight
        score = np.where(mixed & (kw_w > 0), (1.0 - kw_w) * semantic + kw_w * kw, semantic)
        if not opts.calibrate:
            return score
        if index.tuned is None or not np.any(tuned):
            cl_w = opts.classifier_weight if classifier_weight is None else classifier_weight
            return index.scale(score + cl_w * proba) if index.tuned is None else index.base_scale(score + cl_w * proba)
        cl_tuned = classifier_weight if classifier_weight is not None else opts.tuned_classifier_weight
        cl_tuned = opts.classifier_weight if cl_tuned is None else cl_tuned
        rows = np.asarray(tuned, dtype=bool)
        rows = rows.reshape(rows.shape + (1,) * (score.ndim - rows.ndim))
        with_tuned = index.scale(score + cl_tuned * proba)
        without = index.base_scale(score + opts.classifier_weight * proba)
        if opts.tuned_confidence != "tuned":
            # rank and lead from the tuned encoder; the top entry's score from the shipped encoders
            # on their leave-one-out scale ("shipped"), or the higher of that and the tuned one
            # ("max"); every entry of the row is shifted alike, so order and margins stay
            if shipped is None:
                raise ValueError("tuned_confidence other than 'tuned' needs the shipped_scores of the rows")
            base_sem, base_proba = shipped
            base = np.where(mixed & (kw_w > 0), (1.0 - kw_w) * base_sem + kw_w * kw, base_sem)
            confidence = index.confidence_scale(base + opts.classifier_weight * base_proba)
            top = np.argmax(with_tuned, axis=-1)[..., None]
            at_top = np.take_along_axis(confidence, top, axis=-1)
            own = np.take_along_axis(with_tuned, top, axis=-1)
            level = np.maximum(at_top, own) if opts.tuned_confidence == "max" else at_top
            with_tuned = with_tuned + (level - own)
        return np.where(rows, with_tuned, without)

    def match(self, text: str, language: str, *, exclude: Sequence[str] = ()) -> MatchResult:
        """Score every published entry against ``text``.

        Args:
            text: the caller's utterance (cleaned).
            language: "en" or "zh" (used to pick answer texts later; matching is cross-lingual).
            exclude: entry ids to leave out (e.g. the one the caller just said "no" to).

        Returns:
            The top candidates, best first, and the confidence level of the best.
        """
        index = self._current_index()
        if not text.strip() or not index.entries:
            return MatchResult(text, language, MatchLevel.LOW, ())
        quick = self._quick
        reads = quick is not None and quick.reads_tuned(text)
        screened = quick.match(text, language) if quick is not None and reads and not exclude else None
        if screened is not None and self._clears_screen(screened):
            self._count("screen")
            return screened
        if reads and self._late(self.options.latency_budget_ms):
            self._count("late")
            return screened if screened is not None else quick.match(text, language, exclude=exclude)  # type: ignore[union-attr]
        self._count("full")
        cpu = time.thread_time()
        result = self._full_match(index, text, language, exclude)
        if reads:  # CPU, not wall time: a burst must not make every later caller look late
            spent = time.thread_time() - cpu
            self._full_s = spent if not self._full_s else self._full_s + 0.1 * (spent - self._full_s)
        return result

    def _late(self, budget_ms: float | None) -> bool:
        """Scoring with e5 now would end past the turn's budget (see ``latency_budget_ms``) *and*
        the turn has already waited longer than e5 takes: a queue to skip, not a slow CPU (on a box
        too slow for the budget even when idle, an idle turn still gets e5)."""
        arrived, worked = turn_started.get(), turn_cpu_started.get()
        if budget_ms is None or arrived is None:
            return False
        elapsed = time.perf_counter() - arrived
        waited = elapsed - (time.thread_time() - worked if worked is not None else 0.0)
        return (elapsed + self._full_s) * 1000 > budget_ms and waited > self._full_s

    def _full_match(self, index: _Index, text: str, language: str, exclude: Sequence[str]) -> MatchResult:
        """:meth:`match` with every encoder."""
        opts = self.options
        n = len(index.entries)
        # one index version throughout
        semantic, kw, mixed, proba, variant_sims, base_semantic, base_proba = self._entry_scores(index, text)
        tuned = index.tuned is not None and tuning.reads(text)
        score = self._combine(index, semantic, kw, mixed, proba, tuned=tuned, shipped=(base_semantic, base_proba))
        excluded = set(exclude)
        ranked = sorted(
            (i for i, entry in enumerate(index.entries) if entry.id not in excluded), key=lambda i: -float(score[i])
        )
        top: list[Candidate] = []
        for i in ranked[: opts.top_k]:
            lo, hi = index.starts[i], (index.starts[i + 1] if i + 1 < n else len(index.texts))
            question = index.texts[lo + int(np.argmax(variant_sims[lo:hi] * index.weights[lo:hi]))]
            top.append(
                Candidate(
                    index.entries[i],
                    round(float(score[i]), 4),
                    round(float(semantic[i]), 4),
                    round(float(kw[i]), 4),
                    question,
                    round(float(proba[i]), 4),
                )
            )
        result = MatchResult(text, language, MatchLevel.LOW, tuple(top))
        best = result.best
        level = level_of(best.score, result.margin, self.policy_options(tuned)) if best else MatchLevel.LOW
        return MatchResult(text, language, level, result.candidates)

    def _clears_screen(self, result: MatchResult) -> bool:
        """The result without e5 stands: it answers (HIGH) and clears ``quick_answer``."""
        gate = self.options.quick_answer
        best = result.best
        return (
            gate is not None
            and result.level is MatchLevel.HIGH
            and best is not None
            and best.score >= gate[0]
            and result.margin >= gate[1]
        )

    def _count(self, path: str) -> None:
        with self._counts_lock:
            self.scoring_counts[path] += 1

    def level(self, result: MatchResult) -> MatchLevel:
        """The confidence level of a result's best candidate under these options."""
        best = result.best
        if best is None:
            return MatchLevel.LOW
        return level_of(best.score, result.margin, self.policy_options(self.reads_tuned(result.text)))

    def policy_options(self, tuned: bool = True) -> MatcherOptions:
        """The options whose thresholds decide the level: ``tuned_levels`` for a caller scored
        with the tuned encoder (``tuned``, and the encoder in use: its scores are distributed
        differently), the plain thresholds otherwise."""
        opts = self.options
        index = self._index
        if not tuned or index is None or index.tuned is None or opts.tuned_levels is None:
            return opts
        high, medium, low, margin, ahead = opts.tuned_levels
        return replace(opts, high=high, medium=medium, low=low, margin=margin, ahead=ahead)

    def scale(self) -> ScoreScale:
        """The leave-one-out reference points of the knowledge base in service."""
        return self._current_index().scale


def level_of(score: float, margin: float, opts: MatcherOptions) -> MatchLevel:
    """The policy on the final scale (see :class:`MatcherOptions`); ``bench/ivr_fewshot.py``
    plays the same rules over whole data sets."""
    if score >= opts.high and margin >= opts.margin:
        return MatchLevel.HIGH
    if score >= opts.medium or margin >= opts.ahead:
        return MatchLevel.MEDIUM  # plausible, or one topic stands out, even below the out-of-scope line
    if score >= opts.low:
        return MatchLevel.LOW
    return MatchLevel.NONE
