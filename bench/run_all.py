"""Run every benchmark (``bench/bench_*.py``) in turn: what ``make bench`` does.

Each script prints its markdown tables; this runner adds a heading per script and a
summary of which ones failed (exit status 1 if any did). Arguments after ``--`` go to
every script named (e.g. ``--data DIR``, which all take but bench_memory, bench_pii, bench_qa
and bench_selfservice).

    python bench/run_all.py                          # all of them, shared data at ../shared/data
    python bench/run_all.py ivr issues               # only bench_ivr.py and bench_issues.py
    python bench/run_all.py ivr issues -- --data /d  # those two, with another data folder
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def scripts(names: list[str]) -> list[Path]:
    """The benchmark scripts, all of them or those named (``ivr`` or ``bench_ivr.py``)."""
    found = {p.stem.removeprefix("bench_"): p for p in sorted(HERE.glob("bench_*.py"))}
    if not names:
        return list(found.values())
    unknown = [n for n in names if n.removeprefix("bench_").removesuffix(".py") not in found]
    if unknown:
        raise SystemExit(f"no benchmark named {', '.join(unknown)}; choose from: {', '.join(found)}")
    return [found[n.removeprefix("bench_").removesuffix(".py")] for n in names]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passthrough = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    args = parser.parse_args(own)
    failed = []
    for script in scripts(args.names):
        print(f"\n## {script.name}\n", flush=True)
        start = time.monotonic()
        code = subprocess.call([sys.executable, str(script), *passthrough], cwd=HERE.parent)
        print(f"\n({script.name}: exit {code}, {time.monotonic() - start:.0f} s)", flush=True)
        if code != 0:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
