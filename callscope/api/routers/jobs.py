"""``/api/jobs``: processing status and progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import select

from callscope.api.deps import CtxDep, PrincipalDep
from callscope.api.redaction import redact_str
from callscope.api.schemas import JobOut, Problem
from callscope.domain import JobState
from callscope.errors import NotFoundError
from callscope.jobs.runner import get_job
from callscope.jobs.tables import JobRow

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


def _visible(job: JobOut, principal) -> JobOut:  # type: ignore[no-untyped-def]
    """Error messages name the user's file, which can hold PII: redacted without PII access."""
    if principal.role.sees_pii or not job.error:
        return job
    return job.model_copy(update={"error": redact_str(job.error)})


@router.get("", response_model=list[JobOut], summary="Recent jobs, newest first")
def list_jobs(
    ctx: CtxDep,
    principal: PrincipalDep,
    state: Annotated[JobState | None, Query(description="queued, running, done or failed")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[JobOut]:
    query = select(JobRow).order_by(JobRow.created_at.desc()).limit(limit)
    if state is not None:
        query = query.where(JobRow.state == state)
    with ctx.sessions() as session:
        return [_visible(JobOut.of(row), principal) for row in session.scalars(query)]


@router.get("/{job_id}", response_model=JobOut, responses={404: {"model": Problem}},
            summary="A job's state, current stage and progress (0..1)")
def job_status(
    job_id: Annotated[str, Path(pattern=r"^[0-9a-fA-F-]{8,36}$")], ctx: CtxDep, principal: PrincipalDep
) -> JobOut:
    try:
        return _visible(JobOut.of(get_job(ctx, job_id)), principal)
    except NotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no job with id {job_id!r}") from None
