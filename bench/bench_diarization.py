"""Diarization benchmark: DER/JER (pyannote.metrics), speed and memory, odd inputs.

Prints markdown tables. Reads /work/shared-style data (``--data``, default
``../shared/data`` from the repo root). Published pyannote.audio figures are quoted
for context in BENCHMARKS.md; pyannote.audio itself cannot be installed
beside the CPU-only torch here (see docs/models.md §5).

    python bench/bench_diarization.py [--data DIR] [--skip-long] [--long-hours 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.diarization import DiarizeOptions, diarize
from callscope.diarization.evaluation import score
from callscope.diarization.rttm import read_rttm
from callscope.domain import Audio
from callscope.recordings.audio import load_audio


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


CPU_S: list[float] = []  # CPU seconds of the last timed() call


def timed(audio: Audio, options: DiarizeOptions | None = None):
    """Diarize, returning (result, wall seconds); CPU seconds go to CPU_S.

    The machine is shared: wall time includes waiting for a core. CPU time of this
    process (the pipeline is single-threaded) is what a free core would take.
    """
    start, cpu = time.perf_counter(), time.process_time()
    result = diarize(audio, options or DiarizeOptions())
    CPU_S[:] = [time.process_time() - cpu]
    return result, time.perf_counter() - start


def overlap_mask(turns, frames: int, frame_s: float = 0.01) -> np.ndarray:
    """Frames where two or more speakers talk (same-speaker gaps < 0.5 s merged, as annotators do)."""
    from callscope.diarization.intervals import merge_gaps

    count = np.zeros(frames, int)
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for turn in turns:
        by_speaker.setdefault(turn.speaker, []).append((turn.start, turn.end))
    for intervals in by_speaker.values():
        mask = np.zeros(frames, bool)
        for start, end in merge_gaps(intervals, 0.5):
            mask[int(start / frame_s) : int(np.ceil(end / frame_s))] = True
        count += mask
    return count >= 2


def bench_mono_overlap(data: Path) -> list[str]:
    """Mono mixes with and without overlap detection: DER and overlap precision/recall."""
    rows = [
        "| mono_overlap | pooled DER % (collar 0.25) | pooled DER % (collar 0) | overlap precision | overlap recall | overlap s found / in reference |",
        "|---|---|---|---|---|---|",
    ]
    calls = sorted((data / "calls").glob("*.mono.wav"))
    audios = {wav: load_audio(wav) for wav in calls}
    for flag in (False, True):
        err = err0 = ref = 0.0
        hit = found = truth = 0
        for wav, audio in audios.items():
            stem = wav.name.split(".")[0]
            reference = read_rttm(data / "calls" / f"{stem}.rttm")
            result = diarize(audio, DiarizeOptions(mono_overlap=flag))
            s, s0 = score(reference, result), score(reference, result, collar=0.0)
            err, err0, ref = err + s.der * s.reference_s, err0 + s0.der * s0.reference_s, ref + s.reference_s
            frames = int(audio.duration_s * 100) + 10
            hyp, gold = overlap_mask(result.turns, frames), overlap_mask(reference.turns, frames)
            hit, found, truth = hit + int((hyp & gold).sum()), found + int(hyp.sum()), truth + int(gold.sum())
        rows.append(
            f"| {'on' if flag else 'off (default)'} | {pct(err / ref)} | {pct(err0 / ref)} | "
            f"{hit / max(found, 1):.2f} | {hit / max(truth, 1):.2f} | {found / 100:.1f} / {truth / 100:.1f} |"
        )
    return rows


def bench_hold_music(root: Path) -> list[str]:
    """The hold-music fixture (tests/data/diarization): channel VAD with and without the Silero check."""
    folder = root / "tests" / "data" / "diarization"
    audio = load_audio(folder / "hold_music_01.stereo.wav")
    reference = read_rttm(folder / "hold_music_01.rttm")
    hold = json.loads((folder / "hold_music_01.json").read_text(encoding="utf-8"))["holds"][0]
    rows = [
        "| channel speech check | DER % (collar 0.25) | false alarm s | speech found during the 10 s music hold, s |",
        "|---|---|---|---|",
    ]
    for flag in (False, True):
        result = diarize(audio, DiarizeOptions(check_channel_speech=flag))
        s = score(reference, result)
        during = sum(max(0.0, min(t.end, hold["end"]) - max(t.start, hold["start"])) for t in result.turns)
        rows.append(f"| {'on (default)' if flag else 'off'} | {pct(s.der)} | {s.false_alarm_s:.2f} | {during:.2f} |")
    return rows


def bench_calls(data: Path, kind: str) -> tuple[list[str], dict[str, float]]:
    rows = [
        "| call | speakers | DER % (collar 0.25) | DER % (collar 0) | JER % | miss s | FA s | conf s | × real time (wall) | × real time (CPU) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    err = ref = err0 = 0.0
    audio_s = wall_s = cpu_s = 0.0
    ders = []
    for wav in sorted((data / "calls").glob(f"*.{kind}.wav")):
        stem = wav.name.split(".")[0]
        audio = load_audio(wav)
        diarize(Audio(audio.samples[:, : audio.sample_rate * 5], audio.sample_rate))  # warm-up: models loaded
        result, seconds = timed(audio)
        reference = read_rttm(data / "calls" / f"{stem}.rttm")
        s, s0 = score(reference, result), score(reference, result, collar=0.0)
        err += s.der * s.reference_s
        err0 += s0.der * s0.reference_s
        ref += s.reference_s
        ders.append(s.der)
        audio_s += audio.duration_s
        wall_s += seconds
        cpu_s += CPU_S[0]
        rows.append(
            f"| {stem} | {len(result.speakers)} | {pct(s.der)} | {pct(s0.der)} | {pct(s.jer)} | {s.missed_s:.2f} | "
            f"{s.false_alarm_s:.2f} | {s.confusion_s:.2f} | {audio.duration_s / seconds:.0f} | {audio.duration_s / CPU_S[0]:.0f} |"
        )
    summary = {
        "pooled_der": err / ref,
        "pooled_der0": err0 / ref,
        "mean_der": float(np.mean(ders)),
        "speed": audio_s / wall_s,
        "speed_cpu": audio_s / cpu_s,
    }
    rows.append(
        f"| **all {len(ders)}** | | **{pct(summary['pooled_der'])}** (mean {pct(summary['mean_der'])}) | "
        f"{pct(summary['pooled_der0'])} | | | | | **{summary['speed']:.0f}** | **{summary['speed_cpu']:.0f}** |"
    )
    return rows, summary


def bench_real(data: Path) -> list[str]:
    folder = data / "diarization"
    clips = [
        ("paa_diarizationExample.wav", "paa_diarizationExample.rttm", None, None),
        ("paa_diarizationExample2.wav", "paa_diarizationExample2.rttm", None, None),
        ("pyannote_dev00.wav", "debug.development.rttm", "dev00", (0.0, 30.0)),
        ("pyannote_dev01.wav", "debug.development.rttm", "dev01", (0.0, 30.0)),
    ]
    rows = [
        "| clip | ref speakers | auto: speakers | auto: DER % | auto: DER % collar 0 | oracle count: DER % | JER % (auto) "
        "| auto + mono_overlap: DER % | × real time |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for wav, rttm, uri, uem in clips:
        audio = load_audio(folder / wav)
        reference = read_rttm(folder / rttm, uri=uri)
        auto, seconds = timed(audio)
        oracle, _ = timed(audio, DiarizeOptions(num_speakers=len(reference.speakers)))
        s, s0, so = (
            score(reference, auto, uem=uem),
            score(reference, auto, collar=0.0, uem=uem),
            score(reference, oracle, uem=uem),
        )
        overlapped = score(reference, diarize(audio, DiarizeOptions(mono_overlap=True)), uem=uem)
        rows.append(
            f"| {wav} | {len(reference.speakers)} | {len(auto.speakers)} | {pct(s.der)} | {pct(s0.der)} | {pct(so.der)} | "
            f"{pct(s.jer)} | {pct(overlapped.der)} | {audio.duration_s / seconds:.0f} |"
        )
    phone = data / "phone_calls" / "lca_Auto_Repairs_40_2ch_8k_first120s.wav"
    if phone.exists():
        audio = load_audio(phone)
        reference = read_rttm(phone.with_name(phone.stem + ".auto_vad.rttm"))
        result, seconds = timed(audio, DiarizeOptions(channel_roles=("agent", "caller")))
        s = score(reference, result)
        rows.append(
            f"| {phone.name} (real 2-ch call; ref = approximate energy VAD, not human) | 2 | {len(result.speakers)} | "
            f"{pct(s.der)} | {pct(score(reference, result, collar=0.0).der)} | – | {pct(s.jer)} | – | {audio.duration_s / seconds:.0f} |"
        )
        mix = audio.mono()
        result, seconds = timed(mix)
        s = score(reference, result)
        rows.append(
            f"| same call, down-mixed to mono | 2 | {len(result.speakers)} | {pct(s.der)} | "
            f"{pct(score(reference, result, collar=0.0).der)} | {pct(score(reference, timed(mix, DiarizeOptions(num_speakers=2))[0]).der)} | "
            f"{pct(s.jer)} | {pct(score(reference, diarize(mix, DiarizeOptions(mono_overlap=True))).der)} | "
            f"{mix.duration_s / seconds:.0f} |"
        )
    return rows


def _write_long(data: Path, kind: str, hours: float, path: Path) -> float:
    import soundfile as sf

    parts = [load_audio(w).samples for w in sorted((data / "calls").glob(f"*.{kind}.wav"))]
    cycle = np.concatenate(parts, axis=1)
    target = int(hours * 3600 * 8000)
    with sf.SoundFile(path, "w", samplerate=8000, channels=cycle.shape[0], subtype="PCM_16") as out:
        written = 0
        while written < target:
            block = cycle[:, : target - written]
            out.write(block.T)
            written += block.shape[1]
    return target / 8000


_CHILD = """
import sys, time, resource, os
os.environ["PYANNOTE_METRICS_ENABLED"] = "false"
sys.path.insert(0, sys.argv[2])
import tracemalloc
from callscope.recordings.audio import iter_audio
for _ in iter_audio(sys.argv[1], chunk_s=30.0):  # decoding alone: the RSS baseline
    pass
