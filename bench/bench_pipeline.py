"""Processing at scale: recordings through RQ workers on PostgreSQL + Redis, with faults.

    python bench/bench_pipeline.py [--count 200] [--workers 2] [--data ../shared/data]
                                   [--no-faults] [--out bench_pipeline.json]

Makes ``--count`` distinct recordings from the synthetic calls (each copy gets a few
samples of silence appended, so the content-addressed store keeps them apart), stores
them, queues them all, and runs ``--workers`` ``callscope worker`` processes (the real
models, ``CALLSCOPE_CPU_THREADS = cores / workers``) on a throw-away PostgreSQL database
and a private Redis. Faults injected mid-run (unless ``--no-faults``): one worker is
killed with SIGKILL once a quarter of the jobs are done (a replacement starts, as
systemd's ``Restart=always`` would), and Redis is restarted without saving (its queue
is lost) at half way. At the end every recording must have exactly one job, DONE, and
one set of artifacts.

Reported: audio hours per wall-clock hour per core, audio seconds per worker CPU second
(independent of other load on the machine), queue latency (submit → first start) for
the batch and for a job submitted to idle workers, and the reference: the same stages
in one plain process without the job system (``CallProcessor.process``), on a few files.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ------------------------------------------------------------------ recordings


def make_recordings(calls_dir: Path, count: int, out_dir: Path, first: int = 0) -> list[Path]:
    """``count`` distinct copies of the calls (silence appended), same codec and rate."""
    import numpy as np
    import soundfile as sf

    sources = sorted(calls_dir.glob("*.wav"))
    if not sources:
        raise SystemExit(f"no .wav calls in {calls_dir} (use --data)")
    out_dir.mkdir(parents=True, exist_ok=True)
    made = []
    for index in range(first, first + count):
        src = sources[index % len(sources)]
        info = sf.info(src)
        data, rate = sf.read(src, dtype="float32", always_2d=True)
        pad = np.zeros((1 + index // len(sources), data.shape[1]), dtype="float32")
        target = out_dir / f"{src.stem}.copy{index:04d}.wav"
        sf.write(target, np.concatenate([data, pad]), rate, subtype=info.subtype, format="WAV")
        made.append(target)
    return made


# ---------------------------------------------------------------------- servers


class Redis:
    def __init__(self, workdir: Path) -> None:
        self.port, self.workdir = free_port(), workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                                      "--appendonly", "no", "--dir", str(self.workdir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, check=False).stdout.strip() == b"PONG":
                return
            time.sleep(0.1)
        raise SystemExit("redis-server did not start")

    def stop(self) -> None:
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True, check=False)
        if self.proc is not None:
            self.proc.wait(10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (and its waited-for children), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks


class Workers:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.cpu: dict[int, float] = {}

    def start(self) -> subprocess.Popen[bytes]:
        handle = (self.log_dir / f"worker-{len(self.procs)}.log").open("wb")
        command = [sys.executable, "-m", "callscope", "-v", "worker"]
        if not reason_available():
            command = [sys.executable, str(Path(__file__).resolve()), "--worker"]
        proc = subprocess.Popen(command, cwd=REPO, env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def sample_cpu(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                self.cpu[proc.pid] = max(self.cpu.get(proc.pid, 0.0), cpu_seconds(proc.pid))

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def stop(self) -> None:
        self.sample_cpu()
        for proc in self.live():
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


# ----------------------------------------------------------------------- run


@functools.cache
def reason_available() -> bool:
    from importlib.util import find_spec

    return find_spec("callscope.analysis.reason") is not None


def stand_in_for_missing_reason() -> None:
    """While ``callscope.analysis.reason`` has not landed, analyze runs without it.

    The result then has an empty reason; the report says so. Every other stage
    (Whisper, redaction, diarization, emotions, metrics) is the real one.
    """
    import types

    if reason_available():
        return
    module = types.ModuleType("callscope.analysis.reason")
    module.extract_reason = lambda turns, language=None: ""  # type: ignore[attr-defined]
    sys.modules["callscope.analysis.reason"] = module


def worker_main() -> None:
    stand_in_for_missing_reason()
    from callscope.cli import main as cli_main

    sys.argv = ["callscope", "-v", "worker"]
    cli_main()


def reference(files: list[Path], settings) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The same stages in one plain process, no job system (CallProcessor.process)."""
    from callscope.pipeline import CallProcessor
    from callscope.recordings.audio import probe

    processor = CallProcessor(settings)
    processor.process(files[0], recording_id="warm-up")  # load the models outside the timing
    audio_s, started = 0.0, time.perf_counter()
    cpu_started = time.process_time()
    for path in files:
        processor.process(path, recording_id=path.stem)
        audio_s += probe(path).duration_s
    return {"files": len(files), "audio_s": audio_s, "wall_s": time.perf_counter() - started,
            "cpu_s": time.process_time() - cpu_started}


