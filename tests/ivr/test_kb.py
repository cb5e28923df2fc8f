"""Knowledge-base files: validation messages, atomic save in both formats, hot reload."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from callscope.domain import FaqEntry, FaqStatus
from callscope.errors import ConfigError
from callscope.ivr.kb import (
    BUNDLED_KB,
    KnowledgeBaseSource,
    load_knowledge_base,
    save_knowledge_base,
)

ENTRY = {
    "id": "hours",
    "questions": {"en": ["When do you open?"], "zh": ["几点开门？"]},
    "answers": {"en": "At nine.", "zh": "九点。"},
}


def write(path: Path, data) -> Path:
    path.write_text(
        yaml.safe_dump(data, allow_unicode=True) if path.suffix != ".json" else json.dumps(data, ensure_ascii=False)
    )
    return path


def test_bundled_kb_is_bilingual_and_leaves_outages_out() -> None:
    kb = load_knowledge_base(BUNDLED_KB)
    assert {"opening_hours", "order_status", "password_reset", "delivery", "returns", "payment_options"} <= set(kb.ids)
    for entry in kb:
        assert entry.questions["en"] and entry.questions["zh"], entry.id
        assert entry.answers["en"] and entry.answers["zh"], entry.id
    assert kb["order_status"].action == "order_status"
    text = " ".join(q for e in kb for qs in e.questions.values() for q in qs).lower()
    assert "outage" not in text and "断网" not in text and "internet" not in text
    assert kb.label(kb["order_status"], "zh") == "订单查询"
    assert next(e.id for e in kb.menu(5)) == "order_status"


def test_plain_list_file_and_defaults(tmp_path: Path) -> None:
    kb = load_knowledge_base(write(tmp_path / "kb.yml", [ENTRY]))
    entry = kb["hours"]
    assert isinstance(entry, FaqEntry)
    assert entry.questions["zh"] == ("几点开门？",)
    assert entry.self_service and entry.status == FaqStatus.PUBLISHED and entry.action is None
    assert kb.path == tmp_path / "kb.yml" and kb.mtime_ns
    assert kb.get("missing") is None and "hours" in kb


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        ([{"questions": ENTRY["questions"], "answers": ENTRY["answers"]}], "entry 0: 'id' is missing"),
        ([ENTRY, dict(ENTRY)], "entry 1 (id 'hours'): duplicate id, also used by entry 0"),
        ([{**ENTRY, "answers": {"en": "At nine."}}], "entry 0 (id 'hours'): no answer for language zh"),
        ([{**ENTRY, "questions": {"en": []}}], "'questions' has no question in any language"),
        ([{**ENTRY, "questions": ["When?"]}], "'questions' must map a language"),
        ([{**ENTRY, "questions": {"english": ["When?"]}}], "not a language code"),
        ([{**ENTRY, "questions": {"en": ["When?", ""]}}], "questions.en[1] is empty"),
        ([{**ENTRY, "answers": {"en": 5, "zh": "九点"}}], "answers.en must be a string"),
        ([{**ENTRY, "tags": {"a": 1}}], "'tags' must be a list of strings"),
        ([{**ENTRY, "status": "live"}], "'status' 'live' is not one of"),
        ([{**ENTRY, "self_service": "yes"}], "'self_service' must be true or false"),
        ([{**ENTRY, "id": "bad id!"}], "'id' may only hold letters"),
        ([{**ENTRY, "action": "teleport"}], "unknown action 'teleport'; known actions: order_status"),
        (["just a string"], "entry 0: expected a mapping"),
        ({"version": 2}, "expected a list of entries (or a mapping with an 'entries' list)"),
    ],
)
def test_validation_errors_name_file_entry_and_problem(tmp_path: Path, entries, expected: str) -> None:
    path = write(tmp_path / "kb.yaml", entries)
    with pytest.raises(ConfigError) as err:
        load_knowledge_base(path, known_actions={"order_status"})
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_syntax_errors_give_line_numbers(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "kb.yaml"
    bad_yaml.write_text("- id: a\n  questions: {en: [x]\n  answers: {en: y}\n")
    with pytest.raises(ConfigError, match=r"invalid YAML at line \d+"):
        load_knowledge_base(bad_yaml)
    bad_json = tmp_path / "kb.json"
    bad_json.write_text('[{"id": "a",}]')
    with pytest.raises(ConfigError, match=r"invalid JSON at line 1, column \d+"):
        load_knowledge_base(bad_json)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ConfigError, match=r"empty; write \[\]"):
        load_knowledge_base(empty)
    with pytest.raises(ConfigError, match="file not found"):
        load_knowledge_base(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="use .yaml, .yml or .json"):
        load_knowledge_base(write(tmp_path / "kb.txt", [ENTRY]))


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_roundtrip_keeps_format_and_extra_fields(tmp_path: Path, suffix: str) -> None:
    source = write(
        tmp_path / f"src{suffix}", {"version": 3, "entries": [{**ENTRY, "label": {"en": "hours"}, "owner": "ops"}]}
    )
    kb = load_knowledge_base(source)
    kb.upsert(
        FaqEntry(
            id="outage",
            questions={"en": ("Is there an outage?",)},
            answers={"en": "Check the status page."},
            tags=("network",),
            frequency=3,
        )
    )
    target = tmp_path / f"out{suffix}"
    save_knowledge_base(kb, target)
    text = target.read_text(encoding="utf-8")
    data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
    assert data["version"] == 3
    assert "几点开门" in text  # unicode kept readable, not escaped
    again = load_knowledge_base(target)
    assert again.entries == kb.entries
    assert again.extra["hours"] == {"label": {"en": "hours"}, "owner": "ops"}
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_save_keeps_the_comment_header_of_a_yaml_file(tmp_path: Path, kb_file: Path) -> None:
    kb = load_knowledge_base(kb_file)
    kb.remove("holiday_hours")
    save_knowledge_base(kb, kb_file)
    text = kb_file.read_text(encoding="utf-8")
    assert text.startswith("# Brightwave demo knowledge base")
    assert "Deliberately missing: service outages" in text
    assert load_knowledge_base(kb_file).ids == kb.ids


def test_save_refuses_invalid_entries_and_keeps_old_file(tmp_path: Path) -> None:
    path = write(tmp_path / "kb.yaml", [ENTRY])
    before = path.read_text()
    kb = load_knowledge_base(path)
    kb.upsert(FaqEntry(id="broken", questions={"zh": ("问题",)}, answers={"en": "English only"}))
    with pytest.raises(ConfigError, match="no answer for language zh"):
        save_knowledge_base(kb, path)
    assert path.read_text() == before


def _touch_later(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_source_reloads_on_change_and_keeps_last_good_version(tmp_path: Path) -> None:
    path = write(tmp_path / "kb.yaml", [ENTRY])
    source = KnowledgeBaseSource(path, check_interval_s=0.0)
    assert source.current().ids == ["hours"] and source.version == 1

    write(path, [ENTRY, {**ENTRY, "id": "outage"}])
    _touch_later(path)
    assert source.current().ids == ["hours", "outage"]
    assert source.version == 2

    path.write_text("- id: [unclosed\n")
    _touch_later(path)
    assert source.current().ids == ["hours", "outage"]  # still serving the last good file
    assert source.last_error and "invalid YAML" in source.last_error

    kb = source.current()
    kb.remove("outage")
    source.save(kb)
    assert source.current().ids == ["hours"] and source.last_error is None
    assert load_knowledge_base(path).ids == ["hours"]


def test_source_checks_the_disk_at_most_every_interval(tmp_path: Path) -> None:
    path = write(tmp_path / "kb.yaml", [ENTRY])
    source = KnowledgeBaseSource(path, check_interval_s=3600)
    write(path, [ENTRY, {**ENTRY, "id": "new"}])
    _touch_later(path)
    assert source.current().ids == ["hours"]
    assert source.reload_if_changed() is True
    assert source.current().ids == ["hours", "new"]
