"""Recording callbacks: download with auth and backoff, idempotency, failures kept and retried."""

from __future__ import annotations

import base64
import io
import wave

import httpx
import pytest
from sqlalchemy import select

from callscope.ivr import deps
from callscope.ivr.recording import DownloadError, FetchOptions, RecordingFetcher
from callscope.ivr.simulator import CallerInput, CallSimulator
from callscope.ivr.tables import IvrEventRow, IvrRecordingRow
from tests.twilio_webhooks import signed

from .conftest import PUBLIC, TOKEN

REC_URL = "https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/RE0123"


def stereo_wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00\xff\xff" * 800)
    return buf.getvalue()


class Sink:
    def __init__(self, fail: bool = False) -> None:
        self.accepted: list[tuple[bytes, str, str, dict]] = []
        self.fail = fail

    def accept(self, data: bytes, *, filename: str, call_id: str, metadata: dict) -> str:
        if self.fail:
            raise OSError("disk full")
        self.accepted.append((data, filename, call_id, metadata))
        return f"rec-{len(self.accepted)}"


class Twilio:
    """A fake media server: fails ``failures`` times, then serves the WAV."""

    def __init__(self, failures: int = 0, status: int = 503) -> None:
        self.failures = failures
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.requests) <= self.failures:
            return httpx.Response(self.status)
        return httpx.Response(200, content=stereo_wav(), headers={"Content-Type": "audio/x-wav"})


@pytest.fixture
def wired(client, ivr_settings, monkeypatch):
    """The app with a fake Twilio media server, a recording sink, and no real sleeping."""
    server, sink = Twilio(), Sink()
    client.app.dependency_overrides[deps.get_recording_transport] = lambda: httpx.MockTransport(server)
    client.app.dependency_overrides[deps.get_recording_sink] = lambda: sink
    monkeypatch.setattr("callscope.ivr.recording.time.sleep", lambda s: None)
    ivr_settings_with_key = ivr_settings.model_copy(
        update={"twilio_api_key_sid": "SK123", "twilio_account_sid": "AC00"}
    )
    client.app.dependency_overrides[deps.get_ivr_settings] = lambda: ivr_settings_with_key
    return server, sink


def callback(client, call_sid: str, sid: str = "RE0123", **extra: str):
    params = {
        "AccountSid": "AC00",
        "CallSid": call_sid,
        "RecordingSid": sid,
        "RecordingUrl": REC_URL,
        "RecordingStatus": "completed",
        "RecordingDuration": "42",
        "RecordingChannels": "2",
        "RecordingSource": "DialVerb",
        **extra,
    }
    return client.post(
        "/ivr/recording-status",
        data=params,
        headers=signed(PUBLIC + "/ivr/recording-status", params, TOKEN),
    )


def transferred_call(client) -> str:
    call = CallSimulator(client, PUBLIC, TOKEN).run(
        [CallerInput.parse("press 1"), CallerInput.parse("where is my order"), CallerInput.parse("agent")]
    )
    return call.call_sid


def test_callback_downloads_once_and_hands_bytes_to_the_sink(client, db, wired, ivr_settings) -> None:
    server, sink = wired
    sid = transferred_call(client)
    assert callback(client, sid).status_code == 204
    assert len(sink.accepted) == 1
    data, filename, call_id, meta = sink.accepted[0]
    assert data == stereo_wav() and filename == f"{sid}_RE0123.wav" and call_id == sid
    assert meta["recording_sid"] == "RE0123" and meta["language"] == "en" and meta["intent"] == "order_status"
    assert meta["channel_roles"] == ["caller", "agent"] and meta["RecordingChannels"] == "2"
    request = server.requests[0]
    assert str(request.url) == REC_URL + ".wav"
    # no API key secret configured -> AccountSid + auth token
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"AC00:{TOKEN}".encode()).decode()

    assert callback(client, sid).status_code == 204  # Twilio replays the callback
    assert len(sink.accepted) == 1 and len(server.requests) == 1
    row = db.get(IvrRecordingRow, "RE0123")
    assert row.status == "done" and row.recording_id == "rec-1" and row.duration_s == 42.0 and row.channels == 2
    kinds = [e.kind for e in db.scalars(select(IvrEventRow).where(IvrEventRow.call_sid == sid))]
    assert "recording_done" in kinds and "recording_replayed" in kinds


