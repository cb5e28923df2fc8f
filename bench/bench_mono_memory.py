"""Peak memory and speed of mono diarization on long calls (issue #13: memory flat to 2 h, >= 30x real time).

    python bench/bench_mono_memory.py --data ../shared/data [--minutes 10 30 120] [--threads 1 2]
        [--method neural embeddings] [--env ONEDNN_PRIMITIVE_CACHE_CAPACITY=1024]

The call is the neural-voice mono calls (``calls_kokoro/*.mono.wav``, real speech models, 8 kHz)
concatenated and repeated to each length, written once as 8 kHz PCM16. Each measurement is a fresh
process: the models are loaded first, then ``diarize_file(path, DiarizeOptions(method, cpu_threads))``
runs; the process prints its resident set before, its peak (``ru_maxrss``), CPU and wall seconds and
a digest of the turns (same digest = same result). ``--env`` sets variables in the child only (e.g.
the oneDNN cache size the neural path used before it was capped, for a same-run baseline).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
PROBE = r"""
import hashlib, json, os, resource, sys, time
from callscope.diarization import DiarizeOptions, diarize_file
path, method, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
rss = lambda: round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
if method == "neural":
    from callscope.diarization import neural
    neural.load_models()
else:
    from callscope.diarization import embeddings
    embeddings.load_voice_encoder()
before = rss()
cpu, wall = time.process_time(), time.perf_counter()
result = diarize_file(path, DiarizeOptions(method=method, cpu_threads=threads))
cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
digest = hashlib.sha1(repr([(round(t.start, 3), round(t.end, 3), t.speaker) for t in result.turns]).encode()).hexdigest()[:10]
print(json.dumps({"before": before, "peak": rss(), "cpu": cpu, "wall": wall, "turns": len(result.turns),
                  "speakers": len(result.speakers), "digest": digest}))
"""


def make_call(sources: list[Path], path: Path, minutes: float) -> float:
    pieces = []
    for source in sources:
        samples, rate = sf.read(source, dtype="int16", always_2d=True)
        if rate != 8000:
            raise SystemExit(f"{source}: expected 8 kHz")
        pieces.append(samples[:, 0])
    one = np.concatenate(pieces)
    total = int(minutes * 60 * 8000)
    repeated = np.resize(one, total)
    sf.write(path, repeated, 8000, subtype="PCM_16")
    return total / 8000


def probe(call: Path, method: str, threads: int, env: dict[str, str]) -> dict:
    child = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(threads), **env}
    out = subprocess.run([sys.executable, "-c", PROBE, str(call), method, str(threads)], env=child, cwd=REPO,
                         capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 30, 120])
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--method", nargs="+", default=["neural"])
    parser.add_argument("--env", nargs="*", default=[], help="NAME=VALUE for a second, baseline run of each")
    parser.add_argument("--env-only", action="store_true", help="only the --env run (run two in parallel)")
    args = parser.parse_args()
    sources = sorted((args.data / "calls_kokoro").glob("*.mono.wav"))
    if not sources:
        raise SystemExit(f"no calls_kokoro/*.mono.wav under {args.data}")
    variants = [] if args.env_only else [("", {})]
    if args.env:
        variants.insert(0, (" ".join(args.env), dict(item.split("=", 1) for item in args.env)))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    print("| file | method | threads | variant | CPU s | wall s | x real time CPU / wall | RSS before -> peak MB | turns | digest |")
    print("|---|---|---|---|---|---|---|---|---|---|", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in args.minutes:
            call = Path(tmp) / f"mono_{minutes:g}min.wav"
            seconds = make_call(sources, call, minutes)
            for method in args.method:
                for threads in args.threads:
                    for name, env in variants:
                        r = probe(call, method, threads, env)
                        print(f"| {minutes:g} min | {method} | {threads} | {name or 'this checkout'} | {r['cpu']:.0f} | "
                              f"{r['wall']:.0f} | {seconds / r['cpu']:.0f} / {seconds / r['wall']:.0f} | "
                              f"{r['before']} -> {r['peak']} | {r['turns']} | {r['digest']} |", flush=True)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