def main() -> None:
    if sys.argv[1:] == ["--worker"]:
        worker_main()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--pg-url", default=os.environ.get("CALLSCOPE_TEST_POSTGRES_URL",
                                                           "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--reference-files", type=int, default=2, help="files for the plain-process reference")
    parser.add_argument("--out", type=Path, default=REPO / "bench_pipeline.json")
    parser.add_argument("--keep", action="store_true", help="keep the database and files")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up (workers, Redis, database) on kill

    from sqlalchemy import select, text

    from callscope.context import Context
    from callscope.db import make_engine
    from callscope.domain import JobState
    from callscope.jobs.queue import RqQueue
    from callscope.jobs.runner import queue_latency_s
    from callscope.jobs.tables import JobRow
    from callscope.recordings.tables import ArtifactRow
    from callscope.settings import Settings

    cores = os.cpu_count() or 1
    threads = max(1, cores // args.workers)
    work = Path(tempfile.mkdtemp(prefix="callscope-bench-"))
    db_name = f"callscope_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(args.pg_url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    db_url = args.pg_url.rsplit("/", 1)[0] + "/" + db_name
    redis = Redis(work)
    redis.start()
    queue_name = f"callscope-bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "CALLSCOPE_QUEUE": "rq", "CALLSCOPE_DATABASE_URL": db_url, "CALLSCOPE_REDIS_URL": redis.url,
           "CALLSCOPE_RQ_QUEUE": queue_name, "CALLSCOPE_DATA_DIR": str(work / "data"),
           "CALLSCOPE_CPU_THREADS": str(threads), "CALLSCOPE_JOB_MAINTENANCE_S": "5",
           "CALLSCOPE_JOB_STALE_AFTER_S": "60", "CALLSCOPE_MAX_QUEUED_JOBS": "0",
           "CALLSCOPE_MODEL_DIR": os.environ.get("CALLSCOPE_MODEL_DIR", str(REPO / ".callscope" / "models"))}
    os.environ.update(env)
    settings = Settings()
    ctx = Context(settings)
    workers = Workers(env, work)
    result: dict[str, object] = {"count": args.count, "workers": args.workers, "cores": cores,
                                 "cpu_threads_per_worker": threads, "faults": not args.no_faults}
    try:
        result["reason_module"] = reason_available()
        stand_in_for_missing_reason()
        log(f"making {args.count} distinct recordings from {args.data / 'calls'}")
        files = make_recordings(args.data / "calls", args.count, work / "copies")
        started = time.perf_counter()
        rids = [ctx.store.ingest_file(p, source="bench").recording.id for p in files]
        result["ingest_s"] = time.perf_counter() - started
        assert len(set(rids)) == len(rids), "copies are not distinct"
        audio_s = sum(ctx.store.get(r).duration_s for r in rids)
        result["audio_s"] = audio_s
        queue = RqQueue(ctx)
        started = time.perf_counter()
        job_ids = [queue.submit(r) for r in rids]
        result["submit_s"] = time.perf_counter() - started
        log(f"queued {len(job_ids)} jobs, {audio_s / 3600:.2f} h of audio; starting {args.workers} workers "
            f"× {threads} thread(s)")
        t0 = time.perf_counter()
        for _ in range(args.workers):
            workers.start()
        faults: list[str] = []
        killed = redis_restarted = False
        last_report = 0.0
        while True:
            time.sleep(2.0)
            workers.sample_cpu()
            with ctx.sessions() as session:
                states = [s for s in session.scalars(select(JobRow.state).where(JobRow.id.in_(job_ids)))]
            done = sum(s == JobState.DONE for s in states)
            failed = sum(s == JobState.FAILED for s in states)
            elapsed = time.perf_counter() - t0
            if elapsed - last_report > 60:
                log(f"{done} done, {failed} failed of {len(job_ids)} after {elapsed / 60:.1f} min")
                last_report = elapsed
            if not args.no_faults and not killed and done >= len(job_ids) * 0.25:
                with ctx.sessions() as session:
                    running = list(session.scalars(select(JobRow).where(JobRow.state == JobState.RUNNING)))
                victim = workers.live()[0]
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                stages = ", ".join(sorted({f"{r.stage} {r.progress:.0%}" for r in running}))
                faults.append(f"SIGKILL worker pid {victim.pid} at {elapsed:.0f} s ({done} done; running: {stages})")
                log(faults[-1])
                workers.start()
                killed = True
            if not args.no_faults and not redis_restarted and done >= len(job_ids) * 0.5:
                redis.stop()
                time.sleep(2.0)
                redis.start()
                faults.append(f"Redis shutdown nosave + restart at {elapsed:.0f} s ({done} done; queue contents lost)")
                log(faults[-1])
                redis_restarted = True
            if done + failed == len(job_ids):
                break
            if not workers.live():
                raise SystemExit("all workers died; see " + str(work))
        wall_s = time.perf_counter() - t0
        workers.sample_cpu()
        result.update(wall_s=wall_s, faults_injected=faults)

        # an idle system: how long until a new job starts
        idle_rid = ctx.store.ingest_file(make_recordings(args.data / "calls", 1, work / "idle", first=args.count)[0]).recording.id
        time.sleep(3.0)
        idle_job = queue.submit(idle_rid)
        while True:
            with ctx.sessions() as session:
                row = session.get(JobRow, idle_job)
                if row.started_at is not None:
                    result["idle_queue_latency_s"] = queue_latency_s(row)
                    break
            time.sleep(0.05)
        workers.stop()
        result["worker_cpu_s"] = sum(workers.cpu.values())

        with ctx.sessions() as session:
            rows = list(session.scalars(select(JobRow).where(JobRow.recording_id.in_(rids))))
            kinds: dict[str, set[str]] = {}
            for rid, kind in session.execute(select(ArtifactRow.recording_id, ArtifactRow.kind)
                                             .where(ArtifactRow.recording_id.in_(rids))):
                kinds.setdefault(rid, set()).add(kind)
        per_recording: dict[str, list[JobRow]] = {}
        for row in rows:
            per_recording.setdefault(row.recording_id, []).append(row)
        lost = [r for r in rids if r not in per_recording]
        duplicated = [r for r, jobs in per_recording.items() if len(jobs) > 1]
        not_done = [(r, [(j.state, j.error) for j in jobs]) for r, jobs in per_recording.items()
                    if [j.state for j in jobs] != [JobState.DONE]]
        incomplete = [r for r in rids if kinds.get(r) != {"transcript", "diarization", "analysis"}]
        latencies = sorted(queue_latency_s(r) or 0.0 for r in rows)
        result.update(
            done=sum(r.state == JobState.DONE for r in rows), failed=sum(r.state == JobState.FAILED for r in rows),
            lost=len(lost), duplicated=len(duplicated), not_done=not_done[:10], incomplete_artifacts=len(incomplete),
            retried=sum(r.attempts > 1 for r in rows), attempts_total=sum(r.attempts for r in rows),
            latency_p50_s=statistics.median(latencies), latency_p95_s=latencies[int(0.95 * (len(latencies) - 1))],
            latency_max_s=latencies[-1],
        )
        result["throughput_audio_h_per_wall_h_per_core"] = (audio_s / wall_s) / cores
        result["audio_s_per_worker_cpu_s"] = audio_s / max(1e-9, result["worker_cpu_s"])  # type: ignore[operator]

        if args.reference_files > 0:
            result["reference"] = []
            for ref_threads in sorted({cores, 1}, reverse=True):
                log(f"reference: {args.reference_files} files in one plain process (cpu_threads={ref_threads})")
                ref_settings = settings.model_copy(update={"cpu_threads": ref_threads})
                ref = reference(files[1: 1 + args.reference_files], ref_settings)
                result["reference"].append({**ref, "cpu_threads": ref_threads})  # type: ignore[union-attr]
    finally:
        workers.stop()
        redis.stop()
        ctx.close()
        if not args.keep:
            with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
            shutil.rmtree(work, ignore_errors=True)
        admin.dispose()
    args.out.write_text(json.dumps(result, indent=2, default=str))
    print_report(result)


