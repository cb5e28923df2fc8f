"""``/api/auth`` (login, logout, who am I, API keys) and ``/api/users`` (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from callscope.api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    AdminDep,
    CtxDep,
    PrincipalDep,
    SessionsDep,
)
from callscope.api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    LoginIn,
    MeOut,
    Problem,
    UserCreate,
    UserOut,
    UserUpdate,
)
from callscope.auth import service as auth
from callscope.errors import ConfigError, NotFoundError

router = APIRouter(prefix="/api/auth", tags=["auth"])
users_router = APIRouter(prefix="/api/users", tags=["users"])

Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@\-]{0,63}$")]


def _me(principal_user: auth.User, via: str, csrf: str | None) -> MeOut:
    role = principal_user.role
    return MeOut(username=principal_user.username, role=str(role), can_edit=role.can_edit, sees_pii=role.sees_pii,
                 is_admin=role is auth.UserRole.ADMIN, auth=via, csrf_token=csrf)  # type: ignore[arg-type]


@router.post("/login", response_model=MeOut, responses={401: {"model": Problem}, 429: {"model": Problem}},
             summary="Log in with a user name and password (sets the session cookie)")
async def login(body: LoginIn, request: Request, response: Response, ctx: CtxDep, sessions: SessionsDep) -> MeOut:
    throttle: auth.LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else "unknown"
    keys = throttle.keys(body.username, client)
    wait = throttle.retry_after(*keys)
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"too many failed logins: try again in {wait} s",
                            headers={"Retry-After": str(wait)})
    try:
        user = await run_in_threadpool(auth.authenticate, ctx, body.username, body.password)
    except auth.AuthError as exc:
        throttle.failed(*keys)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(exc)) from None
    throttle.succeeded(*keys)
    cookie, csrf = sessions.create(user)
    secure: bool = request.app.state.cookie_secure
    max_age = int(sessions.ttl.total_seconds())
    response.set_cookie(SESSION_COOKIE, cookie, max_age=max_age, httponly=True, secure=secure, samesite="lax", path="/")
    response.set_cookie(CSRF_COOKIE, csrf, max_age=max_age, httponly=False, secure=secure, samesite="lax", path="/")
    return _me(user, "session", csrf)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="End the browser session")
def logout(request: Request, principal: PrincipalDep, sessions: SessionsDep) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        sessions.end(cookie)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    secure: bool = request.app.state.cookie_secure
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=secure, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, samesite="lax")
    return response


@router.get("/me", response_model=MeOut, responses={401: {"model": Problem}})
def me(principal: PrincipalDep) -> MeOut:
    return _me(principal.user, principal.via, principal.csrf_token)


@router.get("/keys", response_model=list[ApiKeyOut], summary="Your API keys (admins: everyone's)")
def list_keys(ctx: CtxDep, principal: PrincipalDep) -> list[ApiKeyOut]:
    owner = None if principal.role is auth.UserRole.ADMIN else principal.user.username
    return [ApiKeyOut.of(k) for k in auth.list_api_keys(ctx, owner)]


@router.post("/keys", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED,
             summary="Create an API key for yourself (the key is shown once)")
def create_key(body: ApiKeyCreate, ctx: CtxDep, principal: PrincipalDep) -> ApiKeyCreated:
    info, key = auth.create_api_key(ctx, principal.user.username, body.name)
    return ApiKeyCreated(**ApiKeyOut.of(info).model_dump(), key=key)


@router.delete("/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Problem}})
def revoke_key(key_id: Annotated[str, Path(pattern=r"^[a-z0-9]{8}$")], ctx: CtxDep, principal: PrincipalDep) -> Response:
    owner = None if principal.role is auth.UserRole.ADMIN else principal.user.username
    try:
        auth.revoke_api_key(ctx, key_id, username=owner)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- users


@users_router.get("", response_model=list[UserOut])
def list_users(ctx: CtxDep, principal: AdminDep) -> list[UserOut]:
    return [UserOut.of(u) for u in auth.list_users(ctx)]


@users_router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED,
                   responses={409: {"model": Problem}, 422: {"model": Problem}})
async def create_user(body: UserCreate, ctx: CtxDep, principal: AdminDep) -> UserOut:
    try:
        user = await run_in_threadpool(auth.create_user, ctx, body.username, body.password, body.role)
    except ConfigError as exc:
        code = status.HTTP_409_CONFLICT if "already exists" in str(exc) else status.HTTP_422_UNPROCESSABLE_CONTENT
        raise HTTPException(code, str(exc)) from None
    return UserOut.of(user)


@users_router.patch("/{username}", response_model=UserOut, responses={404: {"model": Problem}})
async def update_user(username: Username, body: UserUpdate, ctx: CtxDep, principal: AdminDep) -> UserOut:
    if username == principal.user.username and body.role not in (None, "admin"):
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot take the admin role from yourself")
    try:
        user = await run_in_threadpool(auth.update_user, ctx, username, role=body.role, password=body.password)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    except ConfigError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None
    return UserOut.of(user)


@users_router.delete("/{username}", status_code=status.HTTP_204_NO_CONTENT, responses={404: {"model": Problem}})
def delete_user(username: Username, ctx: CtxDep, principal: AdminDep) -> Response:
    if username == principal.user.username:
        raise HTTPException(status.HTTP_409_CONFLICT, "you cannot delete yourself")
    try:
        auth.delete_user(ctx, username)
    except NotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return Response(status_code=status.HTTP_204_NO_CONTENT)
