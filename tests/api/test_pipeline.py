"""Upload → real processing (Whisper, diarization, analysis) → results through the API."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from callscope.api.app import ApiOptions, create_app
from callscope.auth import service as auth
from callscope.settings import Settings

CALL = Path(__file__).parent.parent / "data" / "calls" / "s_en_01.stereo.wav"


@pytest.mark.slow
def test_upload_is_processed_by_the_real_pipeline(settings: Settings) -> None:
    app = create_app(settings, options=ApiOptions(include_ivr=False))  # the default in-process queue
    with TestClient(app) as client:
        ctx = app.state.ctx
        auth.create_user(ctx, "rev", "long enough pw", "reviewer")
        headers = {"X-API-Key": auth.create_api_key(ctx, "rev")[1]}
        uploaded = client.post("/api/recordings", headers=headers, data={"agent": "Emma"},
                               files={"file": (CALL.name, CALL.read_bytes(), "audio/wav")})
        assert uploaded.status_code == 201, uploaded.text
        rid, job_id = uploaded.json()["recording"]["id"], uploaded.json()["job"]["id"]
        deadline = time.monotonic() + 600
        stages = set()
        while True:
            job = client.get(f"/api/jobs/{job_id}", headers=headers).json()
            stages.add(job["stage"])
            assert 0.0 <= job["progress"] <= 1.0
            if job["state"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert job["state"] == "done", job
        assert job["progress"] == 1.0 and "transcribe" in stages

        transcript = client.get(f"/api/recordings/{rid}/transcript", headers=headers).json()
        assert transcript["language"] == "en"
        heard = set(re.findall(r"[a-z']{4,}", " ".join(s["text"] for s in transcript["segments"]).lower()))
        reference = CALL.with_name("s_en_01.txt").read_text().lower()
        said = set(re.findall(r"[a-z']{4,}", re.sub(r"(?m)^(agent|caller):", "", reference)))
        assert len(heard & said) / len(said) > 0.5, sorted(said - heard)  # most of the call's words
        assert all(s.get("speaker") in ("agent", "caller") for s in transcript["segments"])
        assert any(s["words"] for s in transcript["segments"])

        diarization = client.get(f"/api/recordings/{rid}/diarization", headers=headers).json()
        assert {t["role"] for t in diarization["turns"]} == {"agent", "caller"}
        metrics = client.get(f"/api/recordings/{rid}/metrics", headers=headers).json()
        assert metrics["handle_time_s"] == pytest.approx(71.5, abs=1.0)
        emotions = client.get(f"/api/recordings/{rid}/emotions", headers=headers).json()
        assert emotions["points"] and emotions["caller_emotion"] in ("neutral", "positive", "frustrated", "anxious")

        srt = client.get(f"/api/recordings/{rid}/transcript", headers=headers, params={"format": "srt"}).text
        assert "-->" in srt
        word = max(heard & said, key=len)
        hits = client.get("/api/search", headers=headers, params={"q": word}).json()["hits"]
        assert hits and {h["recording_id"] for h in hits} == {rid}
        assert any(word in h["text"].lower() for h in hits)
        listed = client.get("/api/recordings", headers=headers).json()["items"][0]
        assert listed["status"] == "done" and listed["caller_emotion"] and listed["reason"]
