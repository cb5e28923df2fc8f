"""``/api/recordings``: upload, list, get, stream audio, delete, and each call's results."""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import delete, select
from starlette.datastructures import UploadFile

from callscope.api.deps import AdminDep, CtxDep, EditorDep, PrincipalDep, QueueDep
from callscope.api.media import RangeError, compute_peaks, media_type, parse_range
from callscope.api.redaction import (
    RECORDING_TEXT_FIELDS,
    drop_redacted_audio,
    redact_analysis_dict,
    redact_fields,
    redact_str,
    redact_transcript_dict,
    redacted_audio,
    with_original_text,
)
from callscope.api.schemas import (
    MAX_OFFSET,
    EmotionPoint,
    EmotionTimeline,
    JobOut,
    Problem,
    RecordingOut,
    RecordingPage,
    RecordingPatch,
    UploadOut,
    Waveform,
)
from callscope.api.transcripts import render_transcript
from callscope.context import Context
from callscope.db import transaction
from callscope.domain import Recording, Transcript
from callscope.errors import InvalidAudioError, NotFoundError
from callscope.jobs.runner import active_job, get_job, jobs_for, live_job
from callscope.jobs.tables import JobRow
from callscope.qa import store as qa_store
from callscope.qa.scorecards import delete_for_recording
from callscope.recordings.audio import SUPPORTED_EXTENSIONS
from callscope.recordings.store import RecordingFilter
from callscope.recordings.tables import RecordingRow
from callscope.search import index as search_index
from callscope.search.tables import CallSummaryRow

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/recordings", tags=["recordings"])

RecordingId = Annotated[
    str, PathParam(pattern=r"^[0-9a-f]{6,64}$", description="Recording id (sha256, or a unique prefix of ≥ 6)")
]
_CONTENT_TYPE_EXT = {
    "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/wave": ".wav", "audio/vnd.wave": ".wav",
    "audio/mpeg": ".mp3", "audio/mp3": ".mp3", "audio/flac": ".flac", "audio/x-flac": ".flac",
    "audio/ogg": ".ogg", "audio/opus": ".opus", "audio/mp4": ".m4a", "audio/x-m4a": ".m4a",
    "audio/aac": ".aac", "audio/webm": ".webm",
}
_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary",
                                 "description": "wav (PCM, mu-law, A-law), mp3, flac, ogg/opus, m4a/aac or webm"},
                        "agent": {"type": "string", "description": "agent name or id"},
                        "language": {"type": "string", "description": "language of the call (en, zh), if known"},
                        "call_id": {"type": "string", "description": "your id for the call, e.g. a Twilio CallSid"},
                    },
                }
            }
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problem}}


# ------------------------------------------------------------------------ helpers


def _latest_jobs(ctx: Context, ids: list[str]) -> dict[str, JobRow]:
    if not ids:
        return {}
    with ctx.sessions() as session:
        rows = session.scalars(select(JobRow).where(JobRow.recording_id.in_(ids)).order_by(JobRow.created_at))
        latest: dict[str, JobRow] = {}
        for row in rows:
            latest[row.recording_id] = row  # ascending: the last one wins
        for row in latest.values():
            session.expunge(row)
        return latest


def _summaries(ctx: Context, ids: list[str]) -> dict[str, Any]:
    if not ids:
        return {}
    with ctx.sessions() as session:
        rows = session.scalars(select(CallSummaryRow).where(CallSummaryRow.recording_id.in_(ids))).all()
        return {row.recording_id: row for row in rows}


