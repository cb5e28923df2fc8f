"""Issue mining on the call corpus's dev split under simulated speech-recognition damage (issue #18).

The dev split's Whisper transcripts are cleaner than the test split's (dev Whisper ARI 0.730 vs
its scripts' 0.767; test 0.569 vs 0.816), so dev alone cannot show what recognition damage costs.
This bench damages the **dev** scripts (``bench/asr_damage.py``) at about the test split's rates
(English ~20 % word errors, Mandarin ~27 % character errors, homophones included, and the clause
punctuation Whisper writes) with several seeds, and scores issue mining on the clean scripts, on
each damaged copy and on the dev Whisper transcripts, with the same code. Dev only: it has no
test option (the test split is for reporting a fixed method once).

    python bench/bench_issue_damage.py [--seeds 0 1 2] [--corpus-asr bench/corpus/asr/dev]
        [--variants context_weight=0.6 ...] [--reasons FILE] [--cache FILE] [--reason-from COMMIT]

``--reason-from`` builds every call's reason and context with ``callscope/analysis/reason.py`` as it
was at a commit (e.g. ``main``), so a change to reason extraction is measured beside the code before it
on the same damaged copies. Besides NMI and ARI, each row gives two measures that do not depend on where
the tree is cut: the share of calls (no-issue calls left out) whose nearest call has their intent, and
how many background sds same-intent pairs stand above other pairs on the joint view mining clusters.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from asr_damage import damage, vocabulary  # noqa: E402
from bench_issue_generalisation import NO_ISSUE, _speech_turns, run  # noqa: E402
from bench_issues import EmbeddingCache  # noqa: E402

import callscope.analysis.issues as issues_module  # noqa: E402
from callscope.analysis.issues import IssueItem, IssueOptions, call_record_from_dict, embed_items, mine_issues  # noqa: E402
from callscope.transcription.scoring import error_counts  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
# Test-like damage (BENCHMARKS.md, issue #18: test Whisper WER en ~0.14-0.20, CER zh ~0.27-0.29); these
# rates measure WER en 0.20, CER zh 0.26-0.27 on the dev scripts. No ``merge``: the corpus is stereo,
# so Whisper never joins a caller's and an agent's words into one turn.
DAMAGE = {
    "en": (("punct", 0.5), ("swap", 0.12), ("drop", 0.09)),
    "zh": (("punct", 0.8), ("homophone", 0.18), ("swap", 0.08), ("drop", 0.06)),
}


def dev_calls() -> list[dict]:
    corpus = ROOT / "bench" / "corpus"
    calls = json.loads((corpus / "scenarios.json").read_text(encoding="utf-8"))["calls"]
    chosen = json.loads((corpus / "split.json").read_text())["split"]
    return [c for c in calls if chosen[c["id"]] == "dev"]


def truth_of(call: dict) -> str:
    return call["intent"] if call["intent"] != NO_ISSUE else f"{NO_ISSUE}:{call['id']}"


def damaged(call: dict, vocab: dict[str, list[str]], seed: int) -> dict:
    out = {**call, "turns": _speech_turns(call["turns"])}
    out["turns"] = [{"speaker": t["role"], "text": t["text"]} for t in out["turns"]]
    for kind, rate in DAMAGE[call["language"]]:
        out = damage(out, kind, rate, vocab, seed)
    return out


def item_of(call: dict) -> IssueItem:
    return call_record_from_dict({"language": call["language"], "turns": _speech_turns(call["turns"])}, call["id"]).to_item()


def error(calls: list[dict], copies: list[dict], language: str) -> float:
    edits = total = 0
    for clean, hyp in zip(calls, copies, strict=True):
        if clean["language"] != language:
            continue
        e, n = error_counts(" ".join(t["text"] for t in _speech_turns(clean["turns"])),
                            " ".join(t["text"] for t in _speech_turns(hyp["turns"])), language)
        edits, total = edits + e, total + n
    return edits / max(total, 1)


def use_reason_from(commit: str) -> None:
    """Make call records take their reason and context from ``reason.py`` as it was at ``commit``."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:callscope/analysis/reason.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / f"reason_{commit}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"reason_{commit}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    issues_module.extract_reason = module.extract_reason
    issues_module.call_context = module.call_context


