"""Repeated audio and the per-recording threshold of the neural mono path (issue #13, session 13).

A call can hold the same audio more than once (a recorded announcement or hold message played again
and again, an IVR prompt repeated). Built from the real-voice material of bench/real_voice.py (fetch it
first, see that module's docstring):

* **one reader**: each LibriSpeech test-other reader's 10 utterances in a row (trimmed, 0.4-1.5 s pauses), on
  an 8 kHz line; once, then the same audio three times over (one speaker either way);
* **two or three readers**: the composed LibriSpeech calls (bench/real_voice.py); once, then three times over.

The readers and calls of the split asked for (bench/real_voice.py's split: dev to look at, test once).
``--extra`` takes instead the composed files round 10 left out: the calls of AMI voices and the one-speaker
files (session 14: a stray cluster under the speaker bar in one pass passes it when played three times).

Three rules are applied to the same features: copies of one sound counted as neighbours in the spread
(before session 13), skipped there (``neural.SKIP_REPEATS``, session 13), and also counted once in a
cluster's speech for the speaker bar (``neural.ONCE_PER_SOUND``, session 14). Nothing here was tuned.

    python bench/bench_repeated_audio.py [--split dev|test] [--extra]
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


RULES = {"before": (False, False), "session 13": (True, False), "now": (True, True)}  # SKIP_REPEATS, ONCE_PER_SOUND


def counts(feats: neural.NeuralFeatures) -> dict[str, tuple[int, float]]:
    """(speakers found, threshold) under each of RULES."""
    out = {}
    for name, rule in RULES.items():
        neural.SKIP_REPEATS, neural.ONCE_PER_SOUND = rule
        found = len(neural.segment(feats, DiarizeOptions()).speakers)
        out[name] = (found, neural.default_threshold(feats))
    neural.SKIP_REPEATS, neural.ONCE_PER_SOUND = RULES["now"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--extra", action="store_true",
                        help="the composed AMI-voice calls and one-speaker files instead of the readers and LibriSpeech calls")
    args = parser.parse_args()
    split = args.split
    if not (real_voice.available(AMI) and LIBRISPEECH.exists()):
        sys.exit(f"fetch the real-voice sets into {AMI} and {LIBRISPEECH} first (bench/real_voice.py)")
    readers = real_voice.DEV_READERS if split == "dev" else real_voice.TEST_READERS
    files = [] if args.extra else [(f"LS{reader}, one reader", one_reader(reader, seed), 1)
                                   for seed, reader in enumerate(readers)]
    for composed in real_voice.composed_set(AMI, LIBRISPEECH, split):
        libri_call = composed.name.startswith("LibriSpeech") and "one speaker" not in composed.name
        if libri_call != args.extra:
            files.append((composed.name, composed.audio, len(composed.reference.speakers)))
    print(f"| file | speakers | s once | once: found / threshold | ×{TIMES} before: found / threshold "
          f"| ×{TIMES} session 13: found / threshold | ×{TIMES} now: found / threshold | ×{TIMES} CPU s of the copy search |")
    print("|---|---|---|---|---|---|---|---|")
    right = {"once": 0, **{name: 0 for name in RULES}}
    for name, audio, speakers in files:
        once = neural.extract(resampled_chunks([audio]), total_s=audio.duration_s)
        thrice = neural.extract(resampled_chunks([played(audio, TIMES)]), total_s=TIMES * audio.duration_s)
        n1, t1 = counts(once)["now"]
        found = counts(thrice)
        start = time.process_time()
        neural.recording_sounds(thrice)
        search = time.process_time() - start
        right["once"] += n1 == speakers
        for rule, (n, _) in found.items():
            right[rule] += n == speakers
        cells = " | ".join(f"{n} / {t:.3f}" for n, t in found.values())
        print(f"| {name} | {speakers} | {audio.duration_s:.0f} | {n1} / {t1:.3f} | {cells} | {search:.2f} |", flush=True)
    print(f"\nright count: once {right['once']}/{len(files)}, "
          + ", ".join(f"×{TIMES} {rule} {right[rule]}/{len(files)}" for rule in RULES))


if __name__ == "__main__":
    main()
