"""Automatic QA: ``/api/recordings/{id}/qa`` (result, overrides) and ``/api/qa/*``
(the active scorecard, re-scoring, export)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status
from pydantic import BaseModel, Field

from callscope.api.deps import CtxDep, EditorDep, PrincipalDep
from callscope.api.redaction import redact_str
from callscope.api.routers.recordings import RecordingId, _get
from callscope.api.schemas import Problem
from callscope.domain import QaResult
from callscope.errors import NotFoundError
from callscope.qa import store
from callscope.qa.rules import QaRuleError

router = APIRouter(tags=["qa"])
_ERRORS = {404: {"model": Problem}, 422: {"model": Problem}}


class OverrideIn(BaseModel):
    passed: bool | None = Field(description="the reviewer's verdict; null returns to the automatic one")
    note: str = Field(default="", max_length=2000)


class ScorecardIn(BaseModel):
    source: str = Field(description="the scorecard as YAML or JSON text", max_length=200_000)


def _redacted(result: dict[str, Any], language: str | None) -> dict[str, Any]:
    def ev(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**e, "text": redact_str(e["text"], language)} for e in items]

    return {**result,
            "items": [{**i, "detail": redact_str(i["detail"], language), "evidence": ev(i["evidence"])}
                      for i in result["items"]],
            "categories": [{**c, "evidence": ev(c["evidence"])} for c in result["categories"]]}


def _out(result: QaResult, principal: Any, language: str | None) -> dict[str, Any]:
    data = result.to_dict()
    return data if principal.role.sees_pii else _redacted(data, language)


@router.get("/api/recordings/{recording_id}/qa", responses=_ERRORS,
            summary="The call's automatic QA result (reviewer overrides applied)")
def recording_qa(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep) -> dict[str, Any]:
    recording = _get(ctx, recording_id)
    result = store.get_result(ctx, recording.id)
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this call has no QA result yet")
    out = _out(result, principal, recording.language)
    out["history"] = store.override_history(ctx, recording.id)
    return out


@router.put("/api/recordings/{recording_id}/qa/{criterion}", responses=_ERRORS,
            summary="Override one criterion's verdict (the automatic one is kept)")
def override(recording_id: RecordingId, criterion: Annotated[str, Path(max_length=64)], body: OverrideIn,
             ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    recording = _get(ctx, recording_id)
    try:
        result = store.override(ctx, recording.id, criterion, body.passed, body.note, principal.user.username)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return _out(result, principal, recording.language)


@router.get("/api/qa/scorecard", summary="The active QA scorecard (rules as YAML/JSON text, and parsed)")
def get_scorecard(ctx: CtxDep, principal: PrincipalDep) -> dict[str, Any]:
    active = store.active_scorecard(ctx)
    return {
        "id": active.rules.id, "name": active.rules.name, "origin": active.origin, "author": active.author,
        "saved_at": active.saved_at.isoformat() if active.saved_at else None, "source": active.source,
        "criteria": [{"id": c.id, "name": c.name, "description": c.description, "weight": c.weight}
                     for c in active.rules.criteria],
        "categories": [{"id": c.id, "name": c.name} for c in active.rules.categories],
    }


@router.put("/api/qa/scorecard", responses={422: {"model": Problem}},
            summary="Save a scorecard (validated) as the active one and re-score every analysed call")
def put_scorecard(body: ScorecardIn, ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    try:
        active = store.save_scorecard(ctx, body.source, principal.user.username)
    except QaRuleError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    scored = store.rescore(ctx, active.rules)
    return {**get_scorecard(ctx, principal), "rescored": scored}


@router.post("/api/qa/rescore", summary="Re-score every analysed call with the active scorecard")
def rescore(ctx: CtxDep, principal: EditorDep) -> dict[str, int]:
    return {"rescored": store.rescore(ctx)}


@router.get("/api/qa/export", responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
            summary="Every call's QA verdicts as CSV or JSON (overrides applied and marked)")
def export(ctx: CtxDep, principal: PrincipalDep,
           format: Annotated[Literal["csv", "json"], Query()] = "csv") -> Response:
    rows = store.export_rows(ctx)
    if not principal.role.sees_pii:
        rows = [{**r, **_redacted(r, None)} for r in rows]
    if format == "json":
        return Response(store.export_json(rows), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="qa.json"'})
    return Response("\ufeff" + store.export_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="qa.csv"'})
