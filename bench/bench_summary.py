"""Cost of the call-summary stage against the rest of processing, in the same run.

Runs :class:`callscope.pipeline.CallProcessor` on a few shared calls (stereo, kokoro voices)
and reports each stage's wall time; the summary is timed with the local LLM and with the
extractive fallback. Prints the summaries beside the reference summary written with the call.

    python bench/bench_summary.py [--data DIR] [--calls s_en_01,s_zh_01,...] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.analysis.summary import summarize_call  # noqa: E402
from callscope.llm import get_llm  # noqa: E402
from callscope.pipeline import CallProcessor  # noqa: E402
from callscope.settings import get_settings  # noqa: E402

LINES: list[str] = []


def emit(line: str = "") -> None:
    LINES.append(line)
    print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("CALLSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--calls", default="s_en_01,s_en_05,s_zh_03")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    settings = get_settings().model_copy(update={"summary": "off"})
    processor = CallProcessor(settings)
    llm = get_llm()
    if llm is not None:
        llm.load()
    emit(f"{os.cpu_count()} CPUs, shared with other jobs; LLM: {llm.label if llm else 'none'}\n")
    emit("| call | audio s | transcribe s | diarize s | analyze s | rest total s | LLM summary s | share of rest | extractive s |")
    emit("|---|---|---|---|---|---|---|---|---|")
    rows = []
    total_rest = total_llm = 0.0
    for call in args.calls.split(","):
        meta = json.loads((args.data / "calls_kokoro" / f"{call}.json").read_text(encoding="utf-8"))
        done = processor.process(args.data / "calls_kokoro" / f"{call}.stereo.wav", call)
        rest = sum(done.timings.values())
        turns = [(t.role, t.text) for t in done.analysis.turns]
        started = time.perf_counter()
        with_llm = summarize_call(turns, done.analysis.language, reason=done.analysis.reason, llm=llm)
        llm_s = time.perf_counter() - started
        started = time.perf_counter()
        extractive = summarize_call(turns, done.analysis.language, reason=done.analysis.reason, llm=None)
        ext_s = time.perf_counter() - started
        total_rest += rest
        total_llm += llm_s
        t = done.timings
        emit(f"| {call} | {meta['duration']:.0f} | {t.get('transcribe', 0):.1f} | {t.get('diarize', 0):.1f} | {t.get('analyze', 0):.1f} | "
             f"{rest:.1f} | {llm_s:.1f} ({with_llm.method}) | {llm_s / rest:.0%} | {ext_s:.2f} |")
        rows.append((call, meta.get("summary", ""), with_llm, extractive))
    emit(f"\nAll calls: the LLM summary costs {total_llm / total_rest:.0%} of the rest of processing.\n")
    for call, reference, with_llm, extractive in rows:
        emit(f"- **{call}** reference: {reference}")
        emit(f"  - LLM ({with_llm.method}, resolved={with_llm.resolved}): {with_llm.text}")
        emit(f"  - extractive (resolved={extractive.resolved}): {extractive.text}")
    if args.out:
        args.out.write_text("\n".join(LINES) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
