"""Batch transcription of many files: discovery, resume manifest, per-file isolation.

One bad file never stops a batch: its error becomes a :class:`FileResult` with a
reason. ``--resume`` skips files whose content hash is already recorded as done (with
the same settings and formats) in ``<output_dir>/.callscope-transcribe.json``.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from time import perf_counter
from typing import Any, Literal, Protocol

from callscope.diarization import DiarizeOptions, assign_speakers, diarize_file
from callscope.diarization.rttm import write_rttm
from callscope.domain import Transcript
from callscope.errors import CallscopeError
from callscope.recordings.audio import SUPPORTED_EXTENSIONS, check_extension, probe
from callscope.storage_io import atomic_write_text
from callscope.transcription.transcriber import Transcriber
from callscope.transcription.writers import (
    parse_formats,
    write_outputs,
)

log = logging.getLogger(__name__)

MANIFEST_NAME = ".callscope-transcribe.json"
GLOB_CHARS = set("*?[")

Status = Literal["done", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One input file and where its outputs go."""

    path: Path
    stem: str
    out_dir: Path


@dataclass(frozen=True, slots=True)
class FileResult:
    path: Path
    status: Status
    outputs: tuple[Path, ...] = ()
    error: str | None = None
    audio_s: float = 0.0
    elapsed_s: float = 0.0
    language: str | None = None
    warning: str | None = None  # done, but something looks off (e.g. a truncated file)


@dataclass(frozen=True, slots=True)
class BatchSettings:
    """What a batch writes and how it runs."""

    output_dir: Path
    formats: tuple[str, ...] = ("txt",)
    resume: bool = True
    jobs: int = 1
    diarize: bool = False
    diarize_options: Any = None  # a callscope.diarization.DiarizeOptions, built by the caller
    fingerprint: dict[str, Any] = field(default_factory=dict)  # settings that change the output


class BatchObserver(Protocol):
    """Progress callbacks (the CLI draws a rich progress bar from them)."""

    def started(self, item: BatchItem, duration_s: float) -> None: ...

    def advanced(self, item: BatchItem, done_s: float) -> None: ...

    def finished(self, item: BatchItem, result: FileResult) -> None: ...


class _Quiet:
    def started(self, item: BatchItem, duration_s: float) -> None:
        pass

    def advanced(self, item: BatchItem, done_s: float) -> None:
        pass

    def finished(self, item: BatchItem, result: FileResult) -> None:
        pass


# ------------------------------------------------------------------ discovery


def discover(inputs: Sequence[str | Path], output_dir: Path) -> tuple[list[BatchItem], list[FileResult]]:
    """Expand files, folders (recursive, audio extensions only) and globs into batch items.

    Inputs that match nothing become failed results. Files found in a folder keep their
    sub-folder under ``output_dir``; clashing stems get a short hash suffix.

    Returns:
        (items in input order, failures for inputs that matched nothing).
    """
    found: list[tuple[Path, Path]] = []  # (file, relative output folder)
    missing: list[FileResult] = []
    for raw in inputs:
        text = str(raw)
        path = Path(text).expanduser()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS)
            if not files:
                missing.append(FileResult(path, "failed", error=f"{path}: no audio files in this folder"))
            found.extend((f, f.parent.relative_to(path)) for f in files)
        elif path.is_file():
            found.append((path, Path()))
        elif GLOB_CHARS & set(text):
            matches = sorted(Path(m) for m in glob.glob(os.path.expanduser(text), recursive=True))
            files = [m for m in matches if m.is_file()]
            for folder in (m for m in matches if m.is_dir()):
                files.extend(sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_EXTENSIONS))
            if not files:
                missing.append(FileResult(path, "failed", error=f"{text}: the pattern matches no files"))
            found.extend((f, Path()) for f in files)
        else:
            missing.append(FileResult(path, "failed", error=f"{text}: no such file or folder"))
    items: list[BatchItem] = []
    seen_files: set[Path] = set()
    seen_outputs: set[tuple[Path, str]] = set()
    for file, relative in found:
        resolved = file.resolve()
        if resolved in seen_files:
            continue
        seen_files.add(resolved)
        out_dir = output_dir / relative
        stem = file.stem
        if (out_dir, stem) in seen_outputs:
            stem = f"{stem}-{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"
        seen_outputs.add((out_dir, stem))
        items.append(BatchItem(file, stem, out_dir))
    return items, missing


