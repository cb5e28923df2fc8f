"""Evaluate a scorecard on one call: each criterion passes or fails, with evidence.

The call is read as sentences with speaker roles and times (:class:`Conversation`,
built from the pipeline's :class:`~callscope.domain.CallAnalysis` or from a stored
analysis JSON, so stored calls can be re-scored when the rules change).

Phrases are matched by meaning with the bundled multilingual sentence encoder: a
sentence matches a phrase list when its cosine similarity to the nearest phrase beats
what *unrelated* sentences reach by chance. That chance level is measured per phrase
list on ``data/background.txt`` (its 99th percentile), plus a fixed margin; a rule's
``threshold`` overrides it. A sentence must also be at least as close to the list as to
the courtesy words and backchannels of ``data/generic.txt`` ("Thank you." is polite,
not an apology). Keywords and regular expressions match exactly.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from callscope.analysis.embeddings import load_encoder
from callscope.domain import CategoryHit, Evidence, QaItem, QaResult
from callscope.qa.rules import (
    AllOf,
    AnyOf,
    Condition,
    EmotionIs,
    Metric,
    Not,
    Said,
    ScorecardRules,
    Sentiment,
)

log = logging.getLogger(__name__)

BACKGROUND = Path(__file__).parent / "data" / "background.txt"
GENERIC = Path(__file__).parent / "data" / "generic.txt"
CHANCE_QUANTILE = 0.99  # of unrelated sentences' similarity to a phrase list
MARGIN = 0.10  # a match must beat that chance level by this much
FLOOR = 0.45  # and never fall below this cosine (USE: unrelated pairs sit near 0)
END_SHARE = 0.25  # "at the end"/"at the start": the last/first quarter of the call

_SENTENCE_END = re.compile(r"(?<=[.?!。？！；;])\s*")


# ----------------------------------------------------------------- the call


@dataclass(frozen=True, slots=True)
class Utterance:
    """A sentence (or a short turn) with its speaker role and approximate times."""

    role: str
    start: float
    end: float
    text: str
    sentiment: float | None = None
    emotion: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the rules read: sentences, turns, metrics and the caller's sentiment arc."""

    language: str
    duration_s: float
    turns: tuple[Utterance, ...]
    sentences: tuple[Utterance, ...]
    metrics: Mapping[str, Any] = field(default_factory=dict)
    sentiment_trajectory: tuple[float, ...] = ()
    caller_emotion: str | None = None


def split_sentences(turn: Utterance) -> list[Utterance]:
    """A turn's sentences; times are interpolated by character position within the turn."""
    parts = [p for p in _SENTENCE_END.split(turn.text.strip()) if p.strip()]
    if len(parts) <= 1:
        return [turn] if turn.text.strip() else []
    total = sum(len(p) for p in parts)
    span = max(0.0, turn.end - turn.start)
    out, offset = [], 0
    for part in parts:
        start = turn.start + span * offset / total
        offset += len(part)
        out.append(Utterance(turn.role, round(start, 3), round(turn.start + span * offset / total, 3), part.strip(),
                             turn.sentiment, turn.emotion))
    return out


def _conversation(language: str, duration: float | None, turns: list[Utterance], metrics: Mapping[str, Any] | None,
                  trajectory: Sequence[float], caller_emotion: str | None) -> Conversation:
    turns.sort(key=lambda t: (t.start, t.end))
    if not duration:
        duration = float((metrics or {}).get("handle_time_s") or 0.0) or max((t.end for t in turns), default=0.0)
    sentences = tuple(s for t in turns for s in split_sentences(t))
    return Conversation(language, float(duration), tuple(turns), sentences, dict(metrics or {}),
                        tuple(float(v) for v in trajectory), caller_emotion)


def conversation_from_dict(data: Mapping[str, Any]) -> Conversation:
    """From a stored ``analysis`` JSON (the shape :func:`callscope.pipeline.analysis_to_dict` writes)."""
    turns = []
    for raw in data.get("turns") or ():
        text = str(raw.get("text") or "").strip()
        if not text:
            continue
        role = str(raw.get("role") or raw.get("speaker") or "unknown")
        sentiment = raw.get("sentiment")
        turns.append(Utterance(role, float(raw["start"]), float(raw["end"]), text,
                               None if sentiment is None else float(sentiment), raw.get("emotion")))
    emotion = data.get("caller_emotion")
    return _conversation(str(data.get("language") or ""), data.get("duration"), turns, data.get("metrics"),
                         data.get("sentiment_trajectory") or (), emotion if isinstance(emotion, str) else None)


