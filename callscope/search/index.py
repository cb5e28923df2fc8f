"""Full-text search across transcripts, English and Mandarin.

Text is tokenised the same way for indexing and for queries: words outside CJK
scripts are lower-cased; Chinese runs (converted to simplified characters, so a
traditional-character query finds simplified text and back) become overlapping
character bigrams, so ``开门`` finds ``几点开门`` without depending on a word
segmenter's choices. Single characters are indexed separately, so a one-character
query still matches.

SQLite (the default) uses an FTS5 table (``porter unicode61`` tokenizer, BM25 ranking);
PostgreSQL uses ``to_tsvector('simple', …)`` with a GIN index and phrase queries.
:func:`index_recording` (re)indexes one call, and also records the per-call summary
(caller emotion, detected issue) that the call list filters on.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, text
from sqlalchemy.orm import Session

from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.errors import CallscopeError, StorageError
from callscope.language import CJK_CLASS, to_simplified
from callscope.progress import Hook, no_progress
from callscope.recordings.tables import ArtifactRow, RecordingRow
from callscope.search.tables import CallSummaryRow, TranscriptSegmentRow
from callscope.search.tables import TranscriptSegmentRow as Seg

log = logging.getLogger(__name__)

_TOKEN = re.compile(rf"([{CJK_CLASS}]+)|([^\W_{CJK_CLASS}]+)(\*?)")
_FTS_TABLE = "search_fts"
_PG_INDEX = "ix_search_segments_tsv"
_ready: weakref.WeakSet[Engine] = weakref.WeakSet()
_ready_lock = threading.Lock()
_index_lock = threading.Lock()


class QueryError(CallscopeError):
    """A search query that cannot be run (nothing to search for, or malformed)."""


# ----------------------------------------------------------------- tokenisation


def _normalize(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]


def index_tokens(value: str) -> tuple[str, str]:
    """The ``(terms, chars)`` strings stored for a piece of text.

    Returns:
        terms: words and CJK bigrams in text order; chars: the CJK characters.
    """
    terms: list[str] = []
    chars: list[str] = []
    for match in _TOKEN.finditer(_normalize(value)):
        cjk, word = match.group(1), match.group(2)
        if cjk:
            run = to_simplified(cjk)
            terms.extend(_bigrams(run))
            chars.extend(run)
        elif word:
            terms.append(word)
    return " ".join(terms), " ".join(chars)


@dataclass(frozen=True, slots=True)
class QueryPart:
    """One AND-ed part of a query: a phrase of tokens in the ``terms`` or ``chars`` column."""

    tokens: tuple[str, ...]
    column: str  # "terms" | "chars"
    prefix: bool = False


def parse_query(query: str) -> list[QueryPart]:
    """Split a user query into parts that must all match.

    A trailing ``*`` on a word makes it a prefix (``refund*``); a Chinese run
    must appear as written (a phrase of its bigrams).

    Raises:
        QueryError: the query holds no word or character to search for.
    """
    parts: list[QueryPart] = []
    for match in _TOKEN.finditer(_normalize(query)):
        cjk, word, star = match.group(1), match.group(2), match.group(3)
        if cjk:
            run = to_simplified(cjk)
            if len(run) == 1:
                parts.append(QueryPart((run,), "chars"))
            else:
                parts.append(QueryPart(tuple(_bigrams(run)), "terms"))
        elif word:
            parts.append(QueryPart((word,), "terms", prefix=bool(star)))
    if not parts:
        raise QueryError(f"the search {query!r} holds no words to look for")
    return parts[:32]


def _fts5_expression(parts: list[QueryPart]) -> str:
    out = []
    for part in parts:
        phrase = " ".join(part.tokens).replace('"', "")
        out.append(f'{part.column} : "{phrase}"' + ("*" if part.prefix else ""))
    return " AND ".join(out)


def _tsquery_expression(parts: list[QueryPart]) -> str:
    out = []
    for part in parts:
        tokens = [t.replace("'", "") for t in part.tokens]
        if part.prefix:
            out.append(f"'{tokens[0]}':*")
        else:
            out.append("(" + " <-> ".join(f"'{t}'" for t in tokens) + ")")
    return " & ".join(out)


# ------------------------------------------------------------------------ schema


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def ensure_search_schema(engine: Engine) -> None:
    """Create the FTS5 table (SQLite) or the GIN full-text index (PostgreSQL) once.

    Raises:
        StorageError: SQLite was built without FTS5.
    """
    if engine in _ready:
        return
    with _ready_lock:
        if engine in _ready:
            return
        with engine.begin() as conn:
            if _is_sqlite(engine):
                try:
                    conn.execute(text(
                        f"CREATE VIRTUAL TABLE IF NOT EXISTS {_FTS_TABLE} USING fts5("
                        "terms, chars, tokenize = 'porter unicode61 remove_diacritics 2')"
                    ))
                except Exception as exc:  # sqlite3.OperationalError: no such module: fts5
                    raise StorageError(
                        f"full-text search needs SQLite with FTS5 ({exc}); use a Python built with FTS5 "
                        "or PostgreSQL (CALLSCOPE_DATABASE_URL)"
                    ) from exc
            elif engine.dialect.name == "postgresql":
                conn.execute(text(
                    f"CREATE INDEX IF NOT EXISTS {_PG_INDEX} ON search_segments "
                    "USING gin (to_tsvector('simple', terms || ' ' || chars))"
                ))
        _ready.add(engine)


# ---------------------------------------------------------------------- indexing


def _segments(transcript: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, seg in enumerate(transcript.get("segments") or ()):
        if isinstance(seg, dict) and str(seg.get("text", "")).strip():
            yield index, seg


def index_recording(ctx: Context, recording_id: str) -> int:
    """(Re)index one recording's transcript for search, and its call summary for filters.

    Safe to call again at any time (after transcription, after analysis, after an
    edit): the recording's old index rows are replaced in one transaction.

    Args:
        ctx: the application context.
        recording_id: a stored recording's id.

    Returns:
        How many transcript segments were indexed (0 when there is no transcript yet).

    Raises:
        NotFoundError: no such recording.
    """

    recording = ctx.store.get(recording_id)
    rid = recording.id
    transcript = ctx.store.get_artifact(rid, "transcript") or {}
    analysis = ctx.store.get_artifact(rid, "analysis") or {}
    engine = ctx.engine
    ensure_search_schema(engine)
    language = transcript.get("language") or analysis.get("language") or recording.language
    with _index_lock, transaction(ctx.sessions) as session:
        # serialise concurrent (re)indexing of one call across processes on PostgreSQL
        session.execute(select(RecordingRow.id).where(RecordingRow.id == rid).with_for_update())
        _delete_index_rows(session, engine, rid)
        rows = []
        for index, seg in _segments(transcript):
            seg_text = str(seg["text"]).strip()
            terms, chars = index_tokens(seg_text)
            rows.append(TranscriptSegmentRow(
                recording_id=rid, seg_index=index, start=float(seg.get("start", 0.0)),
                end=float(seg.get("end", 0.0)), speaker=seg.get("speaker"), language=language,
                text=seg_text, terms=terms, chars=chars,
            ))
        session.add_all(rows)
        session.flush()
        if _is_sqlite(engine) and rows:
            session.execute(
                text(f"INSERT INTO {_FTS_TABLE}(rowid, terms, chars) VALUES (:id, :terms, :chars)"),
                [{"id": r.id, "terms": r.terms, "chars": r.chars} for r in rows],
            )
        summary = session.get(CallSummaryRow, rid)
        if summary is None:
            summary = CallSummaryRow(recording_id=rid)
            session.add(summary)
        summary.language = language
        summary.reason = analysis.get("reason") or None
        summary.caller_emotion = analysis.get("caller_emotion") or None
        if analysis.get("issue_id"):  # else keep what issue mining assigned
            summary.issue_id = str(analysis["issue_id"])[:128]
            summary.issue_label = analysis.get("issue_label") or summary.issue_label or summary.issue_id
        summary.indexed_at = utcnow()
    log.debug("indexed %d segments of %s", len(rows), rid[:12])
    return len(rows)


def _delete_index_rows(session: Session, engine: Engine, recording_id: str) -> None:
    if _is_sqlite(engine):
        session.execute(
            text(f"DELETE FROM {_FTS_TABLE} WHERE rowid IN "
                 "(SELECT id FROM search_segments WHERE recording_id = :rid)"),
            {"rid": recording_id},
        )
    session.execute(delete(TranscriptSegmentRow).where(TranscriptSegmentRow.recording_id == recording_id))


def unindex_recording(ctx: Context, recording_id: str) -> None:
    """Remove a recording from the search index and the call summaries."""

    ensure_search_schema(ctx.engine)
    with _index_lock, transaction(ctx.sessions) as session:
        _delete_index_rows(session, ctx.engine, recording_id)
        session.execute(delete(CallSummaryRow).where(CallSummaryRow.recording_id == recording_id))


def stale_recordings(ctx: Context) -> list[str]:
    """Recordings whose transcript or analysis changed after they were last indexed."""

    with ctx.sessions() as session:
        newest = (
            select(ArtifactRow.recording_id, func.max(ArtifactRow.updated_at).label("updated"))
            .where(ArtifactRow.kind.in_(("transcript", "analysis")))
            .group_by(ArtifactRow.recording_id)
            .subquery()
        )
        query = (
            select(newest.c.recording_id)
            .outerjoin(CallSummaryRow, CallSummaryRow.recording_id == newest.c.recording_id)
            .where(or_(CallSummaryRow.recording_id.is_(None), CallSummaryRow.indexed_at < newest.c.updated))
        )
        return list(session.scalars(query))


def refresh_index(ctx: Context) -> int:
    """Index the recordings that are new or changed since they were indexed; returns how many."""
    count = 0
    for rid in stale_recordings(ctx):
        try:
            index_recording(ctx, rid)
            count += 1
        except Exception:  # one broken artifact must not stop search for everything else
            log.exception("could not index recording %s", rid[:12])
    return count


def reindex_all(ctx: Context, hook: Hook = no_progress) -> int:
    """Rebuild the whole index from the stored transcripts; returns the recordings indexed."""
    ensure_search_schema(ctx.engine)
    with ctx.sessions() as session:
        ids = list(session.scalars(select(RecordingRow.id).order_by(RecordingRow.created_at)))
    if _is_sqlite(ctx.engine):
        with _index_lock, transaction(ctx.sessions) as session:  # drop orphans left by other deleters
            session.execute(text(f"DELETE FROM {_FTS_TABLE} WHERE rowid NOT IN (SELECT id FROM search_segments)"))
    for done, rid in enumerate(ids, 1):
        index_recording(ctx, rid)
        hook("reindex", done, len(ids))
    return len(ids)


# ------------------------------------------------------------------------ search


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One matching transcript segment."""

    recording_id: str
    recording_name: str
    seg_index: int
    start: float
    end: float
    speaker: str | None
    language: str | None
    text: str
    score: float


