"""The IVR webhooks (``/ivr/...``), mounted by :func:`callscope.api.app.create_app`.

Twilio posts to:

* ``POST /ivr/voice``            incoming call (the phone number's voice webhook)
* ``POST /ivr/gather``           every Gather action / no-input redirect (``step``, ``lang``, ``t``)
* ``POST /ivr/dial-status``      after the agent leg (<Dial>/<Enqueue> action)
* ``POST /ivr/status``           call status callback (set it on the phone number)
* ``POST /ivr/recording-status`` recording status callback
* ``GET|POST /ivr/whisper``      played to the agent before bridging (context)

and agents / operators use ``GET /ivr/context/{CallSid}`` (signed link), ``GET
/ivr/kb/status`` and ``POST /ivr/recordings/{RecordingSid}/retry``.
"""

from __future__ import annotations

import gc
import logging
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    HTTPException,
    Query,
    Request,
)
from fastapi.responses import JSONResponse, Response
from sqlalchemy import insert
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified
from twilio.twiml.voice_response import VoiceResponse

from callscope.context import Context
from callscope.db import transaction, utcnow
from callscope.ivr import deps, twiml
from callscope.ivr.context import build_context, check_context_token
from callscope.ivr.flow import LANGUAGES, Turn
from callscope.ivr.prompts import prompt
from callscope.ivr.recording import download_recording, record_callback, retry_failed
from callscope.ivr.security import public_base
from callscope.ivr.tables import IvrCallRow, IvrEventRow, IvrRecordingRow
from callscope.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/ivr", tags=["ivr"])

_CALL_SID_MAX = 64
STEPS = ("greeting", "ask", "confirm", "more", "menu", "action", "survey_csat", "survey_nps")


def _xml(resp: VoiceResponse | str) -> Response:
    return Response(content=str(resp), media_type="text/xml")


def fallback_twiml(settings: Settings, language: str = "en", base_url: str = "") -> VoiceResponse:
    """What the caller hears when the IVR itself fails: an apology and a transfer (no DB needed)."""
    lang = language if language in LANGUAGES else "en"
    resp = VoiceResponse()
    if not settings.agent_dial.strip():
        twiml.say(resp, prompt(lang, "agents_busy"), lang, twiml.VoiceOptions())
        resp.hangup()
        return resp
    twiml.say(resp, prompt(lang, "transfer_error"), lang, twiml.VoiceOptions())
    twiml.transfer(
        resp,
        twiml.TransferTarget.parse(settings.agent_dial),
        action=base_url.rstrip("/") + "/ivr/dial-status?lang=" + lang,
        headers={"Reason": "error", "Language": lang},
        whisper_url=None,
        priority=False,
        record_callback=None,
    )
    return resp


def _call_sid(form: dict[str, str]) -> str | None:
    sid = (form.get("CallSid") or "").strip()
    return sid[:_CALL_SID_MAX] if sid else None


def _load_or_create(
    session: Session, form: dict[str, str], sid: str, *, language: str | None = None, step: str = "ask"
) -> tuple[IvrCallRow, bool]:
    call = session.get(IvrCallRow, sid)
    if call is not None:
        if call.data is None:
            call.data = {}
        return call, False
    now = utcnow()
    call = IvrCallRow(
        call_sid=sid,
        from_number=(form.get("From") or form.get("Caller") or "")[:64],
        to_number=(form.get("To") or form.get("Called") or "")[:64],
        language=language if language in LANGUAGES else None,
        step=step,
        turn=0,
        failures=0,
        status="active",
        transferred=False,
        priority=False,
        frustrated=False,
        record_opt_out=False,
        started_at=now,
        updated_at=now,
        data={},
    )
    session.add(call)
    return call, True


