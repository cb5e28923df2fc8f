"""Is the caller frustrated? Phrases first, then sentiment and repeated failures.

The phrase lexicon (English and Mandarin) is the primary cue because it is instant
and works before any model is installed. A sentiment function
(``callscope.analysis.sentiment``, injected) and the number of failed turns add
evidence. A frustrated caller skips further reprompts and reaches an agent with
priority; :class:`FrustrationAssessment` says why, for the agent.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from callscope.analysis.sentiment import TextSentiment
from callscope.ivr.phrases import normalise
from callscope.language import has_cjk

log = logging.getLogger(__name__)

SentimentFn = Callable[[str, str], float]
"""``fn(text, language) -> sentiment`` in [-1, 1] (negative = unhappy)."""

FRUSTRATION_EN = (
    "this is ridiculous",
    "ridiculous",
    "useless",
    "stupid",
    "waste of time",
    "wasting my time",
    "fed up",
    "sick of",
    "sick and tired",
    "annoying",
    "annoyed",
    "frustrated",
    "frustrating",
    "unacceptable",
    "terrible",
    "awful",
    "worst",
    "angry",
    "furious",
    "pathetic",
    "for god's sake",
    "for gods sake",
    "for crying out loud",
    "what the hell",
    "what the heck",
    "damn",
    "bloody",
    "are you kidding",
    "you're kidding",
    "i already told you",
    "i already said",
    "i just told you",
    "you don't understand",
    "you're not listening",
    "not listening",
    "not helping",
    "not helpful",
    "no help",
    "this is a joke",
    "joke",
    "nonsense",
    "i want to complain",
    "make a complaint",
    "complaint",
    "cancel everything",
    "never again",
    "hate this",
    "hate these",
    "stupid machine",
    "stupid robot",
)
FRUSTRATION_ZH = (
    "太慢了",
    "太慢",
    "烦死了",
    "烦死",
    "真烦",
    "好烦",
    "气死",
    "受不了",
    "什么破",
    "破系统",
    "垃圾",
    "太差",
    "太差劲",
    "差劲",
    "没用",
    "浪费时间",
    "投诉",
    "搞什么",
    "搞什么鬼",
    "离谱",
    "太离谱",
    "说了多少遍",
    "说过了",
    "我都说了",
    "听不懂",
    "无语",
    "坑人",
    "骗子",
    "岂有此理",
    "有病",
    "不耐烦",
    "生气",
    "太过分",
    "过分",
)
_EN_RX = re.compile(r"\b(?:" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in FRUSTRATION_EN) + r")\b")


@dataclass(frozen=True, slots=True)
class FrustrationAssessment:
    """Whether to skip reprompts and route with priority, and why (for the agent)."""

    frustrated: bool
    score: float  # 0..1
    reasons: tuple[str, ...] = ()
    sentiment: float | None = None


@dataclass(frozen=True, slots=True)
class FrustrationOptions:
    """Thresholds: one phrase hit is enough; otherwise the weighted score decides."""

    threshold: float = 0.6
    sentiment_weight: float = 0.5  # x max(0, -sentiment)
    failure_weight: float = 0.2  # x failed turns so far
    phrase_weight: float = 0.7


def frustration_phrases(text: str) -> list[str]:
    """The frustration phrases found in ``text`` (English or Mandarin)."""
    if not text:
        return []
    if has_cjk(text):
        compact = normalise(text).replace(" ", "")
        found = [p for p in FRUSTRATION_ZH if p in compact]
        # drop phrases contained in longer hits ("太慢" inside "太慢了")
        found = [p for p in found if not any(p != q and p in q for q in found)]
        if not found and re.search(r"[A-Za-z]", text):
            found = [m.group(0) for m in _EN_RX.finditer(normalise(text))]
        return found
    return list(dict.fromkeys(m.group(0) for m in _EN_RX.finditer(normalise(text))))


class FrustrationDetector:
    """Combines the phrase lexicon, an optional sentiment function and failure counts."""

    def __init__(self, sentiment: SentimentFn | None = None, options: FrustrationOptions | None = None) -> None:
        self.sentiment = sentiment
        self.options = options or FrustrationOptions()

    def assess(self, text: str, language: str, failures: int = 0) -> FrustrationAssessment:
        """Assess one utterance given the failed turns so far in the call.

        Args:
            text: what the caller just said (may be empty for keyed input).
            language: "en" or "zh".
            failures: failed turns (no match, no input) before this one.

        Returns:
            The assessment; ``frustrated`` means: transfer now, with priority.
        """
        opts = self.options
        reasons: list[str] = []
        phrases = frustration_phrases(text)
        score = 0.0
        if phrases:
            score += opts.phrase_weight
            reasons.append("said: " + ", ".join(f'"{p}"' for p in phrases[:3]))
        sentiment: float | None = None
        substantive = len(text.strip()) >= 4 if has_cjk(text) else len(text.split()) >= 3
        # the model is called only when its score could tip the balance: never for "yes" or
        # "no thanks", and not on a first try, where sentiment alone stays below the threshold
        could_matter = not phrases and opts.sentiment_weight + opts.failure_weight * failures >= opts.threshold
        if substantive and could_matter and self.sentiment is not None:
            try:
                sentiment = float(self.sentiment(text, language))
            except Exception as exc:  # noqa: BLE001 - a broken model must never break a call
                log.warning("sentiment scoring failed (%s); using phrases only", exc)
            else:
                if sentiment < 0:
                    score += opts.sentiment_weight * min(1.0, -sentiment)
                if sentiment <= -0.5:
                    reasons.append(f"negative sentiment ({sentiment:+.2f})")
        if failures:
            score += opts.failure_weight * failures
            if failures >= 2 or reasons:
                reasons.append(f"{failures} failed attempt{'s' if failures != 1 else ''}")
        score = min(1.0, score)
        frustrated = bool(phrases) or score >= opts.threshold
        return FrustrationAssessment(frustrated, round(score, 3), tuple(reasons) if frustrated else (), sentiment)


def text_sentiment_fn() -> SentimentFn | None:
    """The analysis package's text sentiment as a SentimentFn, or None when it cannot load."""
    try:
        model = TextSentiment()
    except Exception as exc:  # noqa: BLE001 - the IVR works without it
        log.warning("text sentiment unavailable (%s); frustration uses phrases only", exc)
        return None

    def score(text: str, language: str) -> float:
        return float(model.score([text], language)[0].sentiment)

    return score