def search_transcripts(
    ctx: Context, query: str, *, language: str | None = None, recording_id: str | None = None,
    limit: int = 50, offset: int = 0,
) -> tuple[list[SearchHit], int]:
    """Find transcript segments matching every word of ``query`` (best first).

    Returns:
        (hits on this page, total number of matching segments)

    Raises:
        QueryError: the query has nothing to search for.
    """

    parts = parse_query(query)
    engine = ctx.engine
    ensure_search_schema(engine)
    refresh_index(ctx)
    if _is_sqlite(engine):
        fts = text(f"SELECT rowid AS id, bm25({_FTS_TABLE}) AS rank FROM {_FTS_TABLE} "
                   f"WHERE {_FTS_TABLE} MATCH :q").bindparams(q=_fts5_expression(parts))
        matches = fts.columns(id=Seg.id.type, rank=Seg.start.type).subquery("m")
        score = (-matches.c.rank).label("score")
        base = select(Seg, RecordingRow.original_name, score).join(matches, matches.c.id == Seg.id)
    else:
        tsq = func.to_tsquery("simple", _tsquery_expression(parts))
        vector = func.to_tsvector("simple", Seg.terms + " " + Seg.chars)
        score = func.ts_rank(vector, tsq).label("score")
        base = select(Seg, RecordingRow.original_name, score).where(vector.op("@@")(tsq))
    base = base.join(RecordingRow, RecordingRow.id == Seg.recording_id)
    if language:
        base = base.where(Seg.language == language)
    if recording_id:
        base = base.where(Seg.recording_id == recording_id)
    try:
        with ctx.sessions() as session:
            total = int(session.scalar(select(func.count()).select_from(base.subquery())) or 0)
            rows = session.execute(
                base.order_by(score.desc(), RecordingRow.created_at.desc(), Seg.seg_index).limit(limit).offset(offset)
            ).all()
    except Exception as exc:
        if "fts5" in str(exc).lower() or "tsquery" in str(exc).lower():
            raise QueryError(f"cannot search for {query!r}: {exc}") from exc
        raise
    hits = [
        SearchHit(seg.recording_id, name, seg.seg_index, seg.start, seg.end, seg.speaker, seg.language, seg.text,
                  float(rank or 0.0))
        for seg, name, rank in rows
    ]
    return hits, total
