"""Peak memory of the whole pipeline on long calls, this checkout against a baseline checkout.

    python bench/bench_memory.py --baseline /path/to/other/checkout [--minutes 10 40]

Each run is a fresh process (`CallProcessor.load` / `load_audio`, transcribe, diarize,
analyse) on generated stereo noise (8 kHz unless --rate) (FLAC, so the file is small); the peak resident
memory after each stage is printed (ru_maxrss, MB). Noise keeps the speech models busy
only briefly, so this measures what the stages hold, not how long they run.
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
import json, resource, sys
from pathlib import Path
from callscope.settings import Settings
from callscope.pipeline import CallProcessor
from callscope.recordings.audio import load_audio
rss = lambda: round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
p = CallProcessor(Settings(data_dir=Path(sys.argv[2])))
out = {"start": rss()}
audio = p.load(Path(sys.argv[1])) if hasattr(p, "load") else load_audio(sys.argv[1])
out["load"] = rss()
t = p.redact(p.transcribe(audio)); out["transcribe"] = rss()
d, t = p.diarize(audio, t); out["diarize"] = rss()
p.analyze("x", audio, t, d); out["analyze"] = rss()
print(json.dumps(out))
"""


def make_call(path: Path, minutes: int, rate: int) -> None:
    rng = np.random.default_rng(minutes)
    with sf.SoundFile(path, "w", rate, 2, "PCM_16", format="FLAC") as handle:
        for _ in range(minutes):
            handle.write((rng.standard_normal((rate * 60, 2)) * 300).astype(np.int16))


def run(checkout: Path, call: Path, data: Path) -> dict[str, int]:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", PROBE, str(call), str(data)], env=env, cwd=checkout, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, required=True, help="a checkout of the code to compare with")
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 40])
    parser.add_argument("--rate", type=int, default=8000, help="sample rate of the generated calls")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"| call ({args.rate / 1000:g} kHz stereo) | code | start | load | transcribe | diarize | analyse (peak) |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for minutes in args.minutes:
            call = Path(tmp) / f"noise_{minutes}min.flac"
            make_call(call, minutes, args.rate)
            for label, checkout in (("baseline", args.baseline), ("this", REPO)):
                r = run(checkout, call, Path(tmp) / "data")
                print(f"| {minutes} min | {label} | {r['start']} | {r['load']} | {r['transcribe']} | {r['diarize']} "
                      f"| {r['analyze']} |", flush=True)


if __name__ == "__main__":
    main()
