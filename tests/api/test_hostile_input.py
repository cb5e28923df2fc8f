"""Hostile query values and audio headers get 4xx answers, never 500s."""

from __future__ import annotations

import struct

import pytest


def _wav(rate: int, bits: int) -> bytes:
    payload = b"\0" * 1600
    block = max(bits, 8) // 8
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    return b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVE" + b"fmt " + fmt + b"data" \
        + struct.pack("<I", len(payload)) + payload


@pytest.mark.parametrize(("url", "params"), [
    ("/api/recordings", {"offset": "1e30"}),
    ("/api/recordings", {"offset": str(10**30)}),
    ("/api/recordings", {"limit": "1e30"}),
    ("/api/search", {"q": "bill", "offset": "1e19"}),
    ("/api/search", {"q": "bill", "offset": str(10**19)}),
])
def test_huge_offsets_are_422(api, url: str, params: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    api.store_call("s_en_03")
    response = api.get(url, "read-only", params=params)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(("name", "data", "message"), [
    ("zero-bits.wav", _wav(8000, 0), "zero-bits.wav: "),
    ("huge-rate.wav", _wav(2_147_483_647, 16), "huge-rate.wav: sample rate 2147483647 Hz"),
])
def test_hostile_wav_headers_are_rejected_with_4xx(api, name: str, data: bytes, message: str) -> None:  # type: ignore[no-untyped-def]
    response = api.post("/api/recordings", "reviewer", files={"file": (name, data, "audio/wav")})
    assert 400 <= response.status_code < 500, response.text
    assert message in response.text
    assert api.get("/api/recordings").json()["total"] == 0


@pytest.mark.parametrize("value", ["inf", "nan", "1e400"])
def test_non_finite_durations_are_422(api, value: str) -> None:  # type: ignore[no-untyped-def]
    assert api.get("/api/recordings", "read-only", params={"min_duration": value}).status_code == 422


def test_hours_of_silence_in_a_small_flac_are_refused_at_upload(api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import soundfile as sf

    path = tmp_path / "ten_hours.flac"
    block = np.zeros(8000 * 600, dtype=np.int16)
    with sf.SoundFile(path, "w", 8000, 1, "PCM_16", format="FLAC") as handle:
        for _ in range(60):  # 10 h
            handle.write(block)
    assert path.stat().st_size < 1_500_000
    response = api.post("/api/recordings", "reviewer", files={"file": ("ten_hours.flac", path.read_bytes(), "audio/flac")})
    assert response.status_code == 422, response.text
    assert "ten_hours.flac: 10 h 00 min of audio is longer than the maximum of 4 h 00 min" in response.text
    assert api.get("/api/recordings").json()["total"] == 0