def _save(session: Session, turn: Turn, resp: VoiceResponse | None) -> None:
    call = turn.call
    call.updated_at = utcnow()
    if resp is not None:
        call.last_twiml = str(resp)
    flag_modified(call, "data")
    if turn.events:
        now = utcnow()
        rows = [
            {
                "call_sid": call.call_sid,
                "at": now,
                "kind": kind,
                "step": data.get("step") if isinstance(data.get("step"), str) else call.step,
                "data": data,
            }
            for kind, data in turn.events
        ]
        session.execute(insert(IvrEventRow), rows)  # one executemany, no primary keys fetched back


def _remembered_language(session: Session, from_number: str, call_sid: str) -> str | None:
    if not from_number:
        return None
    from sqlalchemy import select

    query = (
        select(IvrCallRow.language)
        .where(IvrCallRow.from_number == from_number, IvrCallRow.call_sid != call_sid, IvrCallRow.language.is_not(None))
        .order_by(IvrCallRow.started_at.desc())
        .limit(1)
    )
    with session.no_autoflush:  # the new call's row is written with the rest of the turn, not held open from here
        row = session.execute(query).first()
    return row[0] if row else None


def _handle(
    request: Request,
    settings: Settings,
    factory: sessionmaker[Session],
    form: dict[str, str],
    work: Any,
    *,
    language: str | None = None,
    step: str = "ask",
) -> Response:
    """Run ``work(session, turn) -> VoiceResponse`` on the call's state; any failure transfers."""
    sid = _call_sid(form)
    if sid is None:
        log.warning("webhook %s without CallSid; transferring", request.url.path)
        return _xml(fallback_twiml(settings, language or "en", public_base(request, settings.public_base_url)))
    try:
        with transaction(factory) as session:
            call, created = _load_or_create(session, form, sid, language=language, step=step)
            turn = Turn(call=call, form=form, base_url=public_base(request, settings.public_base_url))
            if created and request.url.path.endswith("/gather"):
                turn.event("state_recovered", step=step)
            resp = work(session, turn)
            _save(session, turn, resp if isinstance(resp, VoiceResponse) else None)
        return _xml(resp) if isinstance(resp, VoiceResponse) else resp
    except Exception:
        log.exception("IVR webhook %s failed for call %s; transferring the caller", request.url.path, sid)
        try:
            with transaction(factory) as session:
                session.add(
                    IvrEventRow(call_sid=sid, at=utcnow(), kind="error", step=step, data={"path": request.url.path})
                )
                call = session.get(IvrCallRow, sid)
                if call is not None and not call.transferred:
                    call.transferred, call.transfer_reason, call.outcome = True, "error", "transferred"
                    call.transferred_at = utcnow()
        except Exception:
            log.exception("could not record the error of call %s", sid)
        return _xml(fallback_twiml(settings, language or "en", public_base(request, settings.public_base_url)))


SettingsDep = deps.SettingsDep
FactoryDep = deps.SessionFactoryDep


@router.post("/voice")
async def incoming_call(
    request: Request,
    form: deps.TwilioForm,
    settings: SettingsDep,
    factory: FactoryDep,
    flow: deps.FlowDep,
    lane: deps.WebhookLaneDep,
) -> Response:
    """An incoming call: greeting, language choice, recording notice."""

    def work(session: Session, turn: Turn) -> VoiceResponse | Response:
        call = turn.call
        if call.turn > 0 and call.last_twiml:  # Twilio retried the incoming webhook
            turn.event("replayed", path="voice")
            return _xml(call.last_twiml)
        call.turn = 1
        return flow.incoming(turn, _remembered_language(session, call.from_number, call.call_sid))

    return await deps.in_lane(lane, _handle, request, settings, factory, form, work, step="greeting")


