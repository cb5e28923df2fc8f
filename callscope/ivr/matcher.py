"""Match what a caller said to a knowledge-base entry, with a confidence level.

Two signals, combined per entry:

* **semantic**: cosine similarity between the utterance and every question variant
  of the entry, in any language (a multilingual sentence encoder, so a Mandarin
  question also matches English variants), best variant wins;
* **keywords**: IDF-weighted overlap between the utterance's content words (English
  words, Chinese character bigrams) and the entry's questions, tags and label.

The question embeddings are computed once per knowledge-base version (only new
question texts are encoded after a reload); each utterance is encoded once and
cached, so a Gather turn costs one encoder call at most.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from callscope.analysis.embeddings import SentenceEncoder, load_encoder
from callscope.ivr.kb import KnowledgeBase, KnowledgeBaseSource
from callscope.ivr.phrases import normalise
from callscope.language import has_cjk
from callscope.domain import FaqEntry, FaqStatus

log = logging.getLogger(__name__)


class MatchLevel(StrEnum):
    HIGH = "high"  # answer
    MEDIUM = "medium"  # confirm: "Did you mean ...?"
    LOW = "low"  # reprompt with the top options


@dataclass(frozen=True, slots=True)
class MatcherOptions:
    """Thresholds on the combined score (0..1) and the encoder to use.

    The defaults were calibrated with ``bench/bench_ivr.py --accuracy`` on English and
    Mandarin paraphrases and out-of-scope questions (USE multilingual).
    """

    high: float = 0.58
    medium: float = 0.42
    margin: float = 0.05  # a HIGH best must beat the runner-up by this much, else confirm
    keyword_weight: float = 0.25
    top_k: int = 3
    encoder: str = "use-multilingual"
    encoder_threads: int = 1  # one BLAS thread: fastest per sentence under concurrent load
    cache_size: int = 4096


@dataclass(frozen=True, slots=True)
class Candidate:
    entry: FaqEntry
    score: float  # combined
    semantic: float
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


class _Index:
    """Embeddings and keyword tables of one knowledge-base version."""

    def __init__(self, kb: KnowledgeBase, vectors: np.ndarray, owners: np.ndarray, texts: list[str]) -> None:
        self.entries = [e for e in kb.entries if e.status == FaqStatus.PUBLISHED]
        self.vectors = vectors  # (n_questions, dim)
        self.owners = owners  # entry index per question
        self.texts = texts
        self.entry_tokens: list[set[str]] = []
        # does the entry have questions in Chinese script / in Latin script? (keyword overlap is
        # only evidence when the caller's words could appear in the entry at all)
        self.entry_scripts: list[set[str]] = [
            {"zh" if has_cjk(q) else "latin" for qs in e.questions.values() for q in qs} for e in self.entries
        ]
        df: dict[str, int] = {}
        for entry in self.entries:
            toks: set[str] = set()
            for qs in entry.questions.values():
                for q in qs:
                    toks.update(keywords(q))
            for tag in entry.tags:
                toks.update(keywords(tag.replace("_", " ")))
            self.entry_tokens.append(toks)
            for t in toks:
                df[t] = df.get(t, 0) + 1
        n = max(1, len(self.entries))
        self.idf = {t: math.log(1.0 + n / c) for t, c in df.items()}
        self.unknown_idf = math.log(1.0 + n)


_QUESTION_VECTORS: dict[tuple[str, str], np.ndarray] = {}
"""Question embeddings shared by every matcher of the process, by (encoder, text)."""


class IntentMatcher:
    """Finds the knowledge-base entry a caller asked about.

    Args:
        kb: a KnowledgeBaseSource (hot reload) or a fixed KnowledgeBase.
        encoder: a sentence encoder; default: ``load_encoder(options.encoder)``.
        options: thresholds and cache size.
    """

    def __init__(
        self,
        kb: KnowledgeBaseSource | KnowledgeBase,
        encoder: SentenceEncoder | None = None,
        options: MatcherOptions | None = None,
    ) -> None:
        self.options = options or MatcherOptions()
        self._source = kb if isinstance(kb, KnowledgeBaseSource) else None
        self._fixed = kb if isinstance(kb, KnowledgeBase) else None
        self._encoder = encoder
        self._lock = threading.Lock()
        self._utterance_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._index: _Index | None = None
        self._index_key: object = None

    @property
    def encoder(self) -> SentenceEncoder:
        if self._encoder is None:
            self._encoder = load_encoder(self.options.encoder, self.options.encoder_threads)
        return self._encoder

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base in service now (reloaded if its file changed)."""
        if self._source is not None:
            return self._source.current()
        assert self._fixed is not None
        return self._fixed

    def warm(self) -> None:
        """Load the encoder and embed the knowledge base now instead of on the first call."""
        from callscope.language import to_simplified

        self._current_index()
        self._encode_utterance("hello")
        to_simplified("查询")  # loads the Traditional->Simplified converter (seconds) now

    def _current_index(self) -> _Index:
        kb = self.knowledge_base()
        key = (id(kb), len(kb.entries))
        index = self._index
        if index is not None and self._index_key == key:
            return index
        with self._lock:
            if self._index is not None and self._index_key == key:
                return self._index
            texts: list[str] = []
            owners: list[int] = []
            published = [e for e in kb.entries if e.status == FaqStatus.PUBLISHED]
            for i, entry in enumerate(published):
                for qs in entry.questions.values():
                    for q in qs:
                        texts.append(q)
                        owners.append(i)
            name = self.encoder.name
            missing = [t for t in dict.fromkeys(texts) if (name, t) not in _QUESTION_VECTORS]
            if missing:
                vecs = self.encoder.encode(missing)
                _QUESTION_VECTORS.update(((name, t), v) for t, v in zip(missing, vecs, strict=True))
                log.info("embedded %d new knowledge-base questions", len(missing))
            dim = self.encoder.dim
            vectors = (
                np.stack([_QUESTION_VECTORS[(name, t)] for t in texts]) if texts else np.zeros((0, dim), np.float32)
            )
            self._index = _Index(kb, vectors, np.asarray(owners, dtype=np.int64), texts)
            self._index_key = key
            return self._index

    def _encode_utterance(self, text: str) -> np.ndarray:
        key = text.lower()
        cache = self._utterance_cache
        vec = cache.get(key)
        if vec is not None:
            cache.move_to_end(key)
            return vec
        vec = self.encoder.encode([text])[0]
        cache[key] = vec
        if len(cache) > self.options.cache_size:
            cache.popitem(last=False)
        return vec

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
        vec = self._encode_utterance(text)
        sims = index.vectors @ vec if len(index.texts) else np.zeros(0, np.float32)
        n = len(index.entries)
        best_sem = np.full(n, -1.0, dtype=np.float32)
        best_q = np.full(n, -1, dtype=np.int64)
        for qi in np.argsort(-sims):
            owner = index.owners[qi]
            if best_q[owner] < 0:
                best_q[owner] = qi
                best_sem[owner] = sims[qi]
        toks = keywords(text)
        weights = [index.idf.get(t, index.unknown_idf * 0.5) for t in toks]
        total = sum(weights)
        script = "zh" if has_cjk(text) else "latin"
        candidates: list[Candidate] = []
        for i, entry in enumerate(index.entries):
            if entry.id in exclude:
                continue
            kw = 0.0
            if total > 0:
                kw = sum(w for t, w in zip(toks, weights, strict=True) if t in index.entry_tokens[i]) / total
            sem = float(max(0.0, best_sem[i]))
            if script in index.entry_scripts[i]:
                score = (1.0 - opts.keyword_weight) * sem + opts.keyword_weight * kw
            else:  # e.g. a Mandarin question against an English-only entry: meaning only
                score = sem
            question = index.texts[best_q[i]] if best_q[i] >= 0 else ""
            candidates.append(Candidate(entry, round(score, 4), round(sem, 4), round(kw, 4), question))
        candidates.sort(key=lambda c: c.score, reverse=True)
        top = tuple(candidates[: opts.top_k])
        level = MatchLevel.LOW
        if top:
            best = top[0].score
            runner_up = top[1].score if len(top) > 1 else 0.0
            if best >= opts.high and best - runner_up >= opts.margin:
                level = MatchLevel.HIGH
            elif best >= opts.medium:
                level = MatchLevel.MEDIUM
        return MatchResult(text, language, level, top)