def describe(ctx: Context, recordings: list[Recording], *, redact: bool, with_artifacts: bool = False) -> list[RecordingOut]:
    """Recordings with their processing state and analysis summary (PII-redacted when ``redact``)."""

    ids = [r.id for r in recordings]
    jobs = _latest_jobs(ctx, ids)
    summaries = _summaries(ctx, ids)
    qa = qa_store.results(ctx, ids)
    out = []
    for rec in recordings:
        job, summary = jobs.get(rec.id), summaries.get(rec.id)
        reason = summary.reason if summary else None
        item = RecordingOut.of(
            rec,
            status=str(job.state) if job else None,
            progress=round(float(job.progress or 0.0), 3) if job else None,
            reason=reason,
            caller_emotion=summary.caller_emotion if summary else None,
            issue_id=summary.issue_id if summary else None,
            issue_label=summary.issue_label if summary else None,
            artifacts=sorted(ctx.store.artifact_kinds(rec.id)) if with_artifacts else [],
            title=call_title(rec, redact=redact),
            qa_score=qa[rec.id].score if rec.id in qa else None,
            qa_failed=[i.id for i in qa[rec.id].items if i.passed is False] if rec.id in qa else [],
            qa_categories=[c.id for c in qa[rec.id].categories] if rec.id in qa else [],
        )
        if redact:  # every field that can hold caller or user text, not only the reason
            item = RecordingOut(**redact_fields(item.model_dump(), (*RECORDING_TEXT_FIELDS, "title"), rec.language))
        out.append(item)
    return out


def _get(ctx: Context, recording_id: str) -> Recording:
    try:
        return ctx.store.get(recording_id)
    except NotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no recording with id {recording_id!r}") from None


def _artifact(ctx: Context, recording: Recording, kind: str) -> dict[str, Any]:
    data = ctx.store.get_artifact(recording.id, kind)
    if data is None:
        jobs = _latest_jobs(ctx, [recording.id])
        job = jobs.get(recording.id)
        state = f"processing is {job.state}" + (f" ({job.error})" if job and job.error else "") if job else "it was never processed"
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {kind} for recording {recording.id[:12]} yet: {state}")
    return data


