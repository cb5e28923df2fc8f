"""FAQ drafts' canonical question: the callers' own words, or the local LLM's rewording under two grounding rules.

For groups of callers' questions about one topic (what a FAQ draft is built from), compare:
* **callers' words**: the clearest of the group (:func:`callscope.analysis.faq_question.clearest`), no LLM;
* **strict**: the LLM's rewording kept only when every content word of it was said (session 7's rule);
* **relaxed**: also kept when it states no new fact, shares a word and is at least as close to the group's
  mean meaning (multilingual USE, the FAQ drafts' encoder) as the furthest of the group's questions.

One LLM answer per group serves both rules. Judged on: how often the canonical question is a question,
its length, and whether it stays on topic — its nearest topic centroid (multilingual-e5-small, not the
encoder the rule uses; centroids from other texts of each topic) is its own.

Sets. dev: CLINC150 train (40 seeded intents, 4 questions each; centroids from the other train
questions of all 150 intents) and the benchmark call corpus's dev split (callers' reasons from the Whisper
transcripts in bench/corpus/asr/dev, grouped by intent and language, up to 4; centroids from the reasons of
the reference scripts). test: the same from CLINC150 validation (40 other intents) and the corpus test split.

    python bench/bench_faq_question.py --data /work/shared/data --split dev
"""

from __future__ import annotations

import argparse
import inspect
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.analysis.embeddings import load_encoder  # noqa: E402
from callscope.analysis.faq_question import clearest, grounded_rewrite  # noqa: E402
from callscope.analysis.issues import call_record_from_dict  # noqa: E402
from callscope.llm import get_llm  # noqa: E402

RELAXED = "encode" in inspect.signature(grounded_rewrite).parameters  # False on code before the relaxed rule
Group = tuple[str, str, list[str]]  # topic, language, callers' questions


class OneAnswerLLM:
    """Asks the wrapped LLM once per prompt, so both rules judge the same rewording."""

    def __init__(self, llm) -> None:  # type: ignore[no-untyped-def]
        self.llm, self.cache, self.seconds = llm, {}, 0.0

    def chat(self, messages, max_tokens=48):  # type: ignore[no-untyped-def]
        key = json.dumps(messages, ensure_ascii=False)
        if key not in self.cache:
            start = time.perf_counter()
            self.cache[key] = self.llm.chat(messages, max_tokens=max_tokens)
            self.seconds += time.perf_counter() - start
        return self.cache[key]


def clinc_sets(data: Path, split: str) -> tuple[list[Group], dict[str, list[str]]]:
    rows = json.loads((data / "customer_intents" / "clinc150" / "clinc150_train_val.json").read_text())
    part = rows["train" if split == "dev" else "val"]
    by_intent: dict[str, list[str]] = defaultdict(list)
    for text, intent in part:
        by_intent[intent].append(text)
    intents = sorted(by_intent)
    rng = random.Random(150)
    order = rng.sample(intents, len(intents))
    chosen = order[:40] if split == "dev" else order[40:80]
    groups, others = [], {}
    for intent in intents:
        texts = by_intent[intent][:]
        random.Random(intent).shuffle(texts)
        if intent in chosen:
            groups.append((intent, "en", [t[:1].upper() + t[1:] + "?" for t in texts[:4]]))
            others[intent] = texts[4:]
        else:
            others[intent] = texts
    return groups, others


