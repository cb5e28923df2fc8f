"""The IVR's e5 screen (``MatcherOptions.quick_answer``): how often e5 can be left out, and at what cost.

A caller the knowledge-base-tuned encoder reads (English) is first scored without e5, as by
``fast_options``. If that already answers (level HIGH) with a score >= g and a lead >= m, the
answer stands; otherwise the caller is scored with every encoder, as by default. This script
plays that rule over the few-shot sets of ``bench/ivr_fewshot.py`` from the two configurations'
scores (the same code paths as ``IntentMatcher.match``), with the same simulated caller:

* ``--split dev``: the grid of gates (g, m), the share of English callers answered without e5
  and the dev objective of ``ivr_fewshot.objective`` over the tuned-on dev sets, beside the
  default (every encoder) and fast mode (never e5 for English). The gate is chosen here.
* ``--split test``: run once with the chosen gate: each test set's outcomes for every encoder,
  the screen and fast mode.

    python bench/bench_ivr_screen.py [../shared/data] --split dev|test [--gate 1.0,1.25]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ivr_fewshot import (  # noqa: E402
    CachedEncoder,
    Scored,
    all_sets,
    entry_scores,
    matcher_for,
    objective,
    per_row,
    policy_turns,
    rank_quantities,
    summarise,
)

from callscope.analysis.embeddings import load_encoder  # noqa: E402
from callscope.ivr.matcher import MatcherOptions, fast_options  # noqa: E402


def decisions(s, options, encoders) -> dict:
    """Per caller: the ranking quantities, the policy's level masks and caller turns, whether the
    tuned encoder read the caller, and the best score and lead the gate reads."""
    m = matcher_for(s.kb, options, encoders)
    p = entry_scores(m, s.rows)
    sc = rank_quantities(s.kb, s.rows, m.combine(*p[:4], tuned=p[4], shipped=p[5]))
    hi, med, lo, turns = policy_turns(sc, *per_row(options.tuned_levels, p[4], options))
    return {"sc": sc, "hi": hi, "med": med, "lo": lo, "turns": turns, "tuned": p[4]}


def screened(full: dict, fast: dict, gate: tuple[float, float] | str | None) -> tuple[dict, np.ndarray]:
    """The outcomes when ``gate`` decides who is answered without e5 (None: nobody, "fast": every
    caller), and that mask."""
    if gate is None:
        take = np.zeros(len(full["hi"]), bool)
    elif gate == "fast":
        take = np.ones(len(full["hi"]), bool)
    else:
        g, m = gate
        take = fast["tuned"] & fast["hi"] & (fast["sc"].best >= g) & (fast["sc"].margin >= m)
    fields = ("best", "margin", "rank", "in_menu", "oos")
    sc = Scored(*(np.where(take, getattr(fast["sc"], f), getattr(full["sc"], f)) for f in fields))
    mixed = {k: np.where(take, fast[k], full[k]) for k in ("hi", "med", "lo", "turns")}
    handed = ~mixed["hi"] & ~mixed["med"] & ~mixed["lo"]
    return summarise(sc, ~sc.oos, mixed["hi"], mixed["lo"], mixed["turns"], confirm=mixed["med"], handed_over=handed), take


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--gate", default=",".join(map(str, MatcherOptions().quick_answer)))
    args = parser.parse_args()
    use, e5 = CachedEncoder(load_encoder("use-multilingual", 1)), CachedEncoder(load_encoder("e5-small", 1))
    full_options = MatcherOptions(
        paraphrases=False, tuned=True, tuned_dir=ROOT / "bench" / "out" / "tuned", quick_answer=None
    )
    fast_options_ = replace(fast_options(full_options), quick_answer=None)
    sets = [s for s in all_sets(args.data) if s.split == args.split]
    scored = []
    for s in sets:
        scored.append((s, decisions(s, full_options, [use, e5]), decisions(s, fast_options_, [use, e5])))
        use.save()
        e5.save()

    def run(gate):
        results, skipped, english = [], 0, 0
        for s, full, fast in scored:
            outcome, take = screened(full, fast, gate)
            skipped += int((take & fast["tuned"]).sum())
            english += int(fast["tuned"].sum())
            results.append((s, outcome))
        return results, skipped / max(1, english)

    def tuned_objective(results) -> float:
        return objective([o for s, o in results if s.tune])

    if args.split == "dev":
        base, _ = run(None)
        fast, _ = run("fast")
        print(f"every encoder: dev objective {tuned_objective(base):.4f}; fast mode: {tuned_objective(fast):.4f}")
        print("| gate (score, lead) | English callers without e5 | dev objective | wrong answers (mean over tuned-on sets) |")
        print("|---|---|---|---|")
        for g, m in itertools.product(np.arange(0.8, 2.01, 0.1), np.arange(0.45, 1.51, 0.1)):
            results, share = run((round(float(g), 2), round(float(m), 2)))
            wrong = np.mean([o["wrong"] for s, o in results if s.tune])
            print(f"| {g:.2f}, {m:.2f} | {100 * share:.1f}% | {tuned_objective(results):.4f} | {100 * wrong:.2f}% |")
        return
    gate = tuple(float(x) for x in args.gate.split(","))
    columns = {"every encoder": None, f"screen {gate[0]}, {gate[1]}": gate, "fast mode": "fast"}
    print("| test set | " + " | ".join(f"{c}: right / first / wrong / OOS answered" for c in columns) + " |")
    print("|---|" + "---|" * len(columns))
    runs = {name: run(g) for name, g in columns.items()}
    for i, (s, _, _) in enumerate(scored):
        cells = []
        for name in columns:
            o = runs[name][0][i][1]
            oos = "—" if o["oos_answered"] != o["oos_answered"] else f"{100 * o['oos_answered']:.1f}%"
            cells.append(f"{o['right']:.4f} / {o['first']:.3f} / {100 * o['wrong']:.1f}% / {oos}")
        print(f"| {s.name} | " + " | ".join(cells) + " |")
    print("| English callers answered without e5 | " + " | ".join(f"{100 * runs[n][1]:.1f}%" for n in columns) + " |")


if __name__ == "__main__":
    main()