@router.post("/gather")
async def gather_result(
    request: Request,
    form: deps.TwilioForm,
    settings: SettingsDep,
    factory: FactoryDep,
    flow: deps.FlowDep,
    lane: deps.WebhookLaneDep,
    step: Annotated[str, Query(max_length=32)] = "ask",
    lang: Annotated[str | None, Query(max_length=8)] = None,
    t: Annotated[str | None, Query(max_length=12)] = None,
    noinput: Annotated[str | None, Query(max_length=4)] = None,
) -> Response:
    """A Gather result (speech or keys) or the no-input redirect of a Gather."""
    step = step if step in STEPS else "ask"
    lang = lang if lang in LANGUAGES else None
    turn_no = int(t) if t and t.isdigit() else None

    def work(session: Session, turn: Turn) -> VoiceResponse | Response:
        call = turn.call
        if turn_no is not None and turn_no < call.turn and call.last_twiml:
            turn.event("replayed", path="gather", t=turn_no)
            return _xml(call.last_twiml)
        if call.language is None and lang:
            call.language = lang
        call.turn = max(call.turn, turn_no or 0) + 1
        if (call.transferred and not step.startswith("survey")) or call.step == "ended":
            # a late Gather after a transfer/hang-up: say nothing new
            return VoiceResponse()
        return flow.handle(turn, step, noinput=bool(noinput))

    return await deps.in_lane(lane, _handle, request, settings, factory, form, work, language=lang, step=step)


