"""Peak memory of each pipeline stage on long calls, and how it grows with the call's length.

    python bench/bench_memory.py [--baseline /path/to/other/checkout] [--minutes 10 30 60 120]
        [--format 8k-stereo 16k-mono] [--content speech|noise] [--transcribe-max 30]

Two fresh processes per call and checkout, each after a warm-up run of every stage on the call's
first minute (the models load there): one decodes (``CallProcessor.load``) and transcribes (+ PII
redaction); the other decodes, diarizes (+ roles) and analyses (emotion with prosody, reason,
conversation metrics, QA) with the first loop's transcript repeated at every loop's offset (so
those stages see the words of a fully transcribed call without paying for it). Before each stage
the process hands freed memory back (``malloc_trim``) and resets its peak resident set
(``/proc/self/clear_refs``, 5): each column is that stage's own peak (``VmHWM``, MB; the models
and what earlier stages left resident are included: see the RSS on entering each stage);
"whole" is the largest of them, the pipeline's peak. The second table is the slope of each
column over the lengths (least squares, MB per hour of call; in brackets, the slope of the peak
above the RSS the stage started from); ``--render`` prints both tables from ``--json`` files.

``--content speech`` (default) loops ``samples/calls/s_en_02.stereo.wav`` (103 s, 8 kHz stereo) with
197 s of quiet noise after it (5 min per loop, a third of it speech), so every stage has words,
turns and prosody to work on; ``16k-mono`` is that mix resampled to 16 kHz. Calls longer than
``--transcribe-max`` minutes are not transcribed in full (too slow on a shared box): the transcribe
column is empty and "whole" is "≥" the largest of the other stages.
``--content noise`` is stereo noise (no words: prosody never runs), the bench's first version.
The calls are written once as FLAC under ``bench/out/memory/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out" / "memory"
SPEECH = REPO / "samples" / "calls" / "s_en_02.stereo.wav"
LOOP_S = 300.0
FORMATS = {"8k-stereo": (8000, 2), "16k-mono": (16000, 1)}
STAGES = ("load", "transcribe", "diarize", "analyze")

PROBE = r"""
import ctypes, json, re, sys, time
from dataclasses import replace
from pathlib import Path
from callscope.settings import Settings
from callscope.pipeline import CallProcessor
from callscope.domain import Audio
path, data, which, loop_s = sys.argv[1], Path(sys.argv[2]), sys.argv[3], float(sys.argv[4])