def corpus_sets(split: str) -> tuple[list[Group], dict[str, list[str]]]:
    corpus = ROOT / "bench" / "corpus"
    calls = json.loads((corpus / "scenarios.json").read_text(encoding="utf-8"))["calls"]
    chosen = json.loads((corpus / "split.json").read_text())["split"]
    asr = corpus / "asr" / split
    heard: dict[tuple[str, str], list[str]] = defaultdict(list)
    reference: dict[str, list[str]] = defaultdict(list)
    for c in calls:
        if chosen[c["id"]] != split or c["intent"] == "no_issue":
            continue
        turns = [{"role": t["speaker"], "text": t["text"]} for t in c["turns"] if "speaker" in t and "text" in t]
        reference[c["intent"]].append(call_record_from_dict({"language": c["language"], "turns": turns}, c["id"]).reason)
        path = asr / f"{c['id']}.stereo.analysis.json"
        if path.exists():
            meta = json.loads(path.read_text(encoding="utf-8"))
            meta = {k: v for k, v in meta.items() if k != "reason"}
            reason = " ".join(call_record_from_dict(meta, c["id"]).reason.split())
            if reason:
                heard[(c["intent"], c["language"])].append(reason)
    groups = [(intent, lang, qs[:4]) for (intent, lang), qs in sorted(heard.items()) if len(qs) >= 2]
    return groups, dict(reference)


def is_question(text: str) -> bool:
    return text.rstrip().endswith(("?", "？", "吗"))


def length(text: str, language: str) -> int:
    return len(text.replace(" ", "")) if language == "zh" else len(text.split())


def evaluate(name: str, groups: list[Group], others: dict[str, list[str]], llm: OneAnswerLLM, use, e5) -> None:  # type: ignore[no-untyped-def]
    topics = sorted(others)
    centroids = np.stack([e5(others[t]).mean(axis=0) for t in topics])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    rows: dict[str, list[tuple[bool, bool, int, bool]]] = defaultdict(list)
    examples = []
    for topic, lang, qs in groups:
        qs = list(qs)
        best = qs.pop(clearest(qs, lang))
        asked = [best, *qs[:3]]
        strict = grounded_rewrite(asked, lang, llm)
        relaxed = grounded_rewrite(asked, lang, llm, use) if RELAXED else None
        rules = [("callers' words", best, False), ("strict", strict or best, strict is not None)]
        if RELAXED:
            rules.append(("relaxed", relaxed or best, relaxed is not None))
        for rule, final, rewritten in rules:
            vector = e5([final])[0]
            on_topic = topics[int(np.argmax(centroids @ vector))] == topic
            rows[rule].append((rewritten, is_question(final), length(final, lang), on_topic))
        if relaxed is not None and strict is None and len(examples) < 6:
            examples.append((topic, best, relaxed))
    print(f"\n#### {name}: {len(groups)} groups\n")
    print("| canonical question | rewritten | a question | median length | on topic |")
    print("|---|---|---|---|---|")
    for rule, values in rows.items():
        n = len(values)
        print(f"| {rule} | {sum(v[0] for v in values) / n:.0%} | {sum(v[1] for v in values) / n:.0%} | "
              f"{statistics.median(v[2] for v in values):.0f} | {sum(v[3] for v in values) / n:.0%} |")
    for topic, best, rewrite in examples:
        print(f"- {topic}: {best!r} → {rewrite!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    args = parser.parse_args()
    base = get_llm()
    if base is None:
        sys.exit("the local LLM is not installed: callscope models install llm")
    use, e5 = load_encoder("use-multilingual").encode, load_encoder("e5-small").encode
    start = time.perf_counter()
    clinc = clinc_sets(args.data, args.split)
    corpus = corpus_sets(args.split)
    by_lang: dict[str, list[Group]] = defaultdict(list)
    for g in corpus[0]:
        by_lang[g[1]].append(g)
    print(f"### FAQ canonical question, {args.split} split ({time.strftime('%Y-%m-%d %H:%M')})")
    sets = [(f"CLINC150 {'train' if args.split == 'dev' else 'validation'}, 40 intents x 4 questions", *clinc)]
    sets += [(f"call corpus {args.split}, Whisper reasons, {lang}", groups, corpus[1]) for lang, groups in sorted(by_lang.items())]
    for name, groups, others in sets:
        llm = OneAnswerLLM(base)
        evaluate(name, groups, others, llm, use, e5)
        print(f"\nLLM: {llm.seconds / max(len(llm.cache), 1):.1f} s per rewording (box shared)")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
