"""Match what a caller said to a knowledge-base entry, with a calibrated confidence level.

Signals, combined per entry:

* **semantic**, from one or more multilingual sentence encoders (by default both
  shipped ones: USE multilingual and multilingual-e5-small): cosine similarity between
  the utterance and every *variant* of the entry (its example questions in any
  language, its title/label, and its answers, which are slightly discounted), best
  variant wins;
* **keywords**: IDF-weighted overlap between the utterance's content words (English
  words, Chinese character bigrams) and the entry's questions, tags and label.

**Calibration per knowledge base.** Raw cosines mean different things for different
encoders and knowledge bases (e5's sit in 0.78-0.97, USE's in 0-1; a knowledge base of
near-identical banking topics is denser than a shop's). So each encoder's score is
rescaled with two reference points measured on the knowledge base itself when it is
indexed: *off-topic* = the mean best score of a bank of off-topic sentences
(``data/off_topic.txt``, en + zh), *on-topic* = the median leave-one-out score of every
example question against the rest of its own entry. A calibrated score of 0 reads
"like small talk", 1 reads "like one of the entry's own questions". The confidence
levels are thresholds on that scale (and on the lead over the runner-up), tuned once on
development data of several knowledge bases (``bench/bench_ivr.py``), not on one KB.

Everything is computed once per knowledge-base version (only new texts are encoded
after a reload); each utterance is encoded once per encoder and cached, so a Gather
turn costs one encoder call per encoder at most, then a matrix-vector product.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

import numpy as np

from callscope.analysis.embeddings import SentenceEncoder, load_encoder
from callscope.ivr.expansion import cache_signature, load_paraphrases
from callscope.ivr.kb import KnowledgeBase, KnowledgeBaseSource
from callscope.ivr.phrases import normalise
from callscope.language import has_cjk
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
    """Thresholds on the calibrated score (0 = off-topic, 1 = like the entry's own
    questions) and what to index. Tuned on the development split of
    ``bench/bench_ivr.py`` (CLINC150 few-shot knowledge bases + the Brightwave
    calibration set)."""

    high: float = 0.75
    medium: float = 0.45
    low: float = 0.45  # below this the question is out of scope (tuned: equal to medium, no "unclear" band)
    margin: float = 0.15  # a HIGH best must lead the runner-up by this much, else confirm
    keyword_weight: float = 0.2
    answer_weight: float = 0.9  # answers are statements, not questions: discount their cosine
    centroid_weight: float = 0.7  # blend of the best variant's cosine with the cosine to the entry's centroid
    index_titles: bool = True
    index_answers: bool = True
    paraphrases: bool = True  # index the LLM paraphrases cached beside the KB (callscope.ivr.expansion)
    calibrate: bool = True  # False: raw cosine (the nearest-neighbour baseline of the bench)
    top_k: int = 3
    encoders: tuple[str, ...] = ("use-multilingual", "e5-small")
    encoder_threads: int = 1  # one BLAS thread: fastest per sentence under concurrent load
    cache_size: int = 4096


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: FaqEntry
    score: float  # combined, calibrated
    semantic: float  # calibrated semantic score (mean over encoders)
    keyword: float
    matched_question: str


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


@dataclass(frozen=True, slots=True)
class Calibration:
    """Reference points of one encoder on one knowledge base (raw cosine)."""

    off_topic: float  # mean best score of the off-topic bank
    on_topic: float  # median leave-one-out score of the entries' own questions

    def scale(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.off_topic) / max(self.on_topic - self.off_topic, 0.05)


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
        self.vectors: dict[str, np.ndarray] = {}
        self.sums: dict[str, np.ndarray] = {}
        self.centroids: dict[str, np.ndarray] = {}
        self.calibration: dict[str, Calibration] = {}
        # keyword tables
        self.entry_scripts: list[set[str]] = [
            {"zh" if has_cjk(q) else "latin" for qs in e.questions.values() for q in qs} for e in self.entries
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

    def calibrate(self, name: str, bank: np.ndarray, centroid_weight: float, max_questions: int = 2000) -> Calibration:
        vectors = self.vectors[name]
        if len(bank):
            null = self.entry_scores(name, bank, centroid_weight).max(axis=1)
        else:
            null = np.zeros(1, np.float32)
        idx = np.nonzero(self.is_question)[0]
        if len(idx) > max_questions:
            idx = np.sort(np.random.default_rng(0).choice(idx, max_questions, replace=False))
        rows = np.arange(len(idx))
        owners = self.owners[idx]
        sims = vectors[idx] @ vectors.T
        sims[rows, idx] = -np.inf  # leave the question itself out
        own = self.entry_max(sims)[rows, owners]
        if centroid_weight > 0:  # the entry's centroid without the question
            rest = self.sums[name][owners] - vectors[idx] * self.weights[idx, None]
            rest /= np.maximum(np.linalg.norm(rest, axis=1, keepdims=True), 1e-12)
            own = (1.0 - centroid_weight) * own + centroid_weight * np.sum(rest * vectors[idx], axis=1)
        own = own[np.isfinite(own)]
        off = float(np.mean(null))
        on = float(np.median(own)) if len(own) else off + 0.3
        return Calibration(off_topic=off, on_topic=max(on, off + 0.05))


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
        self._utterance_cache: OrderedDict[str, tuple[np.ndarray, ...]] = OrderedDict()
        self._index: _Index | None = None
        self._index_key: object = None
        self._paraphrases_sig: tuple[int, ...] = ()
        self._paraphrases_checked = -1e9
        self._paraphrases_kb = 0

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
        from callscope.language import to_simplified

        self._current_index()
        self._encode_utterance("hello")
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

    def _current_index(self) -> _Index:
        kb = self.knowledge_base()
        key = (id(kb), len(kb.entries), self._paraphrase_signature(kb))
        index = self._index
        if index is not None and self._index_key == key:
            return index
        with self._lock:
            if self._index is not None and self._index_key == key:
                return self._index
            paraphrases = None
            if self.options.paraphrases:
                paraphrases = load_paraphrases(kb)
            index = _Index(kb, self.options, paraphrases)
            bank = off_topic_sentences()
            for encoder in self.encoders:
                index.vectors[encoder.name] = self._embed(encoder, index.texts)
                if index.texts:
                    index.add_centroids(encoder.name)
                    index.calibration[encoder.name] = index.calibrate(
                        encoder.name, self._embed(encoder, bank), self.options.centroid_weight
                    )
            self._index = index
            self._index_key = key
            return index

    def _encode_utterance(self, text: str) -> tuple[np.ndarray, ...]:
        key = text.lower()
        cache = self._utterance_cache
        vecs = cache.get(key)
        if vecs is not None:
            cache.move_to_end(key)
            return vecs
        vecs = tuple(encoder.encode([text])[0] for encoder in self.encoders)
        cache[key] = vecs
        if len(cache) > self.options.cache_size:
            cache.popitem(last=False)
        return vecs

    def entry_scores(self, text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per published entry: the semantic score (calibrated unless ``calibrate`` is off,
        mean over encoders), the keyword overlap (0-1), and whether keywords count (the
        caller's script appears in the entry); plus the raw per-variant cosine sums."""
        opts = self.options
        index = self._current_index()
        n = len(index.entries)
        vecs = self._encode_utterance(text)
        semantic = np.zeros(n, np.float32)
        variant_sims = np.zeros(len(index.texts), np.float32)
        for encoder, vec in zip(self.encoders, vecs, strict=True):
            sims = index.vectors[encoder.name] @ vec
            variant_sims += sims
            best = index.entry_max(sims)
            if opts.centroid_weight > 0:
                best = (1.0 - opts.centroid_weight) * best + opts.centroid_weight * (index.centroids[encoder.name] @ vec)
            if opts.calibrate:
                best = index.calibration[encoder.name].scale(best)
            semantic += best
        semantic /= max(1, len(vecs))
        toks = keywords(text)
        weights = [index.idf.get(t, index.unknown_idf * 0.5) for t in toks]
        total = sum(weights)
        kw = np.zeros(n, np.float32)
        if total > 0:
            for i in range(n):
                kw[i] = sum(w for t, w in zip(toks, weights, strict=True) if t in index.entry_tokens[i]) / total
        script = "zh" if has_cjk(text) else "latin"
        mixed = np.array([script in scripts for scripts in index.entry_scripts], dtype=bool) & (opts.keyword_weight > 0)
        return semantic, kw, mixed, variant_sims

    def match(self, text: str, language: str, *, exclude: Sequence[str] = ()) -> MatchResult:
        """Score every published entry against ``text``.

        Args:
            text: the caller's utterance (cleaned).
            language: "en" or "zh" (used to pick answer texts later; matching is cross-lingual).
            exclude: entry ids to leave out (e.g. the one the caller just said "no" to).

        Returns:
            The top candidates, best first, and the confidence level of the best.
        """
        opts = self.options
        index = self._current_index()
        if not text.strip() or not index.entries:
            return MatchResult(text, language, MatchLevel.LOW, ())
        n = len(index.entries)
        semantic, kw, mixed, variant_sims = self.entry_scores(text)
        score = np.where(mixed, (1.0 - opts.keyword_weight) * semantic + opts.keyword_weight * kw, semantic)
        excluded = set(exclude)
        candidates = [
            (float(score[i]), float(semantic[i]), float(kw[i]), i)
            for i, entry in enumerate(index.entries)
            if entry.id not in excluded
        ]
        candidates.sort(key=lambda c: c[0], reverse=True)
        top: list[Candidate] = []
        for score, sem, kw, i in candidates[: opts.top_k]:
            lo, hi = index.starts[i], (index.starts[i + 1] if i + 1 < n else len(index.texts))
            question = index.texts[lo + int(np.argmax(variant_sims[lo:hi] * index.weights[lo:hi]))]
            top.append(Candidate(index.entries[i], round(score, 4), round(sem, 4), round(kw, 4), question))
        result = MatchResult(text, language, MatchLevel.LOW, tuple(top))
        return MatchResult(text, language, self.level(result), result.candidates)

    def level(self, result: MatchResult) -> MatchLevel:
        """The confidence level of a result's best candidate under these options."""
        opts = self.options
        best = result.best
        if best is None:
            return MatchLevel.LOW
        if best.score >= opts.high and result.margin >= opts.margin:
            return MatchLevel.HIGH
        if best.score >= opts.medium:
            return MatchLevel.MEDIUM
        if best.score >= opts.low:
            return MatchLevel.LOW
        return MatchLevel.NONE
