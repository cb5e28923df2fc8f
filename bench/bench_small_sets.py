"""Small-set granularity: many sampled subsets of 8-199 items, dev parts to choose the rule, test parts once.

Issue #18: sets under ``IssueOptions.small_set_items`` (200) are clustered by average linkage
cut at ``mean + z * sd`` of the pair cosines (the "background"). How far above the background
a group must hold together (z) is the granularity rule. Choosing it on one or two whole sets
of ~100 calls gave a noisy answer (the agreement rule: dev ARI 0.77, test 0.47), so this
script calibrates it on a *distribution* of small sets: from each text set and from the call
corpus, it draws many subsets of every size (a random number of intents, Zipf-skewed
frequencies, so some intents are asked once and must stay unclustered), clusters each at a
grid of cuts (one linkage tree per subset, so the grid is cheap) and scores every rule on all
of them.

Parts (the same split as ``bench_issue_generalisation.py``): dev = CLINC150 train (20 per
intent), BANKING77 and bitext dev halves, the call corpus dev split (reference scripts);
test = CLINC150 validation, the other halves, the corpus test split (reference scripts, and the
Whisper transcripts of its rendered calls with ``--corpus-asr``).

Rules (label-free at run time; their constants are what the dev part chooses): z = a * log2(n) + b,
``size`` within [0.5, 2] (the baseline, a = 0.3, b = -0.2, fitted before issue #18 with the 16
shared calls in view), ``floor0`` within [0, 2]; and constant z (``plain``). Each runs with two
ways of centring a subset (``--centres``): ``set`` (each language's own mean, as before) and
``shrink:N`` (as ``mine_issues`` now centres small sets: the set's mean per language pulled
towards the shipped reference means, ``bench/make_issue_reference.py``, as if they were N more
items); ``reference`` (the dev corpus means alone) was also tried on dev.

Tried on dev and dropped: re-estimating the background from the pairs a cut puts in
different groups (fixed point; best mean ARI 0.70 vs 0.73 for the size rule).

    python bench/bench_small_sets.py --split dev [--subsets 20] [--out FILE]
    python bench/bench_small_sets.py --split test --centres set shrink:20 \
        --rules "size 0.3,-0.2" "floor0 0.3,-0.9" [--corpus-asr DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import random
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_issue_generalisation import corpus_sets, text_sets  # noqa: E402
from bench_issues import EmbeddingCache  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

from callscope.analysis import issues as mining  # noqa: E402

warnings.filterwarnings("ignore", category=FutureWarning)
SIZES = (8, 10, 12, 16, 20, 24, 32, 40, 50, 64, 100, 150, 199)
BANDS = {"8-16": (8, 16), "17-50": (17, 50), "51-199": (51, 199)}
Z_GRID = tuple(round(z, 1) for z in np.arange(0.0, 3.01, 0.1))
LINES: list[str] = []
REFERENCE: dict[str, dict[str, np.ndarray]] = {}  # encoder -> language -> mean vector (dev corpus calls)


def emit(line: str = "") -> None:
    LINES.append(line)
    print(line, flush=True)


def draw(labels: list[str], n: int, rng: random.Random) -> list[int] | None:
    """n indices: a random number of intents (2 .. n/2), Zipf-skewed frequencies (exponent 0.5-1.5)."""
    by: dict[str, list[int]] = defaultdict(list)
    for i, lab in enumerate(labels):
        by[lab].append(i)
    intents = sorted(by)
    m = rng.randint(2, max(2, min(len(intents), math.ceil(n / 2))))
    chosen = rng.sample(intents, m)
    s = rng.uniform(0.5, 1.5)
    weights = [1.0 / (r + 1) ** s for r in range(m)]
    pools = {lab: rng.sample(by[lab], len(by[lab])) for lab in chosen}
    out: list[int] = []
    while len(out) < n:
        live = [(lab, w) for lab, w in zip(chosen, weights, strict=True) if pools[lab]]
        if not live:
            return None
        lab = rng.choices([x for x, _ in live], [w for _, w in live])[0]
        out.append(pools[lab].pop())
    return out


def views_of(raw: dict[str, np.ndarray], langs: list[str], centre: str) -> dict[str, np.ndarray]:
    """Centre a subset's vectors: ``set`` (each language's own mean, before issue #18),
    ``reference`` (the dev corpus' mean per language: REFERENCE) or ``shrink:N`` (the set's
    mean per language pulled towards the shipped reference as if it were N more items, as
    :func:`~callscope.analysis.issues.mine_issues` now centres small sets)."""
    centre = centre.split("+", 1)[0]  # "+anchor": the background (not the centring) is anchored
    if centre == "set":
        return mining._centre(raw, langs, mining._language_means(raw, langs))
    if centre.startswith("shrink:"):
        return mining._centre(raw, langs, mining._small_set_means(raw, langs, float(centre.split(":")[1])))
    la = np.asarray(langs)
    out = {}
    for name, x in raw.items():
        x = np.array(x, dtype=np.float32, copy=True)
        for lang in set(langs):
            x[la == lang] -= REFERENCE[name][lang]
        out[name] = mining.l2_normalise(x)
    return out


def anchored(centre: str, name: str) -> tuple:
    """(anchor, prior) for a centre spec ending in ``+anchor`` (the shipped reference pairs, calls
    for the call corpus, single texts otherwise; prior = the shrink prior), else (None, None)."""
    if not centre.endswith("+anchor"):
        return None, None
    share = 1.0 if name.startswith("call") else 0.0
    return mining._pair_reference(mining.IssueOptions().encoders, share), float(centre.split(":")[1].split("+")[0])


def scores(truth: list[str], labels: np.ndarray) -> tuple[float, float]:
    sizes = np.bincount(labels)
    pred = [f"c{c}" if sizes[c] >= 2 else f"u{i}" for i, c in enumerate(labels)]
    return float(adjusted_rand_score(truth, pred)), float(normalized_mutual_info_score(truth, pred))


def grid_scores(joint: np.ndarray, truth: list[str], anchor=None, prior=None) -> dict[tuple[str, float], tuple[float, float]]:
    """(ARI, NMI) of the cut at every z of the grid; the background is the set's own pairs,
    pulled towards ``anchor`` (reference pairs) as ``prior`` more items when given."""
    tree = mining._average_linkage(joint)
    mean, sd = mining._background(joint, anchor, prior)
    seen: dict[bytes, tuple[float, float]] = {}
    out = {}
    for z in Z_GRID:
        for kind, labels in (("plain", mining._cut_tree(tree, mean + z * sd)),):
            key = labels.tobytes()
            if key not in seen:
                seen[key] = scores(truth, labels)
            out[(kind, z)] = seen[key]
    return out


def rule_z(rule: tuple[str, float, float], n: int, calls: bool = False) -> tuple[str, float]:
    kind, a, b = rule
    if kind == "default":  # callscope's rule: offset per kind of item (texts, calls with context)
        return "plain", round(mining.small_set_z(n, mining.IssueOptions(), 1.0 if calls else 0.0), 1)
    if kind == "kinds":  # slope 0.3, offset a for texts and b for calls, in [0, 2] ("kinds -1.0,-0.5")
        return "plain", round(float(np.clip(0.3 * math.log2(n) + (b if calls else a), 0.0, 2.0)), 1)
    if kind == "size":  # the rule before issue #18 (floor 0.5)
        return "plain", round(float(np.clip(a * math.log2(n) + b, 0.5, 2.0)), 1)
    return "plain", round(float(np.clip(a * math.log2(n) + b, 0.0, 2.0)), 1)  # "floor0": floor 0


def band_of(n: int) -> str:
    return next(name for name, (lo, hi) in BANDS.items() if lo <= n <= hi)


def parse_rule(spec: str) -> tuple[str, float, float]:
    """``"size 0.3,-0.2"`` -> ("size", 0.3, -0.2); ``"plain 0.6"`` -> ("plain", 0, 0.6)."""
    kind, _, rest = spec.partition(" ")
    nums = [float(x) for x in rest.split(",")] if rest else []
    return (kind, nums[0] if len(nums) > 1 else 0.0, nums[-1] if nums else 0.0)


def rule_name(rule: tuple[str, float, float]) -> str:
    kind, a, b = rule
    if kind == "default":
        o = mining.IssueOptions().small_set_offsets
        return f"z = 0.3·log2 n {o[0]:+g} (texts) / {o[1]:+g} (calls) in [0, 2]"
    if kind == "kinds":
        return f"z = 0.3·log2 n {a:+g} (texts) / {b:+g} (calls) in [0, 2]"
    if kind == "size":
        return f"z = {a:g}·log2 n {b:+g} in [0.5, 2]"
    return f"z = {b:g}" if a == 0 else f"z = {a:g}·log2 n {b:+g} in [0, 2]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), required=True)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--corpus-asr", type=Path)
    parser.add_argument("--subsets", type=int, default=30, help="subsets per set and size")
    parser.add_argument("--centres", nargs="*", default=["set", "shrink:20"])
    parser.add_argument("--rules", nargs="*", help="rules to score (default on dev: the whole grid)")
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "issue_embeddings.pkl")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--from-grids", type=Path, help="rescore the rules on the grids (.pkl) of an earlier run")
    args = parser.parse_args()

    sets = text_sets(args.data, args.split) | corpus_sets(args.split, args.corpus_asr)
    sets = {k: v for k, v in sets.items() if "of 94" not in k and "of 93" not in k}
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    encoders = EmbeddingCache(args.cache).encoders()
    if args.rules:
        rules = [parse_rule(s) for s in args.rules]
    else:
        rules = [("size", 0.3, -0.2), ("kinds", -1.0, -0.5)]
        rules += [(kind, a, b) for kind in ("size", "floor0") for a in np.arange(0.0, 0.61, 0.05) for b in np.arange(-2.0, 1.01, 0.1)]
        rules += [("plain", 0.0, z) for z in Z_GRID]
        rules = list(dict.fromkeys((k, round(float(a), 3), round(float(b), 3)) for k, a, b in rules))
    if args.from_grids:
        with args.from_grids.open("rb") as fh:
            saved = pickle.load(fh)
        grids, whole = saved["grids"], saved["whole"]
        args.centres = [c for c in args.centres if c in grids]
    else:
        # the reference mean per encoder and language: the dev corpus calls (en and zh calls about
        # the same 28 intents), never a test item
        items, _ = corpus_sets("dev", None)["call corpus dev (reference)"]
        raw = mining.embed_items(items, mining.IssueOptions(), encoders=encoders)
        la = np.asarray(mining._languages(items))
        for name, x in raw.items():
            REFERENCE[name] = {lang: x[la == lang].mean(axis=0) for lang in ("en", "zh")}
        # grids[centre][set] -> list of (n, {(kind, z): (ari, nmi)})
        grids: dict = defaultdict(lambda: defaultdict(list))
        whole: dict = defaultdict(dict)
        seed = {"dev": 1800, "test": 1900}[args.split]
        for name, (items, truth) in sets.items():
            raw = mining.embed_items(items, mining.IssueOptions(), encoders=encoders)
            langs = mining._languages(items)
            rng = random.Random(f"{seed}:{name}")
            # no-issue calls are their own intents (singletons by construction)
            for n in SIZES:
                if n > len(items) - 1:
                    continue
                for _ in range(args.subsets):
                    idx = draw(truth, n, rng)
                    if idx is None:
                        continue
                    sub_truth = [truth[i] for i in idx]
                    for centre in args.centres:
                        v = views_of({k: x[idx] for k, x in raw.items()}, [langs[i] for i in idx], centre)
                        grids[centre][name].append((n, grid_scores(mining._joint(v), sub_truth, *anchored(centre, name))))
            if name.startswith("call corpus") and len(items) < 200:
                for centre in args.centres:
                    v = views_of(raw, langs, centre)
                    whole[centre][name] = grid_scores(mining._joint(v), truth, *anchored(centre, name))
            print(f"{name}: done", file=sys.stderr, flush=True)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            with args.out.with_suffix(".pkl").open("wb") as fh:
                pickle.dump({"grids": {c: dict(g) for c, g in grids.items()}, "whole": dict(whole)}, fh)
    results: dict = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    for centre in args.centres:
        for name, rows in grids[centre].items():
            for n, grid in rows:
                for rule in rules:
                    results[centre][rule][name][band_of(n)].append(grid[rule_z(rule, n, name.startswith("call"))])

    def cell(centre: str, rule, name: str, band: str) -> tuple[float, float]:
        vals = results[centre][rule][name][band]
        return (float(np.mean([a for a, _ in vals])), float(np.mean([m for _, m in vals]))) if vals else (math.nan, math.nan)

    def overall(centre: str, rule) -> float:
        cells = [cell(centre, rule, name, band)[0] for name in sets for band in BANDS if results[centre][rule][name][band]]
        return float(np.mean(cells))

    def kind_mean(centre: str, rule, calls: bool) -> float:
        cells = [cell(centre, rule, name, band)[0] for name in sets for band in BANDS
                 if name.startswith("call") == calls and results[centre][rule][name][band]]
        return float(np.mean(cells)) if cells else math.nan

    for centre in args.centres:
        for calls in (False, True):
            cands = [(kind_mean(centre, r, calls), r) for r in rules if r[0] == "floor0" and abs(r[1] - 0.3) < 1e-9]
            cands = [c for c in cands if not math.isnan(c[0])]
            if cands:
                best = max(cands, key=lambda t: t[0])
                emit(f"best offset, slope 0.3, {centre}, {'calls' if calls else 'texts'}: b = {best[1][2]:+.1f} (mean ARI {best[0]:.3f})")
    emit()
    ranked = sorted(((overall(c, r), c, r) for c in args.centres for r in rules), key=lambda t: -t[0])
    emit(f"### Small-set granularity, {args.split} part ({args.subsets} subsets per set and size)")
    emit()
    emit("Mean ARI over the (set, size band) cells, equal weight per cell; best 15 rules, then the baseline.")
    emit()
    emit("| centre | rule | mean ARI |")
    emit("|---|---|---|")
    shown = ranked[:15] + [t for t in ranked[15:] if t[2] == ("size", 0.3, -0.2)]
    for score, centre, rule in shown:
        emit(f"| {centre} | {rule_name(rule)} | {score:.3f} |")
    emit()
    top = [(c, r) for _, c, r in ranked[:4]] if len(ranked) > 4 else [(c, r) for _, c, r in ranked]
    if ("set", ("size", 0.3, -0.2)) not in top:
        top.append(("set", ("size", 0.3, -0.2)))
    emit("Per set and size band (ARI / NMI, mean over subsets):")
    emit()
    emit("| set | band | " + " | ".join(f"{c}: {rule_name(r)}" for c, r in top) + " |")
    emit("|---|---|" + "---|" * len(top))
    for name in sets:
        for band in BANDS:
            if not results[top[0][0]][top[0][1]][name][band]:
                continue
            cells = [cell(c, r, name, band) for c, r in top]
            emit(f"| {name} | {band} | " + " | ".join(f"{a:.3f} / {m:.3f}" for a, m in cells) + " |")
    for name in sorted({k for c in whole for k in whole[c]}):
        cells = [whole.get(c, {}).get(name, {}).get(rule_z(r, len(sets[name][0]), True), (math.nan, math.nan)) for c, r in top]
        emit(f"| {name} (whole set) | {len(sets[name][0])} | " + " | ".join(f"{a:.3f} / {m:.3f}" for a, m in cells) + " |")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(LINES) + "\n", encoding="utf-8")
        json.dump(  # every rule's mean ARI
            {f"{c}|{rule_name(r)}": s for s, c, r in ranked}, args.out.with_suffix(".json").open("w"), indent=0
        )


if __name__ == "__main__":
    main()