@router.post("/dial-status")
async def dial_status(
    request: Request,
    form: deps.TwilioForm,
    settings: SettingsDep,
    factory: FactoryDep,
    flow: deps.FlowDep,
    lane: deps.WebhookLaneDep,
    lang: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """After the agent leg ended or failed."""

    def work(session: Session, turn: Turn) -> VoiceResponse | Response:
        result = {k: v for k, v in form.items() if k in ("DialCallStatus", "QueueResult", "DialCallSid")}
        if turn.data.get("dial_form") == result and turn.call.last_twiml:  # a replayed callback
            turn.event("replayed", path="dial-status")
            return _xml(turn.call.last_twiml)
        turn.data["dial_form"] = result
        turn.call.turn += 1
        return flow.dial_done(turn)

    return await deps.in_lane(lane, _handle, request, settings, factory, form, work, language=lang, step="dial")


@router.post("/status")
async def call_status(
    form: deps.TwilioForm, factory: FactoryDep, flow: deps.FlowDep, lane: deps.WebhookLaneDep
) -> Response:
    """Call status callback (completed, busy, no-answer, ...)."""
    sid = _call_sid(form)
    if sid is None:
        return Response(status_code=204)

    def work() -> None:
        with transaction(factory) as session:
            call, _ = _load_or_create(session, form, sid, step="ended")
            turn = Turn(call=call, form=form, base_url="")
            flow.call_status(turn)
            _save(session, turn, None)

    try:
        await deps.in_lane(lane, work)
    except Exception:
        log.exception("call status callback failed for %s", sid)
    return Response(status_code=204)


@router.post("/recording-status")
async def recording_status(
    form: deps.TwilioForm,
    background: BackgroundTasks,
    factory: FactoryDep,
    fetcher: deps.FetcherDep,
    sink: deps.SinkDep,
    lane: deps.WebhookLaneDep,
) -> Response:
    """Recording status callback: stored by RecordingSid, downloaded after the response."""

    def store() -> tuple[str | None, bool]:
        with transaction(factory) as session:
            row, download = record_callback(session, form)
            return (row.recording_sid if row is not None else None), download

    try:
        sid, download = await deps.in_lane(lane, store)
    except Exception:
        log.exception("recording callback could not be stored")
        return Response(status_code=500)  # Twilio retries on 5xx
    if sid and download:
        background.add_task(download_recording, factory, sid, fetcher, sink)
    return Response(status_code=204)


@router.get("/whisper", operation_id="ivr_whisper_get")
@router.post("/whisper", operation_id="ivr_whisper_post")
async def whisper(
    form: deps.TwilioForm,
    factory: FactoryDep,
    lane: deps.WebhookLaneDep,
    CallSid: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Played to the agent when they answer, before the caller is connected."""

    def context_summary() -> str:
        with transaction(factory) as session:
            call = session.get(IvrCallRow, CallSid) if CallSid else None
            return build_context(call).summary() if call is not None else "Caller from the IVR."

    try:
        text = await deps.in_lane(lane, context_summary)
    except Exception:
        log.exception("whisper context failed for %s", CallSid)
        text = "Caller from the IVR."
    resp = VoiceResponse()
    twiml.say(resp, text, "en", twiml.VoiceOptions())
    return _xml(resp)


@router.get("/context/{call_sid}")
def transfer_context(
    call_sid: str,
    request: Request,
    settings: SettingsDep,
    factory: FactoryDep,
    options: deps.OptionsDep,
    token: str = "",
) -> JSONResponse:
    """The transfer context of a call (language, intent, what the caller said, failures, why)."""
    allowed = not settings.twilio_validate or check_context_token(options.context_secret, call_sid, token)
    if not allowed:
        raise HTTPException(status_code=403, detail="invalid or missing context token")
    with transaction(factory) as session:
        call = session.get(IvrCallRow, call_sid[:_CALL_SID_MAX])
        if call is None:
            raise HTTPException(status_code=404, detail=f"no IVR call {call_sid}")
        context = build_context(call).to_dict()
        context.update({"outcome": call.outcome, "csat": call.csat, "nps": call.nps, "transferred": call.transferred})
    return JSONResponse(context)


@router.get("/kb/status", dependencies=[Depends(deps.require_operator)])
def kb_status(kb: deps.KbSourceDep) -> dict[str, Any]:
    """The knowledge base in service: file, version, entry count, last reload error (operators
    only: it shows the server's file path and the entry ids), and how callers' questions were
    scored since the start: ``full`` (every encoder), ``screen`` (answered without e5) and
    ``late`` (without e5, to answer within ``CALLSCOPE_IVR_LATENCY_BUDGET_MS``: many of these
    mean the server needs more or faster cores)."""
    current = kb.current()
    return {
        "path": str(kb.path),
        "version": kb.version,
        "entries": len(current),
        "ids": current.ids,
        "error": kb.last_error,
        "scoring": deps.scoring_counts(kb),
    }


@router.post("/recordings/{recording_sid}/retry", dependencies=[Depends(deps.require_operator)])
def retry_recording(
    recording_sid: str, factory: FactoryDep, fetcher: deps.FetcherDep, sink: deps.SinkDep
) -> dict[str, Any]:
    """Retry a failed recording download now."""
    with transaction(factory) as session:
        if session.get(IvrRecordingRow, recording_sid) is None:
            raise HTTPException(status_code=404, detail=f"no recording {recording_sid}")
    rows = retry_failed(factory, fetcher, sink, recording_sid)
    row = rows[0] if rows else None
    return {
        "recording_sid": recording_sid,
        "status": row.status if row else None,
        "error": row.error if row else None,
        "recording_id": row.recording_id if row else None,
    }


def warm_up(ctx: Context) -> None:
    """Build the IVR's cached objects (DB, knowledge base, encoder) ahead of the first call, then
    take everything loaded so far out of the garbage collector's full passes (``gc.freeze``): the
    models live as long as the server, and a full pass over their ~750 000 objects holds the
    interpreter lock for about 0.3 s, stalling every caller's turn in flight
    (``bench/bench_gc_pause.py``). A tuned encoder trained for the first time after start-up
    loads later and stays unfrozen until the next start."""
    settings = ctx.settings
    actions = deps.actions_for(settings)
    _ = ctx.sessions  # connects and migrates the database
    deps.matcher_for(deps.kb_source_for(settings, actions), settings).warm()
    sentiment = deps.sentiment_fn()
    if sentiment is not None:  # first calls load lexicons/segmenters (seconds)
        for text, language in (("where is my order", "en"), ("我的订单在哪里", "zh")):
            try:
                sentiment(text, language)
            except Exception as exc:  # noqa: BLE001 - optional model
                log.warning("text sentiment failed at start-up (%s); frustration uses phrases only", exc)
                break
    gc.collect()
    gc.freeze()
