"""Issue-mining benchmark: clustering quality without a preset number of clusters, speed, scale.

Prints markdown tables (``--out FILE`` also writes them):

* adjusted Rand index / NMI against intent labels on BANKING77 (3000-row train subset),
  bitext (1620 rows, 27 intents) and the 16 shared calls, English + Mandarin, each call
  read the way ``callscope insights`` reads an analysis file (reason + the agent's
  answers as context): from the reference transcripts, and (``--asr-dir``) from the
  ``*.analysis.json`` that ``callscope analyze`` wrote for the calls' audio (Whisper);
  also the 8-call demo subset (samples/calls) both ways;
* side by side, in the same run, the reference methods: the shipped multilingual
  encoder (USE) with plain Ward clustering, and HDBSCAN (the BERTopic default
  clusterer) on the same vectors; the ratio column is ours / Ward;
* seed variance of our method, and (``--sensitivity``) its knobs;
* (``--scale N``) clustering + assignment of N items from perturbed real embeddings:
  time and peak memory, to show the O(n·k) path.

Protocol for the reference Ward: its distance threshold is tuned on bitext and
applied unchanged to BANKING77 and the calls (no labels of the reported set).

    python bench/bench_issues.py [--data DIR] [--asr-dir DIR] [--cache FILE] [--out FILE]
        [--sensitivity] [--scale 100000 [--scale-only]]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import pickle
import resource
import sys
import time
import tracemalloc
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.cluster import HDBSCAN, AgglomerativeClustering  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

from callscope.analysis.embeddings import load_encoder  # noqa: E402
from callscope.analysis.issues import (  # noqa: E402
    IssueItem,
    IssueOptions,
    call_record_from_dict,
    embed_items,
    mine_issues,
)
from callscope.analysis.reason import extract_reason  # noqa: E402
from callscope.domain import Role  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
LINES: list[str] = []


def emit(line: str = "") -> None:
    LINES.append(line)
    print(line, flush=True)


def scores(truth: list[str], labels: list[object]) -> tuple[float, float, int]:
    return (
        float(normalized_mutual_info_score(truth, labels)),
        float(adjusted_rand_score(truth, labels)),
        len(set(labels)),
    )


def ratio(ours: float, reference: float) -> str:
    return f"{ours / reference:.2f}" if reference > 1e-9 else "n/a"


DEMO_CALLS = ("s_en_02", "s_en_05", "s_en_06", "s_en_07", "s_en_09", "s_en_10", "s_zh_03", "s_zh_04")


def call_items(data: Path, asr_dir: Path | None = None) -> tuple[list[IssueItem], list[str]]:
    """The 16 shared calls as ``callscope insights`` reads them: reason + agent context.

    From the reference transcripts, or from ``asr_dir/<id>.stereo.analysis.json`` written
    by ``callscope analyze`` (the stored reason is dropped, so the current extractor runs
    on the Whisper turns).
    """
    calls = data / "calls"
    manifest = [json.loads(line) for line in (calls / "manifest.jsonl").read_text().splitlines() if line.strip()]
    items, truth = [], []
    for row in manifest:
        if asr_dir is None:
            meta = json.loads((calls / row["files"]["json"]).read_text(encoding="utf-8"))
            meta = {"language": row["language"], "turns": meta["turns"]}
        else:
            meta = json.loads((asr_dir / f"{row['id']}.stereo.analysis.json").read_text(encoding="utf-8"))
            meta = {k: v for k, v in meta.items() if k != "reason"}
        items.append(call_record_from_dict(meta, row["id"]).to_item())
        truth.append(row["intent"])
    return items, truth


def load_sets(data: Path, asr_dir: Path | None = None) -> dict[str, tuple[list[IssueItem], list[str]]]:
    sets: dict[str, tuple[list[IssueItem], list[str]]] = {}
    with (data / "customer_intents" / "banking77_train_subset3000.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    sets["banking77"] = (
        [IssueItem(str(i), r["text"], "en") for i, r in enumerate(rows)],
        [r["category"] for r in rows],
    )
    with (data / "customer_intents" / "bitext_customer_support_subset.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    sets["bitext"] = (
        [IssueItem(str(i), r["instruction"], "en") for i, r in enumerate(rows)],
        [r["intent"] for r in rows],
    )
    sources = {"reference": None} | ({"Whisper": asr_dir} if asr_dir is not None else {})
    for source, folder in sources.items():
        items, truth = call_items(data, folder)
        sets[f"calls (16, {source})"] = (items, truth)
        demo = [n for n, item in enumerate(items) if item.id in DEMO_CALLS]
        sets[f"demo calls (8, {source})"] = ([items[n] for n in demo], [truth[n] for n in demo])
    return sets


class EmbeddingCache:
    """Text-level embedding cache (``--cache FILE``) so reruns skip the encoders."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.vectors: dict[tuple[str, str], np.ndarray] = {}
        if path is not None and path.exists():
            with path.open("rb") as fh:
                self.vectors = pickle.load(fh)

    def encoders(self) -> dict[str, object] | None:
        if self.path is None:
            return None
        options = IssueOptions()
        return {name: self._encoder(name) for name in options.encoders + options.large_set_encoders}

    def _encoder(self, name: str):  # type: ignore[no-untyped-def]
        def encode(texts: list[str]) -> np.ndarray:
            missing = [t for t in dict.fromkeys(texts) if (name, t) not in self.vectors]
            if missing:
                for t, v in zip(missing, load_encoder(name).encode(missing), strict=True):
                    self.vectors[(name, t)] = v
                self._save()
            return np.stack([self.vectors[(name, t)] for t in texts])

        return encode

    def _save(self) -> None:
        assert self.path is not None
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")  # two benchmarks may share one cache
        with tmp.open("wb") as fh:
            pickle.dump(self.vectors, fh)
        os.replace(tmp, self.path)


