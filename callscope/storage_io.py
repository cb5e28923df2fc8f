"""Atomic file writes: a crash or a full disk never leaves a half-written file behind."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from callscope.errors import StorageError

_CHUNK = 1 << 20


def atomic_write_bytes(target: Path, data: bytes | Path) -> None:
    """Write ``data`` (bytes, or a file to copy) to ``target`` atomically.

    Raises:
        StorageError: the folder is not writable or the disk is full (nothing is left behind).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise StorageError(f"cannot write to {target.parent}: {exc.strerror or exc}") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, Path):
                with data.open("rb") as src:
                    shutil.copyfileobj(src, handle, _CHUNK)
            else:
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(target: Path, text: str) -> None:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    atomic_write_bytes(target, text.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class PackagedFile:
    """A (model) file shipped inside an installed Python package."""

    package: str  # import name
    resource: str  # path inside the package
    sha256: str | None = None
    size: int | None = None


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