decode_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
from callscope.diarization import diarize_file
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
tracemalloc.start()
result = diarize_file(sys.argv[1])
traced = tracemalloc.get_traced_memory()[1] / 2**20
tracemalloc.stop()
seconds = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
print(seconds, cpu, decode_rss, usage.ru_maxrss / 1024, traced, len(result.turns), len(result.speakers), result.method)
"""


def bench_long(data: Path, hours: float) -> list[str]:
    rows = [
        "| file | audio | method | wall s | CPU s | × real time wall / CPU (incl. decoding) | RSS MB: decoding only / whole run "
        "| traced peak MB (Python+numpy allocations of diarize_file) | turns | speakers |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("stereo", "mono"):
            for length in (hours / 12, hours):
                path = Path(tmp) / f"long_{kind}_{length:.2f}h.wav"
                duration = _write_long(data, kind, length, path)
                out = subprocess.run(
                    [sys.executable, "-c", _CHILD, str(path), str(ROOT)], capture_output=True, text=True, check=True
                )
                seconds, cpu, decode_rss, rss, traced, turns, speakers, method = out.stdout.split()
                rows.append(
                    f"| {kind} concatenation | {duration / 60:.0f} min | {method} | {float(seconds):.1f} | {float(cpu):.1f} | "
                    f"{duration / float(seconds):.0f} / {duration / float(cpu):.0f} | {float(decode_rss):.0f} / {float(rss):.0f} "
                    f"| {float(traced):.0f} | {turns} | {speakers} |"
                )
                path.unlink()
    return rows


def bench_odd(data: Path) -> list[str]:
    rows = ["| input | result |", "|---|---|"]
    call = load_audio(data / "calls" / "s_en_01.stereo.wav")
    mix = load_audio(data / "calls" / "s_en_01.mono.wav")
    rng = np.random.default_rng(0)
    cases = {
        "20 s digital silence (mono)": Audio(np.zeros((1, 160000), np.float32), 8000),
        "20 s line noise -60 dBFS (stereo)": Audio((rng.standard_normal((2, 160000)) * 1e-3).astype(np.float32), 8000),
        "1 s of the agent's greeting": Audio(mix.samples[:, 16000:24000], 8000),
        "one speaker (agent channel alone)": call.channel(1),
        "stereo, caller channel dead": Audio(np.stack([call.samples[1], np.zeros(call.frames, np.float32)]), 8000),
        "stereo, both channels = the mono mix": Audio(np.repeat(mix.samples, 2, axis=0), 8000),
        "8 kHz mono mix (as stored)": mix,
    }
    for name, audio in cases.items():
        try:
            result = diarize(audio)
            text = f"{result.method}: {len(result.turns)} turns, speakers {', '.join(result.speakers) or '(none)'}"
        except Exception as exc:  # the bench reports, never hides, a failure
            text = f"{type(exc).__name__}: {exc}"
        rows.append(f"| {name} | {text} |")
    try:
        diarize(Audio(np.zeros((1, 0), np.float32), 8000))
    except Exception as exc:
        rows.append(f"| 0 samples | {type(exc).__name__}: {exc} |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--skip-long", action="store_true", help="skip the 2 h memory runs")
    parser.add_argument("--long-hours", type=float, default=2.0)
    args = parser.parse_args()
    import torch

    print(f"CPU cores: {os.cpu_count()}, torch threads {torch.get_num_threads()}, encoder threads 1\n")
    print("## Dual-channel calls (channel method)\n")
    rows, stereo = bench_calls(args.data, "stereo")
    print("\n".join(rows))
    print("\n## Mono mixes of the same calls (Silero VAD + resemblyzer + clustering)\n")
    rows, mono = bench_calls(args.data, "mono")
    print("\n".join(rows))
    print("\n## Mono overlap detection\n")
    print("\n".join(bench_mono_overlap(args.data)))
    print("\n## Hold music on the agent leg\n")
    print("\n".join(bench_hold_music(ROOT)))
    print("\n## Real multi-speaker clips\n")
    print("\n".join(bench_real(args.data)))
    print("\n## Odd inputs\n")
    print("\n".join(bench_odd(args.data)))
    if not args.skip_long:
        print(
            f"\n## Long calls: memory and speed ({args.long_hours:g} h concatenations, decoded from file in 30 s chunks)\n"
        )
        print("\n".join(bench_long(args.data, args.long_hours)))
    print("\n## Bars\n")
    print(
        f"- stereo pooled DER {pct(stereo['pooled_der'])} % (bar ≤ 2 %), speed {stereo['speed']:.0f}× wall, "
        f"{stereo['speed_cpu']:.0f}× CPU (bar ≥ 300×)"
    )
    print(
        f"- mono pooled DER {pct(mono['pooled_der'])} % (bar ≤ 10 %), speed {mono['speed']:.0f}× wall, "
        f"{mono['speed_cpu']:.0f}× CPU (bar ≥ 30×)"
    )
    print(f"- load average during the run: {os.getloadavg()}")
    print(json.dumps({"stereo": stereo, "mono": mono}))


if __name__ == "__main__":
    main()
