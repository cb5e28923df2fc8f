"""PII redaction for transcripts and audio: cards, phones, emails, IDs, account numbers,
person names and street addresses (the last two: :mod:`callscope.analysis.pii_names`).

Numbers are found as *digit runs*: consecutive digit tokens, written ("4111 1111"),
spoken in English ("four one one one", "double four", "oh") or Mandarin
(幺三八 / 一二三 / 零〇两), joined only by spaces, dashes, dots, commas or brackets. A
run (or a sub-run on token boundaries) is redacted only when its digits *validate*:

* card: 13-19 digits, Luhn checksum, network prefix 2-6;
* phone: ``+`` and 8-15 digits, Chinese mobile ``1[3-9]`` + 9 digits (optionally 86),
  North-American 10/11 digits, UK/Chinese trunk ``0`` + 9-11 digits, or a written
  ``555-0123``;
* id: 18-digit Chinese resident ID (ISO 7064 check character, plausible birth
  date) and US SSN (``123-45-6789``, or 9 digits after "social security"/"SSN");
* number: any run of ``long_number_digits`` or more digits (a card or ID that the
  speech recogniser got one digit wrong still must not survive).

Emails (written and "name at example dot com"), and account/order numbers the
operator configures (regexes, prefixes, or keywords followed by a number), are
redacted too. Times ("10 a.m."), prices and short numbers ("order 4567") are kept.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from callscope.analysis.pii_names import find_names_and_addresses
from callscope.domain import Audio, Segment, Transcript, Word
from callscope.language import (
    DIGIT_REPEATS_EN,
    DIGIT_WORDS_EN,
    DIGITS_ZH,
    detect_text_language,
)

log = logging.getLogger(__name__)

KINDS = ("card", "phone", "email", "id", "account", "number", "name", "address")

_EN_DIGITS = DIGIT_WORDS_EN
_EN_REPEAT = DIGIT_REPEATS_EN
_ZH_DIGITS = DIGITS_ZH
# Digit tokens: a numeral, an English digit word (optionally "double"/"triple" + word),
# or one Chinese digit character.
_WORD_ALT = "|".join(sorted(_EN_DIGITS, key=len, reverse=True))
_TOKEN = re.compile(
    rf"(?P<num>\d+)"
    rf"|(?P<rep>\b(?:double|triple)\s+(?:{_WORD_ALT})\b(?!'))"
    rf"|(?P<word>\b(?:{_WORD_ALT})\b(?!'))"
    rf"|(?P<zh>[{''.join(_ZH_DIGITS)}])",
    re.IGNORECASE,
)
# What may sit between two tokens of one run (no newline: a segment/speaker boundary).
_GAP = re.compile(r"[ \t\-\u2010-\u2014.,·()/、，]{0,3}")
# ASCII boundaries, not \b: Chinese characters around an address are "word" characters too
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])")
_TLD = r"(?:com|net|org|edu|gov|io|co|uk|cn|us|de|fr|info|biz|me)"
_SPOKEN_EMAIL = re.compile(
    rf"\b[a-z0-9._-]+(?:\s+(?:dot|underscore|dash)\s+[a-z0-9_-]+)*\s+(?:at|@)\s+"
    rf"[a-z0-9-]+(?:\s+dot\s+[a-z0-9-]+)*\s+dot\s+{_TLD}\b",
    re.IGNORECASE,
)
_SSN_FORMATTED = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
_LOCAL_PHONE = re.compile(r"^\d{3}[-.]\d{4}$")
_SSN_CONTEXT = re.compile(r"(social\s+security|\bssn\b|社会保障|社保)", re.IGNORECASE)
_ID_X_AFTER = re.compile(r"[ \t-]{0,2}(?:[xX](?![A-Za-z])|叉)")
_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"


@dataclass(frozen=True, slots=True)
class PiiOptions:
    """What to redact and how.

    Attributes:
        kinds: the kinds to redact (subset of ``KINDS``).
        min_spoken_digits: spoken runs (words or Chinese numerals) shorter than this
            are never PII.
        long_number_digits: any digit run at least this long is redacted as
            ``[NUMBER]`` even when no checksum matches; ``None`` turns that off.
        account_patterns: regular expressions whose matches are account/order numbers.
        account_prefixes: literal prefixes ("ORD-", "ACC") that start an account id
            made of letters, digits and dashes.
        account_keywords: phrases ("order number", "订单号") after which a number
            (written or spoken) of at least ``account_min_digits`` digits is redacted.
        account_min_digits: the shortest number redacted after an account keyword.
        placeholder: format of the replacement; ``{kind}`` is the upper-case kind.
    """

    kinds: frozenset[str] = frozenset(KINDS)
    min_spoken_digits: int = 7
    long_number_digits: int | None = 15
    account_patterns: tuple[str, ...] = ()
    account_prefixes: tuple[str, ...] = ()
    account_keywords: tuple[str, ...] = ()
    account_min_digits: int = 4
    placeholder: str = "[{kind}]"

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown PII kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
        if self.min_spoken_digits < 1:
            raise ValueError("min_spoken_digits must be at least 1")
        if self.long_number_digits is not None and self.long_number_digits < 6:
            raise ValueError("long_number_digits below 6 would redact ordinary numbers; use None to disable")
        for pattern in self.account_patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"account pattern {pattern!r} is not a valid regular expression: {exc}") from exc


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """One redacted stretch: ``text[start:end]`` of the *original* text was ``kind``."""

    start: int
    end: int
    kind: str


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """Redacted text and what was removed (offsets index the original text)."""

    text: str
    spans: tuple[PiiSpan, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(sorted({s.kind for s in self.spans}))


# ------------------------------------------------------------------ validation


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn (mod 10) checksum used by payment cards."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def cn_id_valid(value: str) -> bool:
    """True for an 18-character Chinese resident ID with a valid check character and birth date."""
    value = value.upper()
    if len(value) != 18 or not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return False
    year, month, day = int(value[6:10]), int(value[10:12]), int(value[12:14])
    if not (1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31):
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _CN_ID_WEIGHTS, strict=True))
    return _CN_ID_CHECK[total % 11] == value[17]


def _phone_valid(digits: str, raw: str, plus: bool) -> bool:
    n = len(digits)
    if plus:
        return 8 <= n <= 15
    if re.fullmatch(r"(?:0?86)?1[3-9]\d{9}", digits):
        return True  # Chinese mobile
    if n == 10 and re.fullmatch(r"[2-9]\d{2}[2-9]\d{6}", digits):
        return True  # North America
    if n == 11 and re.fullmatch(r"1[2-9]\d{2}[2-9]\d{6}", digits):
        return True
    if digits.startswith("0") and 10 <= n <= 12 and digits[1] != "0":
        return True  # trunk-prefixed national numbers (UK 07..., CN 010-/021-/0755-...)
    if digits.startswith("00") and 10 <= n <= 17:
        return True  # international call prefix
    return bool(_LOCAL_PHONE.match(raw.strip()))


def _classify(digits: str, raw: str, *, plus: bool, spoken: bool, context: str, options: PiiOptions) -> str | None:
    """The PII kind of a digit run, or None when it is an ordinary number."""
    n = len(digits.rstrip("X"))
    if spoken and n < options.min_spoken_digits:
        return None
    if len(digits) == 18 and cn_id_valid(digits):
        return "id"
    if "X" in digits:
        return None
    if 13 <= n <= 19 and digits[0] in "23456" and luhn_valid(digits):
        return "card"
    if _SSN_FORMATTED.match(raw.strip()):
        return "id"
    if n == 9 and _SSN_CONTEXT.search(context):
        return "id"
    if _phone_valid(digits, raw, plus):
        return "phone"
    return None


# -------------------------------------------------------------------- detection


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    digits: str
    spoken: bool


def _tokens(text: str) -> list[_Token]:
    out = []
    for m in _TOKEN.finditer(text):
        if m.group("num"):
            digits = "".join(str(unicodedata.digit(c)) for c in m.group("num"))
            out.append(_Token(m.start(), m.end(), digits, False))
        elif m.group("rep"):
            modifier, word = m.group("rep").lower().split()
            out.append(_Token(m.start(), m.end(), _EN_DIGITS[word] * _EN_REPEAT[modifier], True))
        elif m.group("word"):
            word = m.group("word")
            if word == "O":
                continue  # a capital "O" is a letter or an interjection, not "zero"
            out.append(_Token(m.start(), m.end(), _EN_DIGITS[word.lower()], True))
        else:
            out.append(_Token(m.start(), m.end(), _ZH_DIGITS[m.group("zh")], True))
    return out


def _runs(text: str, tokens: list[_Token]) -> list[list[_Token]]:
    """Group tokens joined only by separators; a numeral glued to letters ("A12") is dropped."""
    runs: list[list[_Token]] = []
    current: list[_Token] = []
    for token in tokens:
        if not token.spoken and (
            (token.start > 0 and text[token.start - 1].isascii() and text[token.start - 1].isalpha())
            or (
                token.end < len(text)
                and text[token.end].isascii()
                and text[token.end].isalpha()
                and text[token.end] not in "xX"
            )
        ):
            # part of an alphanumeric code ("SKU123", "3rd"); ends the run
            if current:
                runs.append(current)
            current = []
            continue
        if current and _GAP.fullmatch(text[current[-1].end : token.start]):
            current.append(token)
        else:
            if current:
                runs.append(current)
            current = [token]
    if current:
        runs.append(current)
    return runs


def _window(text: str, run: list[_Token], i: int, j: int, options: PiiOptions) -> PiiSpan | None:
    """The PII span made by tokens ``run[i:j]``, or None."""
    digits = "".join(t.digits for t in run[i:j])
    start, end = run[i].start, run[j - 1].end
    x_match = _ID_X_AFTER.match(text, end) if len(digits) == 17 else None
    if x_match:
        digits += "X"
        end = x_match.end()
    plus = (start > 0 and text[start - 1] == "+") or text[max(0, start - 2) : start] == "+ "
    raw = text[start:end]
    spoken = any(t.spoken for t in run[i:j])
    context = text[max(0, start - 60) : start]
    kind = _classify(digits, raw, plus=plus, spoken=spoken, context=context, options=options)
    if kind is None:
        return None
    if plus:
        start = text.rindex("+", max(0, start - 2), start)
    elif start > 0 and text[start - 1] == "(" and ")" in raw:
        start -= 1
    return PiiSpan(start, end, kind)


def _scan_run(text: str, run: list[_Token], options: PiiOptions) -> list[PiiSpan]:
    """Find PII in one digit run, strongest evidence first.

    Card and ID checksums are searched over every token-aligned window (so a stray
    "oh" or "and one" around a card number does not hide it); what is left is
    redacted whole as ``number`` when it holds ``long_number_digits`` digits, else
    searched for phone numbers.
    """
    cum = [0]
    for token in run:
        cum.append(cum[-1] + len(token.digits))
    if cum[-1] < 7:
        return []
    n = len(run)

    def windows(low: int, high: int) -> list[tuple[int, int]]:
        """Token windows holding low..high digits, longest first (bounded: runs can be long)."""
        out = []
        for i in range(n):
            j = i + 1
            while j <= n and cum[j] - cum[i] <= high:
                if cum[j] - cum[i] >= low:
                    out.append((i, j))
                j += 1
        out.sort(key=lambda w: (-(cum[w[1]] - cum[w[0]]), w[0]))
        return out

    for i, j in windows(13, 19):
        span = _window(text, run, i, j, options)
        if span is not None and span.kind in ("card", "id"):
            return _scan_run(text, run[:i], options) + [span] + _scan_run(text, run[j:], options)
    if options.long_number_digits is not None and cum[-1] >= options.long_number_digits:
        return [PiiSpan(run[0].start, run[-1].end, "number")]
    for i, j in windows(7, 17):
        span = _window(text, run, i, j, options)
        if span is not None:
            return _scan_run(text, run[:i], options) + [span] + _scan_run(text, run[j:], options)
    return []


def _account_spans(text: str, tokens_runs: list[list[_Token]], options: PiiOptions) -> list[PiiSpan]:
    spans = []
    for pattern in options.account_patterns:
        spans += [PiiSpan(m.start(), m.end(), "account") for m in re.finditer(pattern, text) if m.end() > m.start()]
    if options.account_prefixes:
        alternation = "|".join(re.escape(p) for p in sorted(options.account_prefixes, key=len, reverse=True))
        for m in re.finditer(rf"(?<![A-Za-z0-9])(?:{alternation})[A-Za-z0-9][A-Za-z0-9-]*", text, re.IGNORECASE):
            spans.append(PiiSpan(m.start(), m.end(), "account"))
    for keyword in options.account_keywords:
        for m in re.finditer(re.escape(keyword), text, re.IGNORECASE):
            follow = text[m.end() : m.end() + 24]
            lead = re.match(r"\s*(?:is|was|:|：|是|为)?\s*(?:#|no\.?\s*)?", follow, re.IGNORECASE)
            at = m.end() + (lead.end() if lead else 0)
            for run in tokens_runs:
                if run[0].start == at or (run[0].start > m.end() and run[0].start <= at):
                    digits = "".join(t.digits for t in run)
                    if len(digits) >= options.account_min_digits:
                        spans.append(PiiSpan(run[0].start, run[-1].end, "account"))
                    break
    return spans


def find_pii(text: str, *, language: str | None = None, options: PiiOptions | None = None) -> list[PiiSpan]:
    """Find the PII in ``text``; spans are sorted and do not overlap.

    Args:
        text: any text (a transcript, a chat message).
        language: ``"en"``/``"zh"``; only used for logging, detection covers both.
        options: what to redact (defaults: every kind).

    Returns:
        Non-overlapping spans, earliest first (longest first where two start together).
    """
    options = options or PiiOptions()
    if not text:
        return []
    candidates: list[PiiSpan] = []
    if "email" in options.kinds:
        candidates += [PiiSpan(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
        candidates += [PiiSpan(m.start(), m.end(), "email") for m in _SPOKEN_EMAIL.finditer(text)]
    if "name" in options.kinds or "address" in options.kinds:
        candidates += [PiiSpan(s, e, k) for s, e, k in find_names_and_addresses(text, options.kinds)]
    runs = _runs(text, _tokens(text))
    if "account" in options.kinds:
        candidates += _account_spans(text, runs, options)
    for run in runs:
        for at in range(0, len(run), 400):  # bounded recursion on pathological input
            candidates += [s for s in _scan_run(text, run[at : at + 400], options) if s.kind in options.kinds]
    # keep the earliest, then longest, drop anything overlapping an accepted span
    candidates.sort(key=lambda s: (s.start, -(s.end - s.start)))
    accepted: list[PiiSpan] = []
    for span in candidates:
        if accepted and span.start < accepted[-1].end:
            if span.end > accepted[-1].end:
                last = accepted[-1]
                accepted[-1] = PiiSpan(last.start, span.end, last.kind)
            continue
        accepted.append(span)
    if accepted:
        log.debug("pii (%s): %s", language or detect_text_language(text), [s.kind for s in accepted])
    return accepted


def _apply(text: str, spans: Sequence[PiiSpan], options: PiiOptions) -> str:
    out = []
    at = 0
    for span in spans:
        out.append(text[at : span.start])
        out.append(options.placeholder.format(kind=span.kind.upper()))
        at = span.end
    out.append(text[at:])
    return "".join(out)


def redact_text(text: str, *, language: str | None = None, options: PiiOptions | None = None) -> RedactionResult:
    """Replace PII in ``text`` with typed placeholders such as ``[CARD]``.

    Args:
        text: the text to redact.
        language: ``"en"`` or ``"zh"``; ``None`` detects it (both are always scanned).
        options: kinds and account rules; defaults redact every kind.

    Returns:
        The redacted text and the spans (offsets into the original ``text``).

    Raises:
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact_text needs a str, got {type(text).__name__}")
    options = options or PiiOptions()
    spans = find_pii(text, language=language, options=options)
    return RedactionResult(_apply(text, spans, options), tuple(spans))


