"""``/api/insights``: common issues with trends and example calls, IVR metrics."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.concurrency import run_in_threadpool

from callscope.api.deps import CtxDep, EditorDep, PrincipalDep
from callscope.api.redaction import redact_str
from callscope.api.routers.recordings import _parse_when
from callscope.api.schemas import Problem
from callscope.db import utcnow
from callscope.errors import CallscopeError
from callscope.insights import mining as insights
from callscope.insights.trends import call_trends
from callscope.ivr.metrics import compute_ivr_metrics
from callscope.search.index import refresh_index

router = APIRouter(tags=["insights"])

Days = Annotated[int, Query(ge=1, le=3650, description="the last N days (ignored when since is given)")]


def _window(days: int, since: str | None, until: str | None):  # type: ignore[no-untyped-def]
    end = _parse_when(until, "until", end=True) or utcnow()
    start = _parse_when(since, "since", end=False) or (end - timedelta(days=days))
    if start >= end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "since must be before until")
    return start, end


@router.get("/api/insights/issues", responses={422: {"model": Problem}},
            summary="Common issues over a period: counts, share, trend, example calls")
def issues(
    ctx: CtxDep, principal: PrincipalDep, days: Days = 30,
    since: Annotated[str | None, Query()] = None, until: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    mine: Annotated[bool, Query(description="mine issues again first when calls changed (at most every 10 min)")] = True,
) -> dict[str, Any]:
    start, end = _window(days, since, until)
    refresh_index(ctx)
    mining_error = None
    if mine:
        try:
            insights.mine_call_issues(ctx)
        except CallscopeError as exc:  # e.g. an encoder is missing: show the last result
            mining_error = str(exc)
    report = insights.issue_report(ctx, since=start, until=end, limit=limit)
    redact = not principal.role.sees_pii
    return {
        "since": report.since.isoformat(), "until": report.until.isoformat(), "bucket_days": report.bucket_days,
        "calls": report.calls, "mined_at": report.mined_at.isoformat() if report.mined_at else None,
        "mining_error": mining_error,
        "issues": [
            {
                "id": s.id, "label": redact_str(s.label) if redact else s.label,
                "other_labels": [redact_str(n) if redact else n for n in s.other_labels],
                "keywords": [redact_str(k) for k in s.keywords] if redact else list(s.keywords),
                "count": s.count, "share": s.share,
                "examples": [redact_str(q) if redact else q for q in s.examples],
                "trend": [{"date": p.date.isoformat(), "count": p.count} for p in s.trend],
                "calls": [{"id": c.id, "name": redact_str(c.name) if redact else c.name,
                           "created_at": c.created_at.isoformat(),
                           "reason": redact_str(c.reason) if redact else c.reason} for c in s.calls],
            }
            for s in report.issues
        ],
    }


@router.post("/api/insights/issues/mine", summary="Mine common issues again over all analysed calls now")
async def mine_now(ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    await run_in_threadpool(insights.mine_call_issues, ctx, force=True)
    return {"issues": insights.issue_count(ctx)}


@router.get("/api/insights/ivr", responses={422: {"model": Problem}},
            summary="IVR containment, transfers and their reasons, unanswered questions, CSAT")
def ivr_metrics(
    ctx: CtxDep, principal: PrincipalDep, days: Days = 30,
    since: Annotated[str | None, Query()] = None, until: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    start, _ = _window(days, since, until)
    with ctx.sessions() as session:
        data = compute_ivr_metrics(session, since=start).to_dict()
    split = insights.containment_since_publish(ctx, since=start)
    data["since_publish"] = split.to_dict() if split is not None else None
    if not principal.role.sees_pii:
        for question in data.get("unanswered", []):
            question["text"] = redact_str(question.get("text"), question.get("language"))
    return data


@router.get("/api/insights/trends", responses={422: {"model": Problem}},
            summary="Per day or week: calls, handle time, caller mood, QA score, IVR containment, transfer causes; per agent")
def trends(
    ctx: CtxDep, principal: PrincipalDep, days: Days = 30,
    since: Annotated[str | None, Query()] = None, until: Annotated[str | None, Query()] = None,
    period: Annotated[Literal["day", "week"] | None, Query(description="default: day up to 45 days, else week")] = None,
) -> dict[str, Any]:
    from datetime import timedelta as _td

    start, end = _window(days, since, until)
    first, last = start.date(), end.date() + _td(days=1)  # whole days, today included
    chosen = period or ("day" if (last - first).days <= 45 else "week")
    return call_trends(ctx, since=first, until=last, period=chosen).to_dict()
