"""The web application: REST API under ``/api``, QA dashboard at ``/``, IVR webhooks at ``/ivr``,
the public help center at ``/help`` and the SMS/WhatsApp webhook at ``/messaging``.

:func:`create_app` (the one app factory) wires one :class:`~callscope.context.Context`
(``app.state.ctx``, which the IVR's dependencies read too) and one job queue to the
routers. The queue (in-process by default) resumes unfinished jobs at start-up.
``ApiOptions(include_api=False)`` serves the IVR webhooks alone.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callscope import __version__
from callscope.api.deps import require_admin
from callscope.api.media import RangeError
from callscope.api.routers import (
    auth,
    faq,
    helpcenter,
    insights,
    jobs,
    messaging,
    qa,
    recordings,
    scorecards,
    search,
    selfservice,
)
from callscope.auth.service import LoginThrottle, SessionManager, ensure_bootstrap_admin, load_secret_key
from callscope.context import Context
from callscope.errors import (
    CallscopeError,
    ConfigError,
    InvalidAudioError,
    JobError,
    NotFoundError,
    StorageError,
    WebhookSignatureError,
)
from callscope.ivr import deps as ivr_deps
from callscope.ivr import routes as ivr_routes
from callscope.ivr.kb import BUNDLED_KB
from callscope.jobs.queue import JobQueue, StoreRecordingSink, make_queue
from callscope.qa.scorecards import ScorecardError
from callscope.search.index import QueryError, ensure_search_schema
from callscope.settings import Settings, get_settings

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
DASHBOARD_PAGES = ("/", "/login", "/calls", "/insights", "/analytics", "/qa", "/admin")
MIB = 1 << 20


@dataclass(frozen=True, slots=True)
class ApiOptions:
    """Web-server knobs that are not in :class:`Settings`.

    Attributes:
        cookie_secure: mark session cookies ``Secure`` (HTTPS only). ``None``: on when
            ``settings.public_base_url`` is an https URL.
        session_hours: how long a dashboard login lasts.
        max_body_mb: the largest request body other than an upload.
        include_api: serve the REST API and the dashboard (with the job queue and logins);
            ``False`` serves the IVR webhooks alone: recordings go to files under
            ``<data_dir>/ivr_recordings`` and operator endpoints take ``CALLSCOPE_SECRET_KEY``.
        include_ivr: mount the Twilio IVR webhooks (``/ivr``).
        warm_ivr: load the IVR's models at start-up (in the background with the API).
    """

    cookie_secure: bool | None = None
    session_hours: float = 12.0
    max_body_mb: float = 2.0
    include_api: bool = True
    include_ivr: bool = True
    warm_ivr: bool = False


class _BodyTooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses request bodies over the limit with 413 before they are read into memory.

    Uploads (``POST /api/recordings``) may be ``upload_bytes`` long, everything else
    ``other_bytes``. The declared Content-Length is checked first; a chunked body is
    counted as it arrives.
    """

    def __init__(self, app: ASGIApp, *, upload_bytes: int, other_bytes: int, upload_mb: int) -> None:
        self.app = app
        self.upload_bytes = upload_bytes
        self.other_bytes = other_bytes
        self.upload_mb = upload_mb

    def _limit(self, scope: Scope) -> tuple[int, str]:
        if scope["method"] == "POST" and scope["path"].rstrip("/") == "/api/recordings":
            return self.upload_bytes, (
                f"the upload is larger than the {self.upload_mb} MB limit; split the recording or raise "
                "CALLSCOPE_MAX_UPLOAD_MB"
            )
        return self.other_bytes, f"the request body is larger than {self.other_bytes // 1024} KiB"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit, message = self._limit(scope)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    await _send_json(send, 413, {"detail": message})
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await _send_json(send, 413, {"detail": message})


async def _send_json(send: Send, status_code: int, body: dict[str, Any]) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Adds conservative browser security headers to every response: HSTS over HTTPS
    (or when the site is configured as HTTPS), and ``Cache-Control: no-store`` on API
    answers that set no caching of their own (they hold call text and PII)."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        secure = self.https or scope.get("scheme") == "https"
        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = list(msg.get("headers", ()))
                present = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (b"content-security-policy", _CSP.encode()),
                ]
                if secure:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                if api:
                    extra.append((b"cache-control", b"no-store"))
                for key, value in extra:
                    if key not in present:
                        headers.append((key, value))
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, send_with_headers)


# ----------------------------------------------------------------- error mapping

_STATUS = (
    (NotFoundError, 404),
    (InvalidAudioError, 422),
    (ConfigError, 422),
    (WebhookSignatureError, 403),
    (StorageError, 503),
    (JobError, 500),
)


def _status_of(exc: CallscopeError) -> int:
    if isinstance(exc, RangeError):
        return 416
    if isinstance(exc, (QueryError, ScorecardError)):
        return 422
    for cls, code in _STATUS:
        if isinstance(exc, cls):
            return code
    return 400


async def _callscope_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CallscopeError)
    code = _status_of(exc)
    if code >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    return JSONResponse({"detail": str(exc)}, status_code=code)


# ----------------------------------------------------------------------- the app