# ------------------------------------------------------------------- transcripts


def _norm_ws(text: str) -> str:
    return re.sub(r"\s+", "", text)


def redact_transcript(
    transcript: Transcript, options: PiiOptions | None = None
) -> tuple[Transcript, tuple[tuple[float, float, str], ...]]:
    """Redact segment texts and word lists consistently, and say when PII was spoken.

    Words of consecutive segments of one speaker are scanned as one stream, so a card
    number split over two segments is still found. Words overlapping a span are merged
    into one placeholder word that keeps the first word's start and the last one's end.

    Args:
        transcript: a transcript, with word timestamps where available.
        options: as for :func:`redact_text`.

    Returns:
        The redacted transcript and ``(start_s, end_s, kind)`` spans to bleep; a
        segment without words is given its whole time range.
    """
    options = options or PiiOptions()
    segments = transcript.segments
    # 1. one stream of the word texts, with where each word sits in it
    stream: list[str] = []
    where: list[tuple[int, int, int, int]] = []  # (seg, word, start, end)
    at = 0
    previous: Segment | None = None
    for si, seg in enumerate(segments):
        if not seg.words:
            continue
        if previous is not None:
            same = (seg.speaker, seg.channel) == (previous.speaker, previous.channel) and seg.start - previous.end < 2.0
            sep = " " if same else "\n"
            stream.append(sep)
            at += len(sep)
        for wi, word in enumerate(seg.words):
            stream.append(word.word)
            where.append((si, wi, at, at + len(word.word)))
            at += len(word.word)
        previous = seg
    joined = "".join(stream)
    spans = find_pii(joined, language=transcript.language, options=options)

    # 2. rewrite the words each span touches: per segment, the touched words become one
    new_words: dict[int, list[Word | None]] = {si: list(seg.words) for si, seg in enumerate(segments)}
    time_spans: list[tuple[float, float, str]] = []
    for span in spans:
        hit = [w for w in where if w[2] < span.end and w[3] > span.start]
        if not hit:
            continue
        placeholder = options.placeholder.format(kind=span.kind.upper())
        by_segment: dict[int, list[tuple[int, int, int, int]]] = {}
        for h in hit:
            by_segment.setdefault(h[0], []).append(h)
        groups = list(by_segment.values())
        for gi, group in enumerate(groups):
            (si, w0, a0, _), (_, w1, _, b1) = group[0], group[-1]
            first, last = segments[si].words[w0], segments[si].words[w1]
            lead = first.word[: len(first.word) - len(first.word.lstrip())]
            prefix = first.word[: max(0, span.start - a0)] if gi == 0 else ""
            if not prefix.strip():
                prefix = lead
            suffix = last.word[len(last.word) - max(0, b1 - span.end) :] if gi == len(groups) - 1 else ""
            new_words[si][w0] = Word(
                start=first.start,
                end=last.end,
                word=prefix + placeholder + suffix,
                probability=min(segments[si].words[w].probability for _, w, _, _ in group),
                speaker=first.speaker,
            )
            for _, w, _, _ in group[1:]:
                new_words[si][w] = None
        first_hit, last_hit = hit[0], hit[-1]
        time_spans.append(
            (
                segments[first_hit[0]].words[first_hit[1]].start,
                segments[last_hit[0]].words[last_hit[1]].end,
                span.kind,
            )
        )

    # 3. rebuild segments: the text follows the redacted words when they spell the same text
    out_segments = []
    for si, seg in enumerate(segments):
        if not seg.words:
            result = redact_text(seg.text, language=transcript.language, options=options)
            if result.spans:
                time_spans.append((seg.start, seg.end, result.spans[0].kind))
            out_segments.append(replace(seg, text=result.text))
            continue
        words = tuple(w for w in new_words[si] if w is not None)
        if _norm_ws("".join(w.word for w in seg.words)) == _norm_ws(seg.text):
            lead = " " if seg.text[:1].isspace() else ""
            text = lead + "".join(w.word for w in words).strip()
        else:
            text = redact_text(seg.text, language=transcript.language, options=options).text
        # a second pass catches anything only visible in the segment's own spelling
        text = redact_text(text, language=transcript.language, options=options).text
        out_segments.append(replace(seg, text=text, words=words))
    time_spans.sort()
    return replace(transcript, segments=tuple(out_segments)), tuple(time_spans)


