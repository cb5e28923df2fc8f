"""``/api/faq``: FAQ drafts under review — edit, approve, reject, publish to the IVR knowledge base.

    draft ──approve──▶ approved ──preview, publish──▶ published (written into the KB file)
      │  ▲                │                              │
      │  └────reopen──────┤◀────────unpublish────────────┘ (removed from the KB file)
      │  └────reopen──────┤
      ├──reject──▶ rejected ──reopen──▶ draft
      └──(re-mining no longer finds its issue)──▶ superseded ──reopen──▶ draft

Listing without ``status`` leaves superseded drafts out. Every change to the KB file
is kept as a version (``/api/faq/kb/versions``: who, when, diff, rollback).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from callscope.analysis.faq import faq_to_dict
from callscope.analysis.faq_quality import gate_drafts
from callscope.api.deps import CtxDep, EditorDep, PrincipalDep
from callscope.api.redaction import redact_str
from callscope.api.schemas import Problem
from callscope.context import Context
from callscope.domain import FaqEntry, FaqStatus
from callscope.errors import ConfigError, NotFoundError
from callscope.insights import mining as insights
from callscope.insights.faq_review import FaqRepository, InvalidTransitionError
from callscope.insights.mining import kb_entries
from callscope.ivr import kb_history

router = APIRouter(prefix="/api/faq", tags=["faq"])

EntryId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")]
_LANG = r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$"
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}, 409: {"model": Problem}}
Questions = dict[Annotated[str, Field(pattern=_LANG)], list[Annotated[str, Field(min_length=1, max_length=500)]]]
Answers = dict[Annotated[str, Field(pattern=_LANG)], Annotated[str, Field(max_length=4000)]]


class FaqCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
    questions: Questions = Field(min_length=1)
    answers: Answers = {}
    tags: list[Annotated[str, Field(max_length=64)]] = []
    self_service: bool = True


class FaqPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: Questions | None = None
    answers: Answers | None = None
    tags: list[Annotated[str, Field(max_length=64)]] | None = None
    self_service: bool | None = None


class FaqDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


_REVIEW_ERRORS = (NotFoundError, InvalidTransitionError, ConfigError)


def _repo(ctx) -> FaqRepository:  # type: ignore[no-untyped-def]
    return FaqRepository(ctx.sessions)


def _out(entry: FaqEntry, *, redact: bool) -> dict[str, Any]:
    data = faq_to_dict(entry)
    if redact:
        data["questions"] = {lang: [redact_str(q, lang) for q in qs] for lang, qs in data["questions"].items()}
        data["answers"] = {lang: redact_str(a, lang) for lang, a in data["answers"].items()}
        data["answer_sources"] = {  # the agent sentences a draft was made from are call text too
            lang: {**src, "extractive": redact_str(src.get("extractive"), lang), "rejected": redact_str(src.get("rejected"), lang)}
            for lang, src in data["answer_sources"].items()
        }
    return data


def _clean_questions(questions: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    out = {lang: tuple(dict.fromkeys(q.strip() for q in qs if q.strip())) for lang, qs in questions.items()}
    out = {lang: qs for lang, qs in out.items() if qs}
    if not out:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "give at least one question")
    return out


def _fail(exc: Exception) -> HTTPException:
    if isinstance(exc, NotFoundError):
        return HTTPException(status.HTTP_404_NOT_FOUND, str(exc))
    if isinstance(exc, InvalidTransitionError):
        return HTTPException(status.HTTP_409_CONFLICT, str(exc))
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


@router.get("", summary="FAQ entries under review (most frequent first)")
def list_entries(
    ctx: CtxDep, principal: PrincipalDep,
    status_: Annotated[FaqStatus | None, Query(
        alias="status", description="draft, approved, published, rejected or superseded (default: all but superseded)"
    )] = None,
) -> list[dict[str, Any]]:
    return [_out(e, redact=not principal.role.sees_pii) for e in _repo(ctx).entries(status_)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=_ERRORS, summary="Add a FAQ draft by hand")
def create_entry(body: FaqCreate, ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    questions = _clean_questions(body.questions)
    first = next(iter(questions.values()))[0]
    slug = re.sub(r"[^a-z0-9]+", "-", first.lower()).strip("-")[:40].strip("-")
    entry_id = body.id or f"faq-{slug + '-' if slug else ''}{hashlib.sha1(first.encode()).hexdigest()[:8]}"
    repo = _repo(ctx)
    try:
        repo.get(entry_id)
        raise HTTPException(status.HTTP_409_CONFLICT, f"a FAQ entry {entry_id!r} already exists")
    except NotFoundError:
        pass
    entry = FaqEntry(id=entry_id, questions=questions, answers={k: v.strip() for k, v in body.answers.items() if v.strip()},
                     tags=tuple(body.tags), self_service=body.self_service, status=FaqStatus.DRAFT)
    repo.save_drafts([entry])
    return _out(repo.get(entry_id), redact=False)


@router.post("/generate", summary="Mine issues again and draft FAQ entries from the calls")
async def generate(ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    await run_in_threadpool(insights.mine_call_issues, ctx, force=True)
    return {"drafts": len(_repo(ctx).entries(FaqStatus.DRAFT))}


@router.get("/{entry_id}", responses=_ERRORS)
def get_entry(entry_id: EntryId, ctx: CtxDep, principal: PrincipalDep) -> dict[str, Any]:
    try:
        return _out(_repo(ctx).get(entry_id), redact=not principal.role.sees_pii)
    except NotFoundError as exc:
        raise _fail(exc) from None


@router.patch("/{entry_id}", responses=_ERRORS, summary="Edit a draft or approved entry's questions and answers")
def edit_entry(entry_id: EntryId, body: FaqPatch, ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    repo = _repo(ctx)
    try:
        entry = repo.get(entry_id)
        changes: dict[str, Any] = {}
        if body.questions is not None:
            changes["questions"] = _clean_questions(body.questions)
        if body.answers is not None:
            changes["answers"] = {k: v.strip() for k, v in body.answers.items() if v.strip()}
        if body.tags is not None:
            changes["tags"] = tuple(body.tags)
        if body.self_service is not None:
            changes["self_service"] = body.self_service
        edited = replace(entry, **changes)
        if ("questions" in changes or "answers" in changes) and any(
            src.quality is not None for src in entry.answer_sources.values()
        ):
            # the reviewer's wording gets its own quality score
            edited = gate_drafts([edited], kb_entries=[e for e in kb_entries(ctx.settings) if e.id != entry.id])[0]
        return _out(repo.update(edited), redact=False)
    except _REVIEW_ERRORS as exc:
        raise _fail(exc) from None


def _transition(ctx, entry_id: str, to: FaqStatus, principal, note: str | None = None) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    try:
        entry = _repo(ctx).transition(entry_id, to, reviewer=principal.user.username, note=note)
    except _REVIEW_ERRORS as exc:
        raise _fail(exc) from None
    return _out(entry, redact=False)


@router.post("/{entry_id}/approve", responses=_ERRORS)
def approve(entry_id: EntryId, ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    entry = _repo_get(ctx, entry_id)
    if not entry.answers:
        raise HTTPException(status.HTTP_409_CONFLICT, "write an answer before approving this entry")
    return _transition(ctx, entry_id, FaqStatus.APPROVED, principal)


@router.post("/{entry_id}/reject", responses=_ERRORS)
def reject(entry_id: EntryId, ctx: CtxDep, principal: EditorDep, body: FaqDecision | None = None) -> dict[str, Any]:
    return _transition(ctx, entry_id, FaqStatus.REJECTED, principal, body.note if body else None)


@router.post("/{entry_id}/reopen", responses=_ERRORS, summary="Back to draft (to edit an approved, published or rejected entry)")
def reopen(entry_id: EntryId, ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    return _transition(ctx, entry_id, FaqStatus.DRAFT, principal)


def _kb_path(ctx):  # type: ignore[no-untyped-def]
    kb_path = ctx.settings.kb_path
    if kb_path is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "no knowledge-base file is configured (CALLSCOPE_KB_PATH)")
    return kb_path


@router.post("/{entry_id}/publish", responses=_ERRORS, summary="Write an approved entry into the IVR knowledge base")
async def publish(entry_id: EntryId, ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    kb_path = _kb_path(ctx)
    try:
        done = await run_in_threadpool(_repo(ctx).publish, kb_path, [entry_id], author=principal.user.username)
    except _REVIEW_ERRORS as exc:
        raise _fail(exc) from None
    # the file's name, not the server's folders
    return {**_out(done.entries[0], redact=False), "kb_file": kb_path.name, "kb_version": done.kb_version}


@router.post("/{entry_id}/unpublish", responses=_ERRORS,
             summary="Take a published entry out of the IVR knowledge base (back to draft)")
async def unpublish(entry_id: EntryId, ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    kb_path = _kb_path(ctx)
    try:
        done = await run_in_threadpool(_repo(ctx).unpublish, kb_path, entry_id, author=principal.user.username)
    except _REVIEW_ERRORS as exc:
        raise _fail(exc) from None
    return {**_out(done.entries[0], redact=False), "kb_version": done.kb_version}


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    questions: Questions | None = None  # unsaved edits to try
    answers: Answers | None = None


@router.post("/{entry_id}/preview", responses=_ERRORS,
             summary="What publishing this entry would change: caller phrasings it would answer, entries it takes from")
async def preview(entry_id: EntryId, ctx: CtxDep, principal: EditorDep, body: PreviewIn | None = None) -> dict[str, Any]:
    entry = _repo_get(ctx, entry_id)
    if body is not None and body.questions is not None:
        entry = replace(entry, questions=_clean_questions(body.questions))
    if body is not None and body.answers is not None:
        entry = replace(entry, answers={k: v.strip() for k, v in body.answers.items() if v.strip()})
    return await run_in_threadpool(_preview, ctx, entry, not principal.role.sees_pii)


def _preview(ctx: Context, entry: FaqEntry, redact: bool) -> dict[str, Any]:
    result, live = insights.publish_preview(ctx, entry)
    data = result.to_dict()
    if redact:
        for key in ("catches", "confirms"):
            data[key] = [{**c, "text": redact_str(c["text"])} for c in data[key]]
        data["takes"] = {k: [{**c, "text": redact_str(c["text"])} for c in v] for k, v in data["takes"].items()}
    return {**data, "live_entries": live}


@router.get("/kb/versions", summary="Versions of the IVR knowledge base: who changed it, when, and how")
def kb_versions(ctx: CtxDep, principal: PrincipalDep) -> list[dict[str, Any]]:
    kb_path = ctx.settings.kb_path
    if kb_path is None:
        return []
    return [{"id": v.id, "action": v.action, "entry_id": v.entry_id, "author": v.author,
             "at": v.created_at.isoformat(timespec="seconds"), "entries": v.entries}
            for v in kb_history.versions(ctx.sessions, kb_path)]


@router.get("/kb/versions/{version_id}/diff", responses=_ERRORS, summary="What a version changed (unified diff)")
def kb_diff(version_id: Annotated[int, Path(ge=1)], ctx: CtxDep, principal: PrincipalDep) -> dict[str, Any]:
    try:
        return {"id": version_id, "diff": kb_history.diff(ctx.sessions, version_id)}
    except NotFoundError as exc:
        raise _fail(exc) from None


@router.post("/kb/versions/{version_id}/rollback", responses=_ERRORS,
             summary="Put the knowledge base back as it was at a version (recorded as a new version)")
def kb_rollback(version_id: Annotated[int, Path(ge=1)], ctx: CtxDep, principal: EditorDep) -> dict[str, Any]:
    kb_path = _kb_path(ctx)
    try:
        new_id, ids = kb_history.rollback(ctx.sessions, kb_path, version_id, principal.user.username)
    except (NotFoundError, ConfigError) as exc:
        raise _fail(exc) from None
    repo = _repo(ctx)
    withdrawn = []
    for entry in repo.entries(FaqStatus.PUBLISHED):  # entries the restored file no longer holds
        if entry.id not in ids:
            repo.transition(entry.id, FaqStatus.DRAFT, reviewer=principal.user.username,
                            note=f"rolled back to knowledge-base version {version_id}")
            withdrawn.append(entry.id)
    return {"kb_version": new_id, "entries": ids, "withdrawn": withdrawn}


def _repo_get(ctx, entry_id: str) -> FaqEntry:  # type: ignore[no-untyped-def]
    try:
        return _repo(ctx).get(entry_id)
    except NotFoundError as exc:
        raise _fail(exc) from None