def conversation_from_analysis(analysis: Any, duration_s: float | None = None) -> Conversation:
    """From the pipeline's :class:`~callscope.domain.CallAnalysis`."""
    turns = [Utterance(str(t.role) if str(t.role) != "unknown" else t.speaker, t.start, t.end, t.text.strip(),
                       t.emotion.sentiment, str(t.emotion.label)) for t in analysis.turns if t.text.strip()]
    metrics = analysis.metrics.to_dict() if analysis.metrics else {}
    return _conversation(analysis.language, duration_s, turns, metrics, analysis.sentiment_trajectory,
                         str(analysis.caller_emotion.label))


# ----------------------------------------------------------------- matching


class PhraseMatcher:
    """Meaning matches of sentences against phrase lists, with calibrated thresholds.

    ``encode`` maps texts to L2-normalised vectors; by default the bundled
    ``use-multilingual`` encoder, loaded on first use.
    """

    def __init__(self, encode: Callable[[Sequence[str]], np.ndarray] | None = None,
                 background: Sequence[str] | None = None, generic: Sequence[str] | None = None) -> None:
        self._encode_fn = encode
        self._background_texts = list(background) if background is not None else _read_lines(BACKGROUND)
        self._generic_texts = list(generic) if generic is not None else _read_lines(GENERIC)
        self._cache: dict[str, np.ndarray] = {}
        self._thresholds: dict[tuple[str, ...], float] = {}
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if self._encode_fn is None:
            self._encode_fn = load_encoder("use-multilingual").encode
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            vectors = self._encode_fn(missing)
            with self._lock:
                self._cache.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def threshold(self, phrases: tuple[str, ...]) -> float:
        """The cosine a sentence must reach: chance level on unrelated sentences + margin."""
        if phrases not in self._thresholds:
            chance = 0.0
            if self._background_texts:
                sims = self.similarity(phrases, self._background_texts)
                chance = float(np.quantile(sims, CHANCE_QUANTILE))
            self._thresholds[phrases] = max(FLOOR, chance + MARGIN)
        return self._thresholds[phrases]

    def similarity(self, phrases: tuple[str, ...], texts: Sequence[str]) -> np.ndarray:
        """Each text's cosine to its nearest phrase."""
        if not texts or not phrases:
            return np.zeros(len(texts), dtype=np.float32)
        return (self._encode(list(texts)) @ self._encode(list(phrases)).T).max(axis=1)

    def matches(self, phrases: tuple[str, ...], texts: Sequence[str], threshold: float | None = None) -> list[float | None]:
        """Each text's similarity when it matches ``phrases`` (above the threshold and at
        least as close to them as to any generic courtesy line), else None."""
        if not texts or not phrases:
            return [None] * len(texts)
        limit = self.threshold(phrases) if threshold is None else threshold
        sims = self.similarity(phrases, texts)
        generic = (self.similarity(tuple(self._generic_texts), texts) if self._generic_texts
                   else np.full(len(texts), -1.0, dtype=np.float32))
        return [float(s) if s >= limit and s >= g else None for s, g in zip(sims, generic, strict=True)]

    def warm(self, rules: ScorecardRules) -> None:
        """Embed and calibrate every phrase list of ``rules`` now (not on the first call)."""
        for phrases in rules.phrase_sets():
            self.threshold(phrases)


def _read_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    escaped = re.escape(keyword.lower())
    if keyword.isascii():  # whole words in alphabetic scripts; substrings in Chinese
        return re.compile(rf"(?<![a-z0-9]){escaped}(?![a-z0-9])")
    return re.compile(escaped)


# ----------------------------------------------------------------- evaluation


