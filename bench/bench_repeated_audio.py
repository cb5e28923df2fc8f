"""Repeated audio and the per-recording threshold of the neural mono path (issue #13, session 13).

A call can hold the same audio more than once (a recorded announcement or hold message played again
and again, an IVR prompt repeated). Built from the real-voice material of bench/real_voice.py (fetch it
first, see that module's docstring):

* **one reader**: each LibriSpeech test-other reader's 10 utterances in a row (trimmed, 0.4-1.5 s pauses), on
  an 8 kHz line; once, then the same audio three times over (one speaker either way);
* **two or three readers**: the composed LibriSpeech calls (bench/real_voice.py); once, then three times over.

The readers and calls of the split asked for (bench/real_voice.py's split: dev to look at, test once).

Both rules are applied to the same features: copies of one sound skipped in the spread
(``neural.SKIP_REPEATS``, session 13) and counted as neighbours (before). Nothing here was tuned.

    python bench/bench_repeated_audio.py [--split dev|test]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.diarization import DiarizeOptions, neural  # noqa: E402
from callscope.diarization.mono import resampled_chunks  # noqa: E402
from callscope.domain import Audio  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import real_voice  # noqa: E402
from bench_mono_neural import AMI, LIBRISPEECH  # noqa: E402

TIMES = 3


def one_reader(reader: str, seed: int) -> Audio:
    """A reader's utterances in a row with 0.4-1.5 s pauses, on an 8 kHz line."""
    import soundfile as sf

    rng = random.Random(seed)
    parts = []
    for path in sorted((LIBRISPEECH / reader).glob("*.flac")):
        samples, _ = sf.read(str(path), dtype="float32")
        parts += [real_voice._trim(samples), np.zeros(int(rng.uniform(0.4, 1.5) * real_voice.RATE), np.float32)]
    phone = real_voice._telephone(np.concatenate(parts), np.random.default_rng(seed))
    return Audio(phone[None, :], real_voice.PHONE_RATE)


def played(audio: Audio, times: int) -> Audio:
    return Audio(np.tile(audio.samples, times), audio.sample_rate)


def counts(feats: neural.NeuralFeatures) -> tuple[tuple[int, float], tuple[int, float]]:
    """(speakers found, threshold) with copies counted as neighbours (before) and skipped (now)."""
    out = []
    for skip in (False, True):
        neural.SKIP_REPEATS = skip
        found = len(neural.segment(feats, DiarizeOptions()).speakers)
        out.append((found, neural.default_threshold(feats)))
    neural.SKIP_REPEATS = True
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    split = parser.parse_args().split
    if not (real_voice.available(AMI) and LIBRISPEECH.exists()):
        sys.exit(f"fetch the real-voice sets into {AMI} and {LIBRISPEECH} first (bench/real_voice.py)")
    readers = real_voice.DEV_READERS if split == "dev" else real_voice.TEST_READERS
    files = [(f"LS{reader}, one reader", one_reader(reader, seed), 1) for seed, reader in enumerate(readers)]
    for composed in real_voice.composed_set(AMI, LIBRISPEECH, split):
        if composed.name.startswith("LibriSpeech") and "one speaker" not in composed.name:
            files.append((composed.name, composed.audio, len(composed.reference.speakers)))
    print(f"| file | speakers | s once | once: found / threshold | ×{TIMES} before: found / threshold "
          f"| ×{TIMES} now: found / threshold | ×{TIMES} CPU s of the copy search |")
    print("|---|---|---|---|---|---|---|")
    right = {"once": 0, "before": 0, "now": 0}
    for name, audio, speakers in files:
        once = neural.extract(resampled_chunks([audio]), total_s=audio.duration_s)
        thrice = neural.extract(resampled_chunks([played(audio, TIMES)]), total_s=TIMES * audio.duration_s)
        (n1, t1), _ = counts(once)
        (nb, tb), (nn, tn) = counts(thrice)
        start = time.process_time()
        neural.recording_sounds(thrice)
        search = time.process_time() - start
        right["once"] += n1 == speakers
        right["before"] += nb == speakers
        right["now"] += nn == speakers
        print(f"| {name} | {speakers} | {audio.duration_s:.0f} | {n1} / {t1:.3f} | {nb} / {tb:.3f} | {nn} / {tn:.3f} "
              f"| {search:.2f} |", flush=True)
    print(f"\nright count: once {right['once']}/{len(files)}, ×{TIMES} before {right['before']}/{len(files)}, "
          f"×{TIMES} now {right['now']}/{len(files)}")


if __name__ == "__main__":
    main()
