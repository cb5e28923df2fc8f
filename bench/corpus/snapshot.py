"""Keep what ``callscope analyze`` made of the rendered corpus, in git, so later work needs no re-render.

Rendering the 187 calls with Kokoro and transcribing them takes hours of CPU, and ``bench/out`` does not
survive from one machine to the next. The analysis files are small (about 5 KB a call), and they are all
the issue-mining and caller-emotion benchmarks read: Whisper's turns, roles, language and the labels.
This copies them, with make_calls' reference transcript (``<id>.txt``, for WER/CER), into
``bench/corpus/asr/<split>/`` and records in ``SNAPSHOT.json`` which code analysed which calls and
which calls are still missing (``render.sh`` skips the calls kept here, so a split can be finished
over several sessions).

Use ``--corpus-asr bench/corpus/asr/<split>`` with ``bench_issue_generalisation.py`` and
``bench_call_emotion.py``. The rule of the corpus holds for the snapshot too: tune on ``dev``; ``test``
is for reporting a fixed method once, with the method it replaces beside it.

    python bench/corpus/snapshot.py --split dev|test [--analysis DIR] [--audio DIR] [--note TEXT]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "bench" / "corpus"


def split_ids(split: str) -> list[str]:
    """The call ids of one split, in scenario order."""
    chosen = json.loads((CORPUS / "split.json").read_text(encoding="utf-8"))["split"]
    return [cid for cid, part in chosen.items() if part == split]


def git_commit() -> str:
    out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    return out.stdout.strip() or "unknown"


def snapshot(split: str, analysis: Path, audio: Path, note: str) -> Path:
    """Add the split's analysed calls to its snapshot folder (calls already there are kept, so a
    split can be rendered over several sessions); return the folder."""
    target = CORPUS / "asr" / split
    target.mkdir(parents=True, exist_ok=True)
    manifest_path = target / "SNAPSHOT.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.exists() else {"runs": []}
    added = []
    for cid in split_ids(split):
        source = analysis / f"{cid}.stereo.analysis.json"
        if not source.exists() or (target / source.name).exists():
            continue
        data = json.loads(source.read_text(encoding="utf-8"))
        (target / source.name).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        reference = audio / f"{cid}.txt"
        if reference.exists():
            shutil.copyfile(reference, target / reference.name)
        added.append(cid)
    have = [cid for cid in split_ids(split) if (target / f"{cid}.stereo.analysis.json").exists()]
    if added:
        manifest["runs"].append({
            "made": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "code": git_commit(),
            "calls": added,
            "note": note,
        })
    manifest.update({
        "split": split,
        "calls": len(have),
        "missing": [cid for cid in split_ids(split) if cid not in have],
        "render": "bench/corpus/render.sh (Kokoro-82M v1.0 int8, 8 kHz mu-law, holds 4-8 s), then callscope analyze",
        "rule": "dev: tune here. test: report a fixed method once, with the previous method beside it.",
    })
    manifest_path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), required=True)
    parser.add_argument("--analysis", type=Path, default=ROOT / "bench" / "out" / "corpus" / "analysis")
    parser.add_argument("--audio", type=Path, default=ROOT / "bench" / "out" / "corpus" / "audio")
    parser.add_argument("--note", default="")
    args = parser.parse_args()
    target = snapshot(args.split, args.analysis, args.audio, args.note)
    manifest = json.loads((target / "SNAPSHOT.json").read_text(encoding="utf-8"))
    print(f"{target}: {manifest['calls']} calls" + (f", missing {len(manifest['missing'])}" if manifest["missing"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
