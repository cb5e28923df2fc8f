"""Dependencies of the API routes: the context, the queue and the caller's identity.

A request is authenticated by an API key (``X-API-Key: cs_…`` or ``Authorization:
Bearer cs_…``) or by the session cookie the dashboard gets at login. Cookie-authenticated
requests that change state must echo the session's CSRF token in ``X-CSRF-Token``
(a cross-site page can send the cookie but cannot read the token).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, HTTPException, Request, status

from callscope.auth.service import SessionManager, User, UserRole, user_for_api_key
from callscope.context import Context
from callscope.jobs.queue import JobQueue

SESSION_COOKIE = "callscope_session"
CSRF_COOKIE = "callscope_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_ctx(request: Request) -> Context:
    return request.app.state.ctx


def get_queue(request: Request) -> JobQueue:
    return request.app.state.queue


def get_sessions(request: Request) -> SessionManager:
    return request.app.state.session_manager


CtxDep = Annotated[Context, Depends(get_ctx)]
QueueDep = Annotated[JobQueue, Depends(get_queue)]
SessionsDep = Annotated[SessionManager, Depends(get_sessions)]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, and how they proved it."""

    user: User
    via: Literal["api-key", "session"]
    csrf_token: str | None = None

    @property
    def role(self) -> UserRole:
        return self.user.role


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def _api_key_of(request: Request) -> str | None:
    key = request.headers.get("x-api-key")
    if key:
        return key
    authorization = request.headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def current_principal(request: Request, ctx: CtxDep, sessions: SessionsDep) -> Principal:
    """The authenticated caller.

    Raises:
        HTTPException: 401 without valid credentials; 403 for a cookie request that
        changes state without the matching CSRF token.
    """
    key = _api_key_of(request)
    if key is not None:
        user = user_for_api_key(ctx, key)
        if user is None:
            raise _unauthorized("invalid API key")
        return Principal(user, "api-key")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        resolved = sessions.resolve(cookie)
        if resolved is None:
            raise _unauthorized("your session has expired: log in again")
        user, csrf = resolved
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not sent or not hmac.compare_digest(sent, csrf):
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"missing or wrong {CSRF_HEADER} header (send the csrf_token from /api/auth/me)",
                )
        return Principal(user, "session", csrf)
    raise _unauthorized("not authenticated: log in, or send an API key (X-API-Key header or Authorization: Bearer)")


def require_editor(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Admins and reviewers."""
    if not principal.role.can_edit:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {principal.role} role cannot change data")
    return principal


def require_admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if principal.role is not UserRole.ADMIN:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only an admin can do this")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
EditorDep = Annotated[Principal, Depends(require_editor)]
AdminDep = Annotated[Principal, Depends(require_admin)]