class _NotAvailable(Exception):
    """The call lacks what a rule reads (e.g. no metrics): the criterion does not apply."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    ok: bool
    detail: str
    evidence: tuple[Evidence, ...] = ()


def _clock(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"


def _quote(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return "“" + (text if len(text) <= limit else text[: limit - 1].rstrip() + "…") + "”"


_WHO = {"agent": "The agent", "caller": "The caller", "any": "Nobody"}


class Evaluator:
    """Runs one scorecard's rules on conversations."""

    def __init__(self, rules: ScorecardRules, matcher: PhraseMatcher | None = None) -> None:
        self.rules = rules
        self.matcher = matcher or PhraseMatcher()

    # -- said
    def matches(self, cond: Said, conv: Conversation) -> list[tuple[Utterance, str]]:
        """Sentences that satisfy ``cond`` (ignoring before/after), in time order, with how they matched."""
        pool = [s for s in conv.sentences if cond.by == "any" or s.role == cond.by]
        if cond.first_s is not None:
            pool = [s for s in pool if s.start < cond.first_s]
        if cond.last_s is not None:
            pool = [s for s in pool if s.end > conv.duration_s - cond.last_s]
        if not pool:
            return []
        how: dict[int, str] = {}
        if cond.keywords:
            patterns = [(k, _keyword_pattern(k)) for k in cond.keywords]
            for i, s in enumerate(pool):
                hit = next((k for k, p in patterns if p.search(s.text.lower())), None)
                if hit:
                    how[i] = f"keyword “{hit}”"
        if cond.regex:
            pattern = re.compile(cond.regex, re.IGNORECASE)
            for i, s in enumerate(pool):
                if i not in how and pattern.search(s.text):
                    how[i] = "pattern"
        if cond.phrases:
            sims = self.matcher.matches(cond.phrases, [s.text for s in pool], cond.threshold)
            for i, sim in enumerate(sims):
                if i not in how and sim is not None:
                    how[i] = f"meaning {sim:.2f}"
        return [(pool[i], how[i]) for i in sorted(how, key=lambda i: pool[i].start)]

    def _said(self, cond: Said, conv: Conversation) -> _Outcome:
        found = self.matches(cond, conv)
        window = (f" in the first {cond.first_s:g} s" if cond.first_s is not None
                  else f" in the last {cond.last_s:g} s" if cond.last_s is not None else "")
        who = _WHO.get(cond.by, "Nobody") if cond.by != "any" else "Nobody"
        if cond.negate:
            if not found:
                return _Outcome(True, f"{who if cond.by != 'any' else 'Nobody'} said it{window}".replace(
                    "said it", "never said it") if cond.by != "any" else f"Not said{window}")
            first = found[0][0]
            return _Outcome(False, f"Said {_quote(first.text)} at {_clock(first.start)}",
                            tuple(Evidence(u.start, u.end, u.text) for u, _ in found[:3]))
        if not found:
            return _Outcome(False, f"Not said{window}")
        first, how = found[0]
        evidence = [Evidence(first.start, first.end, first.text)]
        if cond.before is not None:
            later = self.matches(cond.before, conv)
            if later and later[0][0].start < first.start:
                other = later[0][0]
                return _Outcome(False, f"{_quote(other.text)} at {_clock(other.start)} came before "
                                       f"{_quote(first.text)} at {_clock(first.start)}",
                                (Evidence(other.start, other.end, other.text), *evidence))
            if later:
                evidence.append(Evidence(later[0][0].start, later[0][0].end, later[0][0].text))
        if cond.after is not None:
            earlier = self.matches(cond.after, conv)
            if not earlier or earlier[0][0].start > first.start:
                return _Outcome(False, f"{_quote(first.text)} at {_clock(first.start)} came before what it must follow",
                                tuple(evidence))
        return _Outcome(True, f"Said {_quote(first.text)} at {_clock(first.start)} ({how})", tuple(evidence))

    # -- metrics
    def _metric(self, cond: Metric, conv: Conversation) -> _Outcome:
        value: Any = conv.metrics
        for part in cond.name.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            raise _NotAvailable(f"no {_describe_metric(cond, 0.0)[0].lower()} measured for this call")
        value = float(value)
        ok = (cond.min is None or value >= cond.min) and (cond.max is None or value <= cond.max)
        label, shown, limits = _describe_metric(cond, value)
        evidence: tuple[Evidence, ...] = ()
        if cond.name == "longest_silence_s":
            gap = _longest_gap(conv)
            if gap is not None:
                evidence = (Evidence(gap[0], gap[1], f"longest pause between turns ({gap[1] - gap[0]:.1f} s)"),)
        return _Outcome(ok, f"{label} {shown} ({limits})", evidence)

    # -- sentiment / emotion
    def _window(self, conv: Conversation, by: str, at: str) -> list[Utterance]:
        turns = [t for t in conv.turns if by == "any" or t.role == by]
        if at == "end":
            cut = conv.duration_s * (1 - END_SHARE)
            picked = [t for t in turns if t.end >= cut]
            return picked or turns[-1:]
        if at == "start":
            cut = conv.duration_s * END_SHARE
            picked = [t for t in turns if t.start <= cut]
            return picked or turns[:1]
        return turns

    def _sentiment(self, cond: Sentiment, conv: Conversation) -> _Outcome:
        turns = [t for t in self._window(conv, cond.by, cond.at) if t.sentiment is not None]
        if not turns:
            raise _NotAvailable(f"no {cond.by} sentiment for this call")
        values = [t.sentiment for t in turns if t.sentiment is not None]
        if cond.at == "any":
            bad = [t for t in turns if (cond.min is not None and t.sentiment < cond.min)  # type: ignore[operator]
                   or (cond.max is not None and t.sentiment > cond.max)]  # type: ignore[operator]
            limits = _limits(cond.min, cond.max, "{:+.2f}")
            if bad:
                return _Outcome(False, f"{len(bad)} {cond.by} turn(s) outside {limits}",
                                tuple(Evidence(t.start, t.end, t.text) for t in bad[:3]))
            return _Outcome(True, f"Every {cond.by} turn within {limits}")
        value = float(np.mean(values))
        if cond.at == "end" and cond.by == "caller" and conv.sentiment_trajectory:
            value = conv.sentiment_trajectory[-1]  # the pipeline's caller sentiment in the last quarter
        ok = (cond.min is None or value >= cond.min) and (cond.max is None or value <= cond.max)
        where = {"end": "at the end", "start": "at the start", "overall": "over the call"}[cond.at]
        evidence = tuple(Evidence(t.start, t.end, t.text) for t in turns[-2:]) if cond.at == "end" else ()
        return _Outcome(ok, f"{cond.by.capitalize()} sentiment {where} {value:+.2f} "
                            f"({_limits(cond.min, cond.max, '{:+.2f}')})", evidence)

    def _emotion(self, cond: EmotionIs, conv: Conversation) -> _Outcome:
        turns = [t for t in self._window(conv, cond.by, cond.at) if t.emotion]
        if cond.at == "overall" and cond.by == "caller" and conv.caller_emotion:
            labels = [(conv.caller_emotion, None)]
        else:
            if not turns:
                raise _NotAvailable(f"no {cond.by} emotion for this call")
            labels = [(t.emotion, t) for t in (turns[-1:] if cond.at == "end" else turns[:1] if cond.at == "start" else turns)]

        def good(label: str | None) -> bool:
            return (not cond.is_ or label in cond.is_) and label not in cond.is_not

        bad = [(label, t) for label, t in labels if not good(label)]
        if bad:
            label, turn = bad[0]
            ev = tuple(Evidence(t.start, t.end, t.text) for _, t in bad[:3] if t is not None)
            return _Outcome(False, f"{cond.by.capitalize()} was {label}" + (f" at {_clock(turn.start)}" if turn else ""), ev)
        return _Outcome(True, f"{cond.by.capitalize()} was {', '.join(sorted({str(label) for label, _ in labels}))}")

    # -- tree
    def check(self, cond: Condition, conv: Conversation) -> _Outcome:
        if isinstance(cond, Said):
            return self._said(cond, conv)
        if isinstance(cond, Metric):
            return self._metric(cond, conv)
        if isinstance(cond, Sentiment):
            return self._sentiment(cond, conv)
        if isinstance(cond, EmotionIs):
            return self._emotion(cond, conv)
        if isinstance(cond, Not):
            inner = self.check(cond.condition, conv)
            return _Outcome(not inner.ok, ("Not: " if inner.ok else "") + inner.detail, inner.evidence)
        if isinstance(cond, AllOf):
            parts = [self.check(c, conv) for c in cond.conditions]
            failed = [p for p in parts if not p.ok]
            shown = failed or parts
            return _Outcome(not failed, "; ".join(dict.fromkeys(p.detail for p in shown)),
                            tuple(dict.fromkeys(e for p in parts for e in p.evidence)))
        if isinstance(cond, AnyOf):
            parts = [self.check(c, conv) for c in cond.conditions]
            passed = [p for p in parts if p.ok]
            shown = passed[:1] or parts
            return _Outcome(bool(passed), "; ".join(p.detail for p in shown), tuple(e for p in shown for e in p.evidence))
        raise TypeError(f"unknown condition {cond!r}")

    def evaluate(self, conv: Conversation) -> QaResult:
        items = []
        for criterion in self.rules.criteria:
            try:
                if criterion.when is not None:
                    gate = self.check(criterion.when, conv)
                    if not gate.ok:
                        items.append(QaItem(criterion.id, criterion.name, None, criterion.weight,
                                            "Not applicable to this call"))
                        continue
                outcome = self.check(criterion.rule, conv)
                items.append(QaItem(criterion.id, criterion.name, outcome.ok, criterion.weight, outcome.detail,
                                    outcome.evidence))
            except _NotAvailable as exc:
                items.append(QaItem(criterion.id, criterion.name, None, criterion.weight, f"Not applicable: {exc}"))
        categories = []
        for category in self.rules.categories:
            try:
                outcome = self.check(category.rule, conv)
            except _NotAvailable:
                continue
            if outcome.ok:
                categories.append(CategoryHit(category.id, category.name, outcome.evidence))
        return QaResult(self.rules.id, self.rules.name, tuple(items), tuple(categories))


