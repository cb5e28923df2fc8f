"""Real-voice diarization sets for the mono benchmark (issue #13): AMI excerpts, and calls composed of real voices.

Source: the 30 s AMI-style meeting excerpts in pyannote.audio's test data
(https://github.com/pyannote/pyannote-audio, commit b749285c5cdd, ``tests/data``; MIT,
the AMI corpus itself is CC-BY-4.0), with their human RTTM references. Two of them
(dev00, dev01) are already in ``../shared/data/diarization``; the others (trn00..trn09,
tst00, tst01) are not, and stay out of git. Get them with::

    git clone https://github.com/pyannote/pyannote-audio /tmp/paa && cd /tmp/paa && \\
      git checkout b749285c5cdd4636b2edc7f766f1352c8dde9369 && \\
      mkdir -p <callscope>/bench/out/pyannote_debug && cp tests/data/*.wav tests/data/*.rttm \\
      tests/data/*.uem tests/data/*.lst <callscope>/bench/out/pyannote_debug/

(``trñ00.wav`` is trn00's file name there.)

Second source: 100 LibriSpeech test-other utterances of 10 speakers (5 F, 5 M; 10 each) kept in
Resemblyzer's repository (https://github.com/resemble-ai/Resemblyzer, commit 15d828edebe0,
``audio_data/librispeech_test-other``; repository Apache-2.0, LibriSpeech CC-BY-4.0, see its
LICENSE.TXT)::

    git clone https://github.com/resemble-ai/Resemblyzer /tmp/rz && cd /tmp/rz && \\
      git checkout 15d828edebe06bc72b9cabc8ef8ca5ab2cb457ce && \\
      cp -r audio_data/librispeech_test-other <callscope>/bench/out/librispeech_test_other

Composed calls: real speakers' *solo* stretches (where the human reference has
only them talking) laid out as a telephone conversation: alternating turns of up to
``MAX_TURN_S``, pauses of 0.2-1.0 s, and about one turn in four starting before the
other party has finished (overlap of 0.2-0.8 s); each party gets its own level, the
mix is band-limited to 300-3400 Hz, resampled to 8 kHz and stored as 16-bit PCM, with
a little white noise. No stretch is used twice in a file (a call ends when the next
speaker has no unused stretch left, so AMI calls are shorter). The reference is exact (where each stretch was placed). One-speaker
files are one speaker's stretches with pauses. Speakers are split before any tuning:
**dev** uses only the AMI speakers of trn00..trn09 and LibriSpeech speakers 367, 533, 1688,
1998, 2033; **test** only the AMI speakers of dev00, dev01, tst00, tst01 and LibriSpeech
speakers 2414, 2609, 3005, 3080, 3331 (no speaker is in both). LibriSpeech utterances are
trimmed of leading/trailing silence and cut into turns at their quietest point between 3
and ``MAX_TURN_S`` s; a turn's reference covers the whole piece (turn level, as the call
references are written). Deterministic (seeded); written under ``bench/out/``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from callscope.diarization.rttm import parse_rttm
from callscope.domain import Audio, Diarization, SpeakerTurn

DEV_URIS = [f"trn{i:02d}" for i in range(10)]
DEV_READERS = ["367", "533", "1688", "1998", "2033"]
TEST_READERS = ["2414", "2609", "3005", "3080", "3331"]
TEST_URIS = ["dev00", "dev01", "tst00", "tst01"]
MARGIN_S = 0.1  # trimmed off each side of a solo stretch (reference boundaries are approximate)
MIN_SOLO_S = 1.0
MAX_TURN_S = 6.0
CALL_S = 50.0
MIN_SPEAKER_SOLO_S = 6.0  # speakers with less solo speech are not used
RATE = 16000
PHONE_RATE = 8000


@dataclass(frozen=True)
class Composed:
    name: str
    audio: Audio  # 8 kHz mono
    reference: Diarization


def wav_path(folder: Path, uri: str) -> Path:
    path = folder / f"{uri}.wav"
    if not path.exists() and uri == "trn00":
        path = folder / "trñ00.wav"
    return path


def references(folder: Path) -> dict[str, Diarization]:
    out: dict[str, Diarization] = {}
    for name in ("debug.train.rttm", "debug.development.rttm", "debug.test.rttm"):
        path = folder / name
        if path.exists():
            out.update(parse_rttm(path.read_text(encoding="utf-8"), str(path)))
    return out


def available(folder: Path) -> bool:
    return all(wav_path(folder, uri).exists() for uri in DEV_URIS + TEST_URIS) and bool(references(folder))


def _load(path: Path) -> np.ndarray:
    import soundfile as sf

    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    assert rate == RATE, (path, rate)
    return samples.mean(axis=1)


def solo_stretches(reference: Diarization, duration_s: float = 30.0) -> dict[str, list[tuple[float, float]]]:
    """Per speaker: stretches where only they talk (reference), trimmed by MARGIN_S, >= MIN_SOLO_S."""
    step = 0.01
    n = int(round(duration_s / step))
    speakers = sorted(reference.speakers)
    active = np.zeros((n, len(speakers)), bool)
    for turn in reference.turns:
        active[int(turn.start / step) : int(np.ceil(turn.end / step)), speakers.index(turn.speaker)] = True
    alone = active.sum(axis=1) == 1
    out: dict[str, list[tuple[float, float]]] = {}
    for k, speaker in enumerate(speakers):
        mask = np.concatenate([[False], active[:, k] & alone, [False]])
        edges = np.flatnonzero(np.diff(mask.astype(int)))
        for a, b in zip(edges[::2], edges[1::2]):
            start, end = a * step + MARGIN_S, b * step - MARGIN_S
            if end - start >= MIN_SOLO_S:
                out.setdefault(speaker, []).append((start, end))
    return out


def speaker_material(folder: Path, uris: list[str]) -> dict[str, list[np.ndarray]]:
    """Each speaker's solo stretches (16 kHz samples) from the given excerpts, longest speakers first."""
    refs = references(folder)
    material: dict[str, list[np.ndarray]] = {}
    for uri in uris:
        samples = _load(wav_path(folder, uri))
        for speaker, stretches in solo_stretches(refs[uri], len(samples) / RATE).items():
            for start, end in stretches:
                material.setdefault(speaker, []).append(samples[int(start * RATE) : int(end * RATE)])
    keep = {s: parts for s, parts in material.items() if sum(p.size for p in parts) / RATE >= MIN_SPEAKER_SOLO_S}
    return dict(sorted(keep.items(), key=lambda kv: -sum(p.size for p in kv[1])))


