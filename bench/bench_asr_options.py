"""Transcription settings on telephone-band calls: error rate and CPU of each variant, dev data first.

What the analysis reads (reasons, emotion, issues, FAQ drafts) is only as good as Whisper's words, and
call-center audio is 8 kHz. This transcribes the same stereo calls with several ``TranscribeOptions``
variants and reports, per language, the pooled error rate against the scripts (WER for English, CER for
Mandarin; each call's turns in time order, ``callscope.transcription.scoring``), the same for the caller's
channel alone, and the CPU seconds per audio second.

Sets: the benchmark corpus calls rendered by ``bench/corpus/render.sh`` (``--split dev``; ``--split test``
only with ``--report``, after the variant is chosen) and the 16 shared neural-voice calls
(``--kokoro``; ``../shared/data/calls_kokoro``).

    python bench/bench_asr_options.py --split dev [--kokoro] [--limit N] [--variant NAME=FIELD:VALUE,...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.settings import get_settings  # noqa: E402
from callscope.transcription.options import TranscribeOptions  # noqa: E402
from callscope.transcription.scoring import error_counts  # noqa: E402
from callscope.transcription.transcriber import Transcriber  # noqa: E402

VARIANTS = {
    "default (greedy)": {},
    "beam 5": {"beam_size": 5},
}


def parse_variant(text: str) -> tuple[str, dict[str, object]]:
    name, _, fields = text.partition("=")
    out: dict[str, object] = {}
    for part in filter(None, fields.split(",")):
        key, _, value = part.partition(":")
        try:
            out[key] = json.loads(value)  # numbers, true/false, lists
        except json.JSONDecodeError:
            out[key] = value  # a plain string, e.g. compute_type:float32
    return name, out


def corpus_calls(split: str, audio: Path, limit: int | None) -> list[tuple[str, Path, Path, str]]:
    chosen = json.loads((ROOT / "bench" / "corpus" / "split.json").read_text())["split"]
    ids = [i for i, part in chosen.items() if part == split and (audio / f"{i}.stereo.wav").exists()]
    ids = ids[:limit] if limit else ids
    return [(i, audio / f"{i}.stereo.wav", audio / f"{i}.txt", "zh" if i.startswith("c_zh") else "en") for i in ids]


def kokoro_calls(data: Path) -> list[tuple[str, Path, Path, str]]:
    rows = [json.loads(x) for x in (data / "calls_kokoro" / "manifest.jsonl").read_text().splitlines() if x.strip()]
    folder = data / "calls_kokoro"
    return [(r["id"], folder / f"{r['id']}.stereo.wav", folder / f"{r['id']}.txt", r["language"][:2]) for r in rows]


def caller_lines(reference: str) -> str:
    return "\n".join(line.split(":", 1)[1] for line in reference.splitlines() if line.lower().startswith("caller:"))


def run(variant: dict[str, object], calls: list[tuple[str, Path, Path, str]]) -> dict[str, object]:
    options = TranscribeOptions.from_settings(get_settings(), **variant)
    transcriber = Transcriber(options, get_settings().resolved_model_dir)
    transcriber.load()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # edits, ref, caller edits, caller ref
    audio_s = 0.0
    cpu0 = time.process_time()
    for _cid, wav, txt, lang in calls:
        transcript = transcriber.transcribe(wav)
        audio_s += transcript.duration_s
        reference = txt.read_text(encoding="utf-8")
        segments = sorted(transcript.segments, key=lambda s: s.start)
        hypothesis = "\n".join(s.text for s in segments)
        caller = "\n".join(s.text for s in segments if (s.speaker or "") == "caller")
        e, n = error_counts(reference, hypothesis, lang)
        ce, cn = error_counts(caller_lines(reference), caller, lang)
        for k, v in enumerate((e, n, ce, cn)):
            counts[lang][k] += v
    cpu = time.process_time() - cpu0
    return {"counts": dict(counts), "cpu_per_audio_s": cpu / max(audio_s, 1e-9), "audio_s": audio_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--report", action="store_true", help="allow --split test (the variant is fixed)")
    parser.add_argument("--audio", type=Path, default=ROOT / "bench" / "out" / "corpus" / "audio")
    parser.add_argument("--kokoro", action="store_true", help="also the 16 shared neural-voice calls")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, help="the first N rendered corpus calls of the split")
    parser.add_argument("--variant", action="append", default=[], help="NAME=FIELD:VALUE,... (TranscribeOptions)")
    parser.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    args = parser.parse_args()
    if args.split == "test" and not args.report:
        parser.error("the test split is for reporting a chosen variant once: add --report")
    variants = dict(VARIANTS) | dict(parse_variant(v) for v in args.variant)
    if args.only:
        variants = {k: v for k, v in variants.items() if k in args.only}
    sets = {f"corpus {args.split}": corpus_calls(args.split, args.audio, args.limit)}
    if args.kokoro:
        sets["16 shared neural-voice calls"] = kokoro_calls(args.data)
    print("| set | variant | calls | WER en (caller) | CER zh (caller) | CPU s per audio s |")
    print("|---|---|---|---|---|---|")
    for set_name, calls in sets.items():
        for name, variant in variants.items():
            result = run(variant, calls)
            cells = []
            for lang in ("en", "zh"):
                e, n, ce, cn = result["counts"].get(lang, [0, 0, 0, 0])
                cells.append(f"{e / n:.3f} ({ce / cn:.3f})" if n and cn else "—")
            print(f"| {set_name} | {name} | {len(calls)} | {cells[0]} | {cells[1]} | "
                  f"{result['cpu_per_audio_s']:.3f} |", flush=True)
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB, pid {os.getpid()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