def _limits(low: float | None, high: float | None, fmt: str = "{:g}") -> str:
    if low is not None and high is not None:
        return f"allowed {fmt.format(low)} to {fmt.format(high)}"
    if low is not None:
        return f"minimum {fmt.format(low)}"
    return f"maximum {fmt.format(high)}"


def _describe_metric(cond: Metric, value: float) -> tuple[str, str, str]:
    name = cond.name
    if name.startswith("talk_ratio."):
        role = name.split(".")[1]
        shown = f"{100 * value:.0f} %"
        low = None if cond.min is None else 100 * cond.min
        high = None if cond.max is None else 100 * cond.max
        return f"{role.capitalize()} talk share", shown, _limits(low, high, "{:.0f} %")
    if name.startswith("interruptions."):
        role = name.split(".")[1]
        return f"{role.capitalize()} interruptions", f"{value:.0f}", _limits(cond.min, cond.max)
    if name in _METRIC_LABELS or name.startswith("talk_time_s.") or name.startswith("speaking_rate."):
        label = _METRIC_LABELS.get(name) or f"{name.split('.')[1].capitalize()} " + (
            "talk time" if name.startswith("talk_time") else "speaking rate")
        if name.endswith("_s") or name.startswith("talk_time_s."):
            return label, f"{value:.1f} s", _limits(cond.min, cond.max, "{:g} s")
        return label, f"{value:g}", _limits(cond.min, cond.max)
    return name, f"{value:g}", _limits(cond.min, cond.max)


_METRIC_LABELS = {
    "handle_time_s": "Handle time", "non_talk_time_s": "Time without speech", "longest_silence_s": "Longest silence",
    "hold_time_s": "Hold time", "hold_count": "Holds", "overtalk_time_s": "Overtalk", "turn_count": "Turns",
    "time_to_first_agent_s": "Agent first spoke after",
}


def _longest_gap(conv: Conversation) -> tuple[float, float] | None:
    """Where the longest stretch without any speech is (between turns)."""
    best: tuple[float, float] | None = None
    reach = 0.0
    for turn in conv.turns:
        if turn.start > reach and (best is None or turn.start - reach > best[1] - best[0]):
            best = (reach, turn.start)
        reach = max(reach, turn.end)
    return best


def evaluate_call(rules: ScorecardRules, analysis: Mapping[str, Any], matcher: PhraseMatcher | None = None) -> QaResult:
    """Score a stored analysis JSON with ``rules``."""
    return Evaluator(rules, matcher).evaluate(conversation_from_dict(analysis))
