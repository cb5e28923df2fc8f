"""The FAQ review workflow: mined issues and FAQ drafts under review, and their repository.

Review workflow of a FAQ draft::
    draft ──approve──▶ approved ──publish──▶ published
      │  ▲                │
      │  └────reopen──────┤
      ├──reject──▶ rejected ──reopen──▶ draft
      └──(re-mining no longer finds its issue)──▶ superseded ──reopen / found again──▶ draft

Publishing writes the approved entries into the IVR knowledge-base file
(:func:`callscope.ivr.kb.save_knowledge_base`, atomic), so the IVR answers them.

Mined drafts have a lifecycle of their own (:meth:`FaqRepository.sync_mined_drafts`): a
draft whose issue the latest mining run no longer produces is marked *superseded* (with
a pointer to the new draft that covers the same calls, when there is one), so reviewers
see one live draft per issue. Reviewed entries (approved, published, rejected, or
reopened by a reviewer) and drafts written by hand are never superseded. Listings leave superseded entries out
unless asked for them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from callscope.db import transaction, utcnow
from callscope.domain import FaqEntry, FaqStatus
from callscope.errors import CallscopeError, ConfigError, NotFoundError, StorageError
from callscope.insights.tables import FaqDraftRow, IssueRow
from callscope.ivr import kb_history
from callscope.ivr.kb import KnowledgeBase, load_knowledge_base, save_knowledge_base

log = logging.getLogger(__name__)

__all__ = [
    "FaqRepository",
    "DraftSync",
    "InvalidTransitionError",
    "ALLOWED_TRANSITIONS",
    "SUPERSEDE_OVERLAP",
]


class InvalidTransitionError(CallscopeError):
    """A review step that the entry's current status does not allow."""


ALLOWED_TRANSITIONS: dict[FaqStatus, frozenset[FaqStatus]] = {
    FaqStatus.DRAFT: frozenset({FaqStatus.APPROVED, FaqStatus.REJECTED}),
    FaqStatus.APPROVED: frozenset({FaqStatus.PUBLISHED, FaqStatus.REJECTED, FaqStatus.DRAFT}),
    FaqStatus.REJECTED: frozenset({FaqStatus.DRAFT}),
    FaqStatus.PUBLISHED: frozenset({FaqStatus.DRAFT}),  # reopen to edit; the KB keeps the published text
    FaqStatus.SUPERSEDED: frozenset({FaqStatus.DRAFT}),  # reopen a retired draft by hand
}

# A superseded draft points at the new draft holding at least this share of its evidence calls.
SUPERSEDE_OVERLAP = 0.5


@dataclass(frozen=True, slots=True)
class DraftSync:
    """What :meth:`FaqRepository.sync_mined_drafts` did."""

    saved: tuple[str, ...]  # drafts inserted, refreshed or revived
    superseded: dict[str, str | None]  # retired draft id -> the live draft that replaces it (or None)


def _apply(row: FaqDraftRow, entry: FaqEntry) -> None:
    row.questions = {lang: list(qs) for lang, qs in entry.questions.items()}
    row.answers = dict(entry.answers)
    row.tags = list(entry.tags)
    row.action = entry.action
    row.self_service = entry.self_service
    row.evidence_calls = list(entry.evidence_calls)
    row.frequency = entry.frequency
    if entry.answer_sources:  # an edit without provenance (a reviewer's) keeps the draft's
        row.answer_sources = {lang: src.to_dict() for lang, src in entry.answer_sources.items()}
    row.updated_at = utcnow()


@dataclass(frozen=True, slots=True)
class Publication:
    """What a publish (or unpublish) did: the entries, and the knowledge-base version recorded."""

    entries: list[FaqEntry]
    kb_version: int | None


