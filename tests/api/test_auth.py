"""Access control: API keys, sessions, CSRF, roles, users, bootstrap admin."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from callscope.api.app import ApiOptions, create_app
from callscope.api.deps import CSRF_HEADER, SESSION_COOKIE
from callscope.auth import service as auth
from callscope.auth.tables import ApiKeyRow, UserRow

PASSWORD = "correct horse battery"  # the api fixture's users' password

# every API route with a GET, filled with syntactically valid ids
GET_ROUTES = [
    "/api/auth/me", "/api/auth/keys", "/api/users", "/api/recordings", "/api/recordings/facets",
    "/api/recordings/{rid}", "/api/recordings/{rid}/audio", "/api/recordings/{rid}/waveform",
    "/api/recordings/{rid}/jobs", "/api/recordings/{rid}/transcript", "/api/recordings/{rid}/diarization",
    "/api/recordings/{rid}/analysis", "/api/recordings/{rid}/metrics", "/api/recordings/{rid}/emotions",
    "/api/recordings/{rid}/scorecards", "/api/scorecards", "/api/scorecards/export", "/api/scorecards/rubric",
    "/api/scorecards/1", "/api/jobs", "/api/jobs/00000000-0000-0000-0000-000000000000", "/api/search?q=hours",
    "/api/insights/issues", "/api/insights/ivr", "/api/insights/selfservice", "/api/faq", "/api/faq/faq-x",
]
WRITE_ROUTES = [
    ("post", "/api/recordings"), ("delete", "/api/recordings/{rid}"), ("post", "/api/recordings/{rid}/jobs"),
    ("post", "/api/recordings/{rid}/scorecards"), ("post", "/api/search/reindex"), ("post", "/api/users"),
    ("post", "/api/auth/keys"), ("post", "/api/auth/logout"), ("patch", "/api/recordings/{rid}"),
    ("delete", "/api/auth/keys/abcdefgh"), ("patch", "/api/users/admin"), ("delete", "/api/users/admin"),
    ("put", "/api/scorecards/1"), ("delete", "/api/scorecards/1"), ("post", "/api/insights/issues/mine"),
    ("post", "/api/faq"), ("post", "/api/faq/generate"), ("patch", "/api/faq/faq-x"),
    ("post", "/api/faq/faq-x/approve"), ("post", "/api/faq/faq-x/reject"), ("post", "/api/faq/faq-x/reopen"),
    ("post", "/api/faq/faq-x/publish"), ("post", "/api/insights/selfservice/gaps"),
]


def _login(client: TestClient, username: str = "reviewer", password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", json={"username": username, "password": password})


def test_every_api_route_needs_authentication(api) -> None:
    rid = api.store_call("s_en_01")
    paths = {p for p in api.client.get("/openapi.json").json()["paths"] if p.startswith("/api/")}
    def template(route: str) -> str:
        route = route.split("?")[0].replace("{rid}", "{recording_id}").replace("/faq-x", "/{entry_id}")
        for concrete, name in (("/abcdefgh", "/{key_id}"), ("/admin", "/{username}"), ("/1", "/{scorecard_id}"),
                               ("/00000000-0000-0000-0000-000000000000", "/{job_id}")):
            route = route.replace(concrete, name)
        return route

    covered = {template(r) for r in GET_ROUTES} | {template(r) for _, r in WRITE_ROUTES} | {"/api/auth/login"}
    missing = set(paths) - covered
    assert not missing, f"routes without an auth test: {missing}"
    for route in GET_ROUTES:
        response = api.client.get(route.format(rid=rid))
        assert response.status_code == 401, route
        assert response.headers["www-authenticate"] == "Bearer"
        assert "log in" in response.json()["detail"]
    for method, route in WRITE_ROUTES:
        response = getattr(api.client, method)(route.format(rid=rid))
        assert response.status_code == 401, route


def test_invalid_api_keys_are_rejected(api) -> None:
    for key in ("nonsense", "cs_aaaaaaaa_" + "x" * 43, api.keys["admin"][:-2] + "zz", ""):
        response = api.client.get("/api/recordings", headers={"X-API-Key": key})
        assert response.status_code == 401, key


def test_api_key_as_header_or_bearer(api) -> None:
    assert api.client.get("/api/auth/me", headers={"X-API-Key": api.keys["reviewer"]}).json()["role"] == "reviewer"
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {api.keys['read-only']}"}).json()
    assert me["role"] == "read-only" and me["sees_pii"] is False and me["can_edit"] is False
    assert me["auth"] == "api-key"


def test_keys_are_stored_hashed_and_passwords_with_argon2(api) -> None:
    with api.ctx.sessions() as session:
        rows = session.query(ApiKeyRow).all()
        users = session.query(UserRow).all()
    assert rows and all(api.keys["admin"] != r.key_hash and len(r.key_hash) == 64 for r in rows)
    assert all(u.password_hash.startswith("$argon2id$") and PASSWORD not in u.password_hash for u in users)


def test_login_sets_a_safe_session_cookie(api) -> None:
    response = _login(api.client)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "reviewer" and body["csrf_token"]
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE + "="))
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "secure" not in flags and "path=/" in flags
    me = api.client.get("/api/auth/me")
    assert me.status_code == 200 and me.json()["auth"] == "session"
    assert me.json()["csrf_token"] == body["csrf_token"]


def test_secure_cookie_flag_is_configurable(app_factory) -> None:
    app, _ = app_factory(ApiOptions(cookie_secure=True, include_ivr=False))
    with TestClient(app, base_url="https://testserver") as client:
        auth.create_user(app.state.ctx, "ann", PASSWORD, "admin")
        response = client.post("/api/auth/login", json={"username": "ann", "password": PASSWORD})
        cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
        assert "secure" in cookie.lower()
    https, _ = app_factory(public_base_url="https://calls.example.com")
    assert https.state.cookie_secure is True


def test_wrong_password_and_unknown_user_get_the_same_401(api) -> None:
    wrong = _login(api.client, "reviewer", "not the password")
    unknown = _login(api.client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert SESSION_COOKIE not in api.client.cookies


def test_repeated_failed_logins_are_throttled(api) -> None:
    for _ in range(8):
        assert _login(api.client, "admin", "guess guess").status_code == 401
    blocked = _login(api.client, "admin", PASSWORD)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0


def test_login_rejects_form_posts_and_malformed_json(api) -> None:
    # a cross-site HTML form can send only form/text bodies: they must not log anyone in
    form = api.client.post("/api/auth/login", data={"username": "admin", "password": PASSWORD})
    assert form.status_code == 422
    text = api.client.post("/api/auth/login", content=f'{{"username":"admin","password":"{PASSWORD}"}}',
                           headers={"content-type": "text/plain"})
    assert text.status_code == 422
    broken = api.client.post("/api/auth/login", content=b'{"username": "admin", ',
                             headers={"content-type": "application/json"})
    assert broken.status_code == 422
    assert "json" in str(broken.json()["detail"]).lower()
    extra = api.client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD, "role": "admin"})
    assert extra.status_code == 422


def test_cookie_requests_that_change_state_need_the_csrf_token(api) -> None:
    rid = api.store_call("s_en_01")
    token = _login(api.client).json()["csrf_token"]
    body = {"scores": {"greeting": 5}, "comments": "ok"}
    no_token = api.client.post(f"/api/recordings/{rid}/scorecards", json=body)
    assert no_token.status_code == 403 and CSRF_HEADER in no_token.json()["detail"]
    wrong = api.client.post(f"/api/recordings/{rid}/scorecards", json=body, headers={CSRF_HEADER: "forged"})
    assert wrong.status_code == 403
    ok = api.client.post(f"/api/recordings/{rid}/scorecards", json=body, headers={CSRF_HEADER: token})
    assert ok.status_code == 201
    # reads need no token
    assert api.client.get(f"/api/recordings/{rid}/scorecards").status_code == 200


def test_logout_ends_the_session_server_side(api) -> None:
    token = _login(api.client).json()["csrf_token"]
    stolen = api.client.cookies.get(SESSION_COOKIE)
    assert api.client.post("/api/auth/logout", headers={CSRF_HEADER: token}).status_code == 204
    assert api.client.get("/api/auth/me").status_code == 401
    api.client.cookies.clear()
    replay = api.client.get("/api/auth/me", headers={"Cookie": f"{SESSION_COOKIE}={stolen}"})
    assert replay.status_code == 401


def test_a_tampered_session_cookie_is_rejected(api) -> None:
    _login(api.client)
    cookie = api.client.cookies.get(SESSION_COOKIE)
    api.client.cookies.clear()
    assert api.client.get("/api/auth/me", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"}).status_code == 200
    tampered = cookie[:-3] + ("abc" if not cookie.endswith("abc") else "xyz")
    assert api.client.get("/api/auth/me", headers={"Cookie": f"{SESSION_COOKIE}={tampered}"}).status_code == 401


@pytest.mark.parametrize(("role", "status_code"), [("read-only", 403), ("reviewer", 403), ("admin", 200)])
def test_only_admins_manage_users(api, role: str, status_code: int) -> None:
    assert api.get("/api/users", role).status_code == status_code


def test_user_management(api) -> None:
    created = api.post("/api/users", json={"username": "qa.lead", "password": "long enough pw", "role": "reviewer"})
    assert created.status_code == 201 and created.json()["role"] == "reviewer"
    assert api.post("/api/users", json={"username": "qa.lead", "password": "long enough pw",
                                        "role": "reviewer"}).status_code == 409
    assert api.post("/api/users", json={"username": "x", "password": "short", "role": "reviewer"}).status_code == 422
    assert api.post("/api/users", json={"username": "y", "password": "long enough pw", "role": "god"}).status_code == 422
    assert api.post("/api/users", json={"username": "../etc", "password": "long enough pw",
                                        "role": "reviewer"}).status_code == 422
    assert api.patch("/api/users/qa.lead", json={"role": "read-only"}).json()["role"] == "read-only"
    assert _login(api.client, "qa.lead", "long enough pw").status_code == 200
    assert api.patch("/api/users/admin", json={"role": "reviewer"}).status_code == 409  # not yourself
    assert api.delete("/api/users/admin").status_code == 409
    assert api.delete("/api/users/qa.lead").status_code == 204
    assert api.delete("/api/users/qa.lead").status_code == 404
    assert api.patch("/api/users/ghost", json={"role": "admin"}).status_code == 404


def test_api_keys_can_be_created_listed_and_revoked(api) -> None:
    created = api.post("/api/auth/keys", "reviewer", json={"name": "ci"})
    assert created.status_code == 201
    key = created.json()["key"]
    assert api.client.get("/api/auth/me", headers={"X-API-Key": key}).json()["username"] == "reviewer"
    mine = api.get("/api/auth/keys", "reviewer").json()
    assert {k["name"] for k in mine} == {"tests", "ci"} and all("key" not in k for k in mine)
    assert len(api.get("/api/auth/keys", "admin").json()) >= 4  # admins see everyone's
    other = api.get("/api/auth/keys", "admin").json()
    admin_key = next(k["id"] for k in other if k["username"] == "admin")
    assert api.delete(f"/api/auth/keys/{admin_key}", "reviewer").status_code == 404  # not theirs
    assert api.delete(f"/api/auth/keys/{created.json()['id']}", "reviewer").status_code == 204
    assert api.client.get("/api/auth/me", headers={"X-API-Key": key}).status_code == 401


def test_bootstrap_admin_from_settings(app_factory) -> None:
    app, _ = app_factory(admin_password="bootstrap-secret-1")
    settings = app.state.settings
    with TestClient(app) as client:
        assert _login(client, "admin", "bootstrap-secret-1").status_code == 200
    # a second start does not reset a changed password
    auth.update_user(app.state.ctx, "admin", password="changed-password-2")
    again = create_app(settings, queue=type(app.state.queue)(), options=ApiOptions(include_ivr=False))
    with TestClient(again) as client:
        assert _login(client, "admin", "bootstrap-secret-1").status_code == 401
        assert _login(client, "admin", "changed-password-2").status_code == 200


def test_no_users_and_no_admin_password_means_nobody_gets_in(app_factory) -> None:
    app, _ = app_factory()
    with TestClient(app) as client:
        assert auth.count_users(app.state.ctx) == 0
        assert client.get("/api/recordings").status_code == 401
        assert _login(client, "admin", "").status_code == 422
