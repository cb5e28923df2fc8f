"""PII redaction quality on the hand-labelled en/zh sentences (bench/data/pii_labelled.jsonl).

    python bench/bench_pii.py [--split dev|test] [--show-errors]

Per kind: recall = labelled spans whose non-space characters are at least 80 % covered
by redacted spans (of any kind: what matters is that the text is gone); precision =
redacted spans of that kind that overlap a labelled span. The baseline is the same
detector restricted to the kinds it had before names and addresses were added
(cards, phones, e-mails, IDs, account numbers, long numbers).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callscope.analysis.pii import KINDS, PiiOptions, find_pii  # noqa: E402

DATA = Path(__file__).parent / "data" / "pii_labelled.jsonl"
BASELINE_KINDS = frozenset({"card", "phone", "email", "id", "account", "number"})
REPORT_KINDS = ("card", "phone", "email", "id", "name", "address", "number")


def evaluate(rows: list[dict], options: PiiOptions, show_errors: bool = False) -> dict[str, dict[str, float]]:
    gold_n: dict[str, int] = defaultdict(int)
    gold_hit: dict[str, int] = defaultdict(int)
    pred_n: dict[str, int] = defaultdict(int)
    pred_ok: dict[str, int] = defaultdict(int)
    for row in rows:
        text = row["text"]
        spans = find_pii(text, options=options)
        covered = set()
        for s in spans:
            covered.update(range(s.start, s.end))
        for start, end, kind in row["spans"]:
            chars = [i for i in range(start, end) if not text[i].isspace()]
            gold_n[kind] += 1
            if sum(i in covered for i in chars) >= 0.8 * len(chars):
                gold_hit[kind] += 1
            elif show_errors:
                print(f"MISS {kind:8s} {text[start:end]!r} in {text!r} -> {[(text[s.start:s.end], s.kind) for s in spans]}")
        for s in spans:
            pred_n[s.kind] += 1
            if any(s.start < end and start < s.end for start, end, _ in row["spans"]):
                pred_ok[s.kind] += 1
            elif show_errors:
                print(f"FP   {s.kind:8s} {text[s.start:s.end]!r} in {text!r}")
    out = {}
    for kind in REPORT_KINDS:
        out[kind] = {
            "gold": gold_n[kind],
            "recall": gold_hit[kind] / gold_n[kind] if gold_n[kind] else float("nan"),
            "predicted": pred_n[kind],
            "precision": pred_ok[kind] / pred_n[kind] if pred_n[kind] else float("nan"),
        }
    total_pred, total_ok = sum(pred_n.values()), sum(pred_ok.values())
    out["all"] = {"gold": sum(gold_n.values()), "recall": sum(gold_hit.values()) / max(1, sum(gold_n.values())),
                  "predicted": total_pred, "precision": total_ok / total_pred if total_pred else float("nan")}
    return out


def _fmt(value: float) -> str:
    return "—" if value != value else f"{value:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("dev", "test", "all"), default="test")
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args()
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if args.split == "all" or r["split"] == args.split]
    negatives = sum(1 for r in rows if not r["spans"])
    base = evaluate(rows, PiiOptions(kinds=BASELINE_KINDS))
    new = evaluate(rows, PiiOptions(kinds=frozenset(KINDS)), show_errors=args.show_errors)
    langs = defaultdict(int)
    for r in rows:
        langs[r["lang"]] += 1
    print(f"split={args.split}: {len(rows)} sentences ({', '.join(f'{k} {v}' for k, v in sorted(langs.items()))}), "
          f"{negatives} without PII\n")
    print("| kind | labelled | recall (baseline) | recall | redacted (baseline → now) | precision (baseline) | precision |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind in (*REPORT_KINDS, "all"):
        b, n = base[kind], new[kind]
        print(f"| {kind} | {n['gold']} | {_fmt(b['recall'])} | {_fmt(n['recall'])} | {b['predicted']} → {n['predicted']} "
              f"| {_fmt(b['precision'])} | {_fmt(n['precision'])} |")


if __name__ == "__main__":
    main()
