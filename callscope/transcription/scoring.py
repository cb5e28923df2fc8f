"""Word and character error rates for checking transcripts against references.

English is scored by WER on normalised words (lower case, punctuation dropped, simple
number and spelling variants unified); Mandarin by CER on Chinese characters
(Traditional folded to Simplified). Speaker prefixes such as ``agent:`` are removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from callscope.language import to_simplified

_PREFIX = re.compile(r"^\s*(agent|caller|speaker[_ ]?\d+|spk\d+)\s*[:：]\s*", re.IGNORECASE | re.MULTILINE)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_UNIFY = {
    "mr": "mister",
    "mrs": "missus",
    "dr": "doctor",
    "ok": "okay",
    "centre": "center",
    "colour": "color",
    "cancelled": "canceled",
}


def strip_speakers(text: str) -> str:
    """Remove ``agent:`` / ``caller:`` line prefixes."""
    return _PREFIX.sub("", text)


def normalize_words(text: str) -> list[str]:
    """Lower-cased words without punctuation; ``10 a.m.`` -> ``10 am``; ``Mr.`` -> ``mister``."""
    text = unicodedata.normalize("NFKC", strip_speakers(text)).lower()
    text = re.sub(r"\b([ap])\.\s?m\.", r"\1m", text)
    text = text.replace("’", "'").replace("%", " percent")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    words = _WORD.findall(text)
    return [_UNIFY.get(w, w) for w in words]


def normalize_chars(text: str) -> list[str]:
    """Chinese characters only (Simplified), for CER."""

    return _CJK.findall(to_simplified(strip_speakers(text)))


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


def word_error_rate(reference: str, hypothesis: str) -> float:
    """WER of ``hypothesis`` against ``reference`` after :func:`normalize_words`."""
    ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    return edit_distance(ref, hyp) / max(len(ref), 1)


def char_error_rate(reference: str, hypothesis: str) -> float:
    """CER over Chinese characters after :func:`normalize_chars`."""
    ref, hyp = normalize_chars(reference), normalize_chars(hypothesis)
    return edit_distance(ref, hyp) / max(len(ref), 1)


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    """CER for ``zh``, WER otherwise."""
    return char_error_rate(reference, hypothesis) if language.startswith("zh") else word_error_rate(reference, hypothesis)


def error_counts(reference: str, hypothesis: str, language: str) -> tuple[int, int]:
    """(edits, reference length) — sum these over files for a corpus-level rate."""
    if language.startswith("zh"):
        ref, hyp = normalize_chars(reference), normalize_chars(hypothesis)
    else:
        ref, hyp = normalize_words(reference), normalize_words(hypothesis)
    return edit_distance(ref, hyp), len(ref)
