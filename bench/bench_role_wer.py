"""Per-role error rate of the pipeline's transcriber on dual-channel calls with scripts.

Each ``<name>.stereo.wav`` beside a ``<name>.txt`` ("agent: …" / "caller: …" lines) is transcribed by the
pipeline's transcriber (default settings); the words of each leg are scored against that role's lines (English
WER, Mandarin CER; `callscope.transcription.scoring`). Pooled per role and language, plus per call. A row per
VAD variant when ``--compare`` names `callscope.transcription.vad.VadSettings` fields to switch off.

    python bench/bench_role_wer.py /work/shared/data/calls_kokoro [--compare fresh_silero=False]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.pipeline import CallProcessor  # noqa: E402
from callscope.settings import get_settings  # noqa: E402
from callscope.transcription.scoring import error_counts  # noqa: E402
from callscope.transcription.vad import VadSettings  # noqa: E402


def script_by_role(path: Path) -> dict[str, str]:
    lines: dict[str, list[str]] = defaultdict(list)
    for line in path.read_text(encoding="utf-8").splitlines():
        role, _, text = line.partition(":")
        if text.strip() and role.strip() in ("agent", "caller"):
            lines[role.strip()].append(text.strip())
    return {role: " ".join(texts) for role, texts in lines.items()}


def language_of(name: str) -> str:
    return "zh" if "_zh_" in name else "en"


def run(folder: Path, processor: CallProcessor) -> tuple[dict[tuple[str, str], list[int]], dict[str, dict[str, float]], float]:
    pooled: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    per_call: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for wav in sorted(folder.glob("*.stereo.wav")):
        name = wav.name.split(".")[0]
        script = wav.with_name(f"{name}.txt")
        if not script.exists():
            continue
        lang = language_of(name)
        with processor.load(wav) as audio:
            transcript = processor.transcribe(audio)
        heard: dict[str, list[str]] = defaultdict(list)
        for segment in transcript.segments:
            heard[segment.speaker or "?"].append(segment.text)
        per_call[name] = {}
        for role, reference in script_by_role(script).items():
            errors, length = error_counts(reference, (" " if lang == "en" else "").join(heard.get(role, [])), lang)
            pooled[(role, lang)][0] += errors
            pooled[(role, lang)][1] += length
            per_call[name][role] = errors / max(length, 1)
    return pooled, per_call, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--compare", nargs="*", default=[], help="VadSettings field=value variants, e.g. fresh_silero=False")
    args = parser.parse_args()
    variants: list[tuple[str, VadSettings]] = [("shipped", VadSettings())]
    for spec in args.compare:
        field, _, value = spec.partition("=")
        variants.append((spec, dataclasses.replace(VadSettings(), **{field: eval(value)})))  # noqa: S307 (bench CLI)
    processor = CallProcessor(get_settings())
    for folder in args.folders:
        print(f"\n#### {folder} ({time.strftime('%Y-%m-%d %H:%M')})\n")
        results = {}
        for label, vad in variants:
            processor.transcriber.vad_settings = vad
            results[label] = run(folder, processor)
        keys = sorted(next(iter(results.values()))[0])
        print("| variant | " + " | ".join(f"{role} {lang}" for role, lang in keys) + " | s |")
        print("|---|" + "---|" * (len(keys) + 1))
        for label, (pooled, _, seconds) in results.items():
            cells = " | ".join(f"{pooled[k][0] / max(pooled[k][1], 1):.3f}" for k in keys)
            print(f"| {label} | {cells} | {seconds:.0f} |")
        if len(results) > 1:
            base = results["shipped"][1]
            for label, (_, calls, _) in list(results.items())[1:]:
                for name in sorted(base):
                    for role in sorted(base[name]):
                        a, b = base[name][role], calls[name].get(role, 1.0)
                        if abs(a - b) >= 0.02:
                            print(f"- {name} {role}: shipped {a:.3f}, {label} {b:.3f}")


if __name__ == "__main__":
    main()
