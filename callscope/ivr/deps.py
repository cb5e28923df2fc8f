"""FastAPI dependencies of the IVR routes (each one can be overridden in tests or by the API).

The app's :class:`~callscope.context.Context` (``app.state.ctx``, set by
:func:`callscope.api.app.create_app`) gives the settings and the database. Heavy objects
(knowledge base, matcher, sentiment model) are built once per process and per
configuration by the plain ``*_for`` builders, so a Gather turn only pays for its own
work. The dependencies are ``async def`` wrappers around them: cheap lookups that
FastAPI runs on the event loop instead of handing each one to a thread.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
import httpx
from fastapi import Depends, HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Receive, Scope, Send

from callscope.context import Context
from callscope.errors import WebhookSignatureError
from callscope.ivr import tuning
from callscope.ivr.actions import IvrAction, default_actions
from callscope.ivr.flow import IvrFlow, IvrOptions
from callscope.ivr.frustration import (
    FrustrationDetector,
    SentimentFn,
    text_sentiment_fn,
)
from callscope.ivr.expansion import expand_in_background
from callscope.ivr.kb import BUNDLED_KB, KnowledgeBaseSource
from callscope.ivr.matcher import IntentMatcher, MatcherOptions, fast_options, turn_cpu_started, turn_started
from callscope.ivr.recording import FileRecordingSink, RecordingFetcher, RecordingSink
from callscope.ivr.security import public_url, verify_signature
from callscope.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()
_kb_sources: dict[tuple[str, tuple[str, ...]], KnowledgeBaseSource] = {}
_matchers: dict[int, IntentMatcher] = {}
_actions: dict[str, dict[str, IvrAction]] = {}
_warned_no_validation = False


async def get_ctx(request: Request) -> Context:
    """The app's context (``app.state.ctx``)."""
    return request.app.state.ctx


CtxDep = Annotated[Context, Depends(get_ctx)]


async def get_ivr_settings(ctx: CtxDep) -> Settings:
    return ctx.settings


SettingsDep = Annotated[Settings, Depends(get_ivr_settings)]


async def get_session_factory(ctx: CtxDep) -> sessionmaker[Session]:
    return ctx.sessions


SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_session_factory)]


async def get_webhook_lane(request: Request, settings: SettingsDep) -> anyio.CapacityLimiter:
    """The IVR's own thread lane (``settings.resolved_ivr_threads`` at once), apart from the web app's
    thread pool, so dashboard requests never hold up a caller and webhooks queue in order."""
    state = request.app.state
    lane = getattr(state, "ivr_lane", None)
    if lane is None:
        lane = state.ivr_lane = anyio.CapacityLimiter(settings.resolved_ivr_threads)
    return lane


WebhookLaneDep = Annotated[anyio.CapacityLimiter, Depends(get_webhook_lane)]


class TurnClock:
    """ASGI middleware (the outermost layer) that notes when each IVR webhook arrived
    (:data:`callscope.ivr.matcher.turn_started`), so the matcher can keep a turn within
    ``MatcherOptions.latency_budget_ms`` however long the request queued."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/ivr/"):
            token = turn_started.set(time.perf_counter())
            try:
                await self.app(scope, receive, send)
            finally:
                turn_started.reset(token)
            return
        await self.app(scope, receive, send)


async def in_lane(lane: anyio.CapacityLimiter, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the blocking ``fn(*args, **kwargs)`` in a thread of ``lane``."""
    return await anyio.to_thread.run_sync(partial(_on_the_clock, fn, *args, **kwargs), limiter=lane)


