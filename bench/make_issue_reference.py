"""Write ``callscope/analysis/data/issue_reference_means.npz``: each encoder's mean vector per language.

Issue mining centres every encoder's vectors per language (it removes the "this is Chinese"
direction and the part all questions share). A large set measures those means itself; a small
one cannot: when five of eight calls are about one outage, or all three Mandarin calls are,
the set's own mean *is* the outage, and centring on it pulls the outage calls apart (the
demo's transferred calls were mined as two outage issues). Small sets are therefore centred on
these reference means instead.

They are measured on the **dev** split of the benchmark call corpus (``bench/corpus``: 93
scripted calls, 28 intents in both English and Mandarin, each call embedded as issue mining
embeds it: the reason mixed with the agent's answers), never on a test call.

It also stores the reference *pair similarities* (``pairs/<encoders>/texts`` and ``.../calls``: mean and sd
of the cosines of all pairs of joint vectors, centred on those reference means): a small set's background
(the chance similarity its cut is measured against) is pulled towards them, so a set whose items are all
about one issue is not split for lack of anything else to compare with. Calls: the same dev calls; single
texts: the dev parts of the text sets (CLINC150 train, 20 per intent; the BANKING77 and bitext dev halves;
equal weight per set), never a test item.

    python bench/make_issue_reference.py [--cache FILE] [--data DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_issue_generalisation import corpus_sets, text_sets  # noqa: E402
from bench_issues import EmbeddingCache  # noqa: E402

from callscope.analysis.issues import REFERENCE_MEANS, IssueOptions, _centre, _joint, _pair_stats, embed_items  # noqa: E402
from callscope.language import detect_text_language  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "issue_embeddings.pkl")
    parser.add_argument("--out", type=Path, default=REFERENCE_MEANS)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    items, _ = corpus_sets("dev", None)["call corpus dev (reference)"]
    raw = embed_items(items, IssueOptions(), encoders=EmbeddingCache(args.cache).encoders())
    langs = np.asarray([i.language or detect_text_language(i.text) for i in items])
    arrays = {}
    for name, vectors in raw.items():
        for lang in ("en", "zh"):
            arrays[f"{name}/{lang}"] = vectors[langs == lang].mean(axis=0).astype(np.float32)
    counts = {lang: int((langs == lang).sum()) for lang in ("en", "zh")}
    means = {name: {lang: arrays[f"{name}/{lang}"] for lang in ("en", "zh")} | {"*": v.mean(axis=0)} for name, v in raw.items()}
    key = "+".join(sorted(raw))

    def pair_stats(these: list, these_raw: dict) -> tuple[float, float]:
        la = [i.language or detect_text_language(i.text) for i in these]
        return _pair_stats(_joint(_centre(these_raw, la, means)))

    arrays[f"pairs/{key}/calls"] = np.array(pair_stats(items, raw), dtype=np.float64)
    stats = []
    for name, (texts, _) in text_sets(args.data, "dev").items():
        stats.append(pair_stats(texts, embed_items(texts, IssueOptions(), encoders=EmbeddingCache(args.cache).encoders())))
        print(f"{name}: pair cosine mean {stats[-1][0]:.3f}, sd {stats[-1][1]:.3f}")
    m = float(np.mean([a for a, _ in stats]))
    sd = float(np.sqrt(np.mean([b**2 + (a - m) ** 2 for a, b in stats])))  # the equal-weight mixture
    arrays[f"pairs/{key}/texts"] = np.array([m, sd], dtype=np.float64)
    print(f"pairs: calls {arrays[f'pairs/{key}/calls'].round(3)}, texts {arrays[f'pairs/{key}/texts'].round(3)}")
    np.savez_compressed(args.out, **arrays, counts=np.array([counts["en"], counts["zh"]]))
    print(f"wrote {args.out} ({', '.join(arrays)}; calls: {counts})")


if __name__ == "__main__":
    main()