def ward_labels(use: np.ndarray, threshold: float) -> np.ndarray:
    return AgglomerativeClustering(n_clusters=None, distance_threshold=threshold, linkage="ward").fit(use).labels_


def hdbscan_labels(use: np.ndarray) -> list[object]:
    labels = HDBSCAN(min_cluster_size=5, min_samples=3, copy=True).fit(use).labels_
    return [int(x) if x >= 0 else f"noise{i}" for i, x in enumerate(labels)]  # noise = singletons


def ours(
    items: list[IssueItem], emb: dict[str, np.ndarray], options: IssueOptions
) -> tuple[list[object], float, float]:
    start = time.perf_counter()
    result = mine_issues(items, options, embeddings=emb)
    labels: list[object] = [result.assignments[i.id] or f"u{i.id}" for i in items]
    return labels, time.perf_counter() - start, result.resolution


def reason_table(data: Path, asr_dir: Path | None, encoders) -> None:  # type: ignore[no-untyped-def]
    """Extracted reasons vs. naive baselines: closeness to the scenario's FAQ question, 1-NN intent accuracy."""
    calls = data / "calls"
    manifest = [json.loads(line) for line in (calls / "manifest.jsonl").read_text().splitlines() if line.strip()]
    variants: dict[str, list[str]] = {}
    questions, truth = [], []
    for row in manifest:
        meta = json.loads((calls / row["files"]["json"]).read_text(encoding="utf-8"))
        sources = {"reference": [(Role(t["speaker"]), t["text"]) for t in meta["turns"]]}
        stored = None
        if asr_dir is not None:
            asr = json.loads((asr_dir / f"{row['id']}.stereo.analysis.json").read_text(encoding="utf-8"))
            sources["Whisper"] = [(Role(t.get("role") or "unknown"), t["text"]) for t in asr["turns"]]
            stored = asr.get("reason", "")
        for source, turns in sources.items():
            caller = [t for r, t in turns if r == Role.CALLER] or [""]
            variants.setdefault(f"{source}: extract_reason (ours)", []).append(extract_reason(turns, row["language"]))
            if source == "Whisper":
                variants.setdefault("Whisper: reason stored by analyze (previous extractor)", []).append(stored or "")
            variants.setdefault(f"{source}: first caller turn", []).append(caller[0])
            variants.setdefault(f"{source}: all caller turns", []).append(" ".join(caller))
        questions.append(meta["faq"]["question"])
        truth.append(row["intent"])
    encode = (encoders or {}).get("use-multilingual") or load_encoder("use-multilingual").encode
    q = np.asarray(encode(questions))
    emit("| text embedded | mean chars | cosine to the call's FAQ question | leave-one-out 1-NN intent accuracy |")
    emit("|---|---|---|---|")
    for name, texts in variants.items():
        v = np.asarray(encode([t or "-" for t in texts]))
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        closeness = float(np.mean(np.sum(v * q, axis=1)))
        sims = v @ v.T
        np.fill_diagonal(sims, -np.inf)
        accuracy = float(np.mean([truth[int(np.argmax(sims[i]))] == truth[i] for i in range(len(texts))]))
        emit(f"| {name} | {np.mean([len(t) for t in texts]):.0f} | {closeness:.3f} | {accuracy:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--asr-dir", type=Path, help="*.analysis.json of the shared calls' audio (callscope analyze --output-dir)"
    )
    parser.add_argument("--cache", type=Path, help="embedding cache file (pickle), reused across runs")
    parser.add_argument("--sensitivity", action="store_true", help="also vary the method's knobs")
    parser.add_argument("--scale", type=int, default=0, help="items for the scale run (e.g. 100000)")
    parser.add_argument("--scale-only", action="store_true", help="skip the quality tables (with --scale)")
    args = parser.parse_args()

    sets = load_sets(args.data, args.asr_dir)
    options = IssueOptions()
    cache = EmbeddingCache(args.cache)
    encoders = cache.encoders()
    emb: dict[str, dict[str, np.ndarray]] = {}
    embed_s: dict[str, float] = {}
    for name, (items, _) in sets.items():
        start = time.perf_counter()
        emb[name] = embed_items(items, options, encoders=encoders)
        embed_s[name] = time.perf_counter() - start
    # Calls without their context (reason only), to show what the agent's answers add.
    no_context = replace(options, context_weight=0.0)
    emb_reason = {
        name: embed_items(items, no_context, encoders=encoders) for name, (items, _) in sets.items() if "calls" in name
    }

    if not args.scale_only:
        # Reference Ward: threshold tuned on bitext (best NMI+ARI), then fixed.
        bt_use = emb["bitext"]["use-multilingual"]
        grid = [0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 2.4, 2.8, 3.2, 3.6, 4.0, 5.0]
        bt_truth = sets["bitext"][1]
        tuned = max(grid, key=lambda t: sum(scores(bt_truth, list(ward_labels(bt_use, t)))[:2]))

        emit("## Issue mining: clustering quality with no preset number of clusters")
        emit()
        emit(
            f"Reference Ward = USE multilingual + Ward, distance threshold {tuned} "
            "(tuned on bitext, fixed elsewhere). HDBSCAN = min_cluster_size 5 on the same USE vectors, "
            "noise points counted as singletons. "
            "Ours = USE + e5 (centred per language) → each encoder's kNN graph, summed → Louvain, resolution "
            "chosen by cross-encoder agreement on the items clustered (sets < 200 items: average linkage cut "
            "at background mean + z sd, z = 0.3 log2(n) - 0.2). Calls: reason mixed 50/50 with the agent's answers; "
            "'reason only' = without them."
        )
        emit()
        emit("| data set | items | intents | method | clusters | NMI | ARI | NMI ratio | ARI ratio | cluster s |")
        emit("|---|---|---|---|---|---|---|---|---|---|")
        for name, (items, truth) in sets.items():
            use = emb[name]["use-multilingual"]
            rows = []
            t0 = time.perf_counter()
            ward = scores(truth, list(ward_labels(use, tuned)))
            rows.append(("reference Ward (USE)", ward, time.perf_counter() - t0))
            t0 = time.perf_counter()
            oracle = AgglomerativeClustering(n_clusters=len(set(truth)), linkage="ward").fit(use).labels_
            rows.append(("Ward (USE), k = true count (oracle)", scores(truth, list(oracle)), time.perf_counter() - t0))
            t0 = time.perf_counter()
            rows.append(
                (
                    "HDBSCAN (USE)",
                    scores(truth, hdbscan_labels(use)) if len(items) > 10 else (float("nan"),) * 2 + (0,),
                    time.perf_counter() - t0,
                )
            )
            labels, secs, res = ours(items, emb[name], options)
            rows.append((f"ours (r={res:g})" if res else "ours (small set)", scores(truth, labels), secs))
            if len(items) >= options.small_set_items:  # the previous round's graph, same run
                labels, secs, res = ours(items, emb[name], replace(options, graph="joint"))
                rows.append((f"ours, joint-vector graph (round 2) (r={res:g})", scores(truth, labels), secs))
            if name in emb_reason:
                labels, secs, _ = ours(items, emb_reason[name], no_context)
                rows.append(("ours, reason only (small set)", scores(truth, labels), secs))
            for method, (nmi, ari, k), secs in rows:
                emit(
                    f"| {name} | {len(items)} | {len(set(truth))} | {method} | {k} | {nmi:.3f} | {ari:.3f} | "
                    f"{ratio(nmi, ward[0])} | {ratio(ari, ward[1])} | {secs:.1f} |"
                )
        emit()
        emit("Embedding time (both encoders, this machine): " + ", ".join(f"{k} {v:.1f} s" for k, v in embed_s.items()))
        emit()

        emit("### Seed variance (ours)")
        emit()
        emit("| data set | graph | seed | resolution | clusters | NMI | ARI |")
        emit("|---|---|---|---|---|---|---|")
        for name in ("banking77", "bitext"):
            items, truth = sets[name]
            for graph in ("fused", "joint"):
                for seed in (0, 1, 2):
                    labels, _, res = ours(items, emb[name], replace(options, seed=seed, graph=graph))
                    nmi, ari, k = scores(truth, labels)
                    emit(f"| {name} | {graph} | {seed} | {res:g} | {k} | {nmi:.3f} | {ari:.3f} |")
        emit()

        emit("### Small-set cut on the calls (z of the average-linkage cut; default z = 0.3 log2(n) - 0.2)")
        emit()
        emit("| data set | z | clusters | NMI | ARI |")
        emit("|---|---|---|---|---|")
        for name in [n for n in sets if "calls" in n]:
            items, truth = sets[name]
            for z in (0.5, 0.75, 1.0, 1.25, 1.5):
                labels, _, _ = ours(items, emb[name], replace(options, small_set_z=z))
                nmi, ari, k = scores(truth, labels)
                emit(f"| {name} | {z} | {k} | {nmi:.3f} | {ari:.3f} |")
        emit()

        emit("### Reason for calling on the 16 shared calls")
        emit()
        reason_table(args.data, args.asr_dir, encoders)
        emit()

        if args.sensitivity:
            emit("### Sensitivity of ours to its knobs (seed 0)")
            emit()
            emit(
                "| data set | neighbours | tolerance | agreement runs | encoders | resolution | clusters | NMI | ARI |"
            )
            emit("|---|---|---|---|---|---|---|---|---|")
            for name in ("banking77", "bitext"):
                items, truth = sets[name]
                for neighbours, tol, runs, encs in (
                    (10, 0.03, 1, options.encoders), (30, 0.03, 1, options.encoders),
                    (20, 0.01, 1, options.encoders), (20, 0.03, 1, options.encoders),
                    (20, 0.05, 1, options.encoders), (20, 0.03, 3, options.encoders),
                    (20, 0.03, 1, ("use-multilingual",)),
                ):  # fmt: skip
                    o = replace(
                        options, neighbours=neighbours, agreement_tolerance=tol, agreement_runs=runs, encoders=encs
                    )
                    labels, _, res = ours(items, {k: v for k, v in emb[name].items() if k in encs}, o)
                    nmi, ari, k = scores(truth, labels)
                    emit(
                        f"| {name} | {neighbours} | {tol} | {runs} | {'+'.join(encs)} | {res:g} | {k} | "
                        f"{nmi:.3f} | {ari:.3f} |"
                    )
            emit()

    if args.scale:
        emit(f"### Scale: {args.scale} items (real BANKING77 embeddings + small Gaussian perturbations)")
        emit()
        rng = np.random.default_rng(0)
        base = emb["banking77"]
        pick = rng.integers(0, len(sets["banking77"][0]), size=args.scale)
        big = {
            k: v[pick] + rng.normal(0, 0.02, size=(args.scale, v.shape[1])).astype(np.float32) for k, v in base.items()
        }
        items = [IssueItem(str(i), "x", "en") for i in range(args.scale)]
        truth = [sets["banking77"][1][j] for j in pick]
        tracemalloc.start()
        start = time.perf_counter()
        result = mine_issues(items, options, embeddings=big)
        secs = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        labels = [result.assignments[i.id] or f"u{i.id}" for i in items]
        nmi, ari, k = scores(truth, labels)
        emit("| items | clustered sample | issues | unclustered | NMI | ARI | wall s | peak traced MiB | max RSS MiB |")
        emit("|---|---|---|---|---|---|---|---|---|")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        emit(
            f"| {args.scale} | {options.max_cluster_items} | {len(result.issues)} | {len(result.unclustered)} | "
            f"{nmi:.3f} | {ari:.3f} | {secs:.1f} | {peak / 2**20:.0f} | {rss:.0f} |"
        )
        use_enc = load_encoder("use-multilingual")
        sample = [i.text for i in sets["banking77"][0]][:2000]
        start = time.perf_counter()
        use_enc.encode(sample)
        per_s = len(sample) / (time.perf_counter() - start)
        emit()
        emit(
            f"USE encodes about {per_s:.0f} texts/s here, so embedding {args.scale} texts takes about "
            f"{args.scale / per_s / 60:.1f} min with USE alone."
        )
        emit()

    if args.out:
        args.out.write_text("\n".join(LINES) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