def test_download_retries_with_backoff_then_succeeds(client, db, wired, monkeypatch) -> None:
    server, _sink = wired
    server.failures = 2
    waits: list[float] = []
    monkeypatch.setattr("callscope.ivr.recording.time.sleep", waits.append)
    sid = transferred_call(client)
    callback(client, sid)
    assert waits == [0.5, 1.0]
    db.expire_all()
    row = db.get(IvrRecordingRow, "RE0123")
    assert row.status == "done" and row.attempts == 3


def test_download_failure_is_kept_with_reason_and_retried(client, db, wired) -> None:
    server, sink = wired
    server.failures = 100
    sid = transferred_call(client)
    callback(client, sid)
    db.expire_all()
    row = db.get(IvrRecordingRow, "RE0123")
    assert row.status == "failed" and "after 4 attempts: HTTP 503" in row.error
    assert sink.accepted == []

    server.failures = 0
    server.requests.clear()
    denied = client.post("/ivr/recordings/RE0123/retry", headers={"Authorization": "Bearer wrong"})
    assert denied.status_code in (200, 401)  # no secret key set: loopback test client is allowed
    resp = client.post("/ivr/recordings/RE0123/retry")
    assert resp.status_code == 200 and resp.json()["status"] == "done"
    db.expire_all()
    assert db.get(IvrRecordingRow, "RE0123").status == "done" and len(sink.accepted) == 1
    assert client.post("/ivr/recordings/RE404/retry").status_code == 404


def test_sink_failure_is_retryable(client, db, wired) -> None:
    _server, sink = wired
    sink.fail = True
    sid = transferred_call(client)
    callback(client, sid)
    db.expire_all()
    row = db.get(IvrRecordingRow, "RE0123")
    assert row.status == "failed" and "disk full" in row.error
    sink.fail = False
    assert client.post("/ivr/recordings/RE0123/retry").json()["status"] == "done"


def test_opted_out_and_absent_recordings_are_skipped(client, db, wired) -> None:
    server, sink = wired
    call = CallSimulator(client, PUBLIC, TOKEN).run([CallerInput.parse("press 9"), CallerInput.parse("agent")])
    callback(client, call.call_sid, sid="REoptout")
    callback(client, call.call_sid, sid="REabsent", RecordingStatus="absent", ErrorCode="16102")
    db.expire_all()
    assert db.get(IvrRecordingRow, "REoptout").status == "skipped"
    assert "opted out" in db.get(IvrRecordingRow, "REoptout").error
    assert (
        "absent" in db.get(IvrRecordingRow, "REabsent").error and "16102" in db.get(IvrRecordingRow, "REabsent").error
    )
    assert server.requests == [] and sink.accepted == []


def test_fetcher_refuses_non_twilio_urls_and_stops_on_auth_errors() -> None:
    fetcher = RecordingFetcher("SK1", "secret", transport=httpx.MockTransport(Twilio()), sleep=lambda s: None)
    with pytest.raises(DownloadError, match="https"):
        fetcher.fetch("http://api.twilio.com/x")
    with pytest.raises(DownloadError, match="not a Twilio host"):
        fetcher.fetch("https://169.254.169.254/latest/meta-data")
    denied = Twilio(failures=10, status=401)
    fetcher = RecordingFetcher("SK1", "secret", transport=httpx.MockTransport(denied), sleep=lambda s: None)
    with pytest.raises(DownloadError, match="refused the credentials"):
        fetcher.fetch(REC_URL)
    assert len(denied.requests) == 1
    network_down = RecordingFetcher(
        "SK1",
        "s",
        transport=httpx.MockTransport(lambda r: (_ for _ in ()).throw(httpx.ConnectError("down"))),
        options=FetchOptions(max_attempts=2),
        sleep=lambda s: None,
    )
    with pytest.raises(DownloadError, match="after 2 attempts: ConnectError"):
        network_down.fetch(REC_URL)
