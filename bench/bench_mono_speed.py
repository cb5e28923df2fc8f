"""Speed of the neural mono diarizer (issue #13) on the 16 neural-voice mono calls, and a dump to compare outputs.

Per file: ``neural.extract`` + ``neural.segment`` (what ``diarize`` runs for mono audio), timed as
audio seconds per CPU second of this process (``time.process_time``: user + system, all threads) and
per wall second; the models are loaded and warmed on 10 s of silence before the clock starts. With
``--dump`` each file's embeddings, window runs and turns are pickled, so that two code versions can be
compared (``--compare A B``: cosine of the embeddings, identical runs, identical turns).

    python bench/bench_mono_speed.py [--data ../shared/data] [--repeat 1] [--dump out.pkl]
    python bench/bench_mono_speed.py --compare before.pkl after.pkl

The code measured is the ``callscope`` on PYTHONPATH (run one checkout against another in one sitting).
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

import numpy as np

from callscope.diarization import DiarizeOptions, neural
from callscope.diarization.diarize import CHUNK_S
from callscope.diarization.mono import resampled_chunks
from callscope.recordings.audio import load_audio

ROOT = Path(__file__).resolve().parents[1]


def measure(data: Path, repeat: int, dump: Path | None, threads: int) -> None:
    files = sorted((data / "calls_kokoro").glob("*.mono.wav"))
    audios = [(f.name, load_audio(f)) for f in files]
    start, cpu = time.perf_counter(), time.process_time()
    neural.load_models()
    silence = np.zeros(16000 * 10, np.float32)
    neural.segment(neural.extract([silence], threads=threads), DiarizeOptions())
    print(f"load + warm-up: {time.perf_counter() - start:.1f} s wall, {time.process_time() - cpu:.1f} s CPU",
          file=sys.stderr)
    out: dict[str, dict] = {}
    total_audio = total_wall = total_cpu = 0.0
    for _ in range(repeat):
        for name, audio in audios:
            start, cpu = time.perf_counter(), time.process_time()
            feats = neural.extract(resampled_chunks(audio.blocks(CHUNK_S)), total_s=audio.duration_s, threads=threads)
            result = neural.segment(feats, DiarizeOptions())
            wall_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
            total_audio += audio.duration_s
            total_wall += wall_s
            total_cpu += cpu_s
            print(f"  {name}: {audio.duration_s:.0f} s audio, {wall_s:.2f} s wall, {cpu_s:.2f} s CPU, "
                  f"{len(result.speakers)} speakers", file=sys.stderr)
            out[name] = {
                "embeddings": feats.embeddings,
                "runs": [w.runs for w in feats.windows],
                "turns": [(t.start, t.end, t.speaker) for t in result.turns],
            }
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(audios)} files x {repeat}: {total_audio:.0f} s audio, {total_audio / total_cpu:.1f}x real time per CPU s "
          f"({total_cpu:.1f} CPU s), {total_audio / total_wall:.1f}x per wall s ({total_wall:.1f} s); "
          f"peak RSS {peak_mb:.0f} MB; threads {threads}; MIN_EMBED_S {neural.MIN_EMBED_S}; "
          f"segmentation on {getattr(neural.load_models().segmenter, 'runtime', 'torch')}; "
          f"load {os.getloadavg()[0]:.2f}")
    if dump is not None:
        with dump.open("wb") as f:
            pickle.dump(out, f)


def compare(first: Path, second: Path) -> None:
    a, b = (pickle.loads(p.read_bytes()) for p in (first, second))
    worst, same_turns = 1.0, 0
    for name in sorted(a):
        x, y = a[name], b[name]
        if x["runs"] != y["runs"] or x["embeddings"].shape != y["embeddings"].shape:
            print(f"  {name}: runs differ")
            continue
        cos = np.sum(x["embeddings"] * y["embeddings"], axis=1)
        worst = min(worst, float(cos.min()) if cos.size else 1.0)
        turns_equal = len(x["turns"]) == len(y["turns"]) and all(
            s1 == s2 and abs(t1 - t2) < 1e-6 and abs(e1 - e2) < 1e-6
            for (t1, e1, s1), (t2, e2, s2) in zip(x["turns"], y["turns"])
        )
        same_turns += turns_equal
        print(f"  {name}: min cosine {cos.min() if cos.size else 1:.7f}, turns {'identical' if turns_equal else 'DIFFER'}")
    print(f"{len(a)} files: lowest cosine {worst:.7f}; identical turns on {same_turns}/{len(a)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--torch-segmentation", action="store_true",
                        help="segmentation-3.0 on torch instead of ONNX Runtime (round 7's path; round 8 compared them)")
    parser.add_argument("--min-embed-s", type=float,
                        help="shortest run with its own embedding (default neural.MIN_EMBED_S; round 8 timed 0.5 beside 0.4)")
    parser.add_argument("--compare", type=Path, nargs=2)
    args = parser.parse_args()
    if args.min_embed_s is not None:
        neural.MIN_EMBED_S = args.min_embed_s
    if args.torch_segmentation:
        neural.ONNX_SEGMENTATION = False
    if args.compare:
        compare(*args.compare)
    else:
        measure(args.data, args.repeat, args.dump, args.threads)


if __name__ == "__main__":
    main()