def separation(items: list[IssueItem], truth: list[str], emb: dict, options: IssueOptions) -> tuple[float, float]:
    """(nearest-call intent accuracy, same-intent pairs' lift in background sds) on the joint view."""
    langs = issues_module._languages(items)
    means = issues_module._small_set_means(emb, langs, options.small_set_prior)
    joint = issues_module._joint(issues_module._centre(emb, langs, means))
    sims = joint @ joint.T
    np.fill_diagonal(sims, -np.inf)
    labels = np.asarray(truth)
    real = np.array([not t.startswith(NO_ISSUE) for t in truth])
    nearest = float((labels[sims.argmax(axis=1)] == labels)[real].mean())
    upper = np.triu_indices(len(labels), 1)
    same = (labels[:, None] == labels[None, :])[upper]
    pairs = sims[upper]
    return nearest, float((pairs[same].mean() - pairs[~same].mean()) / pairs[~same].std())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    parser.add_argument("--corpus-asr", type=Path, default=ROOT / "bench" / "corpus" / "asr" / "dev")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "issue_embeddings.pkl")
    parser.add_argument("--variants", nargs="*", default=[], help="IssueOptions variants, e.g. context_weight=0.6")
    parser.add_argument("--reasons", type=Path, help="write each set's reasons and contexts here")
    parser.add_argument("--reason-from", help="take reasons and contexts from reason.py at this commit")
    args = parser.parse_args()
    if args.reason_from:
        use_reason_from(args.reason_from)

    calls = dev_calls()
    vocab = vocabulary(calls)
    sets: dict[str, tuple[list[IssueItem], list[str]]] = {}
    sets["scripts"] = ([item_of(c) for c in calls], [truth_of(c) for c in calls])
    for seed in args.seeds:
        copies = [damaged(c, vocab, seed) for c in calls]
        sets[f"damaged seed {seed} (WER en {error(calls, copies, 'en'):.2f}, CER zh {error(calls, copies, 'zh'):.2f})"] = (
            [item_of(c) for c in copies], [truth_of(c) for c in calls])
    if args.corpus_asr and args.corpus_asr.exists():
        items = []
        for c in calls:
            meta = json.loads((args.corpus_asr / f"{c['id']}.stereo.analysis.json").read_text(encoding="utf-8"))
            items.append(call_record_from_dict({k: v for k, v in meta.items() if k != "reason"}, c["id"]).to_item())
        sets["Whisper"] = (items, [truth_of(c) for c in calls])
    if args.reasons:
        with args.reasons.open("w", encoding="utf-8") as fh:
            for name, (items, truth) in sets.items():
                for item, t in zip(items, truth, strict=True):
                    fh.write(json.dumps({"set": name, "id": item.id, "intent": t, "reason": item.text,
                                         "context": item.context}, ensure_ascii=False) + "\n")
    methods = [("default", IssueOptions())]
    for spec in args.variants:
        kwargs = {}
        for kv in spec.split(","):
            key, value = kv.split("=")
            default = getattr(IssueOptions(), key)
            kind = float if default is None else type(default)
            kwargs[key] = None if value == "None" else (tuple(float(v) for v in value.split(":")) if kind is tuple else kind(value))
        methods.append((spec, IssueOptions(**kwargs)))
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    encoders = EmbeddingCache(args.cache).encoders()
    print("| method | set | issues | unclustered | NMI | ARI | nearest call's intent | same-intent lift (sd) |")
    print("|---|---|---|---|---|---|---|---|")
    summary: dict[str, list[tuple[float, float, float, float]]] = {}
    for label, options in methods:
        for name, (items, truth) in sets.items():
            emb = embed_items(items, options, encoders=encoders)
            nmi, ari, k, unc, _ = run(mine_issues, options, items, emb, truth)
            nearest, lift = separation(items, truth, emb, options)
            print(f"| {label} | {name} | {k} | {unc} | {nmi:.3f} | {ari:.3f} | {nearest:.3f} | {lift:.2f} |", flush=True)
            if name.startswith("damaged"):
                summary.setdefault(label, []).append((nmi, ari, nearest, lift))
        runs = summary.get(label, [])
        if runs:
            nmis, aris, nears, lifts = (np.asarray(c) for c in zip(*runs))
            print(f"| {label} | damaged, mean over {len(runs)} seeds (ARI {aris.min():.3f}-{aris.max():.3f}) | | | "
                  f"{nmis.mean():.3f} | {aris.mean():.3f} | {nears.mean():.3f} | {lifts.mean():.2f} |", flush=True)


if __name__ == "__main__":
    main()
