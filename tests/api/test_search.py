"""Full-text search: English and Mandarin, SQLite FTS5 and PostgreSQL."""

from __future__ import annotations

import pytest

from callscope.context import Context
from callscope.search.index import (
    QueryError,
    index_recording,
    index_tokens,
    parse_query,
    reindex_all,
    search_transcripts,
)
from callscope.settings import Settings


def test_chinese_text_is_indexed_as_bigrams_and_characters() -> None:
    terms, chars = index_tokens("周日几点开门？Open at 10 a.m.")
    assert terms.split() == ["周日", "日几", "几点", "点开", "开门", "open", "at", "10", "a", "m"]
    assert chars.split() == list("周日几点开门")
    # traditional characters are folded to simplified ones, full-width forms to ASCII
    assert index_tokens("營業時間")[0] == index_tokens("营业时间")[0]
    assert index_tokens("ＡＢＣ１２３")[0] == "abc123"


def test_queries_become_phrases_and_prefixes() -> None:
    parts = parse_query("开门 refund* 门")
    assert [(p.tokens, p.column, p.prefix) for p in parts] == [
        (("开门",), "terms", False), (("refund",), "terms", True), (("门",), "chars", False)]
    with pytest.raises(QueryError):
        parse_query("?!  ...")


def test_search_english_and_mandarin(api) -> None:
    en1 = api.store_call("s_en_01")
    en3 = api.store_call("s_en_03")
    zh1 = api.store_call("s_zh_01")

    def search(q: str, **params: str) -> list[dict]:
        response = api.get("/api/search", "read-only", params={"q": q, **params})
        assert response.status_code == 200, response.text
        return response.json()["hits"]

    sunday = search("Sunday")
    assert sunday and {h["recording_id"] for h in sunday} == {en1}
    assert all("sunday" in h["text"].lower() for h in sunday)
    hit = sunday[0]
    assert hit["recording_name"] == "s_en_01.stereo.wav" and hit["end"] > hit["start"] >= 0
    assert hit["speaker"] in ("agent", "caller")
    # stemming: "locked" matches "locked"/"lock"
    assert {h["recording_id"] for h in search("lock")} == {en3}
    # every word must match, in any order
    assert {h["recording_id"] for h in search("password wrong")} == {en3}
    assert search("password sunday") == []
    # prefix
    assert {h["recording_id"] for h in search("passw*")} == {en3}
    # Mandarin: a word inside a longer run, a whole phrase, one character, traditional script
    assert {h["recording_id"] for h in search("开门")} == {zh1}
    assert any("营业厅周日几点开门" in h["text"] for h in search("营业厅周日几点开门"))
    assert {h["recording_id"] for h in search("營業廳")} == {zh1}
    assert {h["recording_id"] for h in search("证件")} == {zh1}
    assert search("开门关") == [] or all("开门关" in h["text"] for h in search("开门关"))
    assert len(search("门")) >= 1
    # filters
    assert search("Brightwave", language="zh") == []
    assert {h["recording_id"] for h in search("Brightwave", language="en")} == {en1, en3}
    assert {h["recording_id"] for h in search("Brightwave", recording_id=en3)} == {en3}
    page = api.get("/api/search", params={"q": "Brightwave", "limit": 1}).json()
    assert page["total"] >= 2 and len(page["hits"]) == 1


@pytest.mark.parametrize("q", ["", "   ", "!!!", "\"", "x" * 501])
def test_bad_queries_get_422(api, q: str) -> None:
    assert api.get("/api/search", params={"q": q}).status_code == 422


def test_fts_syntax_in_queries_is_searched_as_text(api) -> None:
    api.store_call("s_en_01")
    for q in ('Sunday" OR "x', "Sunday AND NOT", "NEAR(Sunday open)", "terms:Sunday", "Sunday)"):
        response = api.get("/api/search", params={"q": q})
        assert response.status_code == 200, q


def test_index_recording_replaces_old_rows_and_picks_up_new_transcripts(api) -> None:
    rid = api.store_call("s_en_01")
    assert index_recording(api.ctx, rid) == 14
    assert index_recording(api.ctx, rid) == 14
    assert search_transcripts(api.ctx, "Sunday")[1] == 3  # not doubled
    transcript = api.ctx.store.get_artifact(rid, "transcript")
    transcript["segments"][0]["text"] = "Completely different greeting about refunds"
    api.ctx.store.save_artifact(rid, "transcript", transcript)
    # search notices the newer artifact and reindexes it before answering
    hits, total = search_transcripts(api.ctx, "refunds")
    assert total == 1 and hits[0].recording_id == rid


def test_reindex_endpoint_is_for_admins(api) -> None:
    rid = api.store_call("s_en_01")
    assert api.post("/api/search/reindex", "reviewer").status_code == 403
    response = api.post("/api/search/reindex")
    assert response.status_code == 200 and response.json()["recordings"] == 1
    one = api.post("/api/search/reindex", params={"recording_id": rid})
    assert one.json() == {"recordings": 1, "segments": 14}
    assert api.post("/api/search/reindex", params={"recording_id": "0" * 64}).status_code == 404


def test_a_recording_without_transcript_indexes_nothing(api) -> None:
    rid = api.store_call("s_en_01", processed=False)
    assert index_recording(api.ctx, rid) == 0
    assert reindex_all(api.ctx) == 1


@pytest.mark.postgres
def test_search_on_postgresql(pg_engine, tmp_path, store_reference_call) -> None:  # type: ignore[no-untyped-def]
    from callscope.db import session_factory
    from callscope.recordings.store import RecordingStore

    ctx = Context(Settings(data_dir=tmp_path))
    ctx.__dict__.update(engine=pg_engine, sessions=session_factory(pg_engine))
    ctx.__dict__["store"] = RecordingStore(tmp_path / "audio", ctx.sessions)
    en1 = store_reference_call(ctx, "s_en_01")
    en3 = store_reference_call(ctx, "s_en_03")
    zh1 = store_reference_call(ctx, "s_zh_01")

    def ids(q: str, **kw: object) -> set[str]:
        return {h.recording_id for h in search_transcripts(ctx, q, **kw)[0]}

    assert ids("Sunday") == {en1}
    assert ids("password wrong") == {en3}
    assert ids("passw*") == {en3}
    assert ids("开门") == {zh1}
    assert ids("營業廳") == {zh1}
    assert ids("门") == {zh1}
    assert ids("Brightwave", language="en") == {en1, en3}
    hits, total = search_transcripts(ctx, "Brightwave", limit=1)
    assert total >= 2 and len(hits) == 1 and hits[0].score > 0
    before = search_transcripts(ctx, "Sunday")[1]
    assert before >= 2
    assert index_recording(ctx, en1) == 14
    assert search_transcripts(ctx, "Sunday")[1] == before  # replaced, not doubled


def test_calls_deleted_outside_the_api_leave_no_stale_hits(api) -> None:
    en1 = api.store_call("s_en_01")
    api.ctx.store.delete(en1)  # e.g. by a CLI clean-up: the index rows go with the recording
    en3 = api.store_call("s_en_03")
    assert search_transcripts(api.ctx, "Sunday")[1] == 0
    hits, total = search_transcripts(api.ctx, "Brightwave")
    assert total >= 1 and {h.recording_id for h in hits} == {en3}
    assert reindex_all(api.ctx) == 1
    assert {h.recording_id for h in search_transcripts(api.ctx, "Brightwave")[0]} == {en3}
