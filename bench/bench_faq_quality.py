"""FAQ quality gate: matched question/answer pairs pass, mismatched ones are flagged.

* dev (the gate was chosen here): the bundled knowledge base, leave-one-out: every question of
  an entry with its own answer (matched) and with each other entry's answer (mismatched); the
  references are the remaining entries.
* test (run once with the chosen gate): the reference FAQ pair written for each of the 16
  shared calls (``faq`` in ``calls_kokoro/*.json``): each call's pair (matched) and its question
  with the answer of a call of another intent (mismatched); references = the bundled KB.

    python bench/bench_faq_quality.py [--data DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.analysis.faq_quality import GATE, default_encoders, reference_pairs, score_pairs, shared_words  # noqa: E402
from callscope.ivr.kb import BUNDLED_KB, load_knowledge_base  # noqa: E402

LINES: list[str] = []


def emit(line: str = "") -> None:
    LINES.append(line)
    print(line, flush=True)


def full(scored: list, pairs: list[tuple[str, str]], lang: str) -> list[float]:
    """The gate's score without the LLM: relative relevance, halved with no shared content word."""
    return [rate * (1.0 if shared_words(q, a, lang) else 0.5) for (rate, _, _), (q, a) in zip(scored, pairs, strict=True)]


def report(name: str, matched: list[float], mismatched: list[float]) -> None:
    m, x = np.array(matched), np.array(mismatched)
    emit(f"| {name} | {len(m)} | {np.mean(m >= GATE):.0%} | {np.quantile(m, 0.1):.2f} | {len(x)} | {np.mean(x < GATE):.0%} | {np.quantile(x, 0.9):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("CALLSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    encoders = default_encoders()
    kb = list(load_knowledge_base(BUNDLED_KB))
    emit(f"Gate: score >= {GATE}; score = share of other-topic comparisons the pair wins (mean of {', '.join(encoders)}), "
         "halved when the answer shares no content word with the question (the LLM judge is left out here)\n")
    emit("| set | matched pairs | pass | 10th pct score | mismatched pairs | flagged | 90th pct score |")
    emit("|---|---|---|---|---|---|---|")
    for lang in ("en", "zh"):
        entries = [e for e in kb if e.questions.get(lang) and e.answers.get(lang)]
        matched, mismatched = [], []
        for i, entry in enumerate(entries):
            refs = [(o.questions[lang][0], o.answers[lang]) for j, o in enumerate(entries) if j != i]
            pairs = [(q, entry.answers[lang]) for q in entry.questions[lang]]
            matched += full(score_pairs(pairs, refs, encoders), pairs, lang)
            for j, other in enumerate(entries):
                if j == i:
                    continue
                refs2 = [(o.questions[lang][0], o.answers[lang]) for k, o in enumerate(entries) if k not in (i, j)]
                pairs = [(entry.questions[lang][0], other.answers[lang])]
                mismatched += full(score_pairs(pairs, refs2, encoders), pairs, lang)
        report(f"dev: bundled KB ({lang}, leave-one-out)", matched, mismatched)
    calls = []
    for path in sorted((args.data / "calls_kokoro").glob("s_*.json")):
        meta = json.loads(path.read_text(encoding="utf-8"))
        if meta.get("faq"):
            calls.append((meta["language"], meta["intent"], meta["faq"]["question"], meta["faq"]["answer"]))
    for lang in ("en", "zh"):
        rows = [c for c in calls if c[0] == lang]
        refs = reference_pairs(lang, kb)
        own = [(q, a) for _, _, q, a in rows]
        matched = full(score_pairs(own, refs, encoders), own, lang)
        pairs = [(q, b) for _, i1, q, _ in rows for _, i2, _, b in rows if i1 != i2]
        mismatched = full(score_pairs(pairs, refs, encoders), pairs, lang)
        report(f"test: shared calls' FAQ pairs ({lang})", matched, mismatched)
    example = [("Are your shop open on the bank holiday Monday?", next(e.answers["en"] for e in kb if e.id == "returns")),
               ("Are your shop open on the bank holiday Monday?", next(e.answers["en"] for e in kb if e.id == "holiday_hours"))]
    refs = [(e.questions["en"][0], e.answers["en"]) for e in kb if e.id not in ("returns", "holiday_hours")]
    bad, good = full(score_pairs(example, refs, encoders), example, "en")
    emit(f"\nThe issue's example, \"Are your shop open on the bank holiday Monday?\": with the returns answer {bad:.2f} "
         f"({'flagged' if bad < GATE else 'PASSES'}), with the holiday-hours answer {good:.2f} ({'passes' if good >= GATE else 'FLAGGED'})")
    if args.out:
        args.out.write_text("\n".join(LINES) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
