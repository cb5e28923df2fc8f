"""``/api/insights/selfservice``: deflection per channel and the questions no channel could answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from callscope.api.deps import CtxDep, PrincipalDep
from callscope.api.redaction import redact_str
from callscope.db import utcnow
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base
from callscope.selfservice.gaps import cross_channel_gaps
from callscope.selfservice.metrics import compute_deflection

router = APIRouter(tags=["insights"])


@router.get("/api/insights/selfservice",
            summary="Self-service deflection per channel (voice, SMS, WhatsApp, help center) and unanswered questions")
def selfservice_metrics(
    ctx: CtxDep, principal: PrincipalDep,
    days: Annotated[int, Query(ge=1, le=3650, description="the last N days")] = 30,
) -> dict[str, Any]:
    with ctx.sessions() as session:
        data = compute_deflection(session, utcnow() - timedelta(days=days)).to_dict()
    if not principal.role.sees_pii:
        for question in data["unanswered_questions"]:
            question["text"] = redact_str(question["text"], question.get("language"))
    return data


@router.post("/api/insights/selfservice/gaps",
             summary="Mine the questions no channel could answer into issues and compare them with the knowledge base")
def selfservice_gaps(
    ctx: CtxDep, principal: PrincipalDep,
    days: Annotated[int, Query(ge=1, le=3650, description="the last N days")] = 30,
) -> dict[str, Any]:
    """Unanswered questions of calls (IVR), texts, help-center searches and imported
    chats/e-mails/surveys, mined together (a POST: it loads the sentence encoders)."""
    kb = load_knowledge_base(ctx.settings.kb_path or BUNDLED_KB)
    with ctx.sessions() as session:
        data = cross_channel_gaps(session, kb.entries, since=utcnow() - timedelta(days=days)).to_dict()
    if not principal.role.sees_pii:
        for group in ("uncovered", "not_contained"):
            for item in data[group]:
                item["examples"] = [redact_str(e) for e in item["examples"]]
                item["label"] = redact_str(item["label"])
    return data
