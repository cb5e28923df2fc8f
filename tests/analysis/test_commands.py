"""The insights and faq commands through the real CLI app."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import app
from callscope.domain import FaqStatus
from callscope.errors import CallscopeError
from callscope.ivr.kb import load_knowledge_base

runner = CliRunner()


@pytest.fixture
def calls_dir(data_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "analyses"
    shutil.copytree(data_dir / "analysis" / "calls", folder)
    return folder


def _run(*args: str):  # type: ignore[no-untyped-def]
    """Invoke the app; callscope errors are kept on the result (``main()`` prints them as ``error: ...``)."""
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, (SystemExit, CallscopeError)):
        raise result.exception
    return result


def test_insights_json_contract(settings, calls_dir: Path) -> None:  # type: ignore[no-untyped-def]
    result = _run("insights", str(calls_dir), "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    stems = sorted(p.name.removesuffix(".analysis.json") for p in calls_dir.glob("*.analysis.json"))
    listed = [c for issue in out["issues"] for c in issue["calls"]] + out["unclustered"]
    assert sorted(listed) == stems
    for issue in out["issues"]:
        assert isinstance(issue["label"], str) and issue["label"]
        assert isinstance(issue["keywords"], list)
    hours = next(i for i in out["issues"] if "s_en_01" in i["calls"])
    assert "s_zh_01" in hours["calls"]


def test_insights_since_filters_by_recording_date(settings, calls_dir: Path) -> None:  # type: ignore[no-untyped-def]
    dates = {
        p.name.removesuffix(".analysis.json"): json.loads(p.read_text())["recorded_at"][:10]
        for p in calls_dir.glob("*.analysis.json")
    }
    cutoff = sorted(dates.values())[8]
    out = json.loads(_run("insights", str(calls_dir), "--format", "json", "--since", cutoff).stdout)
    listed = sorted(c for issue in out["issues"] for c in issue["calls"]) + out["unclustered"]
    assert sorted(listed) == sorted(s for s, d in dates.items() if d >= cutoff)


def test_insights_table_and_bad_inputs(settings, calls_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    broken = calls_dir / "broken.analysis.json"
    broken.write_text("{not json", encoding="utf-8")
    result = _run("insights", str(calls_dir), str(tmp_path / "notes.txt"), str(tmp_path / "missing.wav"))
    assert result.exit_code == 1
    assert "broken.analysis.json" in result.stderr and "missing.wav: file not found" in result.stderr
    assert "issues from 16 items" in result.stdout
    assert _run("insights", "--since", "yesterday", str(calls_dir)).exit_code != 0
    unreadable = _run("insights", str(tmp_path / "missing.wav"))  # nothing left: no empty table
    assert unreadable.exit_code == 1 and "none of the inputs could be read" in unreadable.stderr
    assert "issues from" not in unreadable.stdout


def test_insights_text_file(settings, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    path = data_dir / "analysis" / "bitext_slice.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = json.loads(_run("insights", "--text-file", str(path), "--format", "json").stdout)
    listed = [t for issue in out["issues"] for t in issue["texts"]] + out["unclustered"]
    assert sorted(listed) == list(range(len(rows)))
    password = next(i for i in out["issues"] if "password" in i["keywords"])
    assert all(rows[t]["intent"] == "recover_password" for t in password["texts"])
    bad = _run("insights", "--text-file", str(path), "--text-column", "message", "--format", "json")
    assert isinstance(bad.exception, CallscopeError) and "no column 'message'" in str(bad.exception)


def test_faq_draft_review_publish_export(settings, calls_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    drafted = _run("faq", "draft", str(calls_dir), "--format", "json")
    assert drafted.exit_code == 0, drafted.output
    drafts = json.loads(drafted.stdout)
    assert drafts and all(d["status"] == "draft" for d in drafts)
    hours = next(d for d in drafts if "s_en_01" in d["evidence_calls"])

    listed = json.loads(_run("faq", "list", "--status", "draft", "--format", "json").stdout)
    assert {d["id"] for d in listed} == {d["id"] for d in drafts}

    kb = tmp_path / "kb.json"
    assert "nothing to publish" in _run("faq", "publish", "--kb", str(kb)).stdout
    approved = _run("faq", "approve", hours["id"], "--reviewer", "qa")
    assert approved.exit_code == 0 and f"{hours['id']}: approved" in approved.stdout
    again = _run("faq", "approve", hours["id"])
    assert again.exit_code == 1 and "cannot become approved" in again.stderr
    assert _run("faq", "approve", "faq-nope").exit_code == 1

    published = _run("faq", "publish", "--kb", str(kb))
    assert published.exit_code == 0, published.output
    entry = load_knowledge_base(kb)[hours["id"]]
    assert entry.status == FaqStatus.PUBLISHED and entry.answers == hours["answers"]

    md = _run("faq", "export", "--format", "md").stdout
    assert "# FAQ drafts" in md and hours["id"] in md
    out = tmp_path / "faq.csv"
    assert _run("faq", "export", "--format", "csv", "--status", "published", "-o", str(out)).exit_code == 0
    assert [r["id"] for r in csv.DictReader(out.open(encoding="utf-8"))] == [hours["id"]]
    assert _run("faq", "export", "--format", "xml").exit_code != 0


def test_faq_gaps_command(settings, calls_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from callscope.ivr.kb import BUNDLED_KB

    failures = tmp_path / "ivr_failures.txt"
    failures.write_text("Where is my parcel?\n我的快递到哪里了？\n", encoding="utf-8")
    result = _run("faq", "gaps", str(calls_dir), "--kb", str(BUNDLED_KB), "--ivr-failures", str(failures))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert any("internet" in g["label"] or "宽带" in g["label"] for g in report["uncovered"])
    assert report["not_contained"][0]["subject"] == "order_status"


def test_faq_draft_from_the_database(settings, calls_dir: Path) -> None:  # type: ignore[no-untyped-def]
    from callscope.db import init_schema, make_engine, session_factory, transaction
    from callscope.recordings.tables import ArtifactRow, RecordingRow

    engine = make_engine(settings.resolved_database_url)
    init_schema(engine)
    with transaction(session_factory(engine)) as session:
        for path in sorted(calls_dir.glob("*.analysis.json")):
            stem = path.name.removesuffix(".analysis.json")
            rid = f"{stem:0>64}"[-64:]
            session.add(
                RecordingRow(id=rid, path=f"{stem}.wav", source="cli", original_name=f"{stem}.wav", channels=2,
                             duration_s=70.0, sample_rate=8000, codec="pcm_mulaw", size_bytes=1000)
            )  # fmt: skip
            session.add(ArtifactRow(recording_id=rid, kind="analysis", data=json.loads(path.read_text())))
    engine.dispose()
    result = _run("faq", "draft", "--from-db", "--format", "json")
    assert result.exit_code == 0, result.output
    drafts = json.loads(result.stdout)
    hours = next(d for d in drafts if any(c.endswith("s_en_01") for c in d["evidence_calls"]))
    assert set(hours["answers"]) == {"en", "zh"}
    assert _run("faq", "draft").exit_code != 0

    # The opening-hours calls leave the database: mining again no longer finds their issue,
    # so their draft is superseded (listed only on request); the other drafts stay live.
    from sqlalchemy import delete

    engine = make_engine(settings.resolved_database_url)
    with transaction(session_factory(engine)) as session:
        session.execute(delete(ArtifactRow).where(ArtifactRow.recording_id.in_(hours["evidence_calls"])))
    engine.dispose()
    again = _run("faq", "draft", "--from-db")
    assert again.exit_code == 0, again.output
    assert "superseded" in again.stdout
    live = json.loads(_run("faq", "list", "--format", "json").stdout)
    assert hours["id"] not in {d["id"] for d in live} and live
    old = json.loads(_run("faq", "list", "--status", "superseded", "--format", "json").stdout)
    assert hours["id"] in {d["id"] for d in old} and {d["status"] for d in old} == {"superseded"}


def test_insights_mines_calls_and_chat_texts_together(settings, calls_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    chats = tmp_path / "chats.jsonl"
    lines = [
        {"text": "What time do your stores open on Sunday?", "channel": "chat"},
        {"text": "周日营业厅几点开门？", "channel": "email"},
        {"text": "", "channel": "survey"},
    ]
    chats.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    result = _run("insights", str(calls_dir), "--text-file", str(chats), "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    hours = next(i for i in out["issues"] if "s_en_01" in i["calls"])
    assert hours["texts"] == [0, 1]
    assert hours["channels"] == {"call": len(hours["calls"]), "chat": 1, "email": 1}
    assert out["unclustered"]["texts"] == [2]
    listed = [c for i in out["issues"] for c in i["calls"]] + out["unclustered"]["calls"]
    assert len(listed) == len(set(listed)) == 16
