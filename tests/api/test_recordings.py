"""Recordings: upload checks, list filters, audio ranges, derived results, deletion."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from callscope.search.tables import CallSummaryRow, TranscriptSegmentRow

from callscope.jobs.tables import JobRow
from callscope.qa.tables import ScorecardRow

CALLS = Path(__file__).parent.parent / "data" / "calls"
STEREO = CALLS / "s_en_01.stereo.wav"


def _upload(api, path: Path = STEREO, role: str = "reviewer", name: str | None = None,
            content_type: str = "audio/wav", **fields: str):  # type: ignore[no-untyped-def]
    files = {"file": (name or path.name, path.read_bytes(), content_type)}
    return api.post("/api/recordings", role, files=files, data=fields)


# ------------------------------------------------------------------------ upload


def test_upload_stores_the_call_and_queues_processing(api) -> None:
    response = _upload(api, agent="Emma", language="en", call_id="CA123")
    assert response.status_code == 201, response.text
    body = response.json()
    rec = body["recording"]
    assert body["created"] is True
    assert rec["name"] == "s_en_01.stereo.wav" and rec["channels"] == 2 and rec["sample_rate"] == 8000
    assert rec["agent"] == "Emma" and rec["language"] == "en" and rec["call_id"] == "CA123"
    assert rec["duration_s"] == pytest.approx(71.543, abs=0.01)
    assert rec["metadata"]["uploaded_by"] == "reviewer"
    assert api.queue.submitted == [rec["id"]]
    assert body["job"]["state"] == "queued" and body["job"]["recording_id"] == rec["id"]
    assert rec["status"] == "queued"
    assert Path(api.ctx.store.get(rec["id"]).path).read_bytes() == STEREO.read_bytes()


def test_uploading_the_same_audio_again_creates_nothing_new(api) -> None:
    first = _upload(api).json()
    again = _upload(api, name="renamed.wav")
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["recording"]["id"] == first["recording"]["id"]
    assert again.json()["job"]["id"] == first["job"]["id"]
    assert len(api.queue.submitted) == 1


def test_read_only_users_cannot_upload(api) -> None:
    assert _upload(api, role="read-only").status_code == 403
    assert api.queue.submitted == []


def test_upload_over_the_size_limit_gets_413_before_it_is_read(app_factory) -> None:
    app, queue = app_factory(max_upload_mb=1)
    from callscope.auth import service as auth

    with TestClient(app) as client:
        auth.create_user(app.state.ctx, "rev", "long enough pw", "reviewer")
        key = auth.create_api_key(app.state.ctx, "rev")[1]
        big = b"RIFF" + bytes(3 * 1024 * 1024)
        response = client.post("/api/recordings", headers={"X-API-Key": key},
                               files={"file": ("big.wav", big, "audio/wav")})
        assert response.status_code == 413
        assert "1 MB limit" in response.json()["detail"]

        # a body without Content-Length (chunked) is counted as it streams in
        def chunks():  # type: ignore[no-untyped-def]
            boundary = b"--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.wav\"\r\n\r\n"
            yield boundary
            for _ in range(40):
                yield bytes(64 * 1024)
            yield b"\r\n--xyz--\r\n"

        streamed = client.post("/api/recordings", content=chunks(),
                               headers={"X-API-Key": key, "content-type": "multipart/form-data; boundary=xyz"})
        assert streamed.status_code == 413
    assert queue.submitted == []


def test_other_request_bodies_are_limited_too(api) -> None:
    rid = api.store_call("s_en_01")
    huge = {"scores": {"greeting": 3}, "comments": "x" * (3 * 1024 * 1024)}
    assert api.post(f"/api/recordings/{rid}/scorecards", "reviewer", json=huge).status_code == 413


def test_upload_must_be_multipart(api) -> None:
    response = api.post("/api/recordings", "reviewer", content=STEREO.read_bytes(),
                        headers={"content-type": "audio/wav"})
    assert response.status_code == 415
    assert "multipart/form-data" in response.json()["detail"]


def test_upload_without_a_file_field(api) -> None:
    response = api.post("/api/recordings", "reviewer", files={"audio": ("a.wav", STEREO.read_bytes(), "audio/wav")})
    assert response.status_code == 422
    assert "'file'" in response.json()["detail"]


@pytest.mark.parametrize("name", ["notes.txt", "call.exe", "payload.html", "noextension"])
def test_upload_of_an_unsupported_type_gets_415(api, name: str) -> None:
    response = api.post("/api/recordings", "reviewer",
                        files={"file": (name, b"hello, this is not audio", "application/octet-stream")})
    assert response.status_code == 415
    assert "unsupported file type" in response.json()["detail"]


def test_upload_type_can_come_from_the_part_content_type(api) -> None:
    response = _upload(api, name="recording", content_type="audio/wav")
    assert response.status_code == 201
    assert response.json()["recording"]["name"] == "recording.wav"


@pytest.mark.parametrize("payload", [b"RIFF\x00\x00\x00\x00WAVEfmt garbage garbage", bytes(range(256)) * 40, b""])
def test_corrupt_or_empty_audio_gets_422_and_stores_nothing(api, payload: bytes) -> None:
    response = api.post("/api/recordings", "reviewer", files={"file": ("broken.wav", payload, "audio/wav")})
    assert response.status_code == 422
    assert "broken.wav" in response.json()["detail"]
    assert api.ctx.store.count() == 0 and api.queue.submitted == []


def test_truncated_audio_is_rejected(api) -> None:
    data = STEREO.read_bytes()[:40]  # header only
    response = api.post("/api/recordings", "reviewer", files={"file": ("cut.wav", data, "audio/wav")})
    assert response.status_code == 422


def test_upload_file_names_cannot_traverse_folders(api) -> None:
    for evil in ("../../etc/passwd.wav", "..\\..\\windows\\x.wav", "/abs/path/call.wav", "..wav"):
        response = _upload(api, name=evil)
        assert response.status_code in (200, 201), evil
        rec = response.json()["recording"]
        assert "/" not in rec["name"] and "\\" not in rec["name"] and not rec["name"].startswith(".")
    stored = Path(api.ctx.store.get(rec["id"]).path)
    assert stored.is_relative_to(api.ctx.settings.audio_dir)


def test_upload_rejects_a_bad_language_code(api) -> None:
    response = _upload(api, language="en; drop table")
    assert response.status_code == 422


# -------------------------------------------------------------------------- list


def test_list_filters_and_pagination(api) -> None:
    en1 = api.store_call("s_en_01", agent="Emma", issue_id="opening_hours")
    en3 = api.store_call("s_en_03", agent="Priya", issue_id="password_reset")
    zh1 = api.store_call("s_zh_01", agent="小李", issue_id="opening_hours")

    def ids(**params: object) -> set[str]:
        response = api.get("/api/recordings", "read-only", params=params)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert ids() == {en1, en3, zh1}
    assert ids(language="zh") == {zh1}
    assert ids(agent="Priya") == {en3}
    assert ids(emotion="frustrated") == {en3}
    assert ids(emotion="neutral", language="en") == {en1}
    assert ids(issue="opening_hours") == {en1, zh1}
    assert ids(min_duration=72) == {en3}
    assert ids(max_duration=70) == {zh1}
    assert ids(since="2000-01-01") == {en1, en3, zh1}
    assert ids(until="2000-01-01") == set()
    assert ids(since="2999-01-01T00:00:00Z") == set()
    assert ids(q="password") == {en3}
    assert ids(q="营业厅") == {zh1}
    assert ids(q="Sunday", issue="opening_hours") == {en1}

    page = api.get("/api/recordings", params={"limit": 2, "offset": 0}).json()
    rest = api.get("/api/recordings", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == rest["total"] == 3
    assert len(page["items"]) == 2 and len(rest["items"]) == 1
    assert {i["id"] for i in page["items"] + rest["items"]} == {en1, en3, zh1}
    item = next(i for i in page["items"] + rest["items"] if i["id"] == en3)
    assert item["caller_emotion"] == "frustrated" and item["issue_id"] == "password_reset"
    assert "password" in item["reason"].lower()

    facets = api.get("/api/recordings/facets").json()
    assert facets["languages"] == ["en", "zh"]
    assert set(facets["agents"]) == {"Emma", "Priya", "小李"}
    assert {i["id"] for i in facets["issues"]} == {"opening_hours", "password_reset"}


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1000}, {"offset": -1}, {"min_duration": "long"},
                                    {"since": "yesterday"}, {"until": "2024-13-45"}])
def test_list_rejects_bad_parameters(api, params: dict) -> None:
    assert api.get("/api/recordings", params=params).status_code == 422


# ------------------------------------------------------------------- get / delete


def test_get_a_recording_by_id_or_prefix(api) -> None:
    rid = api.store_call("s_en_01")
    full = api.get(f"/api/recordings/{rid}").json()
    assert full["id"] == rid and set(full["artifacts"]) >= {"transcript", "diarization", "analysis"}
    assert api.get(f"/api/recordings/{rid[:10]}").json()["id"] == rid


@pytest.mark.parametrize("bad", ["0" * 64, "abcdef12"])
def test_unknown_recording_is_404(api, bad: str) -> None:
    response = api.get(f"/api/recordings/{bad}")
    assert response.status_code == 404 and "no recording" in response.json()["detail"]


@pytest.mark.parametrize("evil", ["..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..", "NOTHEX-id", "abc",
                                  "0123456789abcdef%00.wav"])
def test_path_traversal_through_the_id_gets_nothing(api, evil: str) -> None:
    api.store_call("s_en_01")
    for suffix in ("", "/audio", "/transcript", "/waveform"):
        response = api.get(f"/api/recordings/{evil}{suffix}")
        assert response.status_code in (404, 422), (evil, suffix, response.status_code)
        assert b"root:" not in response.content and not response.headers["content-type"].startswith("audio/")


def test_patch_recording_metadata(api) -> None:
    rid = api.store_call("s_en_01")
    response = api.patch(f"/api/recordings/{rid}", "reviewer", json={"agent": "Emma W."})
    assert response.status_code == 200 and response.json()["agent"] == "Emma W."
    assert api.patch(f"/api/recordings/{rid}", "read-only", json={"agent": "x"}).status_code == 403
    assert api.patch(f"/api/recordings/{rid}", "reviewer", json={"path": "/etc/passwd"}).status_code == 422


def test_delete_removes_the_call_and_everything_derived(api) -> None:
    rid = api.store_call("s_en_01")
    audio = Path(api.ctx.store.get(rid).path)
    assert api.post(f"/api/recordings/{rid}/scorecards", "reviewer",
                    json={"scores": {"greeting": 4}, "comments": ""}).status_code == 201
    api.queue.submit(rid)
    assert api.get(f"/api/recordings/{rid}/waveform").status_code == 200
    assert api.delete(f"/api/recordings/{rid}", "reviewer").status_code == 403
    assert api.delete(f"/api/recordings/{rid}", "read-only").status_code == 403
    assert api.delete(f"/api/recordings/{rid}").status_code == 204
    assert api.get(f"/api/recordings/{rid}").status_code == 404
    assert not audio.exists()
    assert api.ctx.store.artifact_kinds(rid) == []
    with api.ctx.sessions() as session:
        for table in (ScorecardRow, TranscriptSegmentRow, CallSummaryRow, JobRow):
            assert session.query(table).filter_by(recording_id=rid).count() == 0, table
    assert api.get("/api/search", params={"q": "Sunday"}).json()["total"] == 0
    assert api.delete(f"/api/recordings/{rid}").status_code == 404


# -------------------------------------------------------------------------- audio


def test_audio_streams_whole_with_accept_ranges(api) -> None:
    rid = api.store_call("s_en_01")
    response = api.get(f"/api/recordings/{rid}/audio", "reviewer")  # read-only users get it bleeped: test_pii_fields.py
    assert response.status_code == 200
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-type"] == "audio/wav"
    assert response.content == STEREO.read_bytes()
    head = api.client.head(f"/api/recordings/{rid}/audio", headers=api.headers("admin"))
    assert head.status_code == 200 and int(head.headers["content-length"]) == STEREO.stat().st_size


@pytest.mark.parametrize(("header", "first", "last"), [
    ("bytes=0-99", 0, 99), ("bytes=1000-", 1000, None), ("bytes=-500", -500, None), ("bytes=100-100", 100, 100),
    ("bytes=1144000-9999999", 1144000, None),
])
def test_audio_range_requests(api, header: str, first: int, last: int | None) -> None:
    rid = api.store_call("s_en_01")
    data = STEREO.read_bytes()
    size = len(data)
    response = api.get(f"/api/recordings/{rid}/audio", headers={"Range": header})
    assert response.status_code == 206
    start = first if first >= 0 else size + first
    end = last if last is not None else size - 1
    assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert response.content == data[start : end + 1]
    assert int(response.headers["content-length"]) == end - start + 1


@pytest.mark.parametrize("header", ["bytes=9999999-", "bytes=500-100", "bytes=abc", "lines=0-5", "bytes=-0",
                                    "bytes=-", ",".join(f"{i}-{i + 1}" for i in range(0, 40, 2))])
def test_bad_ranges_get_416(api, header: str) -> None:
    rid = api.store_call("s_en_01")
    response = api.get(f"/api/recordings/{rid}/audio", headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{STEREO.stat().st_size}"
    assert "detail" in response.json()


def test_waveform_peaks_follow_the_audio(api, tmp_path: Path) -> None:
    # a synthetic stereo file: silence on the left, a loud burst on the right in the 2nd half
    rate = 8000
    left = np.zeros(rate * 4, dtype=np.int16)
    right = np.zeros(rate * 4, dtype=np.int16)
    right[rate * 2 :] = (0.5 * 32767 * np.sin(np.arange(rate * 2) * 2 * np.pi * 440 / rate)).astype(np.int16)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(np.stack([left, right], axis=1).tobytes())
    path = tmp_path / "burst.wav"
    path.write_bytes(buffer.getvalue())
    rid = _upload(api, path).json()["recording"]["id"]
    wave_ = api.get(f"/api/recordings/{rid}/waveform", params={"points": 100}).json()
    assert wave_["points"] == 100 and len(wave_["channels"]) == 2
    left_peaks, right_peaks = wave_["channels"]
    assert max(hi for _, hi in left_peaks) == 0.0
    assert max(hi for _, hi in right_peaks[:49]) == 0.0
    assert all(0.45 < hi <= 0.51 and -0.51 <= lo < -0.45 for lo, hi in right_peaks[51:])
    assert api.get(f"/api/recordings/{rid}/waveform", params={"points": 5}).status_code == 422


# ---------------------------------------------------------------- derived results


def test_transcript_formats(api) -> None:
    rid = api.store_call("s_en_01")
    data = api.get(f"/api/recordings/{rid}/transcript").json()
    assert data["language"] == "en" and len(data["segments"]) == 14
    first = data["segments"][0]
    assert first["speaker"] == "agent" and first["words"][0]["word"].strip() == "Good"
    srt = api.get(f"/api/recordings/{rid}/transcript", params={"format": "srt"})
    assert srt.status_code == 200 and srt.headers["content-type"].startswith("application/x-subrip")
    assert "00:00:01,498 --> " in srt.text and "Brightwave" in srt.text
    vtt = api.get(f"/api/recordings/{rid}/transcript", params={"format": "vtt"})
    assert vtt.text.startswith("WEBVTT") and "00:01.498 --> 00:06.726" in vtt.text and "<v agent>" in vtt.text
    txt = api.get(f"/api/recordings/{rid}/transcript", params={"format": "txt"})
    assert txt.headers["content-type"].startswith("text/plain") and "Sunday" in txt.text
    assert api.get(f"/api/recordings/{rid}/transcript", params={"format": "docx"}).status_code == 422


def test_results_before_processing_say_why_they_are_missing(api) -> None:
    rid = api.store_call("s_en_01", processed=False)
    api.queue.submit(rid)
    for part in ("transcript", "diarization", "analysis", "metrics", "emotions"):
        response = api.get(f"/api/recordings/{rid}/{part}")
        assert response.status_code == 404
        assert "queued" in response.json()["detail"], part


def test_diarization_metrics_emotions_analysis(api) -> None:
    rid = api.store_call("s_en_03")
    diar = api.get(f"/api/recordings/{rid}/diarization", "read-only").json()
    assert diar["method"] == "channels" and {t["role"] for t in diar["turns"]} == {"agent", "caller"}
    metrics = api.get(f"/api/recordings/{rid}/metrics", "read-only").json()
    assert metrics["turn_count"] == 12 and set(metrics["talk_time_s"]) == {"agent", "caller"}
    emotions = api.get(f"/api/recordings/{rid}/emotions", "read-only").json()
    assert emotions["caller_emotion"] == "frustrated"
    assert len(emotions["points"]) == 12 and emotions["escalations"]
    assert {p["emotion"] for p in emotions["points"] if p["role"] == "caller"} == {"frustrated"}
    analysis = api.get(f"/api/recordings/{rid}/analysis").json()
    assert analysis["caller_emotion"] == "frustrated" and analysis["turns"][1]["role"] == "caller"


PII = "You can reach me on 415 555 0123 or at jane.doe@example.com and my card is 4111 1111 1111 1111."


def test_read_only_users_see_redacted_text(api) -> None:
    rid = api.store_call("s_en_01", extra_caller_text=PII)
    full = api.get(f"/api/recordings/{rid}/transcript", "reviewer").json()
    assert any("jane.doe@example.com" in s["text"] for s in full["segments"])
    for role, params in (("read-only", {}), ("reviewer", {"redacted": "true"})):
        red = api.get(f"/api/recordings/{rid}/transcript", role, params=params)
        text = json.dumps(red.json())
        assert "jane.doe@example.com" not in text and "4111" not in text and "555 0123" not in text, role
        assert "[EMAIL]" in text and "[CARD]" in text and red.json()["redacted"] is True
        analysis = json.dumps(api.get(f"/api/recordings/{rid}/analysis", role, params=params).json())
        assert "jane.doe@example.com" not in analysis and "[EMAIL]" in analysis
    srt = api.get(f"/api/recordings/{rid}/transcript", "read-only", params={"format": "txt"}).text
    assert "jane.doe" not in srt and "[EMAIL]" in srt
    hits = api.get("/api/search", "read-only", params={"q": "reach"}).json()["hits"]
    assert hits and all("jane.doe" not in h["text"] for h in hits)
    assert "jane.doe" in api.get("/api/search", "reviewer", params={"q": "reach"}).json()["hits"][0]["text"]


# --------------------------------------------------------------------------- jobs


def test_job_status_and_reprocessing(api) -> None:
    rid = api.store_call("s_en_01", processed=False)
    job_id = api.queue.submit(rid)
    job = api.get(f"/api/jobs/{job_id}", "read-only").json()
    assert job["state"] == "queued" and job["progress"] == 0.0 and job["recording_id"] == rid
    assert [j["id"] for j in api.get(f"/api/recordings/{rid}/jobs").json()] == [job_id]
    assert api.get("/api/jobs", params={"state": "queued"}).json()[0]["id"] == job_id
    assert api.get("/api/jobs", params={"state": "bogus"}).status_code == 422
    assert api.post(f"/api/recordings/{rid}/jobs", "reviewer").status_code == 409  # one is queued
    from callscope.db import transaction

    with transaction(api.ctx.sessions) as session:
        session.get(JobRow, job_id).state = "failed"
    again = api.post(f"/api/recordings/{rid}/jobs", "reviewer")
    assert again.status_code == 202 and again.json()["id"] != job_id
    assert api.post(f"/api/recordings/{rid}/jobs", "read-only").status_code == 403
    assert api.get("/api/jobs/00000000-0000-0000-0000-000000000000").status_code == 404
    assert api.get("/api/jobs/../../etc").status_code in (404, 422)
