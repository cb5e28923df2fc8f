"""Topic-name benchmark: do generated issue names match what a supervisor would call the intent?

The expected names and the match rule were written before any name was generated
(``bench/data/topic_names_expected.json``): a name matches when, lower-cased, it contains
every stem of one of the intent's alternatives. Each intent is named as one issue would be:

* CLINC150 (val split, 20 utterances per intent): the utterances ranked by closeness to the
  intent's mean (the shipped multilingual encoder), one domain's intents named together
  (the key-phrase ranking is class-based, so the other intents are the background);
* the 16 shared calls: each call's reason from its reference transcript (the extractor
  ``callscope analyze`` uses), grouped by intent and language.

Both methods run on every intent: the local LLM (checked, falling back to key phrases when
its answer is invalid) and the key phrases alone. Dev = prompts tuned on it; test = run once.

    python bench/bench_topic_names.py [--data DIR] [--split dev|test|all] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.analysis.embeddings import load_encoder  # noqa: E402
from callscope.analysis.issues import call_record_from_dict  # noqa: E402
from callscope.analysis.topic_names import TopicGroup, keyphrase_names, name_topics  # noqa: E402

LINES: list[str] = []


def emit(line: str = "") -> None:
    LINES.append(line)
    print(line, flush=True)


def matches(name: str, rule: list[list[str]]) -> bool:
    lowered = name.lower()
    return any(all(stem in lowered for stem in alt) for alt in rule)


def ranked(texts: list[str]) -> tuple[str, ...]:
    vectors = load_encoder("use-multilingual").encode(texts)
    centre = vectors.mean(axis=0)
    order = np.argsort(-(vectors @ centre), kind="stable")
    return tuple(texts[i] for i in order)


def clinc_groups(data: Path, domain: str, intents: list[str]) -> list[TopicGroup]:
    rows = json.loads((data / "customer_intents" / "clinc150" / "clinc150_train_val.json").read_text(encoding="utf-8"))["val"]
    by_intent: dict[str, list[str]] = {}
    for text, intent in rows:
        by_intent.setdefault(intent, []).append(text)
    return [TopicGroup(ranked(by_intent[i]), "en") for i in intents]


def call_groups(data: Path, language: str, intents: list[str]) -> list[TopicGroup]:
    calls = data / "calls"
    manifest = [json.loads(line) for line in (calls / "manifest.jsonl").read_text().splitlines() if line.strip()]
    reasons: dict[str, list[str]] = {}
    for row in manifest:
        if row["language"] != language:
            continue
        meta = json.loads((calls / row["files"]["json"]).read_text(encoding="utf-8"))
        record = call_record_from_dict({"language": language, "turns": meta["turns"]}, row["id"])
        reasons.setdefault(row["intent"], []).append(record.reason)
    return [TopicGroup(tuple(r for r in reasons[i] if r), language) for i in intents]


def run_set(name: str, data: Path, expected: dict[str, dict]) -> tuple[int, int, int, int, float, int]:
    intents = list(expected)
    if name.startswith("clinc150/"):
        groups = clinc_groups(data, name.split("/", 1)[1], intents)
    else:
        groups = call_groups(data, name.split("/", 1)[1], intents)
    started = time.perf_counter()
    named = name_topics(groups, "auto")
    seconds = time.perf_counter() - started
    phrases = keyphrase_names(groups)
    emit(f"\n**{name}** ({len(intents)} intents)\n")
    emit("| intent | supervisor | LLM (checked) | match | key phrase only | match |")
    emit("|---|---|---|---|---|---|")
    hit_llm = hit_kp = by_llm = 0
    for intent, got, phrase in zip(intents, named, phrases, strict=True):
        rule = expected[intent]["match"]
        a, b = matches(got.text, rule), matches(phrase, rule)
        hit_llm += a
        hit_kp += b
        by_llm += got.method == "llm"
        tag = "" if got.method == "llm" else " *(fallback)*"
        emit(f"| {intent} | {expected[intent]['name']} | {got.text}{tag} | {'yes' if a else 'no'} | {phrase} | {'yes' if b else 'no'} |")
    emit(f"\nLLM: {hit_llm}/{len(intents)} match ({by_llm} named by the LLM, the rest fell back); "
         f"key phrases alone: {hit_kp}/{len(intents)}; naming took {seconds:.1f} s ({seconds / len(intents):.2f} s per issue)")
    return hit_llm, hit_kp, len(intents), by_llm, seconds, len(intents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("CALLSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data")))
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    spec = json.loads((ROOT / "bench" / "data" / "topic_names_expected.json").read_text(encoding="utf-8"))
    from callscope.llm import get_llm

    llm = get_llm()
    emit(f"LLM: {llm.label if llm else 'none (key phrases only)'}; {os.cpu_count()} CPUs (shared box)")
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    for split in splits:
        totals = np.zeros(6)
        emit(f"\n### {split}")
        for name, expected in spec[split].items():
            totals += np.array(run_set(name, args.data, expected))
        hit_llm, hit_kp, n, by_llm, seconds, _ = totals
        emit(f"\n**{split} total**: LLM names match {int(hit_llm)}/{int(n)} ({hit_llm / n:.0%}; "
             f"{int(by_llm)} by the LLM); key phrases alone {int(hit_kp)}/{int(n)} ({hit_kp / n:.0%}); "
             f"{seconds / n:.2f} s per issue")
    if args.out:
        args.out.write_text("\n".join(LINES) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
