"""What an automatic QA evaluation found for one call (and reviewer overrides of it)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True, slots=True)
class Evidence:
    """The words (or the stretch of call) a verdict rests on; times in seconds."""

    start: float
    end: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 2), "end": round(self.end, 2), "text": self.text}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        return cls(float(data["start"]), float(data["end"]), str(data["text"]))


@dataclass(frozen=True, slots=True)
class QaItem:
    """One criterion's verdict. ``passed`` is None when the criterion does not apply."""

    id: str
    name: str
    passed: bool | None
    weight: float
    detail: str  # one readable line: why it passed or failed
    evidence: tuple[Evidence, ...] = ()
    automatic: bool | None = None  # the engine's verdict when a reviewer overrode it
    override_by: str | None = None
    override_note: str | None = None

    @property
    def score(self) -> float:
        """Weight earned (0 when failed or not applicable)."""
        return self.weight if self.passed else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "name": self.name, "passed": self.passed, "score": self.score, "weight": self.weight,
            "detail": self.detail, "evidence": [e.to_dict() for e in self.evidence],
        }
        if self.override_by is not None:
            out["override"] = {"by": self.override_by, "note": self.override_note or "", "automatic": self.automatic}
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QaItem:
        override = data.get("override") or {}
        return cls(
            id=str(data["id"]), name=str(data["name"]), passed=data.get("passed"),
            weight=float(data.get("weight", 1.0)), detail=str(data.get("detail", "")),
            evidence=tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()),
            automatic=override.get("automatic"), override_by=override.get("by"),
            override_note=override.get("note"),
        )


@dataclass(frozen=True, slots=True)
class CategoryHit:
    """A user-defined category (tag) that matched the call."""

    id: str
    name: str
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "evidence": [e.to_dict() for e in self.evidence]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CategoryHit:
        return cls(str(data["id"]), str(data["name"]), tuple(Evidence.from_dict(e) for e in data.get("evidence") or ()))


@dataclass(frozen=True, slots=True)
class QaResult:
    """A scorecard evaluated on one call: ``score`` is the percent of applicable weight passed."""

    scorecard: str
    scorecard_name: str
    items: tuple[QaItem, ...]
    categories: tuple[CategoryHit, ...] = ()

    @property
    def score(self) -> float | None:
        applicable = [i for i in self.items if i.passed is not None]
        total = sum(i.weight for i in applicable)
        if not total:
            return None
        return round(100.0 * sum(i.score for i in applicable) / total, 1)

    def with_overrides(self, overrides: dict[str, tuple[bool, str, str]]) -> QaResult:
        """Apply reviewer verdicts ``{criterion id: (passed, reviewer, note)}``; the engine's verdict is kept."""
        items = []
        for item in self.items:
            if item.id in overrides:
                passed, by, note = overrides[item.id]
                item = replace(item, passed=passed, automatic=item.passed, override_by=by, override_note=note)
            items.append(item)
        return replace(self, items=tuple(items))

    def to_dict(self) -> dict[str, Any]:
        return {
            "scorecard": self.scorecard, "scorecard_name": self.scorecard_name, "score": self.score,
            "items": [i.to_dict() for i in self.items], "categories": [c.to_dict() for c in self.categories],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QaResult:
        return cls(
            scorecard=str(data["scorecard"]), scorecard_name=str(data.get("scorecard_name", data["scorecard"])),
            items=tuple(QaItem.from_dict(i) for i in data.get("items") or ()),
            categories=tuple(CategoryHit.from_dict(c) for c in data.get("categories") or ()),
        )