def print_report(r: dict) -> None:  # type: ignore[type-arg]
    cores = r["cores"]
    print(f"\n### Pipeline at scale: {r['count']} recordings, {r['workers']} RQ workers × "
          f"{r['cpu_threads_per_worker']} thread(s), PostgreSQL + Redis, {cores} cores\n")
    print("| measure | value |\n|---|---|")
    print(f"| audio processed | {r['audio_s'] / 3600:.2f} h ({r['count']} calls, mean {r['audio_s'] / r['count']:.1f} s) |")
    print(f"| wall-clock time | {r['wall_s'] / 60:.1f} min |")
    print(f"| throughput | {r['throughput_audio_h_per_wall_h_per_core']:.2f} audio h per wall-clock h per core |")
    print(f"| CPU efficiency | {r['audio_s_per_worker_cpu_s']:.2f} audio s per worker CPU s |")
    print(f"| queue latency, batch backlog (p50 / p95 / max) | {r['latency_p50_s']:.0f} / {r['latency_p95_s']:.0f} / "
          f"{r['latency_max_s']:.0f} s |")
    print(f"| queue latency, idle workers | {r['idle_queue_latency_s']:.2f} s |")
    print(f"| final states | {r['done']} done, {r['failed']} failed, {r['lost']} lost, {r['duplicated']} duplicated, "
          f"{r['incomplete_artifacts']} with incomplete artifacts |")
    print(f"| retried jobs | {r['retried']} ({r['attempts_total']} attempts in all) |")
    print(f"| faults injected | {'; '.join(r['faults_injected']) or 'none'} |")
    if not r.get("reason_module"):
        print("| note | callscope.analysis.reason missing at run time: analyze ran without reason extraction |")
    refs = r.get("reference") or []
    if refs:
        print("\n| run | audio h / wall h / core | audio s / CPU s | CPU-efficiency ratio |\n|---|---|---|---|")
        print(f"| callscope jobs: {r['workers']} RQ workers × {r['cpu_threads_per_worker']} thread, PostgreSQL, "
              f"faults | {r['throughput_audio_h_per_wall_h_per_core']:.2f} | {r['audio_s_per_worker_cpu_s']:.2f} | 1.00 |")
        for ref in refs:
            speed = ref["audio_s"] / ref["wall_s"] / min(cores, ref["cpu_threads"])  # per core it could use
            efficiency = ref["audio_s"] / ref["cpu_s"]
            print(f"| reference: plain `CallProcessor.process` loop, 1 process × {ref['cpu_threads']} thread(s), "
                  f"{ref['files']} files | {speed:.2f} | {efficiency:.2f} | "
                  f"{efficiency / r['audio_s_per_worker_cpu_s']:.2f} |")


if __name__ == "__main__":
    main()