class FaqRepository:
    """FAQ drafts and mined issues in the database, with the review workflow.

    Args:
        factory: a session factory (:func:`callscope.db.session_factory`).
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory

    # ---------------------------------------------------------------- drafts

    def save_drafts(self, entries: Iterable[FaqEntry], issue_ids: Sequence[str | None] | None = None) -> list[str]:
        """Insert new drafts; a draft that already exists is refreshed only while still a draft.

        A superseded draft that is saved again (its issue came back) becomes a draft again.

        Returns:
            The ids inserted or refreshed (approved/published/rejected entries are left alone).
        """
        entries = list(entries)
        changed = []
        try:
            with transaction(self._factory) as session:
                for n, entry in enumerate(entries):
                    row = session.get(FaqDraftRow, entry.id)
                    if row is None:
                        row = FaqDraftRow(id=entry.id, status=FaqStatus.DRAFT.value, created_at=utcnow())
                        session.add(row)
                    elif row.status == FaqStatus.SUPERSEDED.value:
                        row.status, row.note = FaqStatus.DRAFT.value, None
                    elif row.status != FaqStatus.DRAFT.value:
                        continue
                    _apply(row, entry)
                    if issue_ids is not None and n < len(issue_ids):
                        row.issue_id = issue_ids[n]
                    changed.append(entry.id)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save FAQ drafts: {exc}") from exc
        return changed

    def sync_mined_drafts(self, entries: Sequence[FaqEntry], issue_ids: Sequence[str | None]) -> DraftSync:
        """Store one mining run's drafts and retire the mined drafts it no longer produces.

        A DRAFT that came from mining (it has an issue id) and is not among ``entries``
        becomes SUPERSEDED; its note names the new draft holding at least
        :data:`SUPERSEDE_OVERLAP` of its evidence calls, when there is one. Approved,
        published and rejected entries, drafts a reviewer has handled (reopened) and
        drafts added by hand are left alone.

        Args:
            entries: every draft of the run (a run that saw all calls: absence means the
                issue is gone).
            issue_ids: the mined issue of each entry.

        Returns:
            The ids saved and the ids superseded (with their replacement).
        """
        saved = self.save_drafts(entries, issue_ids)
        live = {e.id: set(e.evidence_calls) for e in entries}
        superseded: dict[str, str | None] = {}
        try:
            with transaction(self._factory) as session:
                rows = session.scalars(
                    select(FaqDraftRow).where(
                        FaqDraftRow.status == FaqStatus.DRAFT.value, FaqDraftRow.issue_id.is_not(None)
                    )
                ).all()
                for row in rows:
                    if row.id in live or row.reviewer is not None or row.published_at is not None:
                        continue  # a reviewer has handled it (e.g. reopened a published entry to edit it)
                    old = set(row.evidence_calls or ())
                    best, share = None, 0.0
                    for new_id, calls in live.items():
                        overlap = len(old & calls) / len(old) if old else 0.0
                        if overlap > share:
                            best, share = new_id, overlap
                    replacement = best if share >= SUPERSEDE_OVERLAP else None
                    row.status = FaqStatus.SUPERSEDED.value
                    row.updated_at = utcnow()
                    row.note = (
                        f"superseded by {replacement} (same calls, mined again)"
                        if replacement
                        else "superseded: the latest mining run no longer finds its issue"
                    )
                    superseded[row.id] = replacement
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot retire stale FAQ drafts: {exc}") from exc
        if superseded:
            log.info("FAQ drafts superseded by re-mining: %s", ", ".join(sorted(superseded)))
        return DraftSync(tuple(saved), superseded)

    def get(self, entry_id: str) -> FaqEntry:
        """The entry with this id.

        Raises:
            NotFoundError: no such entry.
        """
        with self._factory() as session:
            row = session.get(FaqDraftRow, entry_id)
            if row is None:
                raise NotFoundError(f"no FAQ entry {entry_id!r}; see 'callscope faq list'")
            return row.to_entry()

    def entries(self, status: FaqStatus | None = None, *, include_superseded: bool = False) -> list[FaqEntry]:
        """Entries, most frequent first: one status, or every live one (superseded drafts
        only with ``include_superseded`` or ``status=FaqStatus.SUPERSEDED``)."""
        with self._factory() as session:
            query = select(FaqDraftRow)
            if status is not None:
                query = query.where(FaqDraftRow.status == status.value)
            elif not include_superseded:
                query = query.where(FaqDraftRow.status != FaqStatus.SUPERSEDED.value)
            rows = session.scalars(query.order_by(FaqDraftRow.frequency.desc(), FaqDraftRow.id)).all()
            return [r.to_entry() for r in rows]

    def transition(
        self, entry_id: str, to: FaqStatus, *, reviewer: str | None = None, note: str | None = None
    ) -> FaqEntry:
        """Move an entry to another review status.

        Raises:
            NotFoundError: no such entry.
            InvalidTransitionError: the move is not allowed from the current status.
        """
        with transaction(self._factory) as session:
            row = session.get(FaqDraftRow, entry_id)
            if row is None:
                raise NotFoundError(f"no FAQ entry {entry_id!r}; see 'callscope faq list'")
            current = FaqStatus(row.status)
            if to not in ALLOWED_TRANSITIONS[current]:
                allowed = ", ".join(sorted(s.value for s in ALLOWED_TRANSITIONS[current])) or "nothing"
                raise InvalidTransitionError(
                    f"FAQ entry {entry_id!r} is {current.value}; it cannot become {to.value} (allowed: {allowed})"
                )
            row.status = to.value
            row.updated_at = utcnow()
            if reviewer is not None:
                row.reviewer = reviewer
            if note is not None:
                row.note = note
            if to == FaqStatus.PUBLISHED:
                row.published_at = utcnow()
            return row.to_entry()

    def approve(self, entry_id: str, *, reviewer: str | None = None) -> FaqEntry:
        return self.transition(entry_id, FaqStatus.APPROVED, reviewer=reviewer)

    def reject(self, entry_id: str, *, reviewer: str | None = None, note: str | None = None) -> FaqEntry:
        return self.transition(entry_id, FaqStatus.REJECTED, reviewer=reviewer, note=note)

    def reopen(self, entry_id: str) -> FaqEntry:
        return self.transition(entry_id, FaqStatus.DRAFT)

    def update(self, entry: FaqEntry) -> FaqEntry:
        """Edit an entry's questions/answers/tags (only drafts and approved entries).

        Raises:
            NotFoundError, InvalidTransitionError.
        """
        with transaction(self._factory) as session:
            row = session.get(FaqDraftRow, entry.id)
            if row is None:
                raise NotFoundError(f"no FAQ entry {entry.id!r}")
            if row.status not in (FaqStatus.DRAFT.value, FaqStatus.APPROVED.value):
                raise InvalidTransitionError(f"FAQ entry {entry.id!r} is {row.status}; reopen it before editing")
            _apply(row, entry)
            return row.to_entry()

    def publish(self, kb_path: Path, ids: Sequence[str] | None = None, *, author: str = "callscope") -> Publication:
        """Write approved entries into the knowledge-base file, mark them published and
        record the new file as a knowledge-base version (:mod:`callscope.ivr.kb_history`;
        the file as it was is kept first, to roll back to), whoever publishes: the API, the
        CLI or the closed loop.

        The file is created when it does not exist. Entries already in the file with the
        same id are replaced. The KB is written first (atomically): if that fails,
        nothing is marked published.

        Args:
            kb_path: the IVR knowledge base (``.yaml``/``.yml``/``.json``).
            ids: publish only these (each must be approved); default: every approved entry.
            author: who publishes (kept with the version).

        Returns:
            The entries published (status PUBLISHED) and the version recorded (None when
            nothing was published).

        Raises:
            NotFoundError: an id does not exist.
            InvalidTransitionError: an id is not approved.
            ConfigError: the KB file is invalid or cannot be written.
        """
        if ids is None:
            chosen = self.entries(FaqStatus.APPROVED)
        else:
            chosen = [self.get(i) for i in ids]
            for entry in chosen:
                if entry.status != FaqStatus.APPROVED:
                    raise InvalidTransitionError(
                        f"FAQ entry {entry.id!r} is {entry.status.value}; approve it before publishing"
                    )
        if not chosen:
            return Publication([], None)
        for entry in chosen:
            missing = sorted(lang for lang, qs in entry.questions.items() if qs and not entry.answers.get(lang))
            if missing:
                raise ConfigError(
                    f"FAQ entry {entry.id!r} has {', '.join(missing)} questions but no {', '.join(missing)} answer; "
                    "add the answer (or drop those questions) before publishing"
                )
        kb_path = Path(kb_path)
        kb_history.ensure_baseline(self._factory, kb_path, author)
        kb = load_knowledge_base(kb_path) if kb_path.exists() else KnowledgeBase()
        now = utcnow().replace(microsecond=0)
        published = [replace(e, status=FaqStatus.PUBLISHED, updated_at=now) for e in chosen]
        for entry in published:
            kb.upsert(entry)
        save_knowledge_base(kb, kb_path)
        for entry in published:
            self.transition(entry.id, FaqStatus.PUBLISHED)
        version = kb_history.record(self._factory, kb_path, action="publish", author=author,
                                    entry_id=published[0].id if len(published) == 1 else None)
        log.info("published %d FAQ entries to %s (version %d)", len(published), kb_path, version)
        return Publication(published, version)

    def unpublish(self, kb_path: Path, entry_id: str, *, author: str = "callscope") -> Publication:
        """Take a published entry out of the knowledge-base file (recorded as a version) and
        send it back to draft.

        Raises:
            NotFoundError: no such entry.
            InvalidTransitionError: the entry is not published.
            ConfigError: the KB file is invalid or cannot be written.
        """
        entry = self.get(entry_id)
        if entry.status != FaqStatus.PUBLISHED:
            raise InvalidTransitionError(f"FAQ entry {entry_id!r} is {entry.status.value}, not published")
        kb_path = Path(kb_path)
        kb_history.ensure_baseline(self._factory, kb_path, author)
        kb = load_knowledge_base(kb_path)
        kb.remove(entry_id)
        save_knowledge_base(kb, kb_path)
        version = kb_history.record(self._factory, kb_path, action="unpublish", author=author, entry_id=entry_id)
        draft = self.transition(entry_id, FaqStatus.DRAFT, reviewer=author, note=f"unpublished by {author}")
        return Publication([draft], version)

    # ---------------------------------------------------------------- issues

    def save_issues(self, rows: Iterable[dict[str, Any]]) -> int:
        """Replace the stored issues by this mining run's (dicts from ``MinedIssue.to_dict()``)."""
        rows = list(rows)
        try:
            with transaction(self._factory) as session:
                session.execute(delete(IssueRow))
                for r in rows:
                    session.add(
                        IssueRow(
                            id=r["id"],
                            label=r.get("label", ""),
                            labels=r.get("labels", {}),
                            keywords=r.get("keywords", []),
                            members=r.get("members", []),
                            examples=r.get("examples", []),
                            frequency=int(r.get("frequency", 0)),
                            share=float(r.get("share", 0.0)),
                            stats={
                                k: r.get(k)
                                for k in ("trend", "avg_handle_time_s", "avg_sentiment", "languages", "channels")
                            },
                        )
                    )
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot save issues: {exc}") from exc
        return len(rows)

    def issues(self) -> list[IssueRow]:
        """Stored issues, most frequent first."""
        with self._factory() as session:
            return list(session.scalars(select(IssueRow).order_by(IssueRow.frequency.desc(), IssueRow.id)).all())
