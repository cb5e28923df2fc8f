"""Issue mining on held-out data: dev/test splits of four kinds of data, today's method beside the baseline.

Issue #18: the granularity rule must hold across BANKING77, CLINC150, bitext and calls, with no
constant fitted to one set. Every set is split (seeded) into a **dev** part, used to choose among
method variants, and a **test** part, reported once:

* CLINC150 (150 intents): dev = 20 seeded questions per intent from ``train``; test = ``val`` (3000);
* BANKING77 (the shared 3000-row subset, 77 intents): seeded halves, stratified by intent;
* bitext (1620 rows, 27 intents): seeded halves, stratified by intent;
* the benchmark call corpus (``bench/corpus``, 187 calls, 28 intents + no-issue calls): its own
  dev/test split (``split.json``), from the reference scripts and (``--corpus-asr``) from the Whisper
  transcripts that ``callscope analyze`` wrote for the Kokoro renderings; no-issue calls are scored
  as their own singletons (they should stay unclustered);
* robustness, reported on both splits' runs: the 16 shared calls rendered with neural voices
  (``--kokoro-asr``) and with espeak-ng (``--espeak-asr``), Whisper transcripts.

The baseline is the issue mining of commit ``BASELINE`` (before issue #18), loaded from git, and
so is the previous round's (``--previous``, the third round: Louvain resolution by cross-encoder
agreement); "ours" is today's default (small sets: the dev-fitted size rule and reference centring,
``bench/bench_small_sets.py``; large sets: the word graph added to the encoders' graphs, resolution
by smoothed silhouette, then one pass moving items clearly nearer another issue's centroid, and since the
sixth round all-MiniLM-L6-v2 as a third encoder in the graph; the fifth round, without it, runs beside it; since
session 13 a call's vector weights the agent's answers 0.7, the caller's reason 0.3, and the sixth round with
0.5 runs beside it). ``--seeds`` reruns every method with several seeds and reports the spread.

    python bench/bench_issue_generalisation.py --split dev|test [--corpus-asr DIR] [--kokoro-asr DIR]
        [--espeak-asr DIR] [--cache FILE] [--only NAME ...] [--seeds N ...] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_issues import EmbeddingCache  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

from callscope.analysis.issues import IssueItem, IssueOptions, call_record_from_dict, embed_items, mine_issues  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
BASELINE = "22dd6dc"  # main before issue #18
PREVIOUS = "1410920"  # issue #18's third round (agreement-chosen Louvain resolution), --previous
NO_ISSUE = "no_issue"
LINES: list[str] = []


def emit(line: str = "") -> None:
    LINES.append(line)
    print(line, flush=True)


def halves(rows: list, key, seed: int) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    """Seeded dev/test halves, stratified by ``key(row)``."""
    rng = random.Random(seed)
    groups: dict[str, list] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    dev, test = [], []
    for label in sorted(groups):
        members = groups[label][:]
        rng.shuffle(members)
        cut = len(members) // 2 + (rng.random() < 0.5 if len(members) % 2 else 0)
        dev += members[:cut]
        test += members[cut:]
    return dev, test


def text_sets(data: Path, split: str) -> dict[str, tuple[list[IssueItem], list[str]]]:
    intents = data / "customer_intents"
    sets: dict[str, tuple[list[IssueItem], list[str]]] = {}
    clinc = json.loads((intents / "clinc150" / "clinc150_train_val.json").read_text(encoding="utf-8"))
    if split == "dev":
        rng = random.Random(150)
        by: dict[str, list[str]] = defaultdict(list)
        for text, label in clinc["train"]:
            by[label].append(text)
        rows = [(t, label) for label in sorted(by) for t in rng.sample(by[label], 20)]
    else:
        rows = [tuple(r) for r in clinc["val"]]
    sets["CLINC150"] = ([IssueItem(f"c{i}", t, "en") for i, (t, _) in enumerate(rows)], [lab for _, lab in rows])
    with (intents / "banking77_train_subset3000.csv").open(newline="", encoding="utf-8") as fh:
        b77 = list(csv.DictReader(fh))
    part = halves(b77, lambda r: r["category"], 77)[0 if split == "dev" else 1]
    sets["BANKING77 (half)"] = ([IssueItem(f"b{i}", r["text"], "en") for i, r in enumerate(part)], [r["category"] for r in part])
    with (intents / "bitext_customer_support_subset.csv").open(newline="", encoding="utf-8") as fh:
        bt = list(csv.DictReader(fh))
    part = halves(bt, lambda r: r["intent"], 27)[0 if split == "dev" else 1]
    sets["bitext (half)"] = ([IssueItem(f"t{i}", r["instruction"], "en") for i, r in enumerate(part)], [r["intent"] for r in part])
    return sets


def _speech_turns(turns: list[dict]) -> list[dict]:
    return [{"role": t["speaker"], "text": t["text"]} for t in turns if "speaker" in t and "text" in t]


def corpus_sets(split: str, asr: Path | None) -> dict[str, tuple[list[IssueItem], list[str]]]:
    corpus = ROOT / "bench" / "corpus"
    calls = json.loads((corpus / "scenarios.json").read_text(encoding="utf-8"))["calls"]
    chosen = json.loads((corpus / "split.json").read_text())["split"]
    calls = [c for c in calls if chosen[c["id"]] == split]
    out = {}
    items, truth = [], []
    for c in calls:
        items.append(call_record_from_dict({"language": c["language"], "turns": _speech_turns(c["turns"])}, c["id"]).to_item())
        truth.append(c["intent"] if c["intent"] != NO_ISSUE else f"{NO_ISSUE}:{c['id']}")
    out[f"call corpus {split} (reference)"] = (items, truth)
    if asr is not None:
        # the calls rendered and analysed so far (render.sh may not have finished)
        done = [n for n, c in enumerate(calls) if (asr / f"{c['id']}.stereo.analysis.json").exists()]
        items = []
        for n in done:
            meta = json.loads((asr / f"{calls[n]['id']}.stereo.analysis.json").read_text(encoding="utf-8"))
            meta = {k: v for k, v in meta.items() if k != "reason"}
            items.append(call_record_from_dict(meta, calls[n]["id"]).to_item())
        sub = f", {len(done)} of {len(calls)} calls" if len(done) < len(calls) else ""
        if sub:
            ref = out[f"call corpus {split} (reference)"]
            out[f"call corpus {split} (reference{sub})"] = ([ref[0][n] for n in done], [truth[n] for n in done])
        out[f"call corpus {split} (Whisper{sub})"] = (items, [truth[n] for n in done])
    return out


def shared_calls(data: Path, asr: Path, name: str) -> dict[str, tuple[list[IssueItem], list[str]]]:
    rows = [json.loads(x) for x in (data / "calls" / "manifest.jsonl").read_text().splitlines() if x.strip()]
    items, truth = [], []
    rows = [r for r in rows if (asr / f"{r['id']}.stereo.analysis.json").exists()]
    name = name.replace("16", str(len(rows)))
    for row in rows:
        meta = json.loads((asr / f"{row['id']}.stereo.analysis.json").read_text(encoding="utf-8"))
        meta = {k: v for k, v in meta.items() if k != "reason"}
        items.append(call_record_from_dict(meta, row["id"]).to_item())
        truth.append(row["intent"])
    return {name: (items, truth)}


def load_baseline(commit: str = BASELINE):  # type: ignore[no-untyped-def]
    """The issue-mining module as it was at ``commit`` (git), imported under another name."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{commit}:callscope/analysis/issues.py"],
        check=True, capture_output=True, text=True,
    ).stdout
    # the architecture refactor (#12) moved the domain types; nothing else the module uses moved
    source = source.replace("from callscope.models import", "from callscope.domain import")
    path = Path(tempfile.mkdtemp()) / "issues_baseline.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"issues_{commit}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[f"issues_{commit}"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    if hasattr(module, "REFERENCE_MEANS"):  # its data file (small-set reference means), not the temp copy's
        module.REFERENCE_MEANS = ROOT / "callscope" / "analysis" / "data" / "issue_reference_means.npz"
    return module


def run(mine, options, items, emb, truth) -> tuple[float, float, int, int, float]:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = mine(items, options, embeddings=emb)
    secs = time.perf_counter() - start
    labels = [result.assignments[i.id] or f"u:{i.id}" for i in items]
    unclustered = sum(1 for i in items if result.assignments[i.id] is None)
    return (
        float(normalized_mutual_info_score(truth, labels)),
        float(adjusted_rand_score(truth, labels)),
        len(result.issues),
        unclustered,
        secs,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), required=True)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--corpus-asr", type=Path, help="callscope analyze output of the rendered corpus")
    parser.add_argument("--kokoro-asr", type=Path, help="callscope analyze output of shared/data/calls_kokoro")
    parser.add_argument("--espeak-asr", type=Path, help="callscope analyze output of shared/data/calls")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "issue_embeddings.pkl")
    parser.add_argument("--only", nargs="*", help="substrings of the set names to run")
    parser.add_argument("--variants", nargs="*", default=[], help="extra IssueOptions variants, e.g. small_set_items=0")
    parser.add_argument("--previous", default=PREVIOUS, help="commit of the previous round's method ('' to skip)")
    parser.add_argument("--seeds", type=int, nargs="*", help="run each method with these IssueOptions seeds (Louvain,"
                        " sampling) and report the spread: how stable the chosen granularity is")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    sets = text_sets(args.data, args.split) | corpus_sets(args.split, args.corpus_asr)
    if args.kokoro_asr:
        sets |= shared_calls(args.data, args.kokoro_asr, "16 shared calls, Kokoro voices (Whisper)")
    if args.espeak_asr:
        sets |= shared_calls(args.data, args.espeak_asr, "16 shared calls, espeak voices (Whisper)")
    if args.only:
        sets = {k: v for k, v in sets.items() if any(s in k for s in args.only)}
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    encoders = EmbeddingCache(args.cache).encoders()
    baseline = load_baseline()
    methods = [
        ("before #18 (size rule z = 0.3·log2 n - 0.2, set means)", baseline.mine_issues, baseline.IssueOptions()),
    ]
    if args.previous:
        previous = load_baseline(args.previous)
        methods.append(
            (f"#18 third round ({args.previous}: resolution by encoder agreement)", previous.mine_issues, previous.IssueOptions())
        )
    methods.append(("#18 fifth round (silhouette resolution, centroid pass; USE + e5 + words)", mine_issues,
                    IssueOptions(large_set_encoders=(), context_weight=0.5)))
    methods.append(("#18 sixth round (+ all-MiniLM-L6-v2 in the graph of sets >= 200; calls' answers weighted 0.5)",
                    mine_issues, IssueOptions(context_weight=0.5)))
    methods.append(("ours (session 13: calls' answers weighted 0.7)", mine_issues, IssueOptions()))
    for spec in args.variants:
        kwargs = {}
        for kv in spec.split(","):
            key, value = kv.split("=")
            kwargs[key] = None if value == "None" else type(getattr(IssueOptions(), key) or 0.0)(value)
        methods.append((f"ours, {spec}", mine_issues, IssueOptions(**kwargs)))

    emit(f"### Issue mining, {args.split} split")
    emit()
    emit("| data set | items | intents | method | issues | unclustered | NMI | ARI | s |")
    emit("|---|---|---|---|---|---|---|---|---|")
    for name, (items, truth) in sets.items():
        every = IssueOptions()
        embedded: dict[float, dict] = {}  # per context weight: a call's vector mixes its answers in when embedded
        n_intents = len({t for t in truth if not t.startswith(NO_ISSUE)})
        for label, mine, options in methods:
            weight = getattr(options, "context_weight", every.context_weight)
            if weight not in embedded:
                embedded[weight] = embed_items(items, dataclasses.replace(
                    every, encoders=every.encoders + every.large_set_encoders, context_weight=weight), encoders=encoders)
            emb = embedded[weight]
            if args.seeds:
                runs = [run(mine, dataclasses.replace(options, seed=s), items, emb, truth) for s in args.seeds]
                cols = list(zip(*runs))
                spread = [f"{min(c):.3f}-{max(c):.3f} ({sum(c) / len(c):.3f})" for c in cols[:2]]
                emit(f"| {name} | {len(items)} | {n_intents} | {label}, seeds {','.join(map(str, args.seeds))} | "
                     f"{min(cols[2])}-{max(cols[2])} | {min(cols[3])}-{max(cols[3])} | {spread[0]} | {spread[1]} | {sum(cols[4]):.1f} |")
                continue
            nmi, ari, k, unc, secs = run(mine, options, items, emb, truth)
            emit(f"| {name} | {len(items)} | {n_intents} | {label} | {k} | {unc} | {nmi:.3f} | {ari:.3f} | {secs:.1f} |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(LINES) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
