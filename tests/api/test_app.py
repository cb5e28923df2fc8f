"""The application shell: OpenAPI, dashboard assets, headers, errors, IVR mount, CLI."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from callscope.api.app import ApiOptions
from callscope.cli import app as cli


def test_openapi_documents_the_api(api) -> None:
    schema = api.client.get("/openapi.json").json()
    paths = schema["paths"]
    for path in ("/api/recordings", "/api/recordings/{recording_id}/audio", "/api/jobs/{job_id}", "/api/search",
                 "/api/recordings/{recording_id}/transcript", "/api/scorecards/export", "/api/auth/login"):
        assert path in paths, path
    upload = paths["/api/recordings"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["required"] == ["file"]
    assert api.client.get("/docs").status_code == 404  # Swagger UI would need a CDN


def test_dashboard_is_served_without_login(api) -> None:
    for page in ("/", "/login", "/calls", "/insights", "/calls/" + "a" * 64):
        response = api.client.get(page)
        assert response.status_code == 200 and "text/html" in response.headers["content-type"], page
        assert "/static/app.js" in response.text
    for asset in ("app.js", "app.css"):
        assert api.client.get(f"/static/{asset}").status_code == 200
    for evil in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2Fapp.py"):
        response = api.client.get(evil)
        assert response.status_code == 404 and b"create_app" not in response.content, evil


def test_no_page_loads_anything_from_another_origin(api) -> None:
    import re

    html = api.client.get("/").text + api.client.get("/static/app.js").text + api.client.get("/static/app.css").text
    assert not re.search(r"https?://(?!www\.w3\.org/)", html)


def test_security_headers(api) -> None:
    response = api.client.get("/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert api.client.get("/healthz").json()["status"] == "ok"


def test_queue_resumes_pending_jobs_at_start(app_factory) -> None:
    app, queue = app_factory()
    with TestClient(app):
        assert queue.resumed == 1


def test_ivr_webhooks_are_mounted_and_share_the_app(app_factory) -> None:
    app, _ = app_factory(ApiOptions(), twilio_validate=True)
    assert "/ivr/voice" in app.openapi()["paths"]
    with TestClient(app) as client:
        # unsigned webhook: refused by the IVR's signature check, not by our API auth
        assert client.post("/ivr/voice", data={"CallSid": "CA1"}).status_code == 403
        # the operator-only retry endpoint answers to our admin check
        assert client.post("/ivr/recordings/RE1/retry").status_code == 401


def test_users_cli(settings) -> None:  # type: ignore[no-untyped-def]
    runner = CliRunner()
    result = runner.invoke(cli, ["users", "add", "qa1", "--role", "read-only", "--password", "long enough pw",
                                 "--api-key"])
    assert result.exit_code == 0, result.output
    assert "added qa1 (read-only)" in result.output and "API key (shown once): cs_" in result.output
    listed = runner.invoke(cli, ["users", "list"])
    assert "qa1" in listed.output and "read-only" in listed.output
    bad = runner.invoke(cli, ["users", "add", "qa2", "--role", "boss", "--password", "long enough pw"])
    assert bad.exit_code != 0
    short = runner.invoke(cli, ["users", "add", "qa3", "--password", "short"])
    assert short.exit_code != 0
    stdin = runner.invoke(cli, ["users", "add", "qa4", "--role", "admin", "--password-stdin"], input="from stdin pw\n")
    assert stdin.exit_code == 0, stdin.output
    from callscope.auth.service import authenticate
    from callscope.context import Context

    assert authenticate(Context(settings), "qa4", "from stdin pw").role == "admin"
    key = runner.invoke(cli, ["users", "key", "qa4"])
    assert key.output.startswith("cs_")
    assert runner.invoke(cli, ["users", "set", "qa4", "--role", "reviewer"]).exit_code == 0
    assert runner.invoke(cli, ["users", "remove", "qa4"]).exit_code == 0
    serve = runner.invoke(cli, ["serve", "--help"])
    assert serve.exit_code == 0 and "--kb" in serve.output and "--port" in serve.output


def test_twilio_recordings_are_stored_and_queued(app_factory, data_dir) -> None:  # type: ignore[no-untyped-def]
    import httpx

    from callscope.ivr import deps as ivr_deps

    app, queue = app_factory(ApiOptions(), twilio_validate=False, twilio_account_sid="AC1",
                             twilio_auth_token="secret")
    audio = (data_dir / "calls" / "s_en_01.stereo.wav").read_bytes()
    fetched: list[str] = []

    def twilio(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        return httpx.Response(200, content=audio, headers={"content-type": "audio/x-wav"})

    app.dependency_overrides[ivr_deps.get_recording_transport] = lambda: httpx.MockTransport(twilio)
    form = {"RecordingSid": "RE123", "CallSid": "CA987", "RecordingStatus": "completed", "RecordingChannels": "2",
            "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE123"}
    with TestClient(app) as client:
        assert client.post("/ivr/recording-status", data=form).status_code == 204
        assert client.post("/ivr/recording-status", data=form).status_code == 204  # a replay changes nothing
    assert fetched == ["https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE123.wav"]
    recordings = app.state.ctx.store.list()
    assert len(recordings) == 1
    rec = recordings[0]
    assert rec.source == "twilio" and rec.call_id == "CA987" and rec.metadata["recording_sid"] == "RE123"
    assert queue.submitted == [rec.id]
