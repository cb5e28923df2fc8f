"""API test fixtures: an app on a temporary data dir, users of each role, stored calls.

Calls are stored from the real fixture audio in tests/data/calls; their transcript,
diarization and analysis artifacts are built from the calls' reference turns (the
JSON shapes the pipeline writes), so API tests need no models. Processing itself is
covered by the slow and browser tests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from callscope.api.app import ApiOptions, create_app
from callscope.auth import service as auth
from callscope.context import Context
from callscope.jobs.runner import create_job
from callscope.settings import Settings

PASSWORD = "correct horse battery"
CALLS = Path(__file__).parent.parent / "data" / "calls"


class FakeQueue:
    """Records submissions as real queued job rows without running the pipeline."""

    def __init__(self) -> None:
        self.ctx: Context | None = None
        self.submitted: list[str] = []
        self.resumed = 0

    def submit(self, recording_id: str) -> str:
        assert self.ctx is not None
        self.submitted.append(recording_id)
        return create_job(self.ctx, recording_id)

    def resume_pending(self) -> list[str]:
        self.resumed += 1
        return []


@dataclass
class Api:
    """The app under test, its context, and per-role request headers."""

    client: TestClient
    ctx: Context
    queue: FakeQueue
    keys: dict[str, str] = field(default_factory=dict)

    password: str = PASSWORD

    def store_call(self, stem: str, **kwargs: Any) -> str:
        return store_call(self.ctx, stem, **kwargs)

    def headers(self, role: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}

    def get(self, url: str, role: str = "admin", **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)

    def post(self, url: str, role: str = "admin", **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)

    def put(self, url: str, role: str = "admin", **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.put(url, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)

    def patch(self, url: str, role: str = "admin", **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.patch(url, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)

    def delete(self, url: str, role: str = "admin", **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.client.delete(url, headers={**self.headers(role), **kwargs.pop("headers", {})}, **kwargs)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data", **overrides)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper argon2id parameters for tests (the default costs ~50 ms a hash by design)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def api_settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store_reference_call():  # type: ignore[no-untyped-def]
    """``store_reference_call(ctx, stem, **kw)``: :func:`store_call` for tests with their own context."""
    return store_call


@pytest.fixture
def tone_call(api: Api, tmp_path: Path):  # type: ignore[no-untyped-def]
    """``tone_call(reason, language, turns=())``: a short distinct recording with an analysis
    holding that reason (and those (role, text) turns), indexed; returns its id."""
    import wave

    import numpy as np

    from callscope.search.index import index_recording

    made = 0

    def make(reason: str, language: str, turns: tuple[tuple[str, str], ...] = ()) -> str:
        nonlocal made
        made += 1
        path = tmp_path / f"tone{made}.wav"
        t = np.arange(8000) / 8000
        samples = (0.3 * 32767 * np.sin(2 * np.pi * (200 + 37 * made) * t)).astype(np.int16)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(8000)
            out.writeframes(samples.tobytes())
        rid = api.ctx.store.ingest_file(path, source="test", language=language).recording.id
        analysis = {"language": language, "reason": reason, "caller_emotion": "neutral", "metrics": None,
                    "issue_id": None, "turns": [{"role": role, "speaker": role, "text": text, "start": float(i),
                                                 "end": i + 0.9, "sentiment": 0.0, "emotion": "neutral"}
                                                for i, (role, text) in enumerate(turns)]}
        api.ctx.store.save_artifact(rid, "analysis", analysis)
        index_recording(api.ctx, rid)
        return rid

    return make


@pytest.fixture
def app_factory(tmp_path: Path):  # type: ignore[no-untyped-def]
    """``app_factory(options=None, **settings)`` -> (app, FakeQueue) on a fresh data dir each call."""
    made = 0

    def make(options: ApiOptions | None = None, **overrides: Any):  # type: ignore[no-untyped-def]
        nonlocal made
        made += 1
        queue = FakeQueue()
        app = create_app(make_settings(tmp_path / f"app{made}", **overrides), queue=queue,
                         options=options or ApiOptions(include_ivr=False))
        queue.ctx = app.state.ctx
        return app, queue

    return make


@pytest.fixture
def api(api_settings: Settings) -> Iterator[Api]:
    queue = FakeQueue()
    app = create_app(api_settings, queue=queue, options=ApiOptions(include_ivr=False))
    queue.ctx = app.state.ctx
    with TestClient(app) as client:
        ctx: Context = app.state.ctx
        keys = {}
        for role in ("admin", "reviewer", "read-only"):
            name = role.replace("-", "")
            auth.create_user(ctx, name, PASSWORD, role)
            keys[role] = auth.create_api_key(ctx, name, "tests")[1]
        yield Api(client, ctx, queue, keys)


# ------------------------------------------------------------------ stored calls


def _words(text: str, start: float, end: float, language: str, speaker: str) -> list[dict[str, Any]]:
    tokens = list(text) if language == "zh" else [f" {w}" for w in text.split()]
    tokens = [t for t in tokens if t.strip()]
    step = (end - start) / max(1, len(tokens))
    return [
        {"start": round(start + i * step, 3), "end": round(start + (i + 1) * step, 3), "word": tok,
         "probability": 0.9, "speaker": speaker}
        for i, tok in enumerate(tokens)
    ]


def reference_artifacts(stem: str, *, extra_caller_text: str | None = None,
                        issue_id: str | None = None) -> dict[str, dict[str, Any]]:
    """Transcript / diarization / analysis dicts (pipeline shapes) from a call's reference turns."""
    ref = json.loads((CALLS / f"{stem}.json").read_text())
    language = ref["language"]
    turns = ref["turns"]
    if extra_caller_text:
        last = turns[-1]
        turns = [*turns, {"speaker": "caller", "channel": 0, "start": last["end"] + 0.2,
                          "end": last["end"] + 4.0, "text": extra_caller_text, "emotion": "neutral"}]
    segments = [
        {"start": t["start"], "end": t["end"], "text": t["text"], "speaker": t["speaker"], "channel": t["channel"],
         "words": _words(t["text"], t["start"], t["end"], language, t["speaker"])}
        for t in turns
    ]
    joiner = "" if language == "zh" else " "
    transcript = {"language": language, "language_probability": 0.99, "duration": ref["duration"],
                  "model": "reference", "engine": "reference", "text": joiner.join(t["text"] for t in turns),
                  "segments": segments, "timings": {}}
    diarization = {
        "method": "channels", "duration": ref["duration"], "roles": {"caller": "caller", "agent": "agent"},
        "role_confidence": {"caller": 1.0, "agent": 1.0},
        "turns": [{"start": t["start"], "end": t["end"], "speaker": t["speaker"], "role": t["speaker"],
                   "channel": t["channel"], "confidence": 1.0} for t in turns],
    }
    sentiment = {"neutral": 0.0, "frustrated": -0.6, "positive": 0.6, "anxious": -0.3}
    caller_emotion = ref["emotion"] if ref["emotion"] in sentiment else "neutral"
    talk = {role: round(sum(t["end"] - t["start"] for t in turns if t["speaker"] == role), 3)
            for role in ("agent", "caller")}
    analysis = {
        "recording": stem, "recording_id": stem, "language": language, "duration": ref["duration"],
        "reason": ref["summary"].split(";")[0], "caller_emotion": caller_emotion,
        "caller_emotion_detail": {"label": caller_emotion, "confidence": 0.8,
                                  "sentiment": sentiment[caller_emotion], "arousal": 0.2},
        "agent_emotion": {"label": "neutral", "confidence": 0.8, "sentiment": 0.1, "arousal": 0.0},
        "sentiment_trajectory": [sentiment[caller_emotion]] * 4,
        "escalations": [turns[1]["start"]] if caller_emotion == "frustrated" else [],
        "ended_better": caller_emotion != "frustrated",
        "issue_id": issue_id,
        "turns": [
            {"speaker": t["speaker"], "role": t["speaker"], "start": t["start"], "end": t["end"], "text": t["text"],
             "emotion": t["emotion"] if t["emotion"] in sentiment else "neutral", "emotion_confidence": 0.8,
             "sentiment": sentiment.get(t["emotion"], 0.0), "arousal": 0.1}
            for t in turns
        ],
        "metrics": {
            "handle_time_s": ref["duration"], "talk_time_s": talk,
            "talk_ratio": {k: round(v / sum(talk.values()), 3) for k, v in talk.items()},
            "non_talk_time_s": round(ref["duration"] - sum(talk.values()), 3), "longest_silence_s": 1.2,
            "hold_time_s": 0.0, "hold_count": 0, "overtalk_time_s": 0.4, "interruptions": {"agent": 0, "caller": 1},
            "speaking_rate": {"agent": 160.0, "caller": 150.0}, "loudness_dbfs": {"agent": -23.0, "caller": -25.0},
            "turn_count": len(turns), "time_to_first_agent_s": turns[0]["start"],
        },
    }
    return {"transcript": transcript, "diarization": diarization, "analysis": analysis}


def store_call(ctx: Context, stem: str, *, agent: str | None = None, processed: bool = True,
               **kwargs: Any) -> str:
    """Ingest ``tests/data/calls/<stem>.stereo.wav``; with ``processed``, store its artifacts and index it."""
    from callscope.search.index import index_recording

    result = ctx.store.ingest_file(CALLS / f"{stem}.stereo.wav", source="test", agent=agent,
                                   language=stem.split("_")[1])
    rid = result.recording.id
    if processed:
        for kind, data in reference_artifacts(stem, **kwargs).items():
            ctx.store.save_artifact(rid, kind, data)
        index_recording(ctx, rid)
    return rid
