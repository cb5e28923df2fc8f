"""Scale-out mode against real servers: RQ on Redis, jobs on PostgreSQL, worker
processes killed with SIGKILL, Redis and PostgreSQL restarted mid-batch.

The shared servers (Redis 127.0.0.1:6379, PostgreSQL 127.0.0.1:5432) are used with a
queue name and a database of each test's own; tests that restart a server start a
private one (redis-server on a free port, a PostgreSQL cluster made by initdb) so the
tests running beside them are not disturbed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callscope.context import Context
from callscope.db import init_schema, make_engine, session_factory
from callscope.domain import JobState
from callscope.jobs.queue import RqQueue
from callscope.jobs.runner import create_job, get_job
from callscope.jobs.tables import JobRow
from callscope.jobs.worker import run_worker
from callscope.recordings.store import RecordingStore
from callscope.recordings.tables import ArtifactRow
from tests.jobs.conftest import REPO, free_port, wait_until
from tests.jobs.doubles import CountingProcessor

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

CALLS = ("s_en_01.stereo.wav", "s_en_03.stereo.wav", "s_zh_01.stereo.wav",
         "s_en_01.mono.wav", "s_en_03.mono.wav", "s_zh_01.mono.wav")


def _ingest_all(ctx: Context, data_dir: Path, names=CALLS) -> list[str]:  # type: ignore[no-untyped-def]
    return [ctx.store.ingest_file(data_dir / "calls" / name).recording.id for name in names]


def _states(ctx: Context, job_ids: list[str]) -> list[str]:
    return [str(get_job(ctx, j).state) for j in job_ids]


def _all_final(ctx: Context, job_ids: list[str]) -> bool:
    return all(s in (JobState.DONE, JobState.FAILED) for s in _states(ctx, job_ids))


def _assert_exactly_once(ctx: Context, recording_ids: list[str]) -> None:
    """One DONE job per recording and one set of artifacts: nothing lost, nothing twice."""
    with ctx.sessions() as session:
        for rid in recording_ids:
            jobs = list(session.scalars(select(JobRow).where(JobRow.recording_id == rid)))
            assert [j.state for j in jobs] == [JobState.DONE], (rid, [(j.state, j.error) for j in jobs])
            kinds = sorted(session.scalars(select(ArtifactRow.kind).where(ArtifactRow.recording_id == rid)))
            assert kinds == ["analysis", "diarization", "transcript"]


def test_rq_worker_runs_jobs_stored_in_postgresql(rq_ctx: Context, data_dir: Path) -> None:
    rids = _ingest_all(rq_ctx, data_dir, CALLS[:2])
    queue = RqQueue(rq_ctx)
    job_ids = [queue.submit(rid) for rid in rids]
    assert queue.submit(rids[0]) == job_ids[0]  # already queued: the same job
    assert queue.queued_on_redis() == 2
    run_worker(burst=True, ctx=rq_ctx, processor=CountingProcessor(rq_ctx.settings))
    assert _states(rq_ctx, job_ids) == [JobState.DONE, JobState.DONE]
    _assert_exactly_once(rq_ctx, rids)
    from rq.job import Job

    assert Job.fetch(job_ids[0], connection=queue.redis).get_status() == "finished"


def test_a_worker_killed_mid_transcription_is_replaced_and_the_job_completes_once(
    rq_ctx: Context, data_dir: Path, workers, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    from rq.registry import StartedJobRegistry

    rids = _ingest_all(rq_ctx, data_dir, CALLS[:1])
    queue = RqQueue(rq_ctx)
    job_id = queue.submit(rids[0])
    stages = tmp_path / "stages.jsonl"
    doomed = workers.start("--slow-transcribe", "60", "--log", str(stages))
    wait_until(lambda: get_job(rq_ctx, job_id).stage == "transcribe" and get_job(rq_ctx, job_id).progress > 0,
               60, what="the first worker to be transcribing")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)

    # What RQ 3 alone does: nothing yet. The job stays "started" in the started registry
    # until its heartbeat expires (job timeout + 60 s, hours for real calls) ...
    from rq.job import Job

    assert Job.fetch(job_id, connection=queue.redis).get_status() == "started"
    started = queue.redis.zrange(StartedJobRegistry(queue=queue.queue).key, 0, -1, withscores=True)
    [(entry, expires_at)] = started  # "<job id>:<execution id>", expiry as a Unix time
    assert entry.decode().startswith(f"{job_id}:") and expires_at - time.time() > 3600
    # ... so our lease does it: a new worker sees the dead worker's job and runs it again.
    workers.start("--log", str(stages))
    wait_until(lambda: get_job(rq_ctx, job_id).state == JobState.DONE, 60, what="the job to complete")
    job = get_job(rq_ctx, job_id)
    assert job.attempts == 2 and job.error is None
    _assert_exactly_once(rq_ctx, rids)
    runs = [json.loads(line) for line in stages.read_text().splitlines()]
    assert [r["stage"] for r in runs] == ["transcribe", "transcribe", "diarize", "analyze"]
    assert runs[0]["pid"] == doomed.pid and {r["pid"] for r in runs[1:]} != {doomed.pid}
    assert not StartedJobRegistry(queue=queue.queue).get_job_ids()  # RQ will not fail the new run later


def test_redis_restart_mid_batch_loses_nothing(
    rq_env, data_dir: Path, private_redis, workers, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("CALLSCOPE_REDIS_URL", private_redis.url)
    ctx = Context(rq_env.model_copy(update={"redis_url": private_redis.url}))
    rids = _ingest_all(ctx, data_dir)
    queue = RqQueue(ctx)
    job_ids = [queue.submit(rid) for rid in rids[:4]]
    workers.start("--stage-s", "0.3")
    wait_until(lambda: JobState.DONE in _states(ctx, job_ids), 60, what="a first job to finish")
    private_redis.stop()  # `shutdown nosave`: the queue's contents are gone
    job_ids += [queue.submit(rid) for rid in rids[4:]]  # accepted while Redis is down: kept in the database
    time.sleep(1.0)
    private_redis.start()
    wait_until(lambda: _all_final(ctx, job_ids), 90, what="every job to finish after the restart")
    _assert_exactly_once(ctx, rids)
    assert workers.procs[0].poll() is None  # the worker rode out the outage
    ctx.close()


def test_postgresql_restart_mid_batch_loses_nothing(
    rq_env, data_dir: Path, private_postgres, workers, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("CALLSCOPE_DATABASE_URL", private_postgres.url)
    ctx = Context(rq_env.model_copy(update={"database_url": private_postgres.url}))
    rids = _ingest_all(ctx, data_dir)
    queue = RqQueue(ctx)
    job_ids = [queue.submit(rid) for rid in rids]
    workers.start("--stage-s", "0.3")
    wait_until(lambda: JobState.DONE in _states(ctx, job_ids), 60, what="a first job to finish")
    private_postgres.restart()
    wait_until(lambda: _all_final(ctx, job_ids), 90, what="every job to finish after the restart")
    _assert_exactly_once(ctx, rids)
    assert workers.procs[0].poll() is None  # the worker rode out the outage
    ctx.close()


def test_unreachable_database_or_redis_at_start_is_a_clear_error(rq_env, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from callscope.cli import app
    from callscope.errors import StorageError
    from callscope.settings import get_settings

    port = free_port()
    env = {"CALLSCOPE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/callscope"}
    proc = subprocess.run([sys.executable, "-m", "callscope", "worker"], cwd=REPO, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **env}, check=False)
    assert proc.returncode == 1
    assert f"error: cannot connect to the database postgresql+psycopg://postgres@127.0.0.1:{port}/callscope" in proc.stderr
    assert "Check CALLSCOPE_DATABASE_URL" in proc.stderr and "Traceback" not in proc.stderr
    monkeypatch.setenv("CALLSCOPE_REDIS_URL", f"redis://127.0.0.1:{port}/0")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["worker"])
    get_settings.cache_clear()
    assert isinstance(result.exception, StorageError)
    assert f"cannot reach Redis at redis://127.0.0.1:{port}/0" in str(result.exception)
    assert "Check CALLSCOPE_REDIS_URL" in str(result.exception)


def _ingest_and_queue(db_url: str, audio_dir: str, path: str, out) -> None:  # type: ignore[no-untyped-def]
    from callscope.settings import Settings

    engine = make_engine(db_url)
    store = RecordingStore(Path(audio_dir), session_factory(engine))
    rid = store.ingest_file(Path(path)).recording.id
    ctx = Context(Settings(data_dir=Path(audio_dir).parent, database_url=db_url))
    out.put((rid, create_job(ctx, rid)))


def test_concurrent_ingest_and_submit_from_processes_on_postgresql(pg_engine, tmp_path: Path, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    url = pg_engine.url.render_as_string(hide_password=False)
    init_schema(pg_engine)
    mp = multiprocessing.get_context("spawn")
    out = mp.Queue()
    src = str(data_dir / "calls" / "s_en_03.stereo.wav")
    procs = [mp.Process(target=_ingest_and_queue, args=(url, str(tmp_path / "audio"), src, out)) for _ in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(90)
    results = {out.get(timeout=5) for _ in procs}
    assert len(results) == 1  # one recording, one job
    with session_factory(pg_engine)() as session:
        assert session.scalar(select(func.count()).select_from(JobRow)) == 1
    store = RecordingStore(tmp_path / "audio", session_factory(pg_engine))
    assert store.count() == 1 and len(list((tmp_path / "audio").rglob("*.wav"))) == 1
    assert not list((tmp_path / "audio").rglob("*.tmp"))