def _trim(samples: np.ndarray) -> np.ndarray:
    """Leading and trailing silence (20 ms frames 40 dB under the loudest) removed."""
    frame = RATE // 50
    n = samples.size // frame
    if n == 0:
        return samples
    db = 10 * np.log10(np.mean(samples[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(db > db.max() - 40)
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def _cut(samples: np.ndarray) -> list[np.ndarray]:
    """An utterance cut into pieces of at most MAX_TURN_S at the quietest 50 ms between 3 s and the limit."""
    out = []
    hop = RATE // 20
    while samples.size > MAX_TURN_S * RATE:
        lo, hi = int(3 * RATE) // hop, int(MAX_TURN_S * RATE) // hop
        energy = [float(np.mean(samples[i * hop : (i + 1) * hop] ** 2)) for i in range(lo, hi)]
        at = (lo + int(np.argmin(energy))) * hop + hop // 2
        out.append(samples[:at])
        samples = samples[at:]
    if samples.size >= MIN_SOLO_S * RATE:
        out.append(samples)
    return out


def reader_material(folder: Path, readers: list[str]) -> dict[str, list[np.ndarray]]:
    """Each LibriSpeech reader's utterances (16 kHz), trimmed and cut into turns."""
    import soundfile as sf

    out: dict[str, list[np.ndarray]] = {}
    for reader in readers:
        for path in sorted((folder / reader).glob("*.flac")):
            samples, rate = sf.read(str(path), dtype="float32")
            assert rate == RATE, (path, rate)
            out.setdefault(f"LS{reader}", []).extend(_cut(_trim(samples)))
    return out


def _telephone(mix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    import soxr
    from scipy.signal import butter, sosfilt

    sos = butter(4, [300, 3400], btype="bandpass", fs=RATE, output="sos")
    band = sosfilt(sos, mix).astype(np.float32)
    phone = soxr.resample(band, RATE, PHONE_RATE, quality="HQ").astype(np.float32)
    phone /= max(1e-6, float(np.max(np.abs(phone)))) / 0.7
    phone += rng.normal(0.0, 10 ** (-55 / 20), phone.size).astype(np.float32)
    return np.clip(np.round(phone * 32767), -32768, 32767).astype(np.int16).astype(np.float32) / 32768


def _pieces(parts: list[np.ndarray], rng: random.Random) -> list[np.ndarray]:
    """A speaker's stretches cut into turns of at most MAX_TURN_S, shuffled."""
    out = []
    for part in parts:
        limit = int(MAX_TURN_S * RATE)
        for first in range(0, part.size, limit):
            piece = part[first : first + limit]
            if piece.size >= MIN_SOLO_S * RATE:
                out.append(piece)
    rng.shuffle(out)
    return out


def compose_call(name: str, parts: list[list[np.ndarray]], seed: int, length_s: float = CALL_S) -> Composed:
    """Alternating turns of the given speakers (solo stretches), pauses and some overlap, at 8 kHz."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    pools = [_pieces(p, rng) for p in parts]
    used = [0] * len(parts)
    gains = [10 ** (rng.uniform(-6, 0) / 20) for _ in parts]
    placed: list[tuple[int, int, np.ndarray]] = []  # (speaker, first sample, audio)
    t = int(rng.uniform(0.3, 1.0) * RATE)
    speaker = rng.randrange(len(parts))
    while t < length_s * RATE and used[speaker] < len(pools[speaker]):  # no piece is used twice
        piece = pools[speaker][used[speaker]] * gains[speaker]
        used[speaker] += 1
        placed.append((speaker, t, piece))
        end = t + piece.size
        if len(parts) > 1:
            speaker = (speaker + rng.randrange(1, len(parts))) % len(parts)
        if len(parts) > 1 and rng.random() < 0.25:
            overlap = min(rng.uniform(0.2, 0.8) * RATE, piece.size / 2)
            t = int(end - overlap)
        else:
            t = int(end + rng.uniform(0.2, 1.0) * RATE)
    total = max(first + audio.size for _, first, audio in placed) + int(0.5 * RATE)
    mix = np.zeros(total, np.float32)
    turns = []
    for k, first, audio in placed:
        mix[first : first + audio.size] += audio
        turns.append(SpeakerTurn(first / RATE, (first + audio.size) / RATE, f"S{k}"))
    phone = _telephone(mix, nrng)
    audio = Audio(phone[None, :], PHONE_RATE)
    turns.sort(key=lambda x: (x.start, x.end))
    return Composed(name, audio, Diarization(turns=tuple(turns), duration_s=audio.duration_s))


def composed_set(ami: Path, librispeech: Path, split: str) -> list[Composed]:
    """Telephone calls (two speakers; two with three) and one-speaker files from the split's own speakers."""
    dev = split == "dev"
    rng = random.Random(13 if dev else 31)
    out = []
    for source, material, n_calls, n_three, n_single in (
        ("AMI", speaker_material(ami, DEV_URIS if dev else TEST_URIS), 6 if dev else 1, 0, 2),
        ("LibriSpeech", reader_material(librispeech, DEV_READERS if dev else TEST_READERS), 10 if dev else 8, 2, 2),
    ):
        speakers = list(material)
        pairs = [(a, b) for i, a in enumerate(speakers) for b in speakers[i + 1 :]]
        rng.shuffle(pairs)
        for i, (a, b) in enumerate(pairs[:n_calls]):
            name = f"{source} {split} call {i:02d} ({a}+{b})"
            out.append(compose_call(name, [material[a], material[b]], rng.randrange(10**6)))
        for i in range(n_three):
            trio = rng.sample(speakers, 3)
            name = f"{source} {split} 3-speaker call {i:02d} ({'+'.join(trio)})"
            out.append(compose_call(name, [material[s] for s in trio], rng.randrange(10**6), 60.0))
        for i, s in enumerate(rng.sample(speakers, n_single)):
            name = f"{source} {split} one speaker {i:02d} ({s})"
            out.append(compose_call(name, [material[s]], rng.randrange(10**6), 30.0))
    return out


def meeting(folder: Path, uri: str) -> tuple[Audio, Diarization]:
    samples = _load(wav_path(folder, uri))
    return Audio(samples[None, :], RATE), references(folder)[uri]
