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

    python bench/make_issue_reference.py [--cache FILE]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_issue_generalisation import corpus_sets  # noqa: E402
from bench_issues import EmbeddingCache  # noqa: E402

from callscope.analysis.issues import REFERENCE_MEANS, IssueOptions, embed_items  # noqa: E402
from callscope.language import detect_text_language  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "bench" / "out" / "issue_embeddings.pkl")
    parser.add_argument("--out", type=Path, default=REFERENCE_MEANS)
    args = parser.parse_args()
    items, _ = corpus_sets("dev", None)["call corpus dev (reference)"]
    raw = embed_items(items, IssueOptions(), encoders=EmbeddingCache(args.cache).encoders())
    langs = np.asarray([i.language or detect_text_language(i.text) for i in items])
    arrays = {}
    for name, vectors in raw.items():
        for lang in ("en", "zh"):
            arrays[f"{name}/{lang}"] = vectors[langs == lang].mean(axis=0).astype(np.float32)
    counts = {lang: int((langs == lang).sum()) for lang in ("en", "zh")}
    np.savez_compressed(args.out, **arrays, counts=np.array([counts["en"], counts["zh"]]))
    print(f"wrote {args.out} ({', '.join(arrays)}; calls: {counts})")


if __name__ == "__main__":
    main()
