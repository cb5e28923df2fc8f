"""The public help center: the knowledge base as FAQ pages, searched with the IVR's matcher.

Every published entry is a page (``/help/<entry id>``), grouped by topic (an entry's
first tag) on ``/help``. A search (``/help?q=...``) asks the same
:class:`~callscope.ivr.matcher.IntentMatcher` the IVR and the texts use: the best
answer first, then related entries. Each search is stored as a ``web`` conversation;
following its "contact an agent" link marks it handed over, so help-center deflection
is "searches that ended without contacting an agent". Feedback ("was this helpful?")
is stored per entry. Rendering is in :mod:`callscope.selfservice.pages`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from callscope.db import utcnow
from callscope.domain import FaqEntry, FaqStatus
from callscope.ivr.kb import KnowledgeBase
from callscope.ivr.matcher import IntentMatcher, MatchLevel
from callscope.ivr.phrases import clean_utterance, mask_card_numbers
from callscope.language import detect_text_language
from callscope.selfservice import conversations as store
from callscope.selfservice.messages import TOPIC_NAMES
from callscope.selfservice.tables import ConversationRow, HelpFeedbackRow

LANGUAGES = ("en", "zh")
MAX_QUERY_CHARS = 200
_CRAWLER = re.compile(r"bot\b|crawl|spider|slurp|preview|headless(?!chrome)", re.IGNORECASE)


def is_crawler(user_agent: str | None) -> bool:
    """Search engines and link previewers: their searches are not customers' (not stored)."""
    return bool(_CRAWLER.search(user_agent or ""))


def pick_language(lang: str | None, accept_language: str | None, default: str = "en") -> str:
    """``lang`` when it is en/zh, else the best en/zh of an ``Accept-Language`` header, else ``default``."""
    if lang in LANGUAGES:
        return lang  # type: ignore[return-value]
    best, best_q = default, -1.0
    for i, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        if code not in LANGUAGES:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q -= i * 1e-6  # equal weights: the first listed wins
        if q > best_q and q > 0:
            best, best_q = code, q
    return best


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    name: str
    entries: tuple[FaqEntry, ...]


@dataclass(frozen=True, slots=True)
class SearchResult:
    query: str
    language: str  # of the query
    level: str  # the matcher's level: high, medium, low
    best: FaqEntry | None  # shown in full (high or medium)
    related: tuple[FaqEntry, ...] = ()
    conversation_id: str | None = None


@dataclass(slots=True)
class HelpCenter:
    """The help center over the IVR's matcher (and so its hot-reloaded knowledge base)."""

    matcher: IntentMatcher
    related_limit: int = 4

    def knowledge_base(self) -> KnowledgeBase:
        return self.matcher.knowledge_base()

    def published(self) -> list[FaqEntry]:
        return [e for e in self.knowledge_base().entries if e.status == FaqStatus.PUBLISHED]

    def entry(self, entry_id: str) -> FaqEntry | None:
        """A published entry by id (None for unknown, draft or withdrawn ones)."""
        entry = self.knowledge_base().get(entry_id)
        return entry if entry is not None and entry.status == FaqStatus.PUBLISHED else None

    def topic_of(self, entry: FaqEntry) -> str:
        return entry.tags[0] if entry.tags else "other"

    def topic_name(self, key: str, language: str) -> str:
        header = self.knowledge_base().header or {}
        names = (header.get("topics") or {}).get(key) if isinstance(header.get("topics"), dict) else None
        if isinstance(names, dict) and isinstance(names.get(language), str):
            return names[language]
        if isinstance(names, str):
            return names
        known = TOPIC_NAMES.get(key)
        if known:
            return known.get(language) or known["en"]
        if key == "other":
            return "其他问题" if language == "zh" else "Other questions"
        return key.replace("_", " ").capitalize()

    def topics(self, language: str) -> list[Topic]:
        """Published entries grouped by topic, topics in order of first appearance in the file."""
        groups: dict[str, list[FaqEntry]] = {}
        for entry in self.published():
            groups.setdefault(self.topic_of(entry), []).append(entry)
        return [Topic(key, self.topic_name(key, language), tuple(entries)) for key, entries in groups.items()]

    def related(self, entry: FaqEntry, limit: int | None = None) -> list[FaqEntry]:
        """Other published entries sharing a tag with ``entry`` (most shared tags first)."""
        tags = set(entry.tags)
        scored = [
            (len(tags & set(other.tags)), i, other)
            for i, other in enumerate(self.published())
            if other.id != entry.id and tags & set(other.tags)
        ]
        scored.sort(key=lambda t: (-t[0], t[1]))
        return [other for _, _, other in scored[: limit or self.related_limit]]

    # ------------------------------------------------------------------ search

    def search(self, session: Session, query: str, *, record: bool = True) -> SearchResult:
        """Match ``query`` against the knowledge base; stored as a web conversation when ``record``."""
        text = clean_utterance(query)[:MAX_QUERY_CHARS]
        language = detect_text_language(text)
        if not text:
            return SearchResult("", language, MatchLevel.LOW.value, None)
        result = self.matcher.match(text, language)
        entries = [c.entry for c in result.candidates]
        best = entries[0] if entries and result.level in (MatchLevel.HIGH, MatchLevel.MEDIUM) else None
        if best is not None:
            # runners-up above the out-of-scope line, then the best answer's topic neighbours
            low = self.matcher.policy_options(self.matcher.reads_tuned(text)).low
            close = [c.entry for c in result.candidates[1:] if c.score >= low]
            seen = {best.id}
            related = []
            for e in [*close, *self.related(best)]:
                if e.id not in seen:
                    seen.add(e.id)
                    related.append(e)
            related = related[: self.related_limit]
        else:
            related = entries  # nothing fits: the nearest topics are suggestions
        conversation_id = None
        if record:
            conv = store.new_conversation(session, "web", language=language)
            kind = {"high": "question", "medium": "unclear"}.get(result.level.value, "unanswered")
            top = result.best
            store.add_message(
                session, conv, "in", kind, mask_card_numbers(text),
                entry_id=top.entry.id if top else None, score=top.score if top else None,
            )
            if best is not None:
                conv.answered = True
                conv.status = "answered"
                conv.intent = best.id
                store.add_message(session, conv, "out", "answer", "", entry_id=best.id)
            else:
                conv.status = "unanswered"
            conversation_id = conv.id
        return SearchResult(text, language, result.level.value, best, tuple(related), conversation_id)

    # ------------------------------------------------------------ feedback, contact

    def record_feedback(
        self, session: Session, entry_id: str, helpful: bool, language: str, conversation_id: str | None = None
    ) -> None:
        conv_id = conversation_id if conversation_id and session.get(ConversationRow, conversation_id) else None
        session.add(
            HelpFeedbackRow(
                entry_id=entry_id, helpful=helpful, language=language if language in LANGUAGES else "en",
                conversation_id=conv_id, at=utcnow(),
            )
        )
        if conv_id is not None:
            conv = session.get(ConversationRow, conv_id)
            if conv is not None and conv.channel == "web":
                store.add_message(session, conv, "in", "feedback", "helpful" if helpful else "not helpful",
                                  entry_id=entry_id)

    @staticmethod
    def record_contact(session: Session, conversation_id: str | None) -> bool:
        """The visitor of search ``conversation_id`` went on to contact an agent: not deflected."""
        if not conversation_id:
            return False
        conv = session.get(ConversationRow, conversation_id)
        if conv is None or conv.channel != "web":
            return False
        if not conv.handover:
            conv.handover = True
            conv.status = "handover"
            store.add_message(session, conv, "in", "contact", "")
        return True
