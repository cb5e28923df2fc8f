"""The QA rule language: scorecards and categories a QA lead writes in YAML or JSON.

A scorecard has criteria (scored) and categories (tags, as in Contact Lens). Each holds
a ``rule``, a condition tree; a criterion may also have ``when`` (otherwise it is not
applicable to the call and does not count toward the score)::

    id: default
    name: Call quality
    criteria:
      - id: greeting
        name: Greeting and name in the first 15 s
        rule:
          said:
            by: agent                       # agent | caller | any
            phrases: {en: ["Thank you for calling, my name is Emma"], zh: ["欢迎致电，我是客服小李"]}
            keywords: ["my name is", "我是"]  # exact words (case-insensitive) as well
            within: {first: 15}             # or {last: 30}; seconds from the start / before the end
      - id: no_long_silence
        name: No silence over 10 s
        rule: {metric: {name: longest_silence_s, max: 10}}
    categories:
      - id: manager_request
        name: Asked for a manager
        rule: {said: {by: caller, phrases: ["Can I speak to your manager?"]}}

Conditions: ``said`` / ``not_said`` (phrases matched by meaning in any language, plus
``keywords`` and ``regex``; ``within``, ``before``/``after`` another ``said``,
``threshold`` to override the calibrated one), ``metric`` (a conversation metric with
``min``/``max``), ``sentiment`` (``by``, ``at``: start | end | overall | any, ``min``/``max``),
``emotion`` (``by``, ``at``, ``is``/``is_not`` labels), and ``all`` / ``any`` / ``not``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from callscope.errors import ConfigError

DEFAULT_SCORECARD = Path(__file__).parent / "default_scorecard.yaml"

SPEAKERS = ("agent", "caller", "any")
METRICS = (
    "handle_time_s", "non_talk_time_s", "longest_silence_s", "hold_time_s", "hold_count", "overtalk_time_s",
    "turn_count", "time_to_first_agent_s", "talk_time_s.agent", "talk_time_s.caller", "talk_ratio.agent",
    "talk_ratio.caller", "interruptions.agent", "interruptions.caller", "speaking_rate.agent",
    "speaking_rate.caller",
)
EMOTIONS = ("neutral", "positive", "frustrated", "anxious")
MOMENTS = ("start", "end", "overall", "any")


class QaRuleError(ConfigError):
    """A scorecard that does not parse; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Said:
    """Something a speaker said (or, with ``negate``, never said)."""

    by: str = "any"
    phrases: tuple[str, ...] = ()  # matched by meaning, across languages
    keywords: tuple[str, ...] = ()  # matched as words, case-insensitive
    regex: str | None = None
    first_s: float | None = None  # only in the first N seconds of the call
    last_s: float | None = None  # only in the last N seconds
    before: Said | None = None  # the first match comes before the first match of this
    after: Said | None = None
    threshold: float | None = None  # meaning-match cosine; default: calibrated
    negate: bool = False


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class Sentiment:
    by: str = "caller"
    at: str = "end"
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class EmotionIs:
    by: str = "caller"
    at: str = "end"
    is_: tuple[str, ...] = ()
    is_not: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    condition: Condition


Condition = Union[Said, Metric, Sentiment, EmotionIs, AllOf, AnyOf, Not]


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    name: str
    rule: Condition
    description: str = ""
    weight: float = 1.0
    when: Condition | None = None  # not applicable unless this holds


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    name: str
    rule: Condition
    description: str = ""


@dataclass(frozen=True, slots=True)
class ScorecardRules:
    """A parsed, validated scorecard (criteria + categories)."""

    id: str
    name: str
    criteria: tuple[Criterion, ...]
    categories: tuple[Category, ...] = ()
    description: str = ""
    source: dict[str, Any] = field(default_factory=dict, compare=False)  # as written, for editing

    def phrase_sets(self) -> list[tuple[str, ...]]:
        """Every phrase list used by a ``said`` condition (for embedding once)."""
        found: list[tuple[str, ...]] = []

        def walk(cond: Condition | None) -> None:
            if isinstance(cond, Said):
                if cond.phrases:
                    found.append(cond.phrases)
                walk(cond.before)
                walk(cond.after)
            elif isinstance(cond, AllOf | AnyOf):
                for c in cond.conditions:
                    walk(c)
            elif isinstance(cond, Not):
                walk(cond.condition)

        for c in self.criteria:
            walk(c.rule)
            walk(c.when)
        for cat in self.categories:
            walk(cat.rule)
        return found


# ----------------------------------------------------------------------- parsing

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


