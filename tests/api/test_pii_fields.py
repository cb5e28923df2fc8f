"""A read-only user never sees card or phone numbers, names or addresses, whatever field
holds them: scorecard comments and their export, recording name/agent/call_id/metadata,
search hits and facets, FAQ answer sources, job errors, download file names."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

CARD = "4111 1111 1111 1111"
PHONE = "415-555-0123"
SECRETS = ("4111", "555-0123", "Margaret", "Wallaby")
CALLS = Path(__file__).parent.parent / "data" / "calls"


def _clean(payload: object) -> bool:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return not any(secret in text for secret in SECRETS)


def _pii_call(api, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    from callscope.search.index import index_recording
    from tests.api.conftest import reference_artifacts

    path = tmp_path / f"callback {PHONE}.wav"
    shutil.copy(CALLS / "s_en_03.stereo.wav", path)
    rid = api.ctx.store.ingest_file(path, source="test", language="en", call_id=f"card {CARD}",
                                    agent="Margaret Olsen", metadata={"note": "lives at 42 Wallaby Way"}).recording.id
    for kind, data in reference_artifacts("s_en_03").items():
        api.ctx.store.save_artifact(rid, kind, data)
    index_recording(api.ctx, rid)
    return rid


def test_recording_fields_search_hits_and_facets_are_redacted(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rid = _pii_call(api, tmp_path)
    for url in ("/api/recordings", f"/api/recordings/{rid}", "/api/recordings/facets"):
        seen = api.get(url, "read-only")
        assert seen.status_code == 200 and _clean(seen.json()), (url, seen.text)
        assert not _clean(api.get(url, "reviewer").json())  # roles with PII access see it all
    item = api.get(f"/api/recordings/{rid}", "read-only").json()
    assert item["name"] == "callback [PHONE].wav" and item["call_id"] == "card [CARD]"
    assert item["agent"] == "[NAME]" and item["metadata"] == {"note": "lives at [ADDRESS]"}
    hits = api.get("/api/search", "read-only", params={"q": "password"}).json()["hits"]
    assert hits and all(h["recording_name"] == "callback [PHONE].wav" for h in hits if h["recording_id"] == rid)
    assert _clean(hits)
    audio = api.get(f"/api/recordings/{rid}/audio", "read-only")
    assert audio.status_code == 200 and "555" not in audio.headers["content-disposition"]
    txt = api.get(f"/api/recordings/{rid}/transcript", "read-only", params={"format": "txt"})
    assert "555" not in txt.headers["content-disposition"]


def test_scorecard_comments_and_exports_are_redacted(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rid = _pii_call(api, tmp_path)
    comment = f"caller read out card {CARD} and asked for a call back on {PHONE}"
    card = api.post(f"/api/recordings/{rid}/scorecards", "reviewer",
                    json={"scores": {"empathy": 3}, "comments": comment}).json()
    assert card["comments"] == comment  # the reviewer who wrote it sees it
    for url, params in ((f"/api/recordings/{rid}/scorecards", {}), ("/api/scorecards", {}),
                        (f"/api/scorecards/{card['id']}", {}), ("/api/scorecards/export", {"format": "json"})):
        seen = api.get(url, "read-only", params=params)
        assert seen.status_code == 200 and _clean(seen.json()), (url, seen.text)
    exported = api.get("/api/scorecards/export", "read-only", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert rows[0]["comments"] == "caller read out card [CARD] and asked for a call back on [PHONE]"
    assert rows[0]["recording"] == "callback [PHONE].wav" and _clean(exported)
    assert CARD in api.get("/api/scorecards/export", "reviewer", params={"format": "csv"}).text


def test_faq_answer_sources_are_redacted(api) -> None:  # type: ignore[no-untyped-def]
    from callscope.insights.faq_review import FaqRepository
    from callscope.domain import AnswerMethod, AnswerSource, FaqEntry, FaqStatus

    source = AnswerSource(AnswerMethod.EXTRACTIVE, f"Sure Margaret, I have sent it to {PHONE}.", call_id="c1")
    entry = FaqEntry(id="faq-callback", questions={"en": ["Can you call me back?"]}, answers={"en": "Yes."},
                     status=FaqStatus.DRAFT, evidence_calls=("c1",), frequency=1, answer_sources={"en": source})
    FaqRepository(api.ctx.sessions).sync_mined_drafts([entry], ["issue-1"])
    for url in ("/api/faq", "/api/faq/faq-callback"):
        seen = api.get(url, "read-only").json()
        assert _clean(seen), seen
    sources = api.get("/api/faq/faq-callback", "read-only").json()["answer_sources"]["en"]
    assert sources["extractive"] == "Sure [NAME], I have sent it to [PHONE]." and sources["call_id"] == "c1"
    assert PHONE in api.get("/api/faq/faq-callback", "reviewer").json()["answer_sources"]["en"]["extractive"]


def test_job_errors_naming_the_file_are_redacted(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from callscope.db import transaction
    from callscope.jobs.runner import create_job
    from callscope.jobs.tables import JobRow

    rid = _pii_call(api, tmp_path)
    job_id = create_job(api.ctx, rid)
    with transaction(api.ctx.sessions) as session:
        session.get(JobRow, job_id).error = f"callback {PHONE}.wav: the audio data is corrupt"
    for url in ("/api/jobs", f"/api/jobs/{job_id}", f"/api/recordings/{rid}/jobs"):
        seen = api.get(url, "read-only").json()
        assert _clean(seen), (url, seen)
    assert PHONE in api.get(f"/api/jobs/{job_id}", "reviewer").json()["error"]


def test_read_only_users_hear_the_pii_bleeped(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import soundfile as sf

    from callscope.api.redaction import pii_time_spans
    from callscope.recordings.audio import load_audio

    rid = api.store_call("s_en_03")
    transcript = api.ctx.store.get_artifact(rid, "transcript")
    segment = transcript["segments"][2]  # put a spoken card number into a caller turn
    words = segment["words"]
    card_words = [{**w, "word": f" {digit}"} for w, digit in zip(words[:4], CARD.split(), strict=False)]
    segment["words"] = card_words + words[4:]
    segment["text"] = "".join(w["word"] for w in segment["words"])
    api.ctx.store.save_artifact(rid, "transcript", transcript)
    spans = pii_time_spans(transcript)
    card = next((a, b) for a, b in spans if a == card_words[0]["start"])

    original = api.get(f"/api/recordings/{rid}/audio", "reviewer")
    assert original.status_code == 200 and original.content == Path(api.ctx.store.get(rid).path).read_bytes()
    heard = api.get(f"/api/recordings/{rid}/audio", "read-only")
    assert heard.status_code == 200 and heard.headers["content-type"].startswith("audio/")
    path = tmp_path / "heard.wav"
    path.write_bytes(heard.content)
    bleeped, rate = sf.read(path, dtype="float32", always_2d=True)
    source = load_audio(api.ctx.store.get(rid).path)
    assert rate == source.sample_rate and bleeped.shape[0] == source.frames
    inside = slice(int(card[0] * rate) + 80, int(card[1] * rate) - 80)
    assert np.abs(bleeped[inside, 0] - source.samples[0, inside]).max() > 0.1  # the tone covers the card
    outside = slice(0, int(min(a for a, _ in spans) * rate) - 80)
    assert np.abs(bleeped[outside].T - source.samples[:, outside]).max() < 1e-3  # the rest is the call
    again = api.get(f"/api/recordings/{rid}/audio", "read-only", headers={"Range": "bytes=0-99"})
    assert again.status_code == 206 and again.content == heard.content[:100]


def test_read_only_users_get_no_audio_before_it_can_be_bleeped(api) -> None:  # type: ignore[no-untyped-def]
    rid = api.store_call("s_en_01", processed=False)
    assert api.get(f"/api/recordings/{rid}/audio", "read-only").status_code == 409
    assert api.get(f"/api/recordings/{rid}/audio", "reviewer").status_code == 200
