"""Knowledge-base versions: every publish, unpublish and rollback keeps the file's text,
who changed it and when, so any change can be diffed and undone."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callscope.db import transaction, utcnow
from callscope.errors import ConfigError, NotFoundError
from callscope.ivr.kb import KnowledgeBase, load_knowledge_base, save_knowledge_base
from callscope.ivr.tables import KbVersionRow
from callscope.storage_io import atomic_write_text


@dataclass(frozen=True, slots=True)
class KbVersion:
    id: int
    action: str  # baseline, publish, unpublish, rollback
    entry_id: str | None
    author: str
    created_at: datetime
    entries: int  # entries in the file at that version


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"cannot read the knowledge base {path}: {exc.strerror or exc}") from None


def _count(text: str, path: Path) -> int:
    import yaml

    try:
        data = yaml.safe_load(text) if text.strip() else []
    except yaml.YAMLError:
        return 0
    if isinstance(data, dict):
        data = data.get("entries") or []
    return len(data) if isinstance(data, list) else 0


def record(factory: sessionmaker[Session], kb_path: Path, *, action: str, author: str,
           entry_id: str | None = None) -> int:
    """Store the file's current text as a new version; returns its id."""
    kb_path = Path(kb_path)
    with transaction(factory) as session:
        row = KbVersionRow(kb_path=str(kb_path.resolve()), action=action, entry_id=entry_id, author=author,
                           content=_read(kb_path), created_at=utcnow())
        session.add(row)
        session.flush()
        return int(row.id)


def ensure_baseline(factory: sessionmaker[Session], kb_path: Path, author: str) -> None:
    """Before the first change through callscope, keep the file as it was (to roll back to)."""
    with factory() as session:
        exists = session.scalar(select(KbVersionRow.id).where(KbVersionRow.kb_path == str(Path(kb_path).resolve()))
                                .limit(1))
    if exists is None:
        record(factory, kb_path, action="baseline", author=author)


def versions(factory: sessionmaker[Session], kb_path: Path) -> list[KbVersion]:
    """Newest first."""
    with factory() as session:
        rows = session.scalars(select(KbVersionRow).where(KbVersionRow.kb_path == str(Path(kb_path).resolve()))
                               .order_by(KbVersionRow.id.desc()))
        return [KbVersion(r.id, r.action, r.entry_id, r.author, r.created_at, _count(r.content, kb_path)) for r in rows]


def _get(session: Session, version_id: int) -> KbVersionRow:
    row = session.get(KbVersionRow, version_id)
    if row is None:
        raise NotFoundError(f"no knowledge-base version {version_id}")
    return row


def diff(factory: sessionmaker[Session], version_id: int) -> str:
    """Unified diff from the previous version of the same file to this one."""
    with factory() as session:
        row = _get(session, version_id)
        before = session.scalars(select(KbVersionRow).where(KbVersionRow.kb_path == row.kb_path,
                                                             KbVersionRow.id < row.id)
                                 .order_by(KbVersionRow.id.desc()).limit(1)).first()
        old = _canonical(before.content) if before is not None else ""
        old_name = f"version {before.id}" if before is not None else "empty"
        return "".join(difflib.unified_diff(old.splitlines(keepends=True), _canonical(row.content).splitlines(keepends=True),
                                            fromfile=old_name, tofile=f"version {row.id}"))


def _canonical(text: str) -> str:
    """The file's data in one layout (block YAML, keys sorted): a diff shows what changed, not how it was written."""
    import yaml

    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        return text
    if data is None:
        return ""
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=True, width=100, default_flow_style=False)


def rollback(factory: sessionmaker[Session], kb_path: Path, version_id: int, author: str) -> tuple[int, list[str]]:
    """Write version ``version_id`` back to the file (atomically, validated first).

    Returns:
        The new version's id and the ids of the entries the file now holds.

    Raises:
        NotFoundError: no such version (or it belongs to another file).
        ConfigError: the old text no longer loads (e.g. an action was removed).
    """
    kb_path = Path(kb_path)
    with factory() as session:
        row = _get(session, version_id)
        if row.kb_path != str(kb_path.resolve()):
            raise NotFoundError(f"knowledge-base version {version_id} belongs to another file ({row.kb_path})")
        content = row.content
    if content.strip():
        tmp = kb_path.with_name(f".{kb_path.name}.rollback{kb_path.suffix}")
        try:
            atomic_write_text(tmp, content)
            kb = load_knowledge_base(tmp)  # raises ConfigError when the old text is no longer valid
        finally:
            tmp.unlink(missing_ok=True)
        atomic_write_text(kb_path, content)  # byte for byte, comments included
    else:  # the file did not exist before: an empty knowledge base
        kb = KnowledgeBase()
        save_knowledge_base(kb, kb_path)
    new_id = record(factory, kb_path, action="rollback", author=author, entry_id=f"version {version_id}")
    return new_id, [e.id for e in kb.entries]
