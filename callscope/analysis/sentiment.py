"""Text sentiment and emotion for English and Mandarin utterances.

Three signals, fused per text:
* a polarity lexicon: VADER for English; snownlp for Mandarin, re-centred because its
  review-trained model scores neutral service talk well below 0.5 (given a small
  weight: it is noisy on conversational Mandarin);
* two small logistic-regression heads on multilingual USE sentence embeddings
  (``data/emotion_head.npz``, see :mod:`callscope.analysis.train_emotion_head`): a
  4-way emotion head (GoEmotions) and a valence head (GoEmotions + Chinese reviews);
* call-centre cue phrases (``data/emotion_cues.json``) that separate *frustrated*
  ("third time", "unacceptable", 投诉, 太慢了) from *anxious* ("worried", "not sure",
  "what if", 担心, 怎么办), which polarity alone cannot, and situation patterns for
  emotion shown only through what happened ("I've been waiting two weeks", "nobody
  called me back", 等了两个星期, 说好的 -> frustrated; "is my account safe", 是不是出了
  什么问题 -> anxious).

Mandarin cues of three or more characters (and courtesy formulas) also match where a transcript
spells them as homophones or near-homophones (不像话 written 不像画), by their sound
(:func:`~callscope.language.sound_key`), at a reduced weight (``SentimentOptions.sound_cues``).

The same file lists courtesy formulas (greetings, thanks, goodbyes, "okay, great");
:meth:`CueLexicon.strip_courtesy` removes them so that call-level summaries
(:mod:`callscope.analysis.emotion`) read what a caller says about the problem.

The fusion is log-linear: the head's class probabilities are the prior, and the fused
polarity and cue weights shift the log-odds (constants in :class:`FusionWeights`).
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from callscope.analysis.embeddings import load_encoder
from callscope.domain import Emotion
from callscope.errors import ModelError, ModelNotFoundError
from callscope.language import detect_text_language, sound_key, to_simplified

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).parent / "data"
HEAD_PATH = DATA_DIR / "emotion_head.npz"
CUES_PATH = DATA_DIR / "emotion_cues.json"
CLASSES: tuple[Emotion, ...] = (Emotion.NEUTRAL, Emotion.POSITIVE, Emotion.FRUSTRATED, Emotion.ANXIOUS)
_EN_NEGATORS = frozenset({"not", "no", "never", "without", "hardly", "nothing", "nor", "neither"})
_ZH_NEGATORS = "不没别无未非"
# a negator right before a zh cue: 不/没/未/无/非, or 别 not ending a word like 特别/区别
_ZH_NEGATION_BEFORE = re.compile(r"(?:[不没未无非]|(?<![特分区级类个告识差性])别)[^\u4e00-\u9fff]?$")
_EN_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
# clauses and their closing punctuation, for courtesy stripping
_CLAUSE = re.compile(r"([^.?!;,:。？！，；：、…]+)([.?!;,:。？！，；：、…]*)")
_LEADING_LINK = re.compile(r"^(?:(?:and|but|so|oh|well)\s+)+")  # "but thank you" is still thanks
SITUATION_CAP = 1.5  # most weight the situation patterns give one class in one text
_FORMULA_GAP = r"[\s,，、]*"  # what may separate courtesy formulas run together in one clause
_FORMULA_MAX = 60  # characters one courtesy formula spans at most ("thank you for sorting that out so quickly")
SOUND_WEIGHT = 0.8  # share of its weight a Mandarin cue gets when the text only sounds like it
# shortest Mandarin cue matched by sound: on the dev calls' Whisper text every two-character match
# by sound of a negative cue was a chance one across words (机是 ≈ 急死, 网医 ≈ 万一, 四万 ≈ 失望)
SOUND_MIN_CHARS = 3
_FILLER = re.compile(r"(?<![\w-])(?:um+|uh+|er+|erm|ah+|hmm+)(?![\w-])")


@dataclass(frozen=True, slots=True)
class FusionWeights:
    """Constants of the fusion (per language where the sources differ in quality).

    ``lexicon``/``model`` weight the polarity sources in the fused sentiment;
    ``polarity`` is how strongly the fused sentiment moves the class log-odds,
    ``neutral_band`` how far from 0 a sentiment still favours *neutral*, ``cue`` the
    log-odds one full-weight cue phrase adds, ``cue_sentiment`` how much cues move
    the sentiment itself.
    """

    lexicon: dict[str, float] = field(default_factory=lambda: {"en": 0.55, "zh": 0.2})
    model: dict[str, float] = field(default_factory=lambda: {"en": 0.45, "zh": 0.8})
    # 1.0, not 3.0 as before: a fault told plainly ("the router lights are all red") is
    # negative content but not yet a frustrated caller; the head and the cues say that
    # (caller emotion of the call corpus dev split 0.68 -> 0.77, GoEmotions 0.652 -> 0.647)
    polarity: float = 1.0
    neutral_band: float = 0.25
    cue: float = 1.5
    cue_sentiment: float = 0.35
    snownlp_centre: float = 0.4  # snownlp's score for neutral talk (it has no neutral class)
    # how much the head's class prior counts per language: the emotion head learnt from
    # English only, so on Mandarin it is a cross-lingual guess and is flattened
    head_strength: dict[str, float] = field(default_factory=lambda: {"en": 1.0, "zh": 0.5})


@dataclass(frozen=True, slots=True)
class SentimentOptions:
    """How :class:`TextSentiment` scores texts.

    Attributes:
        use_model: use the sentence-embedding heads (off: lexicons and cues only, no
            encoder is loaded).
        situation_cues: also match the situation patterns of the cue file (emotion
            shown through the situation: "I've been waiting two weeks", 等了两个星期).
        encoder: name for :func:`callscope.analysis.embeddings.load_encoder`; must be
            the encoder the head was trained on.
        threads: BLAS threads for the encoder.
        head_path: the trained heads (.npz); default: the bundled one.
        cues_path: cue phrases (.json); default: the bundled file.
        weights: fusion constants.
        sound_cues: weight share of a Mandarin cue or courtesy formula matched by its sound
            rather than its spelling (a transcript's homophone; see :class:`CueLexicon`);
            ``None``: exact spelling only.
    """

    use_model: bool = True
    encoder: str = "use-multilingual"
    threads: int = 1  # one BLAS thread: fastest for one utterance, and robust on a busy CPU
    head_path: Path | None = None
    cues_path: Path | None = None
    weights: FusionWeights = field(default_factory=FusionWeights)
    situation_cues: bool = True
    sound_cues: float | None = SOUND_WEIGHT


@dataclass(frozen=True, slots=True)
class SentimentResult:
    """The sentiment of one text."""

    sentiment: float  # -1 (negative) .. +1 (positive)
    probabilities: dict[Emotion, float]
    language: str
    cues: tuple[str, ...] = ()  # the cue phrases found, e.g. ("frustrated:third time",)
    lexicon_sentiment: float = 0.0  # VADER compound / re-centred snownlp
    model_sentiment: float | None = None  # from the embedding heads

    @property
    def label(self) -> Emotion:
        return max(self.probabilities, key=lambda k: self.probabilities[k])

    @property
    def confidence(self) -> float:
        return float(max(self.probabilities.values()))


@dataclass(frozen=True, slots=True)
class _Head:
    emotion_w: np.ndarray  # (4, dim)
    emotion_b: np.ndarray  # (4,)
    valence_w: np.ndarray  # (dim,)
    valence_b: float
    order: tuple[int, ...]  # head class index -> CLASSES index


def load_head(path: Path) -> _Head:
    """Read the trained heads from an .npz written by ``train_emotion_head``.

    Raises:
        ModelNotFoundError: the file does not exist.
        ModelError: the file is not a valid head.
    """
    if not path.exists():
        raise ModelNotFoundError(
            f"{path}: emotion head not found; rebuild it with `python -m callscope.analysis.train_emotion_head`"
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            classes = [Emotion(str(c)) for c in data["classes"]]
            head = _Head(
                emotion_w=np.asarray(data["emotion_w"], dtype=np.float32),
                emotion_b=np.asarray(data["emotion_b"], dtype=np.float32),
                valence_w=np.asarray(data["valence_w"], dtype=np.float32),
                valence_b=float(np.asarray(data["valence_b"]).reshape(-1)[0]),
                order=tuple(CLASSES.index(c) for c in classes),
            )
    except (KeyError, ValueError, OSError) as exc:
        raise ModelError(f"{path}: not a valid emotion head ({exc}); rebuild it with train_emotion_head") from exc
    if head.emotion_w.shape[0] != len(CLASSES) or sorted(head.order) != list(range(len(CLASSES))):
        raise ModelError(f"{path}: the head must have the classes {', '.join(CLASSES)}")
    return head


# ------------------------------------------------------------------------- cues


class CueLexicon:
    """Cue phrases per language and class: ``{"en": {Emotion: {phrase: weight}}}``."""

    def __init__(
        self,
        phrases: dict[str, dict[Emotion, dict[str, float]]],
        patterns: dict[str, dict[Emotion, dict[str, float]]] | None = None,
        courtesy: dict[str, Sequence[str]] | None = None,
        sound_weight: float | None = SOUND_WEIGHT,
    ) -> None:
        """Index the phrases; compile the situation ``patterns`` and ``courtesy`` formulas (regexes).

        ``sound_weight``: Mandarin phrases of :data:`SOUND_MIN_CHARS` or more characters also match
        where the text only sounds like them (:func:`~callscope.language.sound_key`: a transcript's
        homophone or near-homophone spelling), at this share of their weight; courtesy formulas match
        the same way. ``None``: exact spelling only.

        Raises:
            re.error: a pattern or formula is not a valid regular expression.
        """
        self.phrases = phrases
        self.sound_weight = sound_weight
        self.patterns = {
            lang: [
                (re.compile(rx, re.IGNORECASE), kind, weight) for kind, v in table.items() for rx, weight in v.items()
            ]
            for lang, table in (patterns or {}).items()
        }
        self.courtesy = {
            lang: re.compile("(?:" + "|".join(f"(?:{rx})" for rx in formulas) + ")", re.IGNORECASE)
            for lang, formulas in (courtesy or {}).items()
            if formulas
        }
        # each formula on its own, for clauses that run several together ("好的就这些谢谢", "okay
        # thanks bye": speech recognition often leaves out the commas); see _formula_run
        self._courtesy_parts = {
            lang: [re.compile(f"(?:{rx})" + _FORMULA_GAP, re.IGNORECASE) for rx in formulas]
            for lang, formulas in (courtesy or {}).items()
        }
        # the Mandarin formulas as they sound (sound_key leaves regex syntax alone: it only maps Han characters)
        self._courtesy_sound = (
            re.compile(sound_key(self.courtesy["zh"].pattern), re.IGNORECASE)
            if sound_weight is not None and "zh" in self.courtesy
            else None
        )
        self._courtesy_sound_parts = (
            [re.compile(sound_key(rx.pattern), re.IGNORECASE) for rx in self._courtesy_parts["zh"]]
            if self._courtesy_sound is not None
            else []
        )
        # longest phrases first, so "not sure" wins over "sure"; English ones indexed by first word
        self._en: dict[str, list[tuple[tuple[str, ...], Emotion, float]]] = {}
        self._en_prefix: list[tuple[tuple[str, ...], Emotion, float]] = []
        for kind, table in phrases.get("en", {}).items():
            for phrase, weight in table.items():
                parts = tuple(phrase.lower().split())
                if parts[0].endswith("*"):
                    self._en_prefix.append((parts, kind, weight))
                else:
                    self._en.setdefault(parts[0], []).append((parts, kind, weight))
        for entries in self._en.values():
            entries.sort(key=lambda e: -len(e[0]))
        self._zh = sorted(
            ((p, k, w) for k, v in phrases.get("zh", {}).items() for p, w in v.items()), key=lambda e: -len(e[0])
        )
        self._zh_sound = [(sound_key(p), p, k, w) for p, k, w in self._zh if len(p) >= SOUND_MIN_CHARS]

    @classmethod
    def load(cls, path: Path, sound_weight: float | None = SOUND_WEIGHT) -> CueLexicon:
        """Read a cue file (see ``data/emotion_cues.json``); ``sound_weight`` as in the constructor.

        Raises:
            ModelError: the file is missing or malformed.
        """
        def tables(section: dict) -> dict[str, dict[Emotion, dict[str, float]]]:
            return {
                lang: {Emotion(k): {str(p): float(w) for p, w in v.items()} for k, v in classes.items()}
                for lang, classes in section.items()
                if not lang.startswith("_")
            }

        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            phrases = tables({k: v for k, v in raw.items() if k not in ("patterns", "courtesy")})
            patterns = tables(raw.get("patterns", {}))
            courtesy = {str(lang): [str(rx) for rx in v] for lang, v in raw.get("courtesy", {}).items()}
            return cls(phrases, patterns, courtesy, sound_weight)
        except (OSError, ValueError, AttributeError, TypeError, re.error) as exc:
            raise ModelError(f"{path}: cannot read the emotion cue file ({exc})") from exc

    def find(self, text: str, language: str, situation: bool = True) -> dict[Emotion, list[tuple[str, float]]]:
        """Cue phrases in ``text`` (already simplified for zh) per class.

        A negated positive cue counts as half a frustrated one ("not happy"); a negated
        negative cue counts for neutral ("not worried"). With ``situation``, the
        situation patterns (long waits, repeated calls, deadlines ...) are added as
        ``~matched text``; they carry their own context, so negation is not applied.
        """
        # NEUTRAL collects negated negative cues ("not worried", 不担心): evidence of calm
        found: dict[Emotion, list[tuple[str, float]]] = {k: [] for k in CLASSES}
        if language == "zh":
            self._find_zh(text, found)
        else:
            for clause in re.split(r"[.?!;:,]+", text):  # a negation does not reach past a clause
                self._find_en(clause, found)
        if situation:
            self._find_situation(text, language, found)
        return found

    def _find_situation(self, text: str, language: str, found: dict[Emotion, list[tuple[str, float]]]) -> None:
        """Add situation-pattern matches; overlapping matches count once, each class at most
        :data:`SITUATION_CAP` (one long complaint must not outweigh everything else)."""
        lowered = text.lower().replace("’", "'")
        matches = []
        for rx, kind, weight in self.patterns.get("zh" if language == "zh" else "en", []):
            for m in rx.finditer(lowered):
                matches.append((weight, m.end() - m.start(), m.start(), m.end(), kind, m.group(0)))
        taken: list[tuple[int, int]] = []
        total = dict.fromkeys(CLASSES, 0.0)
        for weight, _, a, b, kind, said in sorted(matches, key=lambda x: (-x[0], -x[1], x[2])):
            if any(a < hi and lo < b for lo, hi in taken) or total[kind] >= SITUATION_CAP:
                continue
            taken.append((a, b))
            weight = min(weight, SITUATION_CAP - total[kind])
            total[kind] += weight
            found[kind].append(("~" + said, weight))

    def strip_courtesy(self, text: str, language: str) -> str:
        """``text`` without the clauses that are only courtesy formulas ("Thanks, bye.", 好的，谢谢).

        A clause is a stretch between punctuation marks; it is dropped when it is nothing
        but formulas, one or several in a row (an ``!`` keeps it: an emphatic "Brilliant!"
        is feeling, not routine). Returns ``""`` when nothing else is left.
        """
        key = "zh" if language == "zh" else "en"
        formula = self.courtesy.get(key)
        parts = self._courtesy_parts.get(key, [])
        if formula is None:
            return text.strip()
        kept = []
        for clause, mark in _CLAUSE.findall(text):
            core = _FILLER.sub(" ", clause.lower().replace("’", "'")).strip(" -'\"")
            core = _LEADING_LINK.sub("", " ".join(core.split()))
            if not core:
                continue
            sounds_like = self._courtesy_sound is not None and language == "zh" and len(core) >= 2
            courteous = formula.fullmatch(core) or _formula_run(core, parts)
            if not courteous and sounds_like:
                heard = sound_key(core)
                courteous = self._courtesy_sound.fullmatch(heard) or _formula_run(heard, self._courtesy_sound_parts)
            if "!" in mark or "！" in mark or not courteous:
                kept.append(clause.strip() + mark)
        return " ".join(kept).strip()

    @staticmethod
    def _add(
        found: dict[Emotion, list[tuple[str, float]]], kind: Emotion, phrase: str, weight: float, negated: bool
    ) -> None:
        if not negated:
            found[kind].append((phrase, weight))
        elif kind == Emotion.POSITIVE:
            found[Emotion.FRUSTRATED].append(("not " + phrase, weight * 0.5))
        else:
            found[Emotion.NEUTRAL].append(("not " + phrase, weight))

    def _find_en(self, text: str, found: dict[Emotion, list[tuple[str, float]]]) -> None:
        tokens = _EN_WORD.findall(text.lower().replace("’", "'"))
        i = 0
        while i < len(tokens):
            candidates = self._en.get(tokens[i], []) + [
                e for e in self._en_prefix if tokens[i].startswith(e[0][0][:-1])
            ]
            match = None
            for phrase, kind, weight in candidates:
                n = len(phrase)
                if all(
                    i + j < len(tokens)
                    and (tokens[i + j] == part or (part.endswith("*") and tokens[i + j].startswith(part[:-1])))
                    for j, part in enumerate(phrase)
                ):
                    if match is None or n > len(match[0]):
                        match = (phrase, kind, weight)
            if match is None:
                i += 1
                continue
            phrase, kind, weight = match
            self_negating = any(p in _EN_NEGATORS or p.endswith("n't") for p in phrase)
            window = tokens[max(0, i - 3) : i]
            negated = not self_negating and any(w in _EN_NEGATORS or w.endswith("n't") for w in window)
            self._add(found, kind, " ".join(phrase), weight, negated)
            i += len(phrase)

    def _find_zh(self, text: str, found: dict[Emotion, list[tuple[str, float]]]) -> None:
        used = [False] * len(text)
        for phrase, kind, weight in self._zh:
            self._find_zh_cue(text, text, phrase, phrase, kind, weight, used, found)
        if self.sound_weight is None:
            return
        keyed = sound_key(text)  # same length as text
        for key, phrase, kind, weight in self._zh_sound:
            self._find_zh_cue(text, keyed, key, phrase, kind, weight * self.sound_weight, used, found, "≈")

    def _find_zh_cue(
        self,
        text: str,
        haystack: str,
        needle: str,
        phrase: str,
        kind: Emotion,
        weight: float,
        used: list[bool],
        found: dict[Emotion, list[tuple[str, float]]],
        mark: str = "",
    ) -> None:
        """Every occurrence of ``needle`` in ``haystack`` (``text`` or its sound key, same length)
        whose characters no earlier cue took, as the cue ``phrase``."""
        start = 0
        while (i := haystack.find(needle, start)) >= 0:
            start = i + 1
            if any(used[i : i + len(needle)]):
                continue
            used[i : i + len(needle)] = [True] * len(needle)
            negated = phrase[0] not in _ZH_NEGATORS and bool(_ZH_NEGATION_BEFORE.search(text[max(0, i - 3) : i]))
            self._add(found, kind, mark + phrase, weight, negated)


# -------------------------------------------------------------------- lexicons


@lru_cache(maxsize=1)
def _vader():  # type: ignore[no-untyped-def]
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


_snownlp_lock = threading.Lock()


def snownlp_score(text: str) -> float:
    """snownlp's positive probability for Chinese ``text`` (0.5 for empty text)."""
    if not text.strip():
        return 0.5
    from snownlp import SnowNLP

    with _snownlp_lock:  # its classifier caches are not thread-safe
        return float(SnowNLP(text).sentiments)


def vader_compound(text: str) -> float:
    """VADER's compound polarity in [-1, 1]."""
    return float(_vader().polarity_scores(text)["compound"])


def calibrated_snownlp(score: float, centre: float = 0.4) -> float:
    """Map a snownlp probability to [-1, 1] with ``centre`` (its neutral point) at 0."""
    score = min(max(score, 1e-4), 1 - 1e-4)
    logit = math.log(score / (1 - score)) - math.log(centre / (1 - centre))
    return math.tanh(0.5 * logit)


def preprocess(text: str) -> str:
    """Collapse whitespace and convert Traditional to Simplified Chinese."""
    return to_simplified(" ".join(text.split()))


# ----------------------------------------------------------------------- scorer


class TextSentiment:
    """Scores English and Mandarin texts; load once and reuse (thread-safe).

    Usage::
        scorer = TextSentiment()
        [result] = scorer.score(["This is the third time I'm calling!"])
        result.label, result.sentiment
    """

    def __init__(self, options: SentimentOptions | None = None) -> None:
        """Load the cue lexicon, and the encoder and heads unless ``use_model`` is off.

        Raises:
            ModelNotFoundError: the encoder package or the head file is missing.
            ModelError: the head or the cue file is broken, or does not fit the encoder.
        """
        self.options = options or SentimentOptions()
        self.cues = CueLexicon.load(self.options.cues_path or CUES_PATH, self.options.sound_cues)
        self._encoder = None
        self._head: _Head | None = None
        if self.options.use_model:
            self._head = load_head(self.options.head_path or HEAD_PATH)
            self._encoder = load_encoder(self.options.encoder, self.options.threads)
            if self._head.emotion_w.shape[1] != self._encoder.dim:
                raise ModelError(
                    f"the emotion head expects {self._head.emotion_w.shape[1]}-d embeddings but "
                    f"{self.options.encoder} gives {self._encoder.dim}-d; retrain the head for this encoder"
                )
        _vader()

    def score(self, texts: Sequence[str], language: str | None = None) -> list[SentimentResult]:
        """Score each text.

        Args:
            texts: utterances or messages (any length; empty ones come out neutral).
            language: ``"en"`` or ``"zh"`` for all texts; ``None`` detects per text.

        Returns:
            One :class:`SentimentResult` per text, in order.

        Raises:
            TypeError: an item is not a string.
        """
        if isinstance(texts, str):
            raise TypeError("score() takes a sequence of texts; wrap a single text in a list")
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"score() needs strings, got {type(t).__name__}")
        clean = [preprocess(t) for t in texts]
        langs = [self._language(t, language) for t in clean]
        head_out = self._run_head([t for t in clean if t]) if self._head is not None else None
        results = []
        k = 0
        for text, lang in zip(clean, langs, strict=True):
            if not text:
                results.append(SentimentResult(0.0, {c: float(c == Emotion.NEUTRAL) for c in CLASSES}, lang))
                continue
            probs = valence = None
            if head_out is not None:
                probs, valence = head_out[0][k], float(head_out[1][k])
                k += 1
            results.append(self._fuse(text, lang, probs, valence))
        return results

    @staticmethod
    def _language(text: str, language: str | None) -> str:
        if language in ("en", "zh"):
            return language
        if language and language.split("-")[0].lower() in ("zh", "cmn", "yue"):
            return "zh"
        if language and language.split("-")[0].lower() == "en":
            return "en"
        return detect_text_language(text)

    def _run_head(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        if not texts or self._head is None or self._encoder is None:
            return None
        x = self._encoder.encode(texts)
        head = self._head
        logits = x @ head.emotion_w.T + head.emotion_b
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        probs = np.zeros_like(p)
        probs[:, list(head.order)] = p
        valence = 1.0 / (1.0 + np.exp(-(x @ head.valence_w + head.valence_b)))
        return probs, valence

    def _fuse(self, text: str, lang: str, probs: np.ndarray | None, valence: float | None) -> SentimentResult:
        w = self.options.weights
        if lang == "zh":
            lexicon = calibrated_snownlp(snownlp_score(text), w.snownlp_centre)
        else:
            lexicon = vader_compound(text)
        found = self.cues.find(text, lang, self.options.situation_cues)
        cue = {k: sum(wt for _, wt in v) for k, v in found.items()}
        cue_valence = math.tanh(
            cue[Emotion.POSITIVE] + 0.5 * cue[Emotion.NEUTRAL] - cue[Emotion.FRUSTRATED] - 0.8 * cue[Emotion.ANXIOUS]
        )
        model_sentiment = None
        if probs is not None and valence is not None:
            p_neg = probs[2] + probs[3]
            model_sentiment = float(0.5 * (probs[1] - p_neg) + 0.5 * (2 * valence - 1) * (1 - probs[0]))
            sentiment = w.lexicon.get(lang, 0.5) * lexicon + w.model.get(lang, 0.5) * model_sentiment
            prior = w.head_strength.get(lang, 1.0) * np.log(probs + 1e-3)
            if cue[Emotion.NEUTRAL] > 0:
                # a negated worry/complaint ("not worried", 不担心): the embedding head cannot
                # read negation and votes for the very emotion denied, so it counts less
                prior *= 0.3
        else:
            sentiment = lexicon
            prior = np.log(np.array([0.55, 0.2, 0.15, 0.1]))
        sentiment = float(np.clip(sentiment + w.cue_sentiment * cue_valence, -1.0, 1.0))
        evidence = np.array(
            [
                w.polarity * (w.neutral_band - abs(sentiment)) + w.cue * cue[Emotion.NEUTRAL],
                w.polarity * max(sentiment, 0.0) + w.cue * cue[Emotion.POSITIVE],
                w.polarity * max(-sentiment, 0.0) + w.cue * cue[Emotion.FRUSTRATED],
                w.polarity * max(-sentiment, 0.0) + w.cue * cue[Emotion.ANXIOUS],
            ]
        )
        z = prior + evidence
        z -= z.max()
        p = np.exp(z)
        p /= p.sum()
        cues = tuple(f"{k}:{phrase}" for k, v in found.items() for phrase, _ in v)
        return SentimentResult(
            sentiment=round(sentiment, 4),
            probabilities={c: float(p[i]) for i, c in enumerate(CLASSES)},
            language=lang,
            cues=cues,
            lexicon_sentiment=round(float(lexicon), 4),
            model_sentiment=None if model_sentiment is None else round(model_sentiment, 4),
        )


def _formula_run(text: str, formulas: Sequence[re.Pattern[str]]) -> bool:
    """Whether ``text`` is formulas one after another (each with its trailing spaces or commas).

    Walks the positions that whole formulas (at most :data:`_FORMULA_MAX` characters) reach
    from the positions already reached: time linear in the text, where one regex repeating an
    alternation of overlapping formulas backtracks exponentially ("yes ok yes ok … x").
    """
    reached, frontier = {0}, [0]
    while frontier:
        start = frontier.pop()
        for end in range(min(len(text), start + _FORMULA_MAX), start, -1):
            if end not in reached and any(f.fullmatch(text, start, end) for f in formulas):
                if end == len(text):
                    return True
                reached.add(end)
                frontier.append(end)
    return False


@lru_cache(maxsize=1)
def cue_lexicon() -> CueLexicon:
    """The bundled cue lexicon with the default sound matching (no encoder loaded).

    Raises:
        ModelError: the cue file is missing or malformed.
    """
    return CueLexicon.load(CUES_PATH)


_default_lock = threading.Lock()


@lru_cache(maxsize=1)
def _default_scorer() -> TextSentiment:
    return TextSentiment()


def default_sentiment() -> TextSentiment:
    """The process-wide default scorer (built on first use)."""
    with _default_lock:
        return _default_scorer()
