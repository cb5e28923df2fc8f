"""Model files shipped in packages: found without importing them, reassembled and checked."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from callscope.errors import ModelError
from callscope.storage_io import (
    PackagedFile,
    assemble_parts,
    atomic_path,
    atomic_write_text,
    file_lock,
    package_versions,
    packaged_path,
)


def _parts(tmp_path: Path) -> list[tuple[PackagedFile, Path]]:
    out = []
    for n, data in enumerate((b"first part ", b"second part")):
        path = tmp_path / f"p{n}.bin"
        path.write_bytes(data)
        out.append((PackagedFile("pkg", path.name, hashlib.sha256(data).hexdigest(), len(data)), path))
    return out


def _fix(part: PackagedFile | None) -> str:
    return f"reinstall {part.resource if part else 'everything'}"


def test_parts_are_concatenated_in_order_and_checked(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    whole = b"first part second part"
    target = tmp_path / "whole.bin"
    assemble_parts(parts, target, sha256=hashlib.sha256(whole).hexdigest(), size=len(whole), what="w", reinstall=_fix)
    assert target.read_bytes() == whole


def test_a_damaged_part_or_whole_names_the_file_and_the_fix(tmp_path: Path) -> None:
    parts = _parts(tmp_path)
    whole = b"first part second part"
    parts[1][1].write_bytes(b"second pArt")
    with pytest.raises(ModelError, match=r"p1\.bin: sha256 .* does not match .*: reinstall p1\.bin"):
        assemble_parts(parts, tmp_path / "w", sha256=hashlib.sha256(whole).hexdigest(), size=len(whole),
                       what="w", reinstall=_fix)
    with pytest.raises(ModelError, match=r"the model has sha256 .*\(22 bytes\), expected .*: reinstall everything"):
        assemble_parts(_parts(tmp_path), tmp_path / "w", sha256="0" * 64, size=len(whole),
                       what="the model", reinstall=_fix)


def test_packaged_path_finds_installed_files_and_names_what_is_missing() -> None:
    path = packaged_path(PackagedFile("callscope", "storage_io.py"))
    assert path.is_file() and path.name == "storage_io.py"
    with pytest.raises(FileNotFoundError, match="callscope_no_such_package"):
        packaged_path(PackagedFile("callscope_no_such_package", "x.bin"))
    with pytest.raises(FileNotFoundError, match="callscope/no_such_file.bin"):
        packaged_path(PackagedFile("callscope", "no_such_file.bin"))
    assert package_versions(["typer==0", "callscope-no-such-dist==1"])["callscope-no-such-dist"] == "unknown"


def test_atomic_write_replaces_the_file_and_keeps_its_permission_bits(tmp_path: Path) -> None:
    target = tmp_path / "kb.yaml"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["kb.yaml"]  # no temporary file left behind


def test_atomic_path_replaces_on_success_and_leaves_the_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "models" / "tuned.pt"
    with atomic_path(target) as tmp:  # the folder is created
        tmp.write_bytes(b"first")
    assert target.read_bytes() == b"first"
    with pytest.raises(RuntimeError, match="export failed"), atomic_path(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("export failed")
    assert target.read_bytes() == b"first"
    assert [p.name for p in target.parent.iterdir()] == ["tuned.pt"]  # no temporary file left behind


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX file locks")
def test_file_lock_excludes_other_holders_until_released(tmp_path: Path) -> None:
    import fcntl

    target = tmp_path / "models" / "encoder.pt"  # its folder does not exist yet

    def try_lock() -> bool:
        fd = os.open(tmp_path / "models" / ".encoder.pt.lock", os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another open file: another holder
            return True
        except BlockingIOError:
            return False
        finally:
            os.close(fd)

    with file_lock(target):
        assert not try_lock()
    assert try_lock()
    assert not target.exists()  # the lock never creates what it guards
