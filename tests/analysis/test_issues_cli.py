"""``callscope insights --save-model`` / ``--model``: incremental assignment through the real CLI."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import app
from callscope.errors import CallscopeError

runner = CliRunner()

# Held out of the fitted model; each has calls of the same intent in the model's set.
NEW_CALLS = {"s_en_07": "s_en_01", "s_zh_03": "s_en_09", "s_en_08": "s_en_03"}


def _run(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, (SystemExit, CallscopeError)):
        raise result.exception
    return result


@pytest.fixture
def split_calls(data_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """The 16 analysed calls split into a fitting set (13) and new calls (3)."""
    known, new = tmp_path / "known", tmp_path / "new"
    known.mkdir()
    new.mkdir()
    for path in (data_dir / "analysis" / "calls").glob("*.analysis.json"):
        stem = path.name.removesuffix(".analysis.json")
        shutil.copy(path, (new if stem in NEW_CALLS else known) / path.name)
    return known, new


@pytest.mark.slow
def test_save_model_then_assign_new_calls_to_known_issues(settings, split_calls, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    known, new = split_calls
    model = tmp_path / "models" / "issues.npz"
    fitted = _run("insights", str(known), "--format", "json", "--save-model", str(model))
    assert fitted.exit_code == 0, fitted.output
    assert model.is_file() and "written to" in fitted.stderr
    issues = json.loads(fitted.stdout)["issues"]

    assigned = _run("insights", str(new), "--format", "json", "--model", str(model))
    assert assigned.exit_code == 0, assigned.output
    out = json.loads(assigned.stdout)
    listed = [c for issue in out["issues"] for c in issue["calls"]] + out["unclustered"]
    assert sorted(listed) == sorted(NEW_CALLS)
    for issue in out["issues"]:
        # Known issues keep their id, label and keywords; counts are over the new calls.
        original = next(i for i in issues if i["id"] == issue["id"])
        assert (issue["label"], issue["keywords"]) == (original["label"], original["keywords"])
        assert issue["frequency"] == len(issue["calls"])
    placed = {c: issue["id"] for issue in out["issues"] for c in issue["calls"]}
    by_call = {c: issue["id"] for issue in issues for c in issue["calls"]}
    for call, partner in NEW_CALLS.items():
        if partner in by_call:  # the partner's issue is known: the new call joins it
            assert placed.get(call) == by_call[partner], (call, placed, by_call)
        else:  # the partner was a one-off in the fitted set: the new call is novel, not forced elsewhere
            assert call in out["unclustered"], (call, placed, by_call)
    assert placed.get("s_en_07") == by_call["s_en_01"]  # opening hours, en model issue with en + zh calls


@pytest.mark.slow
def test_model_leaves_unrelated_texts_unclustered(settings, data_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = tmp_path / "texts.npz"
    slice_csv = data_dir / "analysis" / "bitext_slice.csv"
    fitted = _run("insights", "--text-file", str(slice_csv), "--format", "json", "--save-model", str(model))
    assert fitted.exit_code == 0, fitted.output
    password = next(i for i in json.loads(fitted.stdout)["issues"] if "password" in i["keywords"])

    new = tmp_path / "new.csv"
    with new.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text"])
        writer.writerow(["I forgot my password and can't get into my account"])
        writer.writerow(["The giraffes at the zoo were very tall this spring."])
        writer.writerow([""])
    result = _run("insights", "--text-file", str(new), "--format", "json", "--model", str(model))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [i["id"] for i in out["issues"] if 0 in i["texts"]] == [password["id"]]
    assert out["unclustered"] == [1, 2]
    assert "re-cluster" in result.stderr


def test_model_option_errors(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "not-a-model.npz"
    bogus.write_text("hello", encoding="utf-8")
    texts = tmp_path / "t.csv"
    texts.write_text("text\nwhere is my order\n", encoding="utf-8")
    result = _run("insights", "--text-file", str(texts), "--model", str(bogus))
    assert isinstance(result.exception, CallscopeError)
    assert "not a callscope issue model" in str(result.exception)
    missing = _run("insights", "--text-file", str(texts), "--model", str(tmp_path / "missing.npz"))
    assert isinstance(missing.exception, CallscopeError)