def create_app(
    settings: Settings | None = None, *, queue: JobQueue | None = None, options: ApiOptions | None = None
) -> FastAPI:
    """Build the callscope web application.

    Args:
        settings: defaults to :func:`~callscope.settings.get_settings`.
        queue: the job queue; by default one from :func:`~callscope.jobs.queue.make_queue`
            (in-process unless ``CALLSCOPE_QUEUE=rq``), shut down with the app.
        options: web-server knobs (cookie security, session length, which parts to serve).

    Returns:
        The FastAPI application (run it with uvicorn, or ``callscope serve``).

    Raises:
        StorageError: the data folder or database cannot be used.
    """
    options = options or ApiOptions()
    settings = settings or get_settings()
    if not options.include_api:
        return _ivr_app(settings, options)
    settings = _with_knowledge_base(settings)
    ctx = Context(settings)
    ensure_search_schema(ctx.engine)
    owns_queue = queue is None
    job_queue: JobQueue = queue if queue is not None else make_queue(ctx)
    cookie_secure = options.cookie_secure
    if cookie_secure is None:
        cookie_secure = bool(settings.public_base_url and settings.public_base_url.lower().startswith("https://"))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(ensure_bootstrap_admin, ctx)
        resumed = await run_in_threadpool(job_queue.resume_pending)
        if resumed:
            log.info("resumed %d unfinished job(s)", len(resumed))
        if app.state.ivr and options.warm_ivr:
            threading.Thread(target=_warm_ivr, args=(ctx,), name="callscope-ivr-warm", daemon=True).start()
        try:
            yield
        finally:
            if owns_queue:
                await run_in_threadpool(job_queue.shutdown)
            ctx.close()

    app = FastAPI(
        title="callscope",
        version=__version__,
        description=(
            "Call-center speech analytics and IVR insights, self-hosted. Authenticate with an API key "
            "(`X-API-Key: cs_…` or `Authorization: Bearer cs_…`) or the dashboard's session cookie "
            "(state-changing cookie requests must send `X-CSRF-Token`)."
        ),
        lifespan=lifespan,
        docs_url=None,  # Swagger UI would load assets from a CDN; the schema is at /openapi.json
        redoc_url=None,
    )
    app.state.ctx = ctx
    app.state.queue = job_queue
    app.state.settings = settings
    app.state.cookie_secure = cookie_secure
    app.state.session_manager = SessionManager(ctx, load_secret_key(settings),
                                               ttl=timedelta(hours=options.session_hours))
    app.state.login_throttle = LoginThrottle(processes=settings.workers)
    app.state.recording_sink = StoreRecordingSink(ctx, job_queue)

    app.add_middleware(SecurityHeaders, https=bool(cookie_secure))
    if settings.trusted_proxies:  # the outermost layer: everything after sees the real client
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    app.add_middleware(
        BodySizeLimit,
        upload_bytes=settings.max_upload_mb * MIB + MIB,  # + multipart framing and form fields
        other_bytes=int(options.max_body_mb * MIB),
        upload_mb=settings.max_upload_mb,
    )
    if options.include_ivr:  # outermost: a webhook's turn is timed from its arrival
        app.add_middleware(ivr_deps.TurnClock)
    app.add_exception_handler(CallscopeError, _callscope_error)

    for router in (auth.router, auth.users_router, scorecards.router, qa.router, recordings.router, jobs.router,
                   search.router, insights.router, faq.router, selfservice.router):
        app.include_router(router)

    app.state.ivr = options.include_ivr
    if options.include_ivr:
        app.include_router(ivr_routes.router)
        app.include_router(messaging.router)  # self-service on the IVR's knowledge base and matcher
        app.include_router(helpcenter.router)
        app.dependency_overrides[ivr_deps.require_operator] = require_admin

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    index = STATIC_DIR / "index.html"

    def dashboard() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    for page in DASHBOARD_PAGES:
        app.add_api_route(page, dashboard, methods=["GET"], include_in_schema=False)
    app.add_api_route("/calls/{recording_id}", dashboard, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _ivr_app(settings: Settings, options: ApiOptions) -> FastAPI:
    """The IVR webhooks alone (``ApiOptions(include_api=False)``)."""
    ctx = Context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if options.warm_ivr:
            ivr_routes.warm_up(ctx)
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(title="callscope IVR", lifespan=lifespan)
    app.include_router(ivr_routes.router)
    app.include_router(messaging.router)
    app.include_router(helpcenter.router)
    app.state.ctx = ctx
    app.state.settings = settings
    app.state.ivr = True
    app.state.recording_sink = ivr_deps.recording_sink_for(settings)
    app.add_middleware(ivr_deps.TurnClock)
    if not settings.twilio_validate:
        log.warning("Twilio signature validation is OFF (CALLSCOPE_TWILIO_VALIDATE=false)")
    return app


def _with_knowledge_base(settings: Settings) -> Settings:
    """Settings whose ``kb_path`` is a writable file that the IVR reads and FAQ publishing writes.

    Without ``CALLSCOPE_KB_PATH``, the bundled demo knowledge base is copied once to
    ``<data_dir>/knowledge_base.yaml`` (publishing never writes into the package).

    Raises:
        StorageError: the copy cannot be written.
    """
    if settings.kb_path is not None:
        return settings
    target = Path(settings.data_dir) / "knowledge_base.yaml"
    if not target.exists():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(BUNDLED_KB, target)
        except OSError as exc:
            raise StorageError(f"cannot create the knowledge base {target}: {exc.strerror}; set CALLSCOPE_KB_PATH") from exc
        log.info("knowledge base: %s (a copy of the bundled demo)", target)
    return settings.model_copy(update={"kb_path": target})


def _warm_ivr(ctx: Context) -> None:
    """Load the IVR's encoder and embed the knowledge base ahead of the first caller."""
    try:
        ivr_routes.warm_up(ctx)
    except Exception:  # the IVR still works, the first caller just waits for the load
        log.warning("could not warm up the IVR", exc_info=True)