# ------------------------------------------------------------------------ audio


@lru_cache(maxsize=8)
def _fade(n: int) -> np.ndarray:
    return (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))).astype(np.float32)


def bleep_audio(
    audio: Audio,
    spans: Sequence[tuple[float, float, str]] | Sequence[tuple[float, float]],
    mode: str = "bleep",
    *,
    channels: Sequence[int] | None = None,
    tone_hz: float = 1000.0,
    level_dbfs: float = -12.0,
) -> Audio:
    """Cover ``spans`` with a 1 kHz tone (``"bleep"``) or silence, on every channel.

    Args:
        audio: the recording.
        spans: ``(start_s, end_s[, kind])`` as returned by :func:`redact_transcript`.
        mode: ``"bleep"`` or ``"silence"``.
        channels: only these channels (default: all, so an agent repeating a card
            number is covered too).
        tone_hz: the tone's frequency.
        level_dbfs: the tone's peak level.

    Returns:
        A new Audio of the same shape; the input is not modified.

    Raises:
        ValueError: unknown mode, a span that ends before it starts, or a bad channel.
    """
    if mode not in ("bleep", "silence"):
        raise ValueError(f"unknown bleep mode {mode!r}; use 'bleep' or 'silence'")
    targets = list(range(audio.channels)) if channels is None else list(channels)
    for ch in targets:
        if not 0 <= ch < audio.channels:
            raise ValueError(f"channel {ch} does not exist (the audio has {audio.channels})")
    samples = np.array(audio.samples, dtype=np.float32, copy=True)
    rate = audio.sample_rate
    amplitude = float(10 ** (level_dbfs / 20.0))
    for span in spans:
        start_s, end_s = float(span[0]), float(span[1])
        if end_s < start_s or start_s < 0:
            raise ValueError(f"bad span {start_s:.3f}-{end_s:.3f} s: it must start at >= 0 and end after it starts")
        a = min(audio.frames, int(np.floor(start_s * rate)))
        b = min(audio.frames, int(np.ceil(end_s * rate)))
        if b <= a:
            continue
        if mode == "silence":
            samples[targets, a:b] = 0.0
            continue
        t = np.arange(a, b, dtype=np.float64) / rate
        tone = (amplitude * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
        ramp = min(len(tone) // 2, max(1, int(0.005 * rate)))
        if ramp > 1:
            tone[:ramp] *= _fade(ramp)
            tone[-ramp:] *= _fade(ramp)[::-1]
        samples[targets, a:b] = tone
    return Audio(samples, rate)
