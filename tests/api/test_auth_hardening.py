"""Auth hardening: a new password revokes API keys, weak and common passwords are
refused, the login throttle cannot be used to lock out neighbours nor dodged with
X-Forwarded-For, HSTS over HTTPS, and API answers are not cached."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from callscope.auth import service as auth
from callscope.api.app import ApiOptions
from callscope.api.commands import SERVE_OPTIONS_ENV
from tests.api.conftest import PASSWORD


def _login(client: TestClient, username: str, password: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", json={"username": username, "password": password}, headers=headers)


def test_a_new_password_revokes_the_users_api_keys(api) -> None:  # type: ignore[no-untyped-def]
    key = api.keys["reviewer"]
    assert api.get("/api/recordings", "reviewer").status_code == 200
    changed = api.patch("/api/users/reviewer", json={"password": "a brand new passphrase"})
    assert changed.status_code == 200, changed.text
    assert api.client.get("/api/recordings", headers={"X-API-Key": key}).status_code == 401
    assert api.get("/api/auth/keys", "admin").status_code == 200  # other users' keys still work
    assert not [k for k in auth.list_api_keys(api.ctx, "reviewer")]


@pytest.mark.parametrize(("password", "why"), [
    ("password123", "too common"),
    ("qwertyuiop", "too common"),
    ("1234567890", "too common"),
    ("aaaaaaaaaaaa", "too common"),
    ("newuser2024", "too common"),  # the user's own name
    ("Sh0rt!pw", "too short"),
])
def test_weak_and_common_passwords_are_refused(api, password: str, why: str) -> None:  # type: ignore[no-untyped-def]
    response = api.post("/api/users", json={"username": "newuser", "password": password, "role": "reviewer"})
    assert response.status_code == 422, response.text
    if len(password) >= 10:
        assert why in response.json()["detail"]
    with pytest.raises(Exception, match=why):
        auth.create_user(api.ctx, "newuser", password, "reviewer")


def test_the_cli_refuses_a_common_password(settings) -> None:  # type: ignore[no-untyped-def]
    from callscope.cli import app as cli

    result = CliRunner().invoke(cli, ["users", "add", "qa9", "--password", "iloveyou123"])
    assert result.exit_code != 0 and "too common" in str(result.exception) + result.output


def test_one_guesser_does_not_lock_out_others_at_the_same_address(api) -> None:  # type: ignore[no-untyped-def]
    for _ in range(8):
        assert _login(api.client, "admin", "guess guess guess").status_code == 401
    assert _login(api.client, "admin", PASSWORD).status_code == 429  # that name from that address
    assert _login(api.client, "reviewer", PASSWORD).status_code == 200  # a colleague behind the same NAT


def test_forwarded_for_is_ignored_unless_from_a_trusted_proxy(app_factory) -> None:  # type: ignore[no-untyped-def]
    app, _ = app_factory()
    with TestClient(app) as client:
        auth.create_user(app.state.ctx, "ann", PASSWORD, "admin")
        for n in range(8):  # a new made-up address each time: still one client
            assert _login(client, "ann", "guess guess guess", **{"X-Forwarded-For": f"198.51.100.{n}"}).status_code == 401
        assert _login(client, "ann", PASSWORD, **{"X-Forwarded-For": "198.51.100.200"}).status_code == 429

    trusted, _ = app_factory(trusted_proxies=["testclient"])
    with TestClient(trusted) as client:
        auth.create_user(trusted.state.ctx, "ann", PASSWORD, "admin")
        for _ in range(8):
            assert _login(client, "ann", "guess guess guess", **{"X-Forwarded-For": "203.0.113.5"}).status_code == 401
        assert _login(client, "ann", PASSWORD, **{"X-Forwarded-For": "203.0.113.5"}).status_code == 429
        assert _login(client, "ann", PASSWORD, **{"X-Forwarded-For": "203.0.113.6"}).status_code == 200


def test_serve_does_not_let_uvicorn_trust_forwarded_headers(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from callscope.cli import app as cli

    monkeypatch.setenv("CALLSCOPE_WORKERS", "1")  # what serve hands its processes is undone afterwards
    monkeypatch.setenv(SERVE_OPTIONS_ENV, "{}")
    for processes in ("1", "2"):
        seen: dict = {}
        monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs))
        result = CliRunner().invoke(cli, ["serve", "--port", "8765", "--workers", processes])
        assert result.exit_code == 0, result.output
        assert seen.get("proxy_headers") is False
        assert seen.get("workers", 1) == int(processes)


def test_hsts_over_https_and_no_store_on_api_answers(app_factory, api) -> None:  # type: ignore[no-untyped-def]
    plain = api.get("/api/recordings")
    assert plain.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in plain.headers
    export = api.get("/api/scorecards/export")
    assert export.headers["cache-control"] == "no-store"
    app, _ = app_factory(ApiOptions(include_ivr=False), public_base_url="https://calls.example.com")
    with TestClient(app, base_url="https://calls.example.com") as client:
        response = client.get("/api/auth/me")
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
        assert response.headers["cache-control"] == "no-store"


def test_login_throttle_shares_its_limits_among_server_processes() -> None:
    # `callscope serve --workers 3`: each process counts on its own, so each allows a third of every
    # limit (rounded up) and a guesser spread over the three gets about one process's worth
    single, shared = auth.LoginThrottle(), auth.LoginThrottle(processes=3)
    assert {kind: -(-limit // 3) for kind, limit in single.limits.items()} == shared.limits
    keys = shared.keys("admin", "198.51.100.7")
    for _ in range(shared.limits["pair"]):
        assert shared.retry_after(*keys) == 0
        shared.failed(*keys)
    assert shared.retry_after(*keys) > 0
    assert auth.LoginThrottle(per_pair=1, processes=4).limits["pair"] == 1  # never below one try
