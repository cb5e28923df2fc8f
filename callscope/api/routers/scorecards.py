"""QA scorecards: ``/api/recordings/{id}/scorecards`` and ``/api/scorecards`` (list, export)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from callscope.api.deps import CtxDep, EditorDep, PrincipalDep
from callscope.api.redaction import redact_str
from callscope.api.routers.recordings import RecordingId, _get, _parse_when
from callscope.api.schemas import Problem, ScorecardCriterion, ScorecardIn, ScorecardOut
from callscope.auth.service import UserRole
from callscope.errors import NotFoundError
from callscope.qa import scorecards as cards

router = APIRouter(tags=["scorecards"])
_ERRORS = {404: {"model": Problem}, 422: {"model": Problem}}


def _out(card: cards.Scorecard, principal=None) -> ScorecardOut:  # type: ignore[no-untyped-def]
    """The scorecard as ``principal`` may see it: comments PII-redacted without PII access."""
    return ScorecardOut(id=card.id, recording_id=card.recording_id, reviewer=card.reviewer, scores=card.scores,
                        total=card.total, comments=_visible(card, principal).comments, created_at=card.created_at,
                        updated_at=card.updated_at)


def _visible(card: cards.Scorecard, principal) -> cards.Scorecard:  # type: ignore[no-untyped-def]
    if principal is None or principal.role.sees_pii:
        return card
    return dataclasses.replace(card, comments=redact_str(card.comments) or "",
                               recording_name=redact_str(card.recording_name))


def _bad(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.get("/api/scorecards/rubric", response_model=list[ScorecardCriterion], summary="The QA rubric's criteria")
def rubric(principal: PrincipalDep) -> list[ScorecardCriterion]:
    return [ScorecardCriterion(key=c.key, label=c.label, description=c.description, max_score=c.max_score)
            for c in cards.RUBRIC]


@router.get("/api/recordings/{recording_id}/scorecards", response_model=list[ScorecardOut], responses=_ERRORS)
def recording_scorecards(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep) -> list[ScorecardOut]:
    recording = _get(ctx, recording_id)
    return [_out(c, principal) for c in cards.list_scorecards(ctx, recording_id=recording.id)]


@router.post("/api/recordings/{recording_id}/scorecards", response_model=ScorecardOut,
             status_code=status.HTTP_201_CREATED, responses=_ERRORS, summary="Score a call")
def add_scorecard(recording_id: RecordingId, body: ScorecardIn, ctx: CtxDep, principal: EditorDep) -> ScorecardOut:
    recording = _get(ctx, recording_id)
    try:
        return _out(cards.add_scorecard(ctx, recording.id, principal.user.username, body.scores, body.comments))
    except cards.ScorecardError as exc:
        raise _bad(exc) from None


@router.get("/api/scorecards", response_model=list[ScorecardOut])
def list_all(
    ctx: CtxDep, principal: PrincipalDep,
    reviewer: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
) -> list[ScorecardOut]:
    return [_out(c, principal) for c in cards.list_scorecards(
        ctx, reviewer=reviewer, since=_parse_when(since, "since", end=False), until=_parse_when(until, "until", end=True)
    )]


@router.get("/api/scorecards/export", responses={200: {"content": {"text/csv": {}, "application/json": {}}}},
            summary="All scorecards (optionally filtered) as CSV or JSON")
def export(
    ctx: CtxDep, principal: PrincipalDep,
    format: Annotated[Literal["csv", "json"], Query()] = "csv",
    recording_id: Annotated[str | None, Query(pattern=r"^[0-9a-f]{6,64}$")] = None,
    reviewer: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query()] = None,
    until: Annotated[str | None, Query()] = None,
) -> Response:
    rid = _get(ctx, recording_id).id if recording_id else None
    found = cards.list_scorecards(ctx, recording_id=rid, reviewer=reviewer,
                                  since=_parse_when(since, "since", end=False), until=_parse_when(until, "until", end=True))
    found = [_visible(card, principal) for card in found]
    if format == "json":
        return Response(cards.export_json(found), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="scorecards.json"'})
    return Response("\ufeff" + cards.export_csv(found), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="scorecards.csv"'})


ScorecardId = Annotated[int, Path(ge=1)]


def _own(ctx, scorecard_id: int, principal) -> cards.Scorecard:  # type: ignore[no-untyped-def]
    try:
        card = cards.get_scorecard(ctx, scorecard_id)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    if card.reviewer != principal.user.username and principal.role is not UserRole.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only its reviewer or an admin can change a scorecard")
    return card


@router.get("/api/scorecards/{scorecard_id}", response_model=ScorecardOut, responses=_ERRORS)
def get_one(scorecard_id: ScorecardId, ctx: CtxDep, principal: PrincipalDep) -> ScorecardOut:
    try:
        return _out(cards.get_scorecard(ctx, scorecard_id), principal)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None


@router.put("/api/scorecards/{scorecard_id}", response_model=ScorecardOut, responses=_ERRORS)
def update(scorecard_id: ScorecardId, body: ScorecardIn, ctx: CtxDep, principal: EditorDep) -> ScorecardOut:
    _own(ctx, scorecard_id, principal)
    try:
        return _out(cards.update_scorecard(ctx, scorecard_id, body.scores, body.comments))
    except cards.ScorecardError as exc:
        raise _bad(exc) from None


@router.delete("/api/scorecards/{scorecard_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS)
def remove(scorecard_id: ScorecardId, ctx: CtxDep, principal: EditorDep) -> Response:
    _own(ctx, scorecard_id, principal)
    cards.delete_scorecard(ctx, scorecard_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