def _parse_when(value: str | None, name: str, *, end: bool) -> datetime | None:
    """``2024-05-01`` (a whole day; inclusive as an end) or an ISO date-time."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime(day.year, day.month, day.day)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(value)  # accepts a trailing Z
    except ValueError:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name}: {value!r} is not a date (YYYY-MM-DD) or ISO date-time"
        ) from None
    if moment.tzinfo is not None:  # stored times are naive UTC
        moment = moment.replace(tzinfo=None) - (moment.utcoffset() or timedelta(0))
    return moment


def _safe_name(raw: str | None, content_type: str | None) -> str:
    """The upload's base file name, without any folder part or control characters."""
    name = (raw or "").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if unicodedata.category(ch)[0] != "C").strip()
    name = name.lstrip(".")[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        guessed = _CONTENT_TYPE_EXT.get((content_type or "").split(";")[0].strip().lower())
        if guessed and not suffix:
            name = (name or "upload") + guessed
    return name or "upload"


def _ingest(ctx: Context, upload: UploadFile, name: str, fields: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Spool the upload to a file named like the original (so errors name it) and store it.

    Raises:
        InvalidAudioError: with the server's temporary folder removed from the message.
    """
    upload.file.seek(0)
    with tempfile.TemporaryDirectory(prefix="callscope-upload-") as folder:
        path = Path(folder) / name
        with path.open("wb") as handle:
            shutil.copyfileobj(upload.file, handle, 1 << 20)
        try:
            return ctx.store.ingest_file(path, original_name=name, source="upload", **fields)
        except InvalidAudioError as exc:
            raise InvalidAudioError(str(exc).replace(f"{folder}/", "")) from exc


# ------------------------------------------------------------------------- routes


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UploadOut,
    openapi_extra=_UPLOAD_DOC,
    responses={200: {"model": UploadOut, "description": "the same audio was already stored"},
               413: {"model": Problem}, 415: {"model": Problem}, 422: {"model": Problem}},
    summary="Upload a call recording and queue it for processing",
)
async def upload_recording(request: Request, response: Response, ctx: CtxDep, queue: QueueDep,
                           principal: EditorDep) -> UploadOut:
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "send the recording as multipart/form-data with the audio in a field named 'file'",
        )
    form = await request.form(max_files=1, max_fields=16)
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "no file: put the audio in a multipart field named 'file'")
        name = _safe_name(upload.filename, upload.content_type)
        suffix = Path(name).suffix.lower()
        if suffix not in SUPPORTED_EXTENSIONS:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                f"{name}: unsupported file type '{suffix or '(none)'}'; upload "
                f"{', '.join(sorted(e.lstrip('.') for e in SUPPORTED_EXTENSIONS))}",
            )
        fields: dict[str, Any] = {"metadata": {"uploaded_by": principal.user.username}}
        for key in ("agent", "language", "call_id"):
            value = form.get(key)
            if isinstance(value, str) and value.strip():
                fields[key] = value.strip()[:128]
        language = fields.get("language")
        if language is not None and not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]+)?", language):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"language {language!r} is not a language code such as en or zh")
        try:
            result = await run_in_threadpool(_ingest, ctx, upload, name, fields)
        except InvalidAudioError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    finally:
        await form.close()
    recording = result.recording
    job = live_job(ctx, recording.id)
    if job is None:
        job = get_job(ctx, await run_in_threadpool(queue.submit, recording.id))
    if not result.created:
        response.status_code = status.HTTP_200_OK
    log.info("%s uploaded %s (%s)", principal.user.username, name, recording.id[:12])
    return UploadOut(recording=describe(ctx, [recording], redact=not principal.role.sees_pii)[0],
                     job=JobOut.of(job), created=result.created)


@router.get("", response_model=RecordingPage, summary="List calls (newest first) with filters")
def list_recordings(
    ctx: CtxDep,
    principal: PrincipalDep,
    since: Annotated[str | None, Query(description="from this date (YYYY-MM-DD) or ISO date-time")] = None,
    until: Annotated[str | None, Query(description="up to this date (inclusive) or ISO date-time")] = None,
    language: Annotated[str | None, Query(max_length=16)] = None,
    agent: Annotated[str | None, Query(max_length=128)] = None,
    issue: Annotated[str | None, Query(max_length=128, description="issue id from /api/insights/issues")] = None,
    emotion: Annotated[str | None, Query(max_length=32, description="caller emotion: neutral, positive, frustrated, anxious")] = None,
    min_duration: Annotated[float | None, Query(ge=0, le=1e7, allow_inf_nan=False, description="seconds")] = None,
    max_duration: Annotated[float | None, Query(ge=0, le=1e7, allow_inf_nan=False, description="seconds")] = None,
    q: Annotated[str | None, Query(max_length=500, description="full-text search in transcripts")] = None,
    qa_fail: Annotated[str | None, Query(max_length=64, description="calls failing this QA criterion (id)")] = None,
    qa_below: Annotated[float | None, Query(ge=0, le=100, description="calls whose QA score is below this")] = None,
    category: Annotated[str | None, Query(max_length=64, description="calls tagged with this QA category (id)")] = None,
    sort: Annotated[str, Query(pattern=r"^-?(date|name|duration|language|agent|emotion|issue|qa|status)$",
                               description="column to sort on; a leading - sorts descending")] = "-date",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> RecordingPage:
    ids: set[str] | None = None
    if issue or emotion:
        search_index.refresh_index(ctx)
        query = select(CallSummaryRow.recording_id)
        if issue:
            query = query.where(CallSummaryRow.issue_id == issue)
        if emotion:
            query = query.where(CallSummaryRow.caller_emotion == emotion.lower())
        with ctx.sessions() as session:
            ids = set(session.scalars(query))
    if qa_fail or qa_below is not None or category:
        matched = {rid for rid, res in qa_store.results(ctx).items()
                   if (not qa_fail or any(i.id == qa_fail and i.passed is False for i in res.items))
                   and (qa_below is None or (res.score is not None and res.score < qa_below))
                   and (not category or any(c.id == category for c in res.categories))}
        ids = matched if ids is None else ids & matched
    if q and q.strip():
        hits, _ = search_index.search_transcripts(ctx, q, language=language, limit=5000)
        matched = {h.recording_id for h in hits}
        ids = matched if ids is None else ids & matched
    filters = RecordingFilter(
        since=_parse_when(since, "since", end=False), until=_parse_when(until, "until", end=True),
        language=language or None, agent=agent or None,
        min_duration_s=min_duration, max_duration_s=max_duration,
        ids=sorted(ids) if ids is not None else None,
    )
    total = ctx.store.count(filters)
    redact = not principal.role.sees_pii
    if sort == "-date":  # the store's own order
        items = ctx.store.list(filters, limit=limit, offset=offset)
        return RecordingPage(items=describe(ctx, items, redact=redact), total=total, limit=limit, offset=offset)
    described = describe(ctx, ctx.store.list(filters, limit=max(total, 1), offset=0), redact=redact)
    key, descending = sort.lstrip("-"), sort.startswith("-")
    present = [r for r in described if _sort_value(r, key) is not None]
    missing = [r for r in described if _sort_value(r, key) is None]  # always last
    present.sort(key=lambda r: _sort_value(r, key), reverse=descending)  # type: ignore[arg-type,return-value]
    return RecordingPage(items=(present + missing)[offset:offset + limit], total=total, limit=limit, offset=offset)


def _sort_value(rec: RecordingOut, key: str) -> Any:
    value = {
        "date": rec.created_at, "name": rec.title.lower(), "duration": rec.duration_s,
        "language": rec.language, "agent": (rec.agent or "").lower() or None, "emotion": rec.caller_emotion,
        "issue": (rec.issue_label or rec.issue_id or "").lower() or None, "qa": rec.qa_score, "status": rec.status,
    }[key]
    return value


def call_title(rec: RecordingOut | Recording, *, redact: bool = False) -> str:
    """How people name a call: the caller's number for Twilio calls (its last digits only
    for roles that don't see PII), else the file name; Twilio ids stay in the details."""
    name = rec.name if isinstance(rec, RecordingOut) else rec.original_name
    caller = str((rec.metadata or {}).get("from") or "")
    if not caller:
        return name
    return f"Call from {'••• ' + caller[-4:] if redact else caller}"


@router.get("/facets", summary="Values for the list filters (languages, agents, issues, emotions)")
def facets(ctx: CtxDep, principal: PrincipalDep) -> dict[str, list[Any]]:
    search_index.refresh_index(ctx)
    with ctx.sessions() as session:
        languages = sorted(x for x in session.scalars(select(RecordingRow.language).distinct()) if x)
        agents = sorted(x for x in session.scalars(select(RecordingRow.agent).distinct()) if x)
        emotions = sorted(x for x in session.scalars(select(CallSummaryRow.caller_emotion).distinct()) if x)
        issues = sorted(
            ({"id": i, "label": label or i} for i, label in session.execute(
                select(CallSummaryRow.issue_id, CallSummaryRow.issue_label).where(CallSummaryRow.issue_id.is_not(None))
                .distinct())),
            key=lambda item: str(item["label"]),
        )
    if not principal.role.sees_pii:
        agents = sorted({redact_str(a) or "" for a in agents})
        issues = [{**item, "label": redact_str(str(item["label"]))} for item in issues]
    return {"languages": languages, "agents": agents, "emotions": emotions, "issues": issues}


@router.get("/{recording_id}", response_model=RecordingOut, responses=_ERRORS)
def get_recording(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep) -> RecordingOut:
    return describe(ctx, [_get(ctx, recording_id)], redact=not principal.role.sees_pii, with_artifacts=True)[0]


@router.patch("/{recording_id}", response_model=RecordingOut, responses=_ERRORS)
def patch_recording(recording_id: RecordingId, body: RecordingPatch, ctx: CtxDep, principal: EditorDep) -> RecordingOut:
    recording = _get(ctx, recording_id)
    fields = body.model_dump(exclude_unset=True)
    updated = ctx.store.update(recording.id, **fields) if fields else recording
    return describe(ctx, [updated], redact=not principal.role.sees_pii, with_artifacts=True)[0]


@router.delete("/{recording_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_ERRORS,
               summary="Delete a call with its audio and everything derived from it (admin)")
def delete_recording(recording_id: RecordingId, ctx: CtxDep, principal: AdminDep) -> Response:
    recording = _get(ctx, recording_id)
    search_index.unindex_recording(ctx, recording.id)
    delete_for_recording(ctx, recording.id)
    qa_store.delete_for_recording(ctx, recording.id)

    with transaction(ctx.sessions) as session:
        session.execute(delete(JobRow).where(JobRow.recording_id == recording.id))
    drop_redacted_audio(ctx.settings.data_dir, recording.id)
    try:
        ctx.store.delete(recording.id)
    except NotFoundError:  # deleted by someone else meanwhile
        pass
    log.info("%s deleted recording %s", principal.user.username, recording.id[:12])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.head("/{recording_id}/audio", include_in_schema=False)
@router.get(
    "/{recording_id}/audio", response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}, 206: {"description": "partial content (Range)"},
               404: {"model": Problem}, 416: {"model": Problem}},
    summary="Stream the call audio (supports HTTP Range requests)",
)
async def stream_audio(recording_id: RecordingId, request: Request, ctx: CtxDep, principal: PrincipalDep) -> Response:
    recording = _get(ctx, recording_id)
    path = Path(recording.path)
    if not path.is_file():
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"the audio file of {recording.id[:12]} is missing from the store")
    if not principal.role.sees_pii:  # spoken card numbers, names, addresses: bleeped
        transcript = ctx.store.get_artifact(recording.id, "transcript")
        if transcript is None:
            raise HTTPException(status.HTTP_409_CONFLICT, "this call is not transcribed yet: its audio is available to "
                                "your role once its PII can be bleeped")
        try:
            path = await run_in_threadpool(redacted_audio, ctx.settings.data_dir, recording, transcript)
        except InvalidAudioError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    size = path.stat().st_size
    range_header = request.headers.get("range")
    if range_header is not None:
        try:
            parse_range(range_header, size)
        except RangeError as exc:
            return JSONResponse(
                {"detail": str(exc)}, status_code=status.HTTP_416_RANGE_NOT_SATISFIABLE,
                headers={"Content-Range": f"bytes */{size}", "Accept-Ranges": "bytes"},
            )
    download = Path(_visible_name(recording, principal)).stem + path.suffix
    return FileResponse(path, media_type=media_type(path), filename=download, content_disposition_type="inline",
                        headers={"Cache-Control": "private, max-age=3600"})