def _on_the_clock(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` with the thread's CPU clock noted (:data:`turn_cpu_started`)."""
    token = turn_cpu_started.set(time.thread_time())
    try:
        return fn(*args, **kwargs)
    finally:
        turn_cpu_started.reset(token)


def kb_path(settings: Settings) -> Path:
    """The knowledge-base file in use: CALLSCOPE_KB_PATH or the bundled demo KB."""
    return Path(settings.kb_path) if settings.kb_path else BUNDLED_KB


def actions_for(settings: Settings) -> dict[str, IvrAction]:
    """The dynamic actions (order status with the demo orders, or ``settings.ivr_order_data``)."""
    order_data = settings.ivr_order_data
    key = str(order_data or "")
    actions = _actions.get(key)
    if actions is None:
        with _lock:
            actions = _actions.setdefault(key, default_actions(Path(order_data) if order_data else None))
    return actions


async def get_actions(settings: SettingsDep) -> dict[str, IvrAction]:
    return actions_for(settings)


ActionsDep = Annotated[dict[str, IvrAction], Depends(get_actions)]


def kb_source_for(settings: Settings, actions: dict[str, IvrAction]) -> KnowledgeBaseSource:
    """The knowledge base, reloaded when its file changes."""
    key = (str(settings.kb_path or ""), tuple(sorted(actions)))
    source = _kb_sources.get(key)
    if source is None:
        with _lock:
            source = _kb_sources.get(key)
            if source is None:
                source = _kb_sources[key] = KnowledgeBaseSource(kb_path(settings), known_actions=set(actions))
                if settings.ivr_expand:  # LLM paraphrases of new/changed entries, off the call path
                    source.on_reload.append(expand_in_background)
                    expand_in_background(source.current())
    return source


async def get_kb_source(settings: SettingsDep, actions: ActionsDep) -> KnowledgeBaseSource:
    return kb_source_for(settings, actions)


KbSourceDep = Annotated[KnowledgeBaseSource, Depends(get_kb_source)]


def matcher_for(kb: KnowledgeBaseSource, settings: Settings | None = None) -> IntentMatcher:
    """The intent matcher of the knowledge base (embeddings cached), with the encoders
    named by ``CALLSCOPE_IVR_ENCODERS``; with ``CALLSCOPE_IVR_TUNE`` (default on), an
    encoder fine-tuned on the knowledge base in the background whenever it loads or
    changes (``callscope.ivr.tuning``; nothing when fine-tuning is unavailable)."""
    matcher = _matchers.get(id(kb))
    if matcher is None:
        options = MatcherOptions()
        names = tuple((settings.ivr_encoders if settings is not None else None) or options.encoders)
        tune = settings.ivr_tune if settings is not None else True
        with _lock:
            matcher = _matchers.get(id(kb))
            if matcher is None:
                cache = tuning.cache_dir_in(settings) if settings is not None else None
                budget = settings.ivr_latency_budget_ms if settings is not None else options.latency_budget_ms
                options = replace(
                    options, encoders=names, tuned=tune, tuned_dir=cache, latency_budget_ms=budget or None
                )
                if settings is not None and settings.ivr_fast:
                    options = fast_options(options)
                matcher = _matchers[id(kb)] = IntentMatcher(kb, options=options)
                if tune:  # a KB-tuned encoder, trained off the call path
                    kb.on_reload.append(lambda _kb, m=matcher: m.tune(wait=False))
                    matcher.tune(wait=False)
    return matcher


def scoring_counts(kb: KnowledgeBaseSource | None = None) -> dict[str, int]:
    """How the matchers built so far scored callers' questions (``IntentMatcher.scoring_counts``):
    the one of ``kb``, or all of them. Builds nothing: zeros before the first question."""
    totals = {"full": 0, "screen": 0, "late": 0}
    for key, matcher in list(_matchers.items()):
        if kb is None or key == id(kb):
            for path, count in matcher.scoring_counts.items():
                totals[path] = totals.get(path, 0) + count
    return totals


async def get_matcher(kb: KbSourceDep, settings: SettingsDep) -> IntentMatcher:
    return matcher_for(kb, settings)


MatcherDep = Annotated[IntentMatcher, Depends(get_matcher)]


@lru_cache(maxsize=1)
def _sentiment() -> SentimentFn | None:
    return text_sentiment_fn()


def sentiment_fn() -> SentimentFn | None:
    """``fn(text, language) -> [-1, 1]`` from callscope.analysis.sentiment, or None (loaded once)."""
    return _sentiment()


async def get_sentiment_fn() -> SentimentFn | None:
    return sentiment_fn()


def ivr_options_for(settings: Settings) -> IvrOptions:
    """The IVR's behaviour from the settings (``ivr_record_from``: "transfer" records the agent
    conversation, "start" the whole call; anything else falls back to "transfer")."""
    token = settings.twilio_auth_token.get_secret_value()
    secret = token or settings.secret_key.get_secret_value()
    record_from = settings.ivr_record_from
    if record_from not in ("transfer", "start"):
        log.warning("ivr_record_from=%r is not 'transfer' or 'start'; using 'transfer'", record_from)
        record_from = "transfer"
    return IvrOptions(
        company=settings.company_name,
        agent_dial=settings.agent_dial,
        record_calls=settings.record_calls,
        record_from=record_from,
        survey=settings.ivr_survey,
        public_base_url=settings.public_base_url,
        context_secret=secret,
        default_language=settings.languages[0]
        if settings.languages and settings.languages[0] in ("en", "zh")
        else "en",
    )


async def get_ivr_options(settings: SettingsDep) -> IvrOptions:
    return ivr_options_for(settings)


OptionsDep = Annotated[IvrOptions, Depends(get_ivr_options)]


async def get_flow(
    matcher: MatcherDep,
    actions: ActionsDep,
    options: OptionsDep,
    sentiment: Annotated[SentimentFn | None, Depends(get_sentiment_fn)],
) -> IvrFlow:
    return IvrFlow(matcher, actions, FrustrationDetector(sentiment), options)


FlowDep = Annotated[IvrFlow, Depends(get_flow)]


def recording_sink_for(settings: Settings) -> RecordingSink:
    """The standalone sink: files under <data_dir>/ivr_recordings."""
    return FileRecordingSink(settings.data_dir / "ivr_recordings")


async def get_recording_sink(request: Request) -> RecordingSink:
    """Where downloaded recordings go: ``app.state.recording_sink`` (the recordings store and
    the job queue with the API; files under ``<data_dir>/ivr_recordings`` without it)."""
    return request.app.state.recording_sink


async def get_recording_transport() -> httpx.BaseTransport | None:
    """The httpx transport for recording downloads (tests pass httpx.MockTransport)."""
    return None


def recording_fetcher_for(settings: Settings, transport: httpx.BaseTransport | None = None) -> RecordingFetcher:
    """Basic auth with the API key SID + secret, else AccountSid + auth token."""
    if settings.twilio_api_key_sid and settings.twilio_api_key_secret.get_secret_value():
        user, password = settings.twilio_api_key_sid, settings.twilio_api_key_secret.get_secret_value()
    else:
        user, password = settings.twilio_account_sid, settings.twilio_auth_token.get_secret_value()
    return RecordingFetcher(user, password, transport=transport)


async def get_recording_fetcher(
    settings: SettingsDep, transport: Annotated[httpx.BaseTransport | None, Depends(get_recording_transport)]
) -> RecordingFetcher:
    return recording_fetcher_for(settings, transport)


SinkDep = Annotated[RecordingSink, Depends(get_recording_sink)]
FetcherDep = Annotated[RecordingFetcher, Depends(get_recording_fetcher)]


async def read_form(request: Request) -> dict[str, str]:
    """The POST form as a dict (empty on a malformed body), query parameters excluded."""
    if request.method != "POST":
        return {}
    try:
        form = await request.form()
    except Exception as exc:  # noqa: BLE001 - any unparsable body is treated as empty (then 403)
        log.warning("unreadable webhook body: %s", exc)
        return {}
    return {k: v for k, v in form.multi_items() if isinstance(v, str)}


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


async def read_json_fields(request: Request) -> tuple[str, dict[str, str]]:
    """The raw body (what a ``bodySHA256`` signature covers) and its top-level scalar fields."""
    raw = (await request.body()).decode("utf-8", errors="replace")
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        log.warning("unreadable JSON webhook body: %s", exc)
        data = {}
    fields: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, bool):
                fields[str(key)] = "true" if value else "false"
            elif isinstance(value, (str, int, float)):
                fields[str(key)] = str(value)
    return raw, fields


async def twilio_form(request: Request, settings: SettingsDep) -> dict[str, str]:
    """The webhook's form fields (or a JSON body's top-level fields), after checking
    X-Twilio-Signature (403 when it fails)."""
    global _warned_no_validation
    signed: dict[str, str] | str
    if _is_json(request) and request.method == "POST":
        signed, form = await read_json_fields(request)
    else:
        form = signed = await read_form(request)
    if not settings.twilio_validate:
        if not _warned_no_validation:
            log.warning(
                "Twilio signature validation is OFF (CALLSCOPE_TWILIO_VALIDATE=false): anyone can call these webhooks"
            )
            _warned_no_validation = True
        return form
    try:
        verify_signature(
            public_url(request, settings.public_base_url),
            signed,
            request.headers.get("x-twilio-signature", ""),
            settings.twilio_auth_token.get_secret_value(),
            settings_header=request.headers.get("x-twilio-webhooks-signature-settings"),
            webhook_secret=settings.twilio_webhook_secret.get_secret_value(),
        )
    except WebhookSignatureError as exc:
        log.warning("rejected webhook %s: %s", request.url.path, exc)
        raise HTTPException(status_code=403, detail="invalid Twilio signature") from None
    return form


TwilioForm = Annotated[dict[str, str], Depends(twilio_form)]


async def require_operator(request: Request, settings: SettingsDep) -> None:
    """Operator-only endpoints (recording retry): ``Authorization: Bearer <CALLSCOPE_SECRET_KEY>``,
    or any request from this machine when no secret key is set. The API overrides this."""
    secret = settings.secret_key.get_secret_value()
    auth = request.headers.get("authorization", "")
    if secret:
        if auth == f"Bearer {secret}":
            return
        raise HTTPException(
            status_code=401, detail="operator token required (Authorization: Bearer <CALLSCOPE_SECRET_KEY>)"
        )
    host = request.client.host if request.client else ""
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host in ("testclient", "localhost"):
            return
    raise HTTPException(status_code=403, detail="set CALLSCOPE_SECRET_KEY to use this endpoint remotely")


def reset_caches() -> None:
    """Forget cached knowledge bases and matchers (tests)."""
    with _lock:
        _kb_sources.clear()
        _matchers.clear()
        _actions.clear()
