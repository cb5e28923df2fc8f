"""Fixtures of the job tests: SQLite and PostgreSQL contexts, a Redis queue isolated per
test (its own queue name, keys removed afterwards), private Redis/PostgreSQL servers
that a test may restart, and worker processes that a test may kill."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from callscope.context import Context

REPO = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("CALLSCOPE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
FAST_JOBS = {  # short leases and retries so fault tests run in seconds
    "CALLSCOPE_JOB_HEARTBEAT_S": "0.5",
    "CALLSCOPE_JOB_STALE_AFTER_S": "3",
    "CALLSCOPE_JOB_MAINTENANCE_S": "1",
    "CALLSCOPE_JOB_RETRY_BACKOFF_S": "0.2,0.5",
    "CALLSCOPE_JOB_PROGRESS_INTERVAL_S": "0.1",
}


@pytest.fixture
def fast_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in FAST_JOBS.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def ctx(settings, fast_jobs) -> Iterator[Context]:  # type: ignore[no-untyped-def]
    context = Context(settings)
    yield context
    context.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def _redis_ok(url: str) -> bool:
    from redis import Redis

    try:
        return bool(Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


def cleanup_rq(url: str, queue_name: str) -> None:
    """Remove the keys RQ made for one queue and its jobs."""
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        job_ids: set[bytes] = set()
        for key in client.scan_iter(match=f"rq:*{queue_name}*"):
            kind = client.type(key)
            if kind == b"list":
                job_ids.update(client.lrange(key, 0, -1))
            elif kind == b"zset":
                job_ids.update(entry.split(b":")[0] for entry in client.zrange(key, 0, -1))
            client.delete(key)
        for job_id in job_ids:
            for key in client.scan_iter(match=b"rq:*" + job_id + b"*"):
                client.delete(key)
        for key in client.scan_iter(match="callscope:*"):
            if queue_name.encode() in key:
                client.delete(key)
    except Exception:  # noqa: BLE001, S110 - the server may be gone in a restart test
        pass
    finally:
        client.close()


@pytest.fixture
def rq_env(settings, pg_engine, fast_jobs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings for RQ on the shared Redis with a throw-away PostgreSQL database."""
    if not _redis_ok(REDIS_URL):
        if os.environ.get("CI"):
            raise RuntimeError(f"Redis not reachable at {REDIS_URL}")
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    queue_name = f"callscope-test-{uuid.uuid4().hex[:10]}"
    url = pg_engine.url.render_as_string(hide_password=False)
    env = {"CALLSCOPE_QUEUE": "rq", "CALLSCOPE_REDIS_URL": REDIS_URL, "CALLSCOPE_RQ_QUEUE": queue_name,
           "CALLSCOPE_DATABASE_URL": url, "CALLSCOPE_DATA_DIR": str(tmp_path / "data")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    from callscope.settings import get_settings

    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    cleanup_rq(REDIS_URL, queue_name)


@pytest.fixture
def rq_ctx(rq_env) -> Iterator[Context]:  # type: ignore[no-untyped-def]
    context = Context(rq_env)
    yield context
    context.close()


class WorkerProcesses:
    """``python -m tests.jobs.doubles`` workers started (and always stopped) by a test."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, *args: str, env: dict[str, str] | None = None, module: str = "tests.jobs.doubles"
              ) -> subprocess.Popen[bytes]:
        log = (self.tmp_path / f"worker-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=REPO, stdout=log,
                                stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("worker-*.log")))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[WorkerProcesses]:
    procs = WorkerProcesses(tmp_path)
    yield procs
    procs.stop_all()


class PrivateRedis:
    """A redis-server of this test alone, on a free port, that the test may restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _redis_ok(self.url), 10, what="private redis-server")

    def stop(self) -> None:
        """Like ``redis-cli shutdown nosave``: the server stops and its contents are lost."""
        if self.proc is not None and self.proc.poll() is None:
            subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True,
                           timeout=10, check=False)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        if os.environ.get("CI"):
            raise RuntimeError("redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of this test alone (initdb in a temporary folder)."""

    def __init__(self, root: Path, bindir: Path) -> None:
        self.root, self.bindir = root, bindir
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self.data = root / "pgdata"

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        # no pipes: the server would inherit them and keep them open
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.root / "pg.log"), "-o",
                  f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def restart(self) -> None:
        """Stop (fast: open connections are cut) and start again."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")
        self.start()

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass


def _pg_bindir() -> Path | None:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    import tempfile

    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            raise RuntimeError("PostgreSQL server binaries (initdb) are not installed")
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    root = Path(tempfile.mkdtemp(prefix="callscope-pg-"))  # not under pytest's 0700 folder: postgres must enter it
    server = PrivatePostgres(root, bindir)
    try:
        server.init()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
