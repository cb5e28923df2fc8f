"""CTranslate2 <-> openai-whisper <-> Hugging Face weight conversion, and engine agreement."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from callscope.errors import ModelError
from callscope.transcription import checkpoints, model_files


@pytest.fixture(scope="module")
def base_ct2(model_dir: Path) -> Path:
    return model_files.provision_named("base", model_dir)


@pytest.fixture(scope="module")
def base_weights(base_ct2: Path) -> checkpoints.OpenAIWeights:
    config = json.loads((base_ct2 / "config.json").read_text())
    return checkpoints.ct2_to_openai(checkpoints.read_ct2_model(base_ct2 / "model.bin"), config)


def test_read_ct2_model(base_ct2: Path) -> None:
    ct2 = checkpoints.read_ct2_model(base_ct2 / "model.bin")
    assert (ct2.spec, ct2.revision, len(ct2.variables)) == ("WhisperSpec", 3, 212)
    assert ct2.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    assert ct2.variables["decoder/embeddings/weight"].shape == (51865, 512)
    assert ct2.variables["decoder/embeddings/weight"].dtype == np.float16


def test_truncated_ct2_model_is_a_model_error(base_ct2: Path, tmp_path: Path) -> None:
    broken = tmp_path / "model.bin"
    with (base_ct2 / "model.bin").open("rb") as handle:
        broken.write_bytes(handle.read(5_000_000))
    with pytest.raises(ModelError, match="truncated or corrupt"):
        checkpoints.read_ct2_model(broken)


def test_ct2_to_openai_loads_strictly(base_weights: checkpoints.OpenAIWeights) -> None:
    assert len(base_weights.state_dict) == 245
    assert base_weights.dims == {
        "n_mels": 80, "n_vocab": 51865, "n_audio_ctx": 1500, "n_audio_state": 512, "n_audio_head": 8,
        "n_audio_layer": 6, "n_text_ctx": 448, "n_text_state": 512, "n_text_head": 8, "n_text_layer": 6,
    }
    assert base_weights.alignment_heads == [(3, 1), (4, 2), (4, 3), (4, 7), (5, 1), (5, 2), (5, 4), (5, 6)]
    assert checkpoints.default_alignment_heads(base_weights.dims) == base_weights.alignment_heads  # = whisper's "base"
    model = checkpoints.build_openai_model(base_weights)  # load_state_dict(strict=True)
    assert set(model.state_dict()) == set(base_weights.state_dict)
    assert model.alignment_heads.to_dense().nonzero().tolist() == [list(h) for h in base_weights.alignment_heads]


def test_openai_checkpoint_is_cached_once(model_dir: Path, base_weights: checkpoints.OpenAIWeights) -> None:
    source = model_files.resolve_model("base", model_dir)
    path = model_files.openai_checkpoint(source, model_dir)
    mtime = path.stat().st_mtime_ns
    assert model_files.openai_checkpoint(source, model_dir) == path and path.stat().st_mtime_ns == mtime
    loaded = checkpoints.read_openai_checkpoint(path)
    assert loaded.dims == base_weights.dims and len(loaded.state_dict) == 245
    assert np.array_equal(loaded.state_dict["decoder.blocks.5.cross_attn.value.bias"], base_weights.state_dict["decoder.blocks.5.cross_attn.value.bias"])
    import whisper

    model = whisper.load_model(str(path), device="cpu")  # the file path form: never a download
    assert model.dims.n_vocab == 51865


def test_openai_to_ct2_round_trip(base_ct2: Path, base_weights: checkpoints.OpenAIWeights) -> None:
    original = checkpoints.read_ct2_model(base_ct2 / "model.bin").variables
    rebuilt = checkpoints.openai_to_ct2_variables(base_weights)
    weights = {k: v for k, v in original.items() if v.ndim > 0}
    assert set(rebuilt) == set(weights)
    assert all(np.array_equal(rebuilt[k], weights[k]) for k in weights)


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype=np.float16).tobytes()
        header[name] = {"dtype": "F16", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"".join(blobs))


def test_hugging_face_folder(base_weights: checkpoints.OpenAIWeights, tmp_path: Path) -> None:
    """A transformers-layout folder (names per docs/models.md 3.5) maps back to the same weights."""
    reverse = {v: k for k, v in checkpoints.HF_LAYER_MAP.items()}
    hf: dict[str, np.ndarray] = {}
    for name, array in base_weights.state_dict.items():
        part, rest = name.split(".", 1)
        if rest.startswith("blocks."):
            _, idx, module = rest.split(".", 2)
            module, kind = module.rsplit(".", 1)
            hf[f"model.{part}.layers.{idx}.{reverse[module]}.{kind}"] = array
        elif rest == "positional_embedding":
            hf[f"model.{part}.embed_positions.weight"] = array
        elif rest == "token_embedding.weight":
            hf["model.decoder.embed_tokens.weight"] = array
        else:
            module, kind = rest.rsplit(".", 1)
            hf[f"model.{part}.{ {'ln_post': 'layer_norm', 'ln': 'layer_norm'}.get(module, module) }.{kind}"] = array
    hf["proj_out.weight"] = base_weights.state_dict["decoder.token_embedding.weight"]
    folder = tmp_path / "whisper-base-hf"
    folder.mkdir()
    _write_safetensors(folder / "model.safetensors", hf)
    (folder / "config.json").write_text(json.dumps({
        "model_type": "whisper", "num_mel_bins": 80, "vocab_size": 51865, "max_source_positions": 1500, "d_model": 512,
        "encoder_attention_heads": 8, "encoder_layers": 6, "max_target_positions": 448, "decoder_attention_heads": 8, "decoder_layers": 6,
    }))
    source = model_files.resolve_model(str(folder), tmp_path / "cache")
    assert source.kind == "hf"
    weights, _ = checkpoints.read_hf_folder(folder)
    assert weights.dims == base_weights.dims
    assert set(weights.state_dict) == set(base_weights.state_dict)
    assert all(np.array_equal(weights.state_dict[k], base_weights.state_dict[k]) for k in weights.state_dict)
    checkpoints.build_openai_model(weights)


@pytest.mark.slow
def test_openai_and_faster_whisper_agree(model_dir: Path, data_dir: Path) -> None:
    """The reference engine (openai-whisper, fp32) and CTranslate2 float32 write the same text and word times."""
    from callscope.transcription import TranscribeOptions, Transcriber

    clip = data_dir / "asr" / "librispeech-1995-1837-0001.wav"
    reference = Transcriber(TranscribeOptions(engine="openai-whisper", cpu_threads=2), model_dir).transcribe(clip)
    fast = Transcriber(TranscribeOptions(compute_type="float32", cpu_threads=2), model_dir).transcribe(clip)
    assert reference.engine == "openai-whisper" and fast.engine == "faster-whisper"
    assert reference.text == fast.text
    assert "first great sorrow" in reference.text
    ref_words = [(w.word, w.start) for s in reference.segments for w in s.words]
    fast_words = [(w.word, w.start) for s in fast.segments for w in s.words]
    assert [w for w, _ in ref_words] == [w for w, _ in fast_words]
    assert max(abs(a - b) for (_, a), (_, b) in zip(ref_words, fast_words)) <= 0.1
