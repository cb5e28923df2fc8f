"""The recordings store: every call stored once, safely, with its metadata.

Audio bytes are content-addressed (``<audio_dir>/ab/cd/<sha256><ext>``) and written
atomically (temporary file in the same folder, fsync, rename), so a crash never leaves
a half-written file under a final name. A file is decoded completely before anything
is stored: corrupt, empty or unsupported audio raises :class:`InvalidAudioError` and
leaves the store untouched. Ingesting the same bytes twice (even from two processes
at once) yields one recording.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from callscope.db import transaction, utcnow
from callscope.errors import InvalidAudioError, NotFoundError
from callscope.domain import Recording
from callscope.recordings.audio import SUPPORTED_EXTENSIONS, check_duration, iter_audio, probe
from callscope.recordings.tables import ArtifactRow, RecordingRow
from callscope.storage_io import atomic_write_bytes

log = logging.getLogger(__name__)

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class IngestResult:
    recording: Recording
    created: bool  # False when the same audio was already stored


@dataclass(frozen=True, slots=True)
class RecordingFilter:
    """Filters for :meth:`RecordingStore.list`; ``None`` means no filter."""

    since: datetime | None = None
    until: datetime | None = None
    language: str | None = None
    agent: str | None = None
    source: str | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    call_id: str | None = None
    ids: Sequence[str] | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _to_recording(row: RecordingRow, audio_dir: Path) -> Recording:
    return Recording(
        id=row.id,
        sha256=row.id,
        path=str(audio_dir / row.path),
        source=row.source,
        original_name=row.original_name,
        duration_s=row.duration_s,
        sample_rate=row.sample_rate,
        channels=row.channels,
        codec=row.codec,
        size_bytes=row.size_bytes,
        created_at=row.created_at,
        call_id=row.call_id,
        language=row.language,
        agent=row.agent,
        metadata=dict(row.metadata_json or {}),
    )


class RecordingStore:
    """Stores recordings (audio + metadata) and their derived artifacts."""

    def __init__(
        self, audio_dir: Path, sessions: sessionmaker[Session], *, max_duration_s: float | None = None
    ) -> None:
        self.audio_dir = Path(audio_dir)
        self.sessions = sessions
        self.max_duration_s = max_duration_s  # longer calls are rejected at ingest

    # ------------------------------------------------------------------ ingest

    def ingest_file(
        self,
        path: Path,
        *,
        source: str = "cli",
        call_id: str | None = None,
        agent: str | None = None,
        language: str | None = None,
        metadata: dict[str, Any] | None = None,
        original_name: str | None = None,
    ) -> IngestResult:
        """Validate, store and register one audio file (idempotent by content).

        Raises:
            InvalidAudioError: the file is missing, empty, corrupt or unsupported.
            StorageError: the data folder or database cannot be written.
        """
        path = Path(path)
        name = original_name or path.name
        if not path.is_file():
            raise InvalidAudioError(f"{name}: no such file ({path})")
        if path.stat().st_size == 0:
            raise InvalidAudioError(f"{name}: the file is empty (0 bytes)")
        sha = sha256_file(path)
        existing = self._existing(sha)
        if existing is not None:
            return IngestResult(existing, created=False)
        duration_s, info = _validate(path, name, self.max_duration_s)
        return self._register(
            sha, path, name, info, duration_s, path.stat().st_size,
            source=source, call_id=call_id, agent=agent, language=language, metadata=metadata,
        )

    def ingest_bytes(
        self,
        data: bytes,
        *,
        original_name: str,
        source: str,
        call_id: str | None = None,
        agent: str | None = None,
        language: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> IngestResult:
        """Like :meth:`ingest_file` for bytes already in memory (uploads, Twilio media)."""
        if not data:
            raise InvalidAudioError(f"{original_name}: the file is empty (0 bytes)")
        sha = hashlib.sha256(data).hexdigest()
        existing = self._existing(sha)
        if existing is not None:
            return IngestResult(existing, created=False)
        # the temporary copy carries the original name, so errors name the user's file
        safe_name = Path(original_name).name.replace(os.sep, "_") or "upload.wav"
        tmp_dir = Path(tempfile.mkdtemp(prefix="callscope-ingest-"))
        tmp = tmp_dir / safe_name
        try:
            tmp.write_bytes(data)
            duration_s, info = _validate(tmp, original_name, self.max_duration_s)
            return self._register(
                sha, tmp, original_name, info, duration_s, len(data),
                source=source, call_id=call_id, agent=agent, language=language, metadata=metadata,
            )
        finally:
            tmp.unlink(missing_ok=True)
            tmp_dir.rmdir()

    def _existing(self, sha: str) -> Recording | None:
        with self.sessions() as session:
            row = session.get(RecordingRow, sha)
            return _to_recording(row, self.audio_dir) if row else None

    def _register(
        self,
        sha: str,
        src: Path,
        name: str,
        info: Any,
        duration_s: float,
        size: int,
        **fields: Any,
    ) -> IngestResult:
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED_EXTENSIONS:
            suffix = "." + {"pcm_mulaw": "wav", "pcm_alaw": "wav"}.get(info.codec, info.container.split(",")[0])
        relative = Path(sha[:2]) / sha[2:4] / f"{sha}{suffix}"
        target = self.audio_dir / relative
        if not target.exists() or target.stat().st_size != size:
            atomic_write_bytes(target, src)
        row = RecordingRow(
            id=sha,
            path=str(relative),
            original_name=name,
            channels=info.channels,
            duration_s=duration_s,
            sample_rate=info.sample_rate,
            codec=info.codec,
            size_bytes=size,
            created_at=utcnow(),
            source=fields["source"],
            call_id=fields.get("call_id"),
            agent=fields.get("agent"),
            language=fields.get("language"),
            metadata_json=fields.get("metadata") or {},
        )
        try:
            with transaction(self.sessions) as session:
                session.add(row)
        except IntegrityError:
            # Another process stored the same audio between our check and insert.
            existing = self._existing(sha)
            if existing is None:  # pragma: no cover - integrity error for another reason
                raise
            return IngestResult(existing, created=False)
        log.info("stored %s as %s (%.1f s, %d ch)", name, sha[:12], duration_s, info.channels)
        return IngestResult(_to_recording(row, self.audio_dir), created=True)

    # ------------------------------------------------------------------- query

    def get(self, recording_id: str) -> Recording:
        """Raises: NotFoundError."""
        with self.sessions() as session:
            row = session.get(RecordingRow, recording_id)
            if row is None:
                row = self._by_prefix(session, recording_id)
            return _to_recording(row, self.audio_dir)

    def _by_prefix(self, session: Session, prefix: str) -> RecordingRow:
        if len(prefix) >= 6 and all(c in "0123456789abcdef" for c in prefix):
            rows = session.scalars(select(RecordingRow).where(RecordingRow.id.startswith(prefix)).limit(2)).all()
            if len(rows) == 1:
                return rows[0]
        raise NotFoundError(f"no recording with id {prefix!r}")

    def list(self, filters: RecordingFilter | None = None, *, limit: int = 50, offset: int = 0) -> list[Recording]:
        filters = filters or RecordingFilter()
        with self.sessions() as session:
            query = _apply_filters(select(RecordingRow), filters)
            query = query.order_by(RecordingRow.created_at.desc(), RecordingRow.id).limit(limit).offset(offset)
            return [_to_recording(r, self.audio_dir) for r in session.scalars(query)]

    def count(self, filters: RecordingFilter | None = None) -> int:
        with self.sessions() as session:
            query = _apply_filters(select(func.count()).select_from(RecordingRow), filters or RecordingFilter())
            return int(session.scalar(query) or 0)

    def iter_all(self) -> Iterator[Recording]:
        with self.sessions() as session:
            for row in session.scalars(select(RecordingRow).order_by(RecordingRow.created_at)):
                yield _to_recording(row, self.audio_dir)

    def update(self, recording_id: str, **fields: Any) -> Recording:
        """Set language/agent/call_id or merge ``metadata``."""
        with transaction(self.sessions) as session:
            row = session.get(RecordingRow, recording_id)
            if row is None:
                raise NotFoundError(f"no recording with id {recording_id!r}")
            for key in ("language", "agent", "call_id"):
                if key in fields:
                    setattr(row, key, fields[key])
            if "metadata" in fields:
                row.metadata_json = {**(row.metadata_json or {}), **fields["metadata"]}
            return _to_recording(row, self.audio_dir)

    def delete(self, recording_id: str) -> None:
        """Delete a recording, its derived artifacts and its audio file.

        Raises:
            NotFoundError: no such recording.
        """
        with transaction(self.sessions) as session:
            row = session.get(RecordingRow, recording_id)
            if row is None:
                raise NotFoundError(f"no recording with id {recording_id!r}")
            path = self.audio_dir / row.path
            session.execute(delete(ArtifactRow).where(ArtifactRow.recording_id == recording_id))
            session.delete(row)
        path.unlink(missing_ok=True)

    # --------------------------------------------------------------- artifacts

    def save_artifact(self, recording_id: str, kind: str, data: dict[str, Any]) -> None:
        """Store (or replace) a derived result, e.g. kind="transcript"."""
        with transaction(self.sessions) as session:
            row = session.get(ArtifactRow, (recording_id, kind))
            if row is None:
                session.add(ArtifactRow(recording_id=recording_id, kind=kind, data=data))
            else:
                row.data = data

    def get_artifact(self, recording_id: str, kind: str) -> dict[str, Any] | None:
        with self.sessions() as session:
            row = session.get(ArtifactRow, (recording_id, kind))
            return dict(row.data) if row is not None else None

    def artifact_kinds(self, recording_id: str) -> list[str]:
        with self.sessions() as session:
            return list(
                session.scalars(select(ArtifactRow.kind).where(ArtifactRow.recording_id == recording_id))
            )


def _apply_filters(query, filters: RecordingFilter):  # type: ignore[no-untyped-def]
    conditions = []
    if filters.since is not None:
        conditions.append(RecordingRow.created_at >= filters.since)
    if filters.until is not None:
        conditions.append(RecordingRow.created_at < filters.until)
    if filters.language:
        conditions.append(RecordingRow.language == filters.language)
    if filters.agent:
        conditions.append(RecordingRow.agent == filters.agent)
    if filters.source:
        conditions.append(RecordingRow.source == filters.source)
    if filters.call_id:
        conditions.append(RecordingRow.call_id == filters.call_id)
    if filters.min_duration_s is not None:
        conditions.append(RecordingRow.duration_s >= filters.min_duration_s)
    if filters.max_duration_s is not None:
        conditions.append(RecordingRow.duration_s <= filters.max_duration_s)
    if filters.ids is not None:
        conditions.append(RecordingRow.id.in_(list(filters.ids)))
    return query.where(*conditions) if conditions else query


def _validate(path: Path, name: str, max_duration_s: float | None = None) -> tuple[float, Any]:
    """Probe and fully decode the file; returns (duration_s, AudioInfo).

    The duration the container declares is checked against ``max_duration_s`` before
    decoding, and the decoded duration while streaming (small chunks, flat memory).

    Raises:
        InvalidAudioError: with the file name and the reason.
    """
    try:
        info = probe(path)
    except InvalidAudioError as exc:
        raise InvalidAudioError(str(exc).replace(path.name, name, 1)) from None
    check_duration(info.duration_s, name, max_duration_s)
    frames = 0
    try:
        for chunk in iter_audio(path, chunk_s=10.0, max_duration_s=max_duration_s):
            frames += chunk.frames
    except InvalidAudioError as exc:
        raise InvalidAudioError(str(exc).replace(path.name, name, 1)) from None
    duration_s = frames / float(info.sample_rate)
    if duration_s <= 0:
        raise InvalidAudioError(f"{name}: the file holds no audio samples (zero length)")
    if info.sample_rate < 4000:
        raise InvalidAudioError(f"{name}: sample rate {info.sample_rate} Hz is too low for speech (need ≥ 4000 Hz)")
    return duration_s, info