@router.get("/{recording_id}/waveform", response_model=Waveform, responses=_ERRORS,
            summary="Waveform peaks (min/max per slice, per channel) for drawing")
def waveform(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep,
             points: Annotated[int, Query(ge=16, le=8000)] = 1000) -> Waveform:
    recording = _get(ctx, recording_id)
    kind = f"waveform_{points}"
    cached = ctx.store.get_artifact(recording.id, kind)
    if cached is None:
        try:
            peaks = compute_peaks(recording.path, duration_s=recording.duration_s, sample_rate=recording.sample_rate,
                                  points=points)
        except InvalidAudioError as exc:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
        cached = peaks.to_dict()
        if points == 1000 or points == 2000:  # the dashboard's sizes; others are computed on the fly
            ctx.store.save_artifact(recording.id, kind, cached)
    return Waveform(**cached)


@router.get("/{recording_id}/jobs", response_model=list[JobOut], responses=_ERRORS)
def recording_jobs(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep) -> list[JobOut]:
    recording = _get(ctx, recording_id)
    if principal.role.sees_pii:
        return [JobOut.of(j) for j in jobs_for(ctx, recording.id)]
    return [JobOut.of(j).model_copy(update={"error": redact_str(j.error)}) for j in jobs_for(ctx, recording.id)]


