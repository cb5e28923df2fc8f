"""Before publishing: what a FAQ entry would change in the IVR's answers.

The IVR matcher runs twice over what callers really said (IVR inputs, including the
questions it could not answer, and the reasons of analysed calls): once on the live
knowledge base, once with the draft added. The difference is what the draft would
newly answer and which questions it would take from existing entries.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Any

from callscope.domain import FaqEntry, FaqStatus
from callscope.ivr.kb import KnowledgeBase
from callscope.ivr.matcher import IntentMatcher, MatchLevel


@dataclass(frozen=True, slots=True)
class Catch:
    text: str
    score: float
    before: str | None  # the entry that answered it before (None: not answered)


@dataclass(frozen=True, slots=True)
class PublishPreview:
    entry_id: str
    phrasings: int  # distinct caller phrasings tried
    catches: tuple[Catch, ...]  # newly answered by the draft
    takes: dict[str, tuple[Catch, ...]]  # existing entry id -> phrasings the draft would take from it
    confirms: tuple[Catch, ...]  # phrasings the IVR would only ask "did you mean ...?" about (ties included)

    def to_dict(self) -> dict[str, Any]:
        def cs(items: tuple[Catch, ...]) -> list[dict[str, Any]]:
            return [{"text": c.text, "score": round(c.score, 3), "before": c.before} for c in items]

        return {"entry_id": self.entry_id, "phrasings": self.phrasings, "catches": cs(self.catches),
                "takes": {k: cs(v) for k, v in self.takes.items()}, "confirms": cs(self.confirms)}


def preview_publish(draft: FaqEntry, live_entries: list[FaqEntry], phrasings: list[tuple[str, str]],
                    encoder: Any = None) -> PublishPreview:
    """Run the IVR matcher on ``phrasings`` ((text, language) pairs) with and without ``draft``."""
    candidate = replace(draft, status=FaqStatus.PUBLISHED)
    live = [e for e in live_entries if e.status == FaqStatus.PUBLISHED and e.id != draft.id]
    before = IntentMatcher(KnowledgeBase(entries=list(live)), encoder=encoder)
    after = IntentMatcher(KnowledgeBase(entries=[*live, candidate]), encoder=encoder)
    catches: list[Catch] = []
    confirms: list[Catch] = []
    takes: dict[str, list[Catch]] = defaultdict(list)
    seen = dict.fromkeys((t.strip(), lang) for t, lang in phrasings if t and t.strip())
    for text, lang in seen:
        now = after.match(text, lang)
        if now.best is None or now.level in (MatchLevel.LOW, MatchLevel.NONE):
            continue  # unclear, or out of scope even with the draft: the draft does not answer it
        if now.best.entry.id != draft.id:
            # a near tie with a live entry: the IVR would have to ask which one the caller meant
            mine = next((c for c in now.candidates if c.entry.id == draft.id), None)
            margin = after.policy_options(after.reads_tuned(text)).margin
            if mine is not None and now.best.score - mine.score < margin:
                confirms.append(Catch(text, mine.score, now.best.entry.id))
            continue
        was = before.match(text, lang)
        answered_by = was.best.entry.id if was.best is not None and was.level == MatchLevel.HIGH else None
        item = Catch(text, now.best.score, answered_by)
        if now.level == MatchLevel.MEDIUM:
            confirms.append(item)
        elif answered_by is not None:
            takes[answered_by].append(item)
        else:
            catches.append(item)
    order = lambda items: tuple(sorted(items, key=lambda c: -c.score))  # noqa: E731
    return PublishPreview(draft.id, len(seen), order(catches), {k: order(v) for k, v in takes.items()},
                          order(confirms))
