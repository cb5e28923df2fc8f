"""``/api/insights/selfservice``: deflection per channel and the questions no channel could answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from callscope.api.deps import CtxDep, PrincipalDep
from callscope.api.redaction import redact_str
from callscope.db import utcnow

router = APIRouter(tags=["insights"])


@router.get("/api/insights/selfservice",
            summary="Self-service deflection per channel (voice, SMS, WhatsApp, help center) and unanswered questions")
def selfservice_metrics(
    ctx: CtxDep, principal: PrincipalDep,
    days: Annotated[int, Query(ge=1, le=3650, description="the last N days")] = 30,
) -> dict[str, Any]:
    from callscope.selfservice.metrics import compute_deflection

    with ctx.sessions() as session:
        data = compute_deflection(session, utcnow() - timedelta(days=days)).to_dict()
    if not principal.role.sees_pii:
        for question in data["unanswered_questions"]:
            question["text"] = redact_str(question["text"], question.get("language"))
    return data