# ------------------------------------------------------------------ manifest


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class Manifest:
    """Which inputs (by content hash) are already transcribed into an output folder."""

    def __init__(self, output_dir: Path) -> None:
        self.path = output_dir / MANIFEST_NAME
        self._lock = threading.Lock()
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.entries = dict(data.get("files", {}))
            except (OSError, ValueError, AttributeError):
                log.warning("%s is unreadable; starting a new manifest", self.path)

    def key(self, sha: str, item: BatchItem) -> str:
        """Content hash + output stem: a renamed copy gets its own files, changed content is redone."""
        return f"{sha}:{os.path.relpath(item.out_dir / item.stem, self.path.parent)}"

    def is_done(self, key: str, fingerprint: dict[str, Any], formats: tuple[str, ...]) -> tuple[Path, ...] | None:
        """The recorded outputs when ``key`` was done with these settings and formats, else None."""
        entry = self.entries.get(key)
        if not entry or entry.get("fingerprint") != fingerprint:
            return None
        if not set(formats) <= set(entry.get("formats", [])):
            return None
        outputs = tuple(self.path.parent / p for p in entry.get("outputs", []))
        return outputs if outputs and all(p.is_file() for p in outputs) else None

    def record(self, key: str, source: Path, fingerprint: dict[str, Any], formats: tuple[str, ...], outputs: Sequence[Path]) -> None:
        with self._lock:
            self.entries[key] = {
                "source": str(source),
                "fingerprint": fingerprint,
                "formats": list(formats),
                "outputs": [os.path.relpath(p, self.path.parent) for p in outputs],
                "done_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            atomic_write_text(self.path, json.dumps({"version": 1, "files": self.entries}, ensure_ascii=False, indent=1))


# ------------------------------------------------------------------ running


def run_batch(
    items: Sequence[BatchItem],
    transcriber: Transcriber,
    settings: BatchSettings,
    observer: BatchObserver | None = None,
) -> list[FileResult]:
    """Transcribe ``items``; failures are caught per file and reported, never raised.

    The model is loaded before the first file, so a missing model fails fast (raised).

    Raises:
        ModelNotFoundError, ModelError: the model cannot be loaded.
    """
    observer = observer or _Quiet()
    formats = parse_formats(settings.formats)
    transcriber.load()
    manifest = Manifest(settings.output_dir)
    fingerprint = dict(settings.fingerprint, diarize=settings.diarize)

    def one(item: BatchItem) -> FileResult:
        started = perf_counter()
        try:
            result = _transcribe_one(item, transcriber, settings, formats, manifest, fingerprint, observer)
        except CallscopeError as exc:
            result = FileResult(item.path, "failed", error=str(exc), elapsed_s=perf_counter() - started)
        except (OSError, ValueError, RuntimeError, MemoryError) as exc:  # a decoder/OS failure on one file
            log.debug("unexpected failure on %s", item.path, exc_info=True)
            result = FileResult(
                item.path, "failed", error=f"{item.path.name}: {type(exc).__name__}: {exc}", elapsed_s=perf_counter() - started
            )
        observer.finished(item, result)
        return result

    if settings.jobs <= 1 or len(items) <= 1:
        return [one(item) for item in items]
    with ThreadPoolExecutor(max_workers=settings.jobs, thread_name_prefix="transcribe") as pool:
        return list(pool.map(one, items))


def _transcribe_one(
    item: BatchItem,
    transcriber: Transcriber,
    settings: BatchSettings,
    formats: tuple[str, ...],
    manifest: Manifest,
    fingerprint: dict[str, Any],
    observer: BatchObserver,
) -> FileResult:
    started = perf_counter()
    check_extension(item.path)
    info = probe(item.path)
    key = manifest.key(file_sha256(item.path), item)
    if settings.resume:
        done = manifest.is_done(key, fingerprint, formats)
        if done is not None:
            observer.started(item, info.duration_s)
            observer.advanced(item, info.duration_s)
            return FileResult(item.path, "skipped", outputs=done, audio_s=info.duration_s)
    observer.started(item, info.duration_s)

    def hook(step: str, completed: float, total: float) -> None:
        observer.advanced(item, completed)

    transcript = transcriber.transcribe(item.path, hook=hook)
    extra: list[Path] = []
    if settings.diarize:
        transcript, rttm = _diarize(item, transcript, settings)
        extra.append(rttm)
    outputs = write_outputs(transcript, item.out_dir, item.stem, formats) + extra
    manifest.record(key, item.path, fingerprint, formats, outputs)
    warning = None
    if info.duration_s - transcript.duration_s > max(1.0, 0.1 * info.duration_s):
        warning = (
            f"{item.path.name}: decoded {transcript.duration_s:.1f} s of the {info.duration_s:.1f} s its header "
            "announces; the file looks truncated"
        )
        log.warning(warning)
    return FileResult(
        item.path,
        "done",
        outputs=tuple(outputs),
        audio_s=transcript.duration_s,
        elapsed_s=perf_counter() - started,
        language=transcript.language,
        warning=warning,
    )


def _diarize(item: BatchItem, transcript: Transcript, settings: BatchSettings) -> tuple[Transcript, Path]:
    """Speaker turns for ``item`` (callscope.diarization), words assigned, ``<stem>.rttm`` written."""

    options = settings.diarize_options if settings.diarize_options is not None else DiarizeOptions()
    diarization = diarize_file(item.path, options)
    transcript = assign_speakers(transcript, diarization)
    item.out_dir.mkdir(parents=True, exist_ok=True)
    path = item.out_dir / f"{item.stem}.rttm"
    write_rttm(diarization, path, item.stem)
    return transcript, path