def status(field):
    return round(int(re.search(field + r":\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024)

p = CallProcessor(Settings(data_dir=data))
def head(audio, seconds):  # the first seconds in memory (a baseline's in-memory Audio has no read())
    frames = int(seconds * audio.sample_rate)
    samples = audio.read(0, frames) if hasattr(audio, "read") else audio.samples[:, :frames].copy()
    return Audio(samples, audio.sample_rate)

whole = p.load(Path(path))  # warm-up on the call's first minute: every model loads outside the measured stages
clip = head(whole, 60)
getattr(whole, "close", lambda: None)()
del whole
warm_t = p.redact(p.transcribe(clip))
warm_d, warm_t = p.diarize(clip, warm_t)
p.analyze("warm-up", clip, warm_t, warm_d)
del clip
out = {"start": status("VmRSS"), "entry": {}, "seconds": {}}

libc = ctypes.CDLL("libc.so.6")

def stage(name, fn):
    libc.malloc_trim(0)  # freed memory goes back to the system: the peak below is this stage's own
    out["entry"][name] = status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # the peak resident set starts again from here
    started = time.perf_counter()
    result = fn()
    out["seconds"][name] = round(time.perf_counter() - started, 1)
    out[name] = status("VmHWM")
    return result

audio = stage("load", lambda: p.load(Path(path)))
if which == "transcribe":
    t = stage("transcribe", lambda: p.redact(p.transcribe(audio)))
    out["words"] = sum(len(s.words) for s in t.segments)
else:  # the first loop transcribed, repeated at every loop's offset
    first = head(audio, loop_s)
    one = p.redact(p.transcribe(first))
    del first
    loops = int(audio.duration_s // loop_s) + 1
    def shifted(s, k):
        o = k * loop_s
        return replace(s, start=s.start + o, end=s.end + o,
                       words=tuple(replace(w, start=w.start + o, end=w.end + o) for w in s.words))
    segs = tuple(shifted(s, k) for k in range(loops) for s in one.segments if s.end + k * loop_s <= audio.duration_s)
    t = replace(one, segments=segs, duration_s=audio.duration_s)
    d, t = stage("diarize", lambda: p.diarize(audio, t))
    a = stage("analyze", lambda: p.analyze("x", audio, t, d))
    out.update(words=sum(len(s.words) for s in t.segments), turns=len(d.turns), method=d.method,
               prosody=sum(x.emotion.arousal is not None for x in a.turns), analysed=len(a.turns))
getattr(audio, "close", lambda: None)()
print(json.dumps(out))
"""


def make_call(path: Path, minutes: int, fmt: str, content: str) -> None:
    """Write the call once (kept under bench/out/memory for the next run)."""
    if path.exists():
        return
    rate, channels = FORMATS[fmt]
    rng = np.random.default_rng(minutes)
    tmp = path.with_suffix(".part.flac")
    if content == "noise":
        with sf.SoundFile(tmp, "w", rate, channels, "PCM_16", format="FLAC") as handle:
            for _ in range(minutes):
                handle.write((rng.standard_normal((rate * 60, channels)) * 300).astype(np.int16))
        tmp.rename(path)
        return
    speech, speech_rate = sf.read(SPEECH, dtype="float32", always_2d=True)
    if channels == 1:
        speech = speech.mean(axis=1, keepdims=True)
    if rate != speech_rate:
        speech = resample_poly(speech, rate, speech_rate, axis=0).astype(np.float32)
    quiet = (rng.standard_normal((int(LOOP_S * rate) - speech.shape[0], channels)) * 1e-3).astype(np.float32)
    loop = (np.clip(np.concatenate([speech, quiet]), -1, 1) * 32767).astype(np.int16)
    total = minutes * 60 * rate
    with sf.SoundFile(tmp, "w", rate, channels, "PCM_16", format="FLAC") as handle:
        for first in range(0, total, loop.shape[0]):
            handle.write(loop[: total - first])
    tmp.rename(path)


def run(checkout: Path, call: Path, data: Path, which: str) -> dict:
    """One fresh process: ``transcribe`` measures load and transcription; ``stages`` load, diarization
    and analysis (with the first loop's transcript repeated)."""
    env = {**os.environ, "PYTHONPATH": str(checkout), "OMP_NUM_THREADS": "1",
           "CALLSCOPE_CPU_THREADS": os.environ.get("CALLSCOPE_CPU_THREADS", "1")}
    out = subprocess.run([sys.executable, "-c", PROBE, str(call), str(data), which, str(LOOP_S)], env=env,
                         cwd=checkout, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{checkout} on {call.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(checkout: Path, call: Path, data: Path, transcribe: bool) -> dict:
    """Each stage's peak (MB) and resident set on entering it; ``whole``: the largest stage peak."""
    r = run(checkout, call, data, "stages")
    r["transcribe"] = None
    if transcribe:
        t = run(checkout, call, data, "transcribe")
        r["transcribe"], r["load"] = t["transcribe"], max(r["load"], t["load"])
        r["entry"]["transcribe"], r["seconds"]["transcribe"], r["words"] = (
            t["entry"]["transcribe"], t["seconds"]["transcribe"], t["words"])
    r["whole"] = max(r[s] for s in STAGES if r[s] is not None)
    return r


def slope(minutes: list[int], values: list[int | None]) -> str:
    points = [(m, v) for m, v in zip(minutes, values, strict=True) if v is not None]
    if len(points) < 2:
        return "—"
    x, y = np.array([p[0] for p in points], float) / 60, np.array([p[1] for p in points], float)
    return f"{np.polyfit(x, y, 1)[0]:+.0f}"


def row(r: dict) -> str:
    cells = " | ".join("—" if r[s] is None else str(r[s]) for s in STAGES)
    entry = "/".join(str(r["entry"].get(s, "—")) for s in STAGES)
    seconds = "/".join(str(r["seconds"].get(s, "—")) for s in STAGES)
    whole = r["whole"] if r["transcribe"] is not None else f"≥ {r['whole']}"
    return (f"| {r['minutes']} min {r['format']} | {r['code']} | {r['start']} | {cells} | {whole} | {entry} | {seconds} "
            f"| {r['method']}: {r['turns']} turns, {r['words']} words, {r['prosody']}/{r['analysed']} turns with prosody |")


HEADER = ("| call | code | start | " + " | ".join(STAGES) + " | whole | RSS entering each stage | s per stage | work |\n"
          "|---|---|---:|" + "---:|" * (len(STAGES) + 1) + "---|---|---|")


def slopes(results: list[dict]) -> str:
    """Slope of each stage's peak (and, in brackets, of its peak above the resident set it started
    from) over the lengths; "whole" over the lengths that were transcribed."""
    lines = ["| format | code | " + " | ".join(STAGES) + " | whole |", "|---|---|" + "---:|" * (len(STAGES) + 1)]
    for fmt in dict.fromkeys(r["format"] for r in results):
        for label in dict.fromkeys(r["code"] for r in results if r["format"] == fmt):
            rows = [r for r in results if r["format"] == fmt and r["code"] == label]
            mins = [r["minutes"] for r in rows]
            cols = [f"{slope(mins, [r[s] for r in rows])} ({slope(mins, [None if r[s] is None else r[s] - r['entry'][s] for r in rows])})"
                    for s in STAGES]
            whole = slope(mins, [r["whole"] if r["transcribe"] is not None else None for r in rows])
            lines.append(f"| {fmt} | {label} | " + " | ".join(cols) + f" | {whole} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with (same run)")
    parser.add_argument("--minutes", type=int, nargs="+", default=[10, 30, 60, 120])
    parser.add_argument("--format", nargs="+", choices=sorted(FORMATS), default=["8k-stereo", "16k-mono"])
    parser.add_argument("--content", choices=("speech", "noise"), default="speech")
    parser.add_argument("--transcribe-max", type=int, default=30, help="longest call (minutes) transcribed in full")
    parser.add_argument("--no-this", action="store_true", help="measure the baseline only")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--render", type=Path, nargs="+", help="only print the tables of earlier --json files")
    args = parser.parse_args()
    if args.render:
        results = [r for path in args.render for r in json.loads(path.read_text())]
        results.sort(key=lambda r: (r["format"], r["minutes"]))
        print(HEADER + "\n" + "\n".join(row(r) for r in results) + "\n\n" + slopes(results))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    checkouts = ([("baseline", args.baseline)] if args.baseline else []) + ([] if args.no_this else [("this", REPO)])
    results = []
    print(HEADER)
    for fmt in args.format:
        for minutes in args.minutes:
            call = OUT / f"{args.content}_{fmt}_{minutes}min.flac"
            make_call(call, minutes, fmt, args.content)
            for label, checkout in checkouts:
                r = measure(checkout, call, OUT / f"data_{label}", minutes <= args.transcribe_max)
                r.update(format=fmt, minutes=minutes, code=label)
                results.append(r)
                print(row(r), flush=True)
    print("\nslope of the peak, MB per hour of call (least squares over the lengths; in brackets: of the peak above the RSS entering the stage):\n")
    print(slopes(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