@router.post("/{recording_id}/jobs", response_model=JobOut, status_code=status.HTTP_202_ACCEPTED,
             responses={**_ERRORS, 409: {"model": Problem}}, summary="Process the call again (resumes failed stages)")
def reprocess(recording_id: RecordingId, ctx: CtxDep, queue: QueueDep, principal: EditorDep) -> JobOut:
    recording = _get(ctx, recording_id)
    active = active_job(ctx, recording.id)
    if active is not None:
        raise HTTPException(status.HTTP_409_CONFLICT, f"job {active.id} is already {active.state}")
    return JobOut.of(get_job(ctx, queue.submit(recording.id)))


@router.get(
    "/{recording_id}/transcript",
    responses={**_ERRORS, 200: {"content": {"application/json": {}, "text/plain": {}, "text/vtt": {},
                                            "application/x-subrip": {}}}},
    summary="The transcript as JSON (words, speakers, channels), SRT, WebVTT, TSV or plain text",
)
def transcript(
    recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep,
    format: Annotated[Literal["json", "srt", "vtt", "txt", "tsv"], Query()] = "json",
    redacted: Annotated[bool, Query(description="replace PII with placeholders (always on for read-only users)")] = False,
) -> Response:
    recording = _get(ctx, recording_id)
    data = _artifact(ctx, recording, "transcript")
    original = ctx.store.get_artifact(recording.id, "transcript_original") if principal.role.sees_pii else None
    if redacted or not principal.role.sees_pii:
        data = redact_transcript_dict(data)
    elif original is not None:
        data = with_original_text(data, original)
    data["pii"] = {"redacted": bool(redacted or not principal.role.sees_pii), "original_available": original is not None,
                   "redacted_at_source": bool(ctx.settings.pii_redaction)}
    if format == "json":
        return JSONResponse(data)

    body, media = render_transcript(Transcript.from_dict(data), format)
    name = f"{Path(_visible_name(recording, principal)).stem}.{format}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'inline; filename="{_ascii(name)}"'})


