"""Hallucination guards: name what looks invented so it is dropped or visibly flagged.

Whisper invents text on silence, noise and hold music ("Thank you for watching",
repeated phrases, the prompt echoed back). Each check adds a flag to the segment;
flags starting with ``hallucination:`` (and ``crosstalk``) are dropped under the
``"drop"`` policy and kept, flagged, under ``"flag"``. ``low_confidence`` is
informational and never dropped.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from callscope.domain import Segment

DROP_PREFIXES = ("hallucination:", "crosstalk")

# Text Whisper is known to produce on silence/music (subtitle credits from its training data).
KNOWN_PHRASES = (
    r"thanks? (you )?for watching",
    r"please subscribe",
    r"like and subscribe",
    r"subtitles? (by|created by|provided by)",
    r"amara\.org",
    r"transcribed by",
    r"transcription by",
    r"www\.\w+\.(com|org)",
    r"字幕(由|提供|制作|志愿者)",
    r"请不吝点赞",
    r"点赞.{0,4}订阅",
    r"订阅.{0,4}(转发|打赏)",
    r"明镜与点点",
    r"优优独播剧场",
    r"打赏支持",
)
_KNOWN = re.compile("|".join(f"(?:{p})" for p in KNOWN_PHRASES), re.IGNORECASE)
_SOUND_TAG = re.compile(r"^[\s\W]*([\[(（【][^\])）】]*[\])）】][\s\W]*)+$")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True, slots=True)
class GuardSettings:
    no_speech_threshold: float = 0.6
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    min_speech_overlap: float = 0.2  # share of a segment that must lie on detected speech
    min_repeats: int = 4  # an n-gram said this many times in a row ...
    min_repeated_units: int = 8  # ... covering at least this many words/characters


def units(text: str) -> list[str]:
    """Words for alphabetic text, single characters for Chinese (lower-cased, no punctuation)."""
    return re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+(?:'[^\W_]+)*", text.lower())


def longest_repetition(items: Sequence[str], max_n: int = 8) -> tuple[int, int]:
    """The most consecutive repeats of any n-gram (n <= max_n): ``(repeats, n)``."""
    best = (1, 1)
    length = len(items)
    for n in range(1, min(max_n, length // 2) + 1):
        for start in range(length - 2 * n + 1):
            gram = items[start : start + n]
            count = 1
            pos = start + n
            while pos + n <= length and items[pos : pos + n] == gram:
                count += 1
                pos += n
            if count > best[0] or (count == best[0] and n > best[1]):
                best = (count, n)
    return best


def is_non_speech_text(text: str) -> bool:
    """Only music notes, sound tags like ``[Music]``/``(笑)``, or punctuation."""
    stripped = text.strip()
    if not stripped:
        return True
    if _SOUND_TAG.match(stripped):
        return True
    return not any(unicodedata.category(ch)[0] in "LN" for ch in stripped)


def segment_flags(
    segment: Segment,
    *,
    speech_overlap: float | None = None,
    prompt: str | None = None,
    settings: GuardSettings = GuardSettings(),
) -> tuple[str, ...]:
    """The guard flags for one segment (empty tuple when it looks genuine)."""
    flags: list[str] = []
    text = segment.text.strip()
    if is_non_speech_text(text):
        flags.append("hallucination:non_speech")
    if (
        segment.no_speech_prob is not None
        and segment.avg_logprob is not None
        and segment.no_speech_prob > settings.no_speech_threshold
        and segment.avg_logprob < settings.log_prob_threshold
    ):
        flags.append("hallucination:no_speech")
    if segment.compression_ratio is not None and segment.compression_ratio > settings.compression_ratio_threshold:
        flags.append("hallucination:compression")
    items = units(text)
    repeats, n = longest_repetition(items)
    if repeats >= settings.min_repeats and repeats * n >= settings.min_repeated_units:
        flags.append("hallucination:repetition")
    if _KNOWN.search(text):
        flags.append("hallucination:known_phrase")
    if prompt and _normalise(prompt) and _normalise(prompt) in _normalise(text):
        flags.append("hallucination:prompt")
    if speech_overlap is not None and speech_overlap < settings.min_speech_overlap:
        flags.append("hallucination:non_speech_audio")
    if segment.avg_logprob is not None and segment.avg_logprob < settings.log_prob_threshold and not flags:
        flags.append("low_confidence")
    return tuple(dict.fromkeys((*segment.flags, *flags)))


def _normalise(text: str) -> str:
    return "".join(units(text))


def is_droppable(segment: Segment) -> bool:
    return any(flag.startswith(DROP_PREFIXES) for flag in segment.flags)


def similar_text(a: str, b: str, threshold: float = 0.8) -> bool:
    """Whether two transcripts say the same thing (echo of one call leg on the other)."""
    ua, ub = _normalise(a), _normalise(b)
    if not ua or not ub:
        return False
    return difflib.SequenceMatcher(None, ua, ub, autojunk=False).ratio() >= threshold


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
