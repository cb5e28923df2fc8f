"""Streaming frame features for energy-based voice activity: band level and signalling tones.

Every ``hop`` samples (10 ms) each channel gets the level of the telephone speech
band (250–3600 Hz, dBFS) and a flag for frames that are a telephone signalling tone:
a DTMF key or a call-progress tone (dial, ringback, busy). Those put nearly all their
energy into two peaks at standard frequencies. A plain "few strong peaks" test is not
enough: synthetic and monotone voices can be as peaky, so the frequencies must match.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

FRAME_S = 0.01
BAND_HZ = (250.0, 3600.0)
_FLOOR_DB = -120.0
_DTMF_LOW = (697.0, 770.0, 852.0, 941.0)
_DTMF_HIGH = (1209.0, 1336.0, 1477.0, 1633.0)
# North-American / ITU call-progress pairs: dial, ringback, busy/reorder.
TONE_PAIRS = tuple((lo, hi) for lo in _DTMF_LOW for hi in _DTMF_HIGH) + ((350.0, 440.0), (440.0, 480.0), (480.0, 620.0))
TONE_SHARE = 0.9  # share of band energy in the two peaks for a tone frame
TONE_TOLERANCE = 0.02  # relative frequency error (ITU Q.24 accepts 1.5 %, rejects 3.5 %)


class FrameAnalyzer:
    """Turn chunks of multi-channel samples into per-frame (level dB, tonality)."""

    def __init__(self, sample_rate: int, channels: int) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.hop = max(1, round(sample_rate * FRAME_S))
        self.frame_s = self.hop / sample_rate
        self.n_fft = 1 << int(np.ceil(np.log2(max(64, 0.032 * sample_rate))))
        self.window = np.hanning(self.n_fft + 2)[1:-1].astype(np.float32)
        freqs = np.fft.rfftfreq(self.n_fft, 1.0 / sample_rate)
        high = min(BAND_HZ[1], 0.47 * sample_rate)
        self.band = np.flatnonzero((freqs >= BAND_HZ[0]) & (freqs <= high))
        # Parseval with a Hann window: mean square of the band-limited signal.
        self.scale = 2.0 / (self.n_fft * float(np.sum(self.window**2)))
        pad = (self.n_fft - self.hop) // 2  # centre each window on its frame
        self._pending = np.zeros((channels, pad), dtype=np.float32)
        self.frames_out = 0

    def push(self, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add samples of shape (channels, n); return (levels dB, tone flags) of the frames now complete."""
        buffer = np.concatenate([self._pending, samples.astype(np.float32, copy=False)], axis=1)
        available = buffer.shape[1] - self.n_fft
        count = 0 if available < 0 else available // self.hop + 1
        if count == 0:
            self._pending = buffer
            return _empty(self.channels)
        self._pending = buffer[:, count * self.hop :]
        return self._analyse(buffer, count)

    def finish(self, total_samples: int) -> tuple[np.ndarray, np.ndarray]:
        """Flush: frames up to ``total_samples`` (zero-padded at the end)."""
        wanted = int(np.ceil(total_samples / self.hop)) - self.frames_out
        if wanted <= 0:
            return _empty(self.channels)
        need = (wanted - 1) * self.hop + self.n_fft
        buffer = self._pending
        if buffer.shape[1] < need:
            buffer = np.pad(buffer, ((0, 0), (0, need - buffer.shape[1])))
        self._pending = np.zeros((self.channels, 0), np.float32)
        return self._analyse(buffer, wanted)

    def _analyse(self, buffer: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        levels = np.empty((self.channels, count), np.float32)
        tones = np.zeros((self.channels, count), bool)
        step = 4096  # frames per FFT batch: bounded scratch memory
        for channel in range(self.channels):
            views = np.lib.stride_tricks.sliding_window_view(buffer[channel], self.n_fft)[:: self.hop][:count]
            for first in range(0, count, step):
                block = views[first : first + step] * self.window
                power = np.abs(scipy.fft.rfft(block, axis=1)[:, self.band]) ** 2
                band_power = power.sum(axis=1)
                levels[channel, first : first + step] = 10.0 * np.log10(band_power * self.scale + 1e-12)
                tones[channel, first : first + step] = self._tone_frames(power, band_power)
        np.maximum(levels, _FLOOR_DB, out=levels)
        self.frames_out += count
        return levels, tones

    def _tone_frames(self, power: np.ndarray, band_power: np.ndarray) -> np.ndarray:
        """Frames whose two strongest peaks hold most energy and form a known tone pair."""
        rows = np.arange(power.shape[0])
        work = power.copy()
        peak_bins = []
        captured = np.zeros(power.shape[0])
        for _ in range(2):
            peak = work.argmax(axis=1)
            peak_bins.append(peak)
            for delta in (-1, 0, 1):
                column = np.clip(peak + delta, 0, work.shape[1] - 1)
                captured += work[rows, column]
                work[rows, column] = 0.0
        candidate = captured >= TONE_SHARE * np.maximum(band_power, 1e-20)
        if not candidate.any():
            return candidate
        bin_hz = self.sample_rate / self.n_fft
        sub = rows[candidate]
        freqs = [self._peak_hz(power[sub], peak[candidate], bin_hz) for peak in peak_bins]
        low_hz, high_hz = np.minimum(*freqs), np.maximum(*freqs)
        pairs = np.asarray(TONE_PAIRS)
        match = np.zeros(sub.size, bool)
        for lo, hi in pairs:
            match |= (np.abs(low_hz - lo) <= TONE_TOLERANCE * lo) & (np.abs(high_hz - hi) <= TONE_TOLERANCE * hi)
        candidate[sub[~match]] = False
        return candidate

    def _peak_hz(self, power: np.ndarray, peak: np.ndarray, bin_hz: float) -> np.ndarray:
        """Peak frequency refined by a parabola through the log power of 3 bins."""
        rows = np.arange(power.shape[0])
        left = np.log(power[rows, np.clip(peak - 1, 0, power.shape[1] - 1)] + 1e-20)
        centre = np.log(power[rows, peak] + 1e-20)
        right = np.log(power[rows, np.clip(peak + 1, 0, power.shape[1] - 1)] + 1e-20)
        denominator = left - 2.0 * centre + right
        shift = np.where(
            np.abs(denominator) > 1e-9, 0.5 * (left - right) / np.where(denominator == 0, 1, denominator), 0.0
        )
        return (self.band[0] + peak + np.clip(shift, -0.5, 0.5)) * bin_hz


def _empty(channels: int) -> tuple[np.ndarray, np.ndarray]:
    return np.empty((channels, 0), np.float32), np.empty((channels, 0), bool)


def analyse(samples: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Frame features of in-memory samples (channels, n): (levels dB, tone flags, frame_s)."""
    analyzer = FrameAnalyzer(sample_rate, samples.shape[0])
    step = sample_rate * 60
    parts = [analyzer.push(samples[:, i : i + step]) for i in range(0, samples.shape[1], step)]
    parts.append(analyzer.finish(samples.shape[1]))
    levels = np.concatenate([p[0] for p in parts], axis=1)
    tones = np.concatenate([p[1] for p in parts], axis=1)
    return levels, tones, analyzer.frame_s
