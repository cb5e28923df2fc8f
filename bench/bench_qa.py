"""Automatic-QA benchmark: the default scorecard on the 16 shared neural-voice calls.

For each call, three verdicts are checked against labels read from the call scripts
(``calls_kokoro/*.json``; what the agent really said):

* ``greeting``      greeting and own name in the first 15 s (every scripted call: yes);
* ``further_help``  "anything else I can help with?" near the end (only s_zh_01: yes);
* ``apology_given`` category: the agent apologised (sorry / apologise / 抱歉).

Two inputs: the reference turns (the scripts, with times) and the pipeline's output
on the audio (``--asr-dir``: the ``*.analysis.json`` that ``callscope analyze`` wrote,
faster-whisper base), so ASR errors count. Baseline, in the same run: the same
scorecard with meaning matching switched off (keywords and regexes only).

Split: dev = s_en_01..06 + s_zh_01..02, test = s_en_07..12 + s_zh_03..04. Caveat: the
scorecard's phrase lists were written after reading all 16 scripts (and then rewritten
in generic words), so even the test numbers are not from unseen data.

    python bench/bench_qa.py --calls /work/shared/data/calls_kokoro --asr-dir /tmp/qa_kokoro [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from callscope.qa.evaluate import Evaluator, PhraseMatcher, conversation_from_dict  # noqa: E402
from callscope.qa.rules import AllOf, AnyOf, Not, Said, ScorecardRules, load_scorecard  # noqa: E402

DEV = {f"s_en_{i:02d}" for i in range(1, 7)} | {"s_zh_01", "s_zh_02"}
APOLOGY = {"s_en_03", "s_en_04", "s_en_05", "s_en_09", "s_en_10", "s_en_12", "s_zh_02"}
LABELS = {
    "greeting": lambda cid: True,
    "further_help": lambda cid: cid == "s_zh_01",
    "apology_given": lambda cid: cid in APOLOGY,
}


def keywords_only(rules: ScorecardRules) -> ScorecardRules:
    """The baseline: every ``said`` condition without its meaning phrases."""

    def strip(cond):  # type: ignore[no-untyped-def]
        if isinstance(cond, Said):
            return replace(cond, phrases=(), before=strip(cond.before) if cond.before else None,
                           after=strip(cond.after) if cond.after else None)
        if isinstance(cond, AllOf | AnyOf):
            return type(cond)(tuple(strip(c) for c in cond.conditions))
        if isinstance(cond, Not):
            return Not(strip(cond.condition))
        return cond

    return replace(rules, criteria=tuple(replace(c, rule=strip(c.rule), when=strip(c.when) if c.when else None)
                                         for c in rules.criteria),
                   categories=tuple(replace(c, rule=strip(c.rule)) for c in rules.categories))


def reference_analysis(script: dict) -> dict:
    return {"language": script["language"], "duration": script["duration"],
            "turns": [{"role": t["speaker"], "start": t["start"], "end": t["end"], "text": t["text"]}
                      for t in script["turns"]]}


def verdicts(evaluator: Evaluator, analysis: dict) -> dict[str, bool]:
    result = evaluator.evaluate(conversation_from_dict(analysis))
    out = {i.id: bool(i.passed) for i in result.items}
    cats = {c.id for c in result.categories}
    out["apology_given"] = "apology_given" in cats
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=Path, default=Path("/work/shared/data/calls_kokoro"))
    parser.add_argument("--asr-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    rules = load_scorecard()
    matcher = PhraseMatcher()
    systems = {"meaning + keywords (ours)": Evaluator(rules, matcher),
               "keywords only (baseline)": Evaluator(keywords_only(rules), matcher)}
    scripts = {p.stem: json.loads(p.read_text()) for p in sorted(args.calls.glob("s_*.json"))}
    inputs = {"reference transcript": {cid: reference_analysis(s) for cid, s in scripts.items()}}
    if args.asr_dir:
        inputs["ASR (faster-whisper base)"] = {
            cid: json.loads((args.asr_dir / f"{cid}.stereo.analysis.json").read_text()) for cid in scripts
            if (args.asr_dir / f"{cid}.stereo.analysis.json").exists()}
    lines = ["| input | system | split | calls | " + " | ".join(LABELS) + " | all three |", "|---|---|---|---|"
             + "---|" * (len(LABELS) + 1)]
    wrong: list[str] = []
    timing: list[float] = []
    for input_name, analyses in inputs.items():
        for system_name, evaluator in systems.items():
            found = {}
            for cid, analysis in analyses.items():
                started = time.perf_counter()
                found[cid] = verdicts(evaluator, analysis)
                timing.append(time.perf_counter() - started)
            for split, members in (("dev", DEV), ("test", set(scripts) - DEV)):
                ids = sorted(c for c in found if c in members)
                cells = []
                for key, label in LABELS.items():
                    ok = sum(found[c][key] == label(c) for c in ids)
                    cells.append(f"{ok}/{len(ids)}")
                    if "ours" in system_name:
                        wrong += [f"{input_name} {split} {c}: {key} {'passed' if found[c][key] else 'failed'}"
                                  for c in ids if found[c][key] != label(c)]
                every = sum(all(found[c][k] == f(c) for k, f in LABELS.items()) for c in ids)
                lines.append(f"| {input_name} | {system_name} | {split} | {len(ids)} | " + " | ".join(cells)
                             + f" | {every}/{len(ids)} |")
    text = "\n".join(lines) + "\n\nDisagreements (ours): " + ("; ".join(wrong) or "none") + "\n"
    text += f"\nScoring time per call (warm encoder, shared 2-core box): median {sorted(timing)[len(timing) // 2] * 1000:.0f} ms\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
