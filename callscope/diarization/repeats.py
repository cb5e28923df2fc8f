"""Repeated audio: the same sound played more than once in a recording.

Calls repeat audio: a recorded announcement or hold message played again and again, an
IVR prompt said twice. Two speech runs that are copies of one sound are not two samples
of how a voice varies, and their CAM++ embeddings lie closer (cosine 0.007-0.023) than
two sentences of one voice ever do on real audio (down to 0.029), too close to tell by
distance alone. So each embedded run keeps a binary spectral fingerprint of its sound
(Haitsma & Kalker 2002, "A highly robust audio fingerprinting system"): per 20 ms, the
signs of the log-energy differences between adjacent frequency bands, differenced in
time; the same sound gives the same bits at the right alignment, different speech
disagrees on about half of them.
"""

from __future__ import annotations

import numpy as np

BANDS = 60  # log-mel bands used: those below ~4 kHz (a telephone line carries nothing above)
GROUP = 4  # adjacent bands summed into one fingerprint band: 15 bands, 14 bits per frame
BITS = BANDS // GROUP - 1
SPAN = 4  # filterbank frames (10 ms hop) summed into one fingerprint frame (55 ms of audio) ...
HOP = 2  # ... every this many: a fingerprint frame per 20 ms, long and overlapping so that copies cut at
# different points of the 10 ms frame grid still agree (Haitsma & Kalker's frames overlap 31/32)
MIN_FRAMES = 25  # two runs are compared over at least this many fingerprint frames (0.5 s) ...
# ... and are copies when, at their best alignment, at most this share of bits differ. LibriSpeech utterances on an
# 8 kHz line: copies cut at random samples 0.12 (median), 0.25 at most; different speech 0.44, 0.39 at least.
MAX_BIT_ERRORS = 0.32
_WEIGHTS = (1 << np.arange(BITS)).astype(np.uint16)
_SHIFTS = np.arange(BITS, dtype=np.uint16)


def fingerprint(fbank: np.ndarray) -> np.ndarray:
    """Fingerprint (uint16 per 20 ms, BITS bits) of consecutive log-mel filterbank frames (10 ms, ≥ BANDS bands)."""
    if fbank.shape[0] < SPAN + HOP:
        return np.zeros(0, np.uint16)
    total = np.cumsum(np.exp(fbank[:, :BANDS].astype(np.float64)), axis=0)
    power = (total[SPAN - 1 :] - np.vstack([np.zeros((1, BANDS)), total[:-SPAN]]))[::HOP]  # (frames, BANDS)
    bands = np.log(power.reshape(len(power), BANDS // GROUP, GROUP).sum(axis=2) + 1e-10)
    bits = np.diff(np.diff(bands, axis=1), axis=0) > 0  # (frames - 1, BITS): spectral slope rising or falling in time
    return (bits.astype(np.uint16) * _WEIGHTS).sum(axis=1).astype(np.uint16)


def same_sound(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two fingerprints are one sound: at some alignment overlapping ≥ MIN_FRAMES frames, at most
    MAX_BIT_ERRORS of their bits differ (runs cut at different points of a copy still align).

    Every alignment at once: each bit as a ±1 sequence, cross-correlated by FFT; at a lag where the two
    share s frames, the differing bits are (s * BITS - summed correlation) / 2.
    """
    n, m = len(a), len(b)
    if min(n, m) < MIN_FRAMES:
        return False
    size = 1 << (n + m - 1).bit_length()
    planes = [np.fft.rfft(((x[:, None] >> _SHIFTS) & 1) * 2.0 - 1.0, size, axis=0) for x in (a, b)]
    # index k < m: b's frame k aligned with a's frame 0; index size - k: a's frame k with b's frame 0
    corr = np.fft.irfft(np.conj(planes[0]) * planes[1], size, axis=0).sum(axis=1)
    lag = np.r_[np.arange(m), np.arange(-(n - 1), 0)]  # b's frame minus a's frame at each kept index
    corr = np.r_[corr[:m], corr[size - (n - 1) :]]
    shared = np.minimum(n, m - lag) - np.maximum(0, -lag)
    usable = shared >= MIN_FRAMES
    wrong = (shared[usable] * BITS - corr[usable]) / 2
    return bool((wrong / (shared[usable] * BITS)).min() <= MAX_BIT_ERRORS)