def _visible_name(recording: Recording, principal: Any) -> str:
    """The recording's name as this user may see it (redacted without PII access)."""
    if principal.role.sees_pii:
        return recording.original_name
    return redact_str(recording.original_name, recording.language) or "recording"


def _ascii(name: str) -> str:
    return "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)


@router.get("/{recording_id}/diarization", responses=_ERRORS, summary="Who spoke when, with roles")
def diarization(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep) -> dict[str, Any]:
    return _artifact(ctx, _get(ctx, recording_id), "diarization")


@router.get("/{recording_id}/analysis", responses=_ERRORS,
            summary="Reason for calling, emotions, turns, metrics, escalations, issue")
def analysis(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep,
             redacted: Annotated[bool, Query()] = False) -> dict[str, Any]:
    data = _artifact(ctx, _get(ctx, recording_id), "analysis")
    if redacted or not principal.role.sees_pii:
        data = redact_analysis_dict(data)
    return data


@router.get("/{recording_id}/metrics", responses=_ERRORS, summary="Conversation metrics (talk time, silence, ...)")
def metrics(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep) -> dict[str, Any]:
    recording = _get(ctx, recording_id)
    data = _artifact(ctx, recording, "analysis")
    if not data.get("metrics"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no metrics for recording {recording.id[:12]}")
    return dict(data["metrics"])


@router.get("/{recording_id}/emotions", response_model=EmotionTimeline, responses=_ERRORS,
            summary="Emotion and sentiment per turn over time")
def emotions(recording_id: RecordingId, ctx: CtxDep, principal: PrincipalDep) -> EmotionTimeline:
    data = _artifact(ctx, _get(ctx, recording_id), "analysis")
    points = [
        EmotionPoint(start=float(t.get("start", 0.0)), end=float(t.get("end", 0.0)), role=str(t.get("role", "unknown")),
                     speaker=str(t.get("speaker", "")), emotion=str(t.get("emotion", "neutral")),
                     sentiment=float(t.get("sentiment", 0.0)), arousal=t.get("arousal"))
        for t in data.get("turns") or ()
    ]
    return EmotionTimeline(
        caller_emotion=data.get("caller_emotion"), points=points,
        sentiment_trajectory=[float(v) for v in data.get("sentiment_trajectory") or ()],
        escalations=[float(v) for v in data.get("escalations") or ()], ended_better=data.get("ended_better"),
    )
