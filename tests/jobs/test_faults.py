"""Faults at the edges: a full disk, an unusable data folder, an unreachable database,
and the ``callscope jobs`` commands that show and retry what failed."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.context import Context
from callscope.domain import JobState
from callscope.errors import StorageError
from callscope.jobs.runner import create_job, get_job, run_job
from tests.jobs.conftest import free_port
from tests.jobs.doubles import CountingProcessor


@pytest.fixture
def tiny_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A 256 KiB tmpfs (a real full disk); where mounting is not allowed, writes that
    raise ENOSPC instead."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True,
                          check=False)
    if done.returncode != 0:
        from callscope import storage_io

        copy = storage_io.shutil.copyfileobj

        def full(src, dst, length=0):  # type: ignore[no-untyped-def]
            if os.fstat(src.fileno()).st_size > 256 * 1024:
                raise OSError(errno.ENOSPC, "No space left on device")
            return copy(src, dst, length)

        monkeypatch.setattr(storage_io.shutil, "copyfileobj", full)
        yield mount
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, check=False)


def test_a_full_disk_stores_nothing_and_says_so(tiny_disk: Path, settings, tmp_path: Path, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    ctx = Context(settings.model_copy(update={"data_dir": tiny_disk,
                                              "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}"}))
    with pytest.raises(StorageError, match="No space left on device"):
        ctx.store.ingest_file(data_dir / "calls" / "s_en_01.stereo.wav")  # 1.1 MB onto 256 KiB
    assert ctx.store.count() == 0
    assert [p for p in tiny_disk.rglob("*") if p.is_file()] == []  # no half-written audio, no temporary file
    small = ctx.store.ingest_file(data_dir / "asr" / "paddlespeech_zh.wav")  # 160 KB: room for this one
    assert small.created and ctx.store.count() == 1
    ctx.close()


def test_an_unusable_data_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from callscope.cli import app
    from callscope.settings import get_settings

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(blocker / "data"))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["jobs"])
    get_settings.cache_clear()
    assert isinstance(result.exception, StorageError)
    assert f"cannot create the data folder {blocker / 'data'}" in str(result.exception)
    assert "set CALLSCOPE_DATA_DIR to a writable folder" in str(result.exception)


def test_an_unreachable_database_is_a_clear_error(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from callscope.cli import app
    from callscope.settings import get_settings

    port = free_port()
    monkeypatch.setenv("CALLSCOPE_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{port}/calls")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["jobs", "submit", "nothing.wav"])
    get_settings.cache_clear()
    assert isinstance(result.exception, StorageError)
    assert f"cannot connect to the database postgresql+psycopg://postgres@127.0.0.1:{port}/calls" in str(result.exception)


@pytest.fixture
def cli_settings(settings, fast_jobs, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The CLI's own settings (the same environment) with the model-free processor."""
    import callscope.jobs.queue as queue_module

    monkeypatch.setattr(queue_module, "CallProcessor", CountingProcessor)
    return settings


def test_jobs_command_shows_a_failed_job_with_its_reason_and_retries_it(
    cli_settings, data_dir: Path  # type: ignore[no-untyped-def]
) -> None:
    import json

    from callscope.cli import app

    ctx = Context(cli_settings)
    rid = ctx.store.ingest_file(data_dir / "calls" / "s_en_03.mono.wav").recording.id
    job_id = create_job(ctx, rid)
    run_job(ctx, CountingProcessor(ctx.settings, fail_at="analyze", fail_times=9), job_id)
    run_job(ctx, CountingProcessor(ctx.settings, fail_at="analyze", fail_times=9), job_id)
    run_job(ctx, CountingProcessor(ctx.settings, fail_at="analyze", fail_times=9), job_id)
    runner = CliRunner()
    listing = runner.invoke(app, ["jobs"])
    assert listing.exit_code == 0, listing.output
    assert f"{job_id[:8]}  {rid[:12]}  failed" in listing.output
    assert "failed after 3 attempts: RuntimeError: worker died during analyze" in listing.output
    rows = json.loads(runner.invoke(app, ["jobs", "--state", "failed", "--json"]).output)
    assert [r["id"] for r in rows] == [job_id] and rows[0]["attempts"] == 3 and rows[0]["queue_latency_s"] >= 0
    retried = runner.invoke(app, ["jobs", "retry"])
    assert retried.exit_code == 0, retried.output
    assert f"retrying {job_id[:8]}" in retried.output and "done" in retried.output
    assert get_job(ctx, job_id).state == JobState.DONE
    ctx.close()


def test_jobs_submit_stores_and_processes_files_and_reports_bad_ones(
    cli_settings, data_dir: Path, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    from callscope.cli import app

    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF" + b"\0" * 100)
    result = CliRunner().invoke(app, ["jobs", "submit", str(data_dir / "calls" / "s_zh_01.mono.wav"),
                                      str(data_dir / "calls" / "s_en_01.mono.wav"), str(bad)])
    assert result.exit_code == 1
    assert "queued 2 job(s)" in result.output and result.output.count(": done") == 2
    assert "1 file(s) failed:" in result.output and "broken.wav" in result.output
    ctx = Context(cli_settings)
    assert ctx.store.count() == 2
    ctx.close()
