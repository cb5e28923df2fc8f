"""Prosody (pitch, energy, rate) on the dual-channel test calls and on known signals."""

from __future__ import annotations

import numpy as np
import pytest

from callscope.analysis.prosody import ProsodyFeatures, arousal_scores, extract_prosody, segment_prosody
from callscope.domain import Audio
from callscope.errors import InvalidAudioError
from callscope.recordings.audio import load_audio


def _voice(f0_hz: float, seconds: float, level: float, rate_hz: float = 4.0, sr: int = 8000) -> np.ndarray:
    """A harmonic 'voice' with syllable-like amplitude bursts at ``rate_hz``."""
    t = np.arange(int(seconds * sr)) / sr
    wave = sum(np.sin(2 * np.pi * f0_hz * k * t) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * rate_hz * t)
    return (level * wave * envelope / 2.3).astype(np.float32)


def test_pitch_of_known_signals() -> None:
    low = extract_prosody(_voice(110.0, 2.0, 0.3), 8000)
    high = extract_prosody(_voice(220.0, 2.0, 0.3), 8000)
    assert low is not None and high is not None
    assert low.f0_median_hz == pytest.approx(110.0, rel=0.03)
    assert high.f0_median_hz == pytest.approx(220.0, rel=0.03)
    assert high.f0_semitones - low.f0_semitones == pytest.approx(12.0, abs=0.5)


def test_silence_and_bad_input() -> None:
    assert extract_prosody(np.zeros(16000, dtype=np.float32), 8000) is None
    assert extract_prosody(np.zeros(100, dtype=np.float32), 8000) is None
    with pytest.raises(InvalidAudioError, match="mono"):
        extract_prosody(np.zeros((2, 8000), dtype=np.float32), 8000)
    with pytest.raises(InvalidAudioError, match="too low"):
        extract_prosody(np.zeros(8000, dtype=np.float32), 4000)
    with pytest.raises(InvalidAudioError, match="channel 2"):
        segment_prosody(Audio(np.zeros((2, 8000), dtype=np.float32), 8000), 0.0, 1.0, channel=2)


def test_channels_of_a_real_call(data_dir) -> None:
    """s_en_03: male caller on channel 0, female agent on channel 1 (8 kHz mu-law)."""
    audio = load_audio(data_dir / "calls/s_en_03.stereo.wav")
    caller = segment_prosody(audio, 4.691, 11.775, channel=0)
    agent = segment_prosody(audio, 12.428, 19.622, channel=1)
    caller_on_agent_channel = segment_prosody(audio, 4.691, 11.775, channel=1)
    assert caller is not None and agent is not None
    assert 80 < caller.f0_median_hz < 160  # type: ignore[operator]
    assert agent.f0_median_hz > caller.f0_median_hz + 40  # type: ignore[operator]
    assert 1.5 < caller.rate_per_s < 8.0
    # the other leg is (nearly) silent while the caller talks
    assert caller_on_agent_channel is None or caller_on_agent_channel.energy_dbfs < caller.energy_dbfs - 20
    mono = load_audio(data_dir / "calls/s_en_03.mono.wav")
    mixed = segment_prosody(mono, 4.691, 11.775)
    assert mixed is not None and mixed.f0_median_hz == pytest.approx(caller.f0_median_hz, rel=0.1)


def test_arousal_is_relative_to_each_speaker() -> None:
    calm = [extract_prosody(_voice(f, 1.5, 0.1), 8000) for f in (100.0, 104.0, 98.0)]
    raised = extract_prosody(_voice(140.0, 1.5, 0.4, rate_hz=6.0), 8000)
    other = [extract_prosody(_voice(f, 1.5, 0.3), 8000) for f in (210.0, 205.0)]
    scores = arousal_scores([*calm, raised, *other, None], ["a", "a", "a", "a", "b", "b", "b"])
    assert scores[3] > 1.0 and all(s < 0 for s in scores[:3])
    assert abs(scores[4]) < 1.0 and abs(scores[5]) < 1.0  # b never raised the voice
    assert scores[6] is None
    assert arousal_scores([calm[0]]) == [0.0]
    with pytest.raises(ValueError):
        arousal_scores(calm, ["a"])


def test_features_dataclass_semitones() -> None:
    f = ProsodyFeatures(1.0, 1.0, 110.0, 2.0, -20.0, 6.0, 4.0)
    assert f.f0_semitones == pytest.approx(12.0)


def _gliding_voice(f0_hz: float, spread_st: float, seconds: float, rate_hz: float, sr: int = 8000) -> np.ndarray:
    """A voice whose pitch swings ``spread_st`` semitones around ``f0_hz`` (intonation)."""
    t = np.arange(int(seconds * sr)) / sr
    f0 = f0_hz * 2 ** (spread_st / 2 * np.sin(2 * np.pi * 0.7 * t) / 12)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * rate_hz * t)
    return (0.3 * wave * envelope / 2.3).astype(np.float32)


def test_speaker_contrast_uses_range_and_rate_not_level_or_voice() -> None:
    from callscope.analysis.prosody import speaker_contrast

    agent = [extract_prosody(_gliding_voice(210.0, 3.0, 2.0, 4.0), 8000) for _ in range(2)]
    flat = [extract_prosody(_gliding_voice(110.0, 3.0, 2.0, 4.0), 8000)]
    lively = [extract_prosody(_gliding_voice(110.0, 9.0, 2.0, 6.0), 8000)]
    quiet_lively = [extract_prosody(0.1 * _gliding_voice(110.0, 9.0, 2.0, 6.0), 8000)]
    calm = speaker_contrast(flat, agent)
    upset = speaker_contrast(lively, agent)
    assert calm is not None and upset is not None
    assert abs(calm) < 0.5  # a lower voice alone is not arousal
    assert upset > calm + 1.0  # wider pitch range and faster syllables are
    assert speaker_contrast(quiet_lively, agent) == pytest.approx(upset, abs=0.3)  # channel gain does not matter
    assert speaker_contrast([None], agent) is None and speaker_contrast(lively, []) is None


def test_a_long_stretch_is_analysed_in_blocks_with_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A turn longer than a block (BLOCK_FRAMES) is read and analysed a block at a time."""
    import callscope.analysis.prosody as prosody

    voice = np.concatenate([_voice(f0, 3.0, level) for f0, level in ((110.0, 0.3), (180.0, 0.1), (140.0, 0.5))] * 3)
    audio = Audio(np.stack([voice, voice[::-1].copy()]), 8000)
    reads: list[int] = []

    class Counting:
        """The audio, counting how many frames each read asks for."""

        sample_rate, channels, frames, duration_s = audio.sample_rate, audio.channels, audio.frames, audio.duration_s

        def read(self, first: int, last: int) -> np.ndarray:
            reads.append(last - first)
            return audio.read(first, last)

    whole = segment_prosody(audio, 1.0, 26.0, channel=0)
    monkeypatch.setattr(prosody, "BLOCK_FRAMES", 300)  # 3 s blocks
    blocks = segment_prosody(Counting(), 1.0, 26.0, channel=0)  # type: ignore[arg-type]
    assert whole is not None and blocks is not None
    assert max(reads) <= 300 * 80 + 512  # a block of frames and one frame length, never the stretch
    for name in ("active_s", "f0_median_hz", "f0_range_st", "energy_dbfs", "energy_range_db", "rate_per_s"):
        assert getattr(blocks, name) == pytest.approx(getattr(whole, name), rel=1e-4, abs=1e-4), name
