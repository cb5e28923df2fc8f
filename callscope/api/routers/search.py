"""``/api/search``: full-text search across transcripts (English and Mandarin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool

from callscope.api.deps import AdminDep, CtxDep, PrincipalDep
from callscope.api.redaction import SEARCH_HIT_TEXT_FIELDS, redact_fields
from callscope.api.schemas import MAX_OFFSET, Problem, ReindexOut, SearchHitOut, SearchOut
from callscope.errors import NotFoundError
from callscope.search import index as search_index

router = APIRouter(prefix="/api/search", tags=["search"])


@router.get("", response_model=SearchOut, responses={422: {"model": Problem}},
            summary="Transcript segments containing every word of the query, best first")
def search(
    ctx: CtxDep,
    principal: PrincipalDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="words or Chinese text; word* for a prefix")],
    language: Annotated[str | None, Query(max_length=16)] = None,
    recording_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> SearchOut:
    try:
        hits, total = search_index.search_transcripts(ctx, q, language=language, recording_id=recording_id,
                                                      limit=limit, offset=offset)
    except search_index.QueryError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    redact = not principal.role.sees_pii
    out = []
    for h in hits:
        hit = SearchHitOut(recording_id=h.recording_id, recording_name=h.recording_name, segment=h.seg_index,
                           start=round(h.start, 3), end=round(h.end, 3), speaker=h.speaker, language=h.language,
                           text=h.text, score=round(h.score, 4))
        if redact:  # the recording's name and the speaker label can hold PII too
            hit = SearchHitOut(**redact_fields(hit.model_dump(), SEARCH_HIT_TEXT_FIELDS, h.language))
        out.append(hit)
    return SearchOut(query=q, total=total, hits=out)


@router.post("/reindex", response_model=ReindexOut, responses={404: {"model": Problem}},
             summary="Rebuild the search index (all calls, or one with recording_id) (admin)")
async def reindex(
    ctx: CtxDep,
    principal: AdminDep,
    recording_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{6,64}$")] = None,
) -> ReindexOut:
    if recording_id:
        try:
            segments = await run_in_threadpool(search_index.index_recording, ctx, recording_id)
        except NotFoundError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
        return ReindexOut(recordings=1, segments=segments)
    return ReindexOut(recordings=await run_in_threadpool(search_index.reindex_all, ctx))