class _Parser:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, message: str) -> QaRuleError:
        return QaRuleError(f"{self.origin}: {where}: {message}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def keys(self, data: Mapping[str, Any], where: str, allowed: tuple[str, ...]) -> None:
        unknown = sorted(set(data) - set(allowed))
        if unknown:
            raise self.fail(where, f"unknown field {unknown[0]!r}; use {', '.join(allowed)}")

    def number(self, value: Any, where: str, *, low: float | None = None, high: float | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"expected a number, got {value!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(where, f"{value} is out of range [{low}, {high}]")
        return float(value)

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, "expected non-empty text")
        return value.strip()

    def strings(self, value: Any, where: str) -> tuple[str, ...]:
        """A list of strings, or a mapping language -> list (all languages kept)."""
        if isinstance(value, str):
            value = [value]
        if isinstance(value, Mapping):
            out: list[str] = []
            for lang, items in value.items():
                out.extend(self.strings(items, f"{where}.{lang}"))
            return tuple(out)
        if not isinstance(value, list):
            raise self.fail(where, "expected a list of phrases (or {en: [...], zh: [...]})")
        return tuple(self.text(v, f"{where}[{i}]") for i, v in enumerate(value))

    def speaker(self, value: Any, where: str) -> str:
        if value not in SPEAKERS:
            raise self.fail(where, f"{value!r} is not one of {', '.join(SPEAKERS)}")
        return str(value)

    def said(self, data: Any, where: str, *, negate: bool = False) -> Said:
        data = self.mapping(data, where)
        self.keys(data, where, ("by", "phrases", "keywords", "regex", "within", "before", "after", "threshold"))
        phrases = self.strings(data["phrases"], f"{where}.phrases") if "phrases" in data else ()
        keywords = self.strings(data["keywords"], f"{where}.keywords") if "keywords" in data else ()
        regex = None
        if "regex" in data:
            regex = self.text(data["regex"], f"{where}.regex")
            try:
                re.compile(regex)
            except re.error as exc:
                raise self.fail(f"{where}.regex", f"invalid regular expression: {exc}") from None
        if not (phrases or keywords or regex):
            raise self.fail(where, "give phrases, keywords or regex")
        first = last = None
        if "within" in data:
            within = self.mapping(data["within"], f"{where}.within")
            self.keys(within, f"{where}.within", ("first", "last"))
            if len(within) != 1:
                raise self.fail(f"{where}.within", "give exactly one of first or last (seconds)")
            if "first" in within:
                first = self.number(within["first"], f"{where}.within.first", low=0)
            else:
                last = self.number(within["last"], f"{where}.within.last", low=0)
        before = self.said(data["before"].get("said", data["before"]) if isinstance(data.get("before"), Mapping)
                           else data.get("before"), f"{where}.before") if "before" in data else None
        after = self.said(data["after"].get("said", data["after"]) if isinstance(data.get("after"), Mapping)
                          else data.get("after"), f"{where}.after") if "after" in data else None
        threshold = self.number(data["threshold"], f"{where}.threshold", low=0, high=1) if "threshold" in data else None
        return Said(by=self.speaker(data.get("by", "any"), f"{where}.by"), phrases=phrases, keywords=keywords,
                    regex=regex, first_s=first, last_s=last, before=before, after=after, threshold=threshold,
                    negate=negate)

    def bounds(self, data: Mapping[str, Any], where: str) -> tuple[float | None, float | None]:
        low = self.number(data["min"], f"{where}.min") if "min" in data else None
        high = self.number(data["max"], f"{where}.max") if "max" in data else None
        if low is None and high is None:
            raise self.fail(where, "give min, max or both")
        if low is not None and high is not None and low > high:
            raise self.fail(where, f"min {low} is above max {high}")
        return low, high

    def moment(self, body: Mapping[str, Any], where: str) -> str:
        """The ``at:`` of a sentiment or emotion condition (default: the end of the call)."""
        moment = body.get("at", "end")
        if moment not in MOMENTS:
            raise self.fail(f"{where}.at", f"{moment!r} is not one of {', '.join(MOMENTS)}")
        return str(moment)

    def condition(self, data: Any, where: str) -> Condition:
        data = self.mapping(data, where)
        if len(data) != 1:
            kinds = "said, not_said, metric, sentiment, emotion, all, any, not"
            raise self.fail(where, f"a condition has exactly one kind ({kinds}); got {sorted(data) or 'none'}")
        kind, body = next(iter(data.items()))
        at = f"{where}.{kind}"
        if kind in ("said", "not_said"):
            return self.said(body, at, negate=kind == "not_said")
        if kind == "metric":
            body = self.mapping(body, at)
            self.keys(body, at, ("name", "min", "max"))
            name = body.get("name")
            if name not in METRICS:
                raise self.fail(f"{at}.name", f"{name!r} is not a metric; use {', '.join(METRICS)}")
            low, high = self.bounds(body, at)
            return Metric(str(name), low, high)
        if kind == "sentiment":
            body = self.mapping(body, at)
            self.keys(body, at, ("by", "at", "min", "max"))
            moment = self.moment(body, at)
            low, high = self.bounds(body, at)
            for value, name in ((low, "min"), (high, "max")):
                if value is not None and not -1 <= value <= 1:
                    raise self.fail(f"{at}.{name}", "sentiment runs from -1 (negative) to 1 (positive)")
            return Sentiment(self.speaker(body.get("by", "caller"), f"{at}.by"), moment, low, high)
        if kind == "emotion":
            body = self.mapping(body, at)
            self.keys(body, at, ("by", "at", "is", "is_not"))
            moment = self.moment(body, at)
            labels = {k: self.strings(body[k], f"{at}.{k}") if k in body else () for k in ("is", "is_not")}
            for key, values in labels.items():
                for value in values:
                    if value not in EMOTIONS:
                        raise self.fail(f"{at}.{key}", f"{value!r} is not one of {', '.join(EMOTIONS)}")
            if not labels["is"] and not labels["is_not"]:
                raise self.fail(at, "give is or is_not")
            return EmotionIs(self.speaker(body.get("by", "caller"), f"{at}.by"), moment, labels["is"],
                             labels["is_not"])
        if kind in ("all", "any"):
            if not isinstance(body, list) or not body:
                raise self.fail(at, "expected a non-empty list of conditions")
            parts = tuple(self.condition(c, f"{at}[{i}]") for i, c in enumerate(body))
            return AllOf(parts) if kind == "all" else AnyOf(parts)
        if kind == "not":
            return Not(self.condition(body, at))
        raise self.fail(where, f"unknown condition {kind!r}; use said, not_said, metric, sentiment, emotion, "
                               "all, any or not")

    def ident(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(where, f"{value!r} is not an id (lower-case letters, digits, _ . -)")
        return value

    def entry(self, raw: Any, where: str, allowed: tuple[str, ...], seen: set[str]) -> tuple[Mapping[str, Any], str]:
        """A criterion or category: its mapping and its id (unique among both; added to
        ``seen``); it must have a rule."""
        raw = self.mapping(raw, where)
        self.keys(raw, where, allowed)
        cid = self.ident(raw.get("id"), f"{where}.id")
        if cid in seen:
            raise self.fail(f"{where}.id", f"{cid!r} is used twice")
        seen.add(cid)
        if "rule" not in raw:
            raise self.fail(where, "missing rule")
        return raw, cid

    def scorecard(self, data: Any) -> ScorecardRules:
        data = self.mapping(data, "scorecard")
        self.keys(data, "scorecard", ("id", "name", "description", "criteria", "categories"))
        criteria_raw = data.get("criteria")
        if not isinstance(criteria_raw, list) or not criteria_raw:
            raise self.fail("criteria", "a scorecard needs a non-empty list of criteria")
        seen: set[str] = set()
        criteria = []
        for i, raw in enumerate(criteria_raw):
            where = f"criteria[{i}]"
            raw, cid = self.entry(raw, where, ("id", "name", "description", "weight", "when", "rule"), seen)
            criteria.append(Criterion(
                id=cid, name=self.text(raw.get("name", cid), f"{where}.name"),
                rule=self.condition(raw["rule"], f"{where}.rule"),
                description=str(raw.get("description", "")).strip(),
                weight=self.number(raw.get("weight", 1), f"{where}.weight", low=0, high=100),
                when=self.condition(raw["when"], f"{where}.when") if "when" in raw else None,
            ))
        categories = []
        for i, raw in enumerate(data.get("categories") or []):
            where = f"categories[{i}]"
            raw, cid = self.entry(raw, where, ("id", "name", "description", "rule"), seen)
            categories.append(Category(cid, self.text(raw.get("name", cid), f"{where}.name"),
                                       self.condition(raw["rule"], f"{where}.rule"),
                                       str(raw.get("description", "")).strip()))
        return ScorecardRules(
            id=self.ident(data.get("id", "custom"), "id"), name=self.text(data.get("name", "Scorecard"), "name"),
            criteria=tuple(criteria), categories=tuple(categories),
            description=str(data.get("description", "")).strip(), source=dict(data),
        )


def parse_scorecard(data: Any, origin: str = "scorecard") -> ScorecardRules:
    """Validate a scorecard given as parsed YAML/JSON.

    Raises:
        QaRuleError: the message names ``origin`` and the bad field.
    """
    return _Parser(origin).scorecard(data)


def parse_scorecard_text(text: str, origin: str = "scorecard") -> ScorecardRules:
    """Parse YAML (or JSON, which is YAML) text. Raises: QaRuleError."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise QaRuleError(f"{origin}: not valid YAML/JSON: {str(exc).splitlines()[0]}") from None
    return parse_scorecard(data, origin)


def load_scorecard(path: Path | None = None) -> ScorecardRules:
    """Load a scorecard file (``.yaml``/``.yml``/``.json``); the shipped default when None.

    Raises:
        QaRuleError: unreadable or invalid file (the message names it).
    """
    path = Path(path) if path else DEFAULT_SCORECARD
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise QaRuleError(f"cannot read the scorecard {path}: {exc.strerror or exc}") from None
    if path.suffix == ".json":
        try:
            return parse_scorecard(json.loads(text), str(path))
        except json.JSONDecodeError as exc:
            raise QaRuleError(f"{path}: not valid JSON: {exc}") from None
    return parse_scorecard_text(text, str(path))
