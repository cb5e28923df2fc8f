"""Atomic file writes (a crash or a full disk never leaves a half-written file behind), a lock
between processes on a file, and model files shipped inside installed Python packages: found,
hashed and reassembled from parts."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from callscope.errors import ModelError, StorageError

_CHUNK = 1 << 20


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` for a writer that needs a file name (a library
    saving a model, an exporter): when the block ends normally it replaces ``target``
    atomically (a file replaced keeps its permission bits); when it fails it is removed.

    Raises:
        StorageError: the folder cannot be created or written to (before the block runs).
    """
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise StorageError(f"cannot write to {target.parent}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if target.exists():
            os.chmod(tmp, target.stat().st_mode & 0o777)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def file_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``target`` between processes (``.<name>.lock`` beside it), so work that
    writes ``target`` runs in one server process while the others wait, then find it done. Without
    ``fcntl`` (Windows) only the caller's own thread locks count.

    Raises:
        StorageError: the lock file cannot be created.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    target = Path(target)
    lock = target.with_name(f".{target.name}.lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageError(f"cannot create the lock file {lock}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def atomic_write_bytes(target: Path, data: bytes | Path) -> None:
    """Write ``data`` (bytes, or a file to copy) to ``target`` atomically: readers see the old
    file or the new one, never half of one; a file replaced keeps its permission bits.

    Raises:
        StorageError: the folder is not writable or the disk is full (nothing is left behind).
    """
    target = Path(target)
    try:
        with atomic_path(target) as tmp, tmp.open("wb") as handle:
            if isinstance(data, Path):
                with data.open("rb") as src:
                    shutil.copyfileobj(src, handle, _CHUNK)
            else:
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise StorageError(f"cannot write {target}: {exc.strerror or exc}") from exc


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


def packaged_path(item: PackagedFile) -> Path:
    """Where ``item`` is on disk, found without importing its package.

    Raises:
        FileNotFoundError: the package is not installed, or lacks the file (the message
            names the package, or ``package/resource``).
    """
    spec = importlib.util.find_spec(item.package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(item.package)
    for root in spec.submodule_search_locations:
        path = Path(root) / item.resource
        if path.is_file():
            return path
    raise FileNotFoundError(f"{item.package}/{item.resource}")


def assemble_parts(
    parts: Sequence[tuple[PackagedFile, Path]],
    target: Path,
    *,
    sha256: str,
    size: int,
    what: str,
    reinstall: Callable[[PackagedFile | None], str],
) -> None:
    """Concatenate the files of ``parts``, in order, into ``target``, checking each part's
    sha256 (when it has one) and the whole's sha256 and size on the way.

    ``target`` is written in place: callers write to a temporary name and rename it into
    their cache (each keeps its own layout and marker file).

    Args:
        parts: each part and its file (:func:`packaged_path`).
        what: names the whole in errors ("the assembled LLM").
        reinstall: how to repair a damaged part, or the whole for None ("run `pip install …`").

    Raises:
        ModelError: a part or the whole does not match (the message names the file and the fix).
        OSError: ``target`` cannot be written.
    """
    total = hashlib.sha256()
    written = 0
    with Path(target).open("wb") as out:
        for item, path in parts:
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while block := handle.read(_CHUNK):
                    digest.update(block)
                    total.update(block)
                    out.write(block)
                    written += len(block)
            if item.sha256 and digest.hexdigest() != item.sha256:
                raise ModelError(
                    f"{path}: sha256 {digest.hexdigest()[:12]}… does not match the expected {item.sha256[:12]}…; "
                    f"the package is damaged or not the expected version: {reinstall(item)}"
                )
    if total.hexdigest() != sha256 or written != size:
        raise ModelError(
            f"{what} has sha256 {total.hexdigest()[:12]}… ({written} bytes), expected {sha256[:12]}… "
            f"({size} bytes): {reinstall(None)}"
        )


def package_versions(requirements: Iterable[str]) -> dict[str, str]:
    """``{distribution: installed version}`` for pinned requirements (``name==1.0``);
    "unknown" for a distribution that is not installed. For the marker files of caches."""
    versions = {}
    for requirement in requirements:
        dist = requirement.split("==")[0]
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = "unknown"
    return versions
