"""Caller emotion of neural-voice calls, from ``callscope analyze`` output, against the scripts' labels.

Sets (each needs the ``*.stereo.analysis.json`` files that ``callscope analyze`` wrote):

* the benchmark call corpus (``bench/corpus``), one split (``--split``, default test), rendered
  with Kokoro by ``bench/corpus/render.sh``;
* the 16 shared calls rendered with Kokoro (``../shared/data/calls_kokoro``), ``--kokoro-asr``.

callscope has four caller labels: angry and frustrated scripts count as *frustrated*, happy as
*positive*. *sad* has no label of its own: sad calls are left out of the 4-label accuracy and
count as negative in the group accuracy (negative / neutral / positive).

    python bench/bench_call_emotion.py [--split test] [--corpus-asr DIR] [--kokoro-asr DIR] [--out FILE]
        [--rescore [--audio-dir DIR]]

``--rescore`` (call corpus only) scores the caller again from each analysis file's turns (Whisper text,
times, roles) and the stereo recording (prosody), with the cues alone beside the cues settled by the local
LLM's reading of the caller (``callscope.analysis.caller_judge``, Mandarin calls; ``--opinions FILE`` keeps
the LLM's answers per call and reuses them, ``--judge-languages en,zh`` asks for English calls too), and
reports the ASR error of each call against its script (WER en / CER zh, ``callscope.transcription.scoring``)
and the LLM's seconds per judged call.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LABEL = {"angry": "frustrated", "frustrated": "frustrated", "anxious": "anxious", "happy": "positive", "neutral": "neutral"}
GROUP = {"frustrated": "negative", "anxious": "negative", "sad": "negative", "positive": "positive", "neutral": "neutral"}
CLASSES = ("neutral", "positive", "frustrated", "anxious")


def predictions(asr: Path, gold: dict[str, str]) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(id, script emotion, predicted label) for every call with an analysis file; ids missing."""
    rows, missing = [], []
    for cid, emotion in gold.items():
        path = asr / f"{cid}.stereo.analysis.json"
        if not path.exists():
            missing.append(cid)
            continue
        rows.append((cid, emotion, str(json.loads(path.read_text(encoding="utf-8"))["caller_emotion"])))
    return rows, missing


def opinions_for(turns_by_call: dict[str, tuple[list, str]], cache: Path | None,
                 languages: tuple[str, ...]) -> tuple[dict[str, dict | None], list[float]]:
    """The local LLM's reading of each call's caller (from ``cache`` where it has the call); seconds per new one."""
    from callscope.analysis.caller_judge import judge_caller
    from callscope.domain import Emotion
    from callscope.llm import get_llm

    stored = json.loads(cache.read_text(encoding="utf-8")) if cache is not None and cache.exists() else {}
    llm = get_llm()
    if llm is None:
        print("note: no local LLM (CALLSCOPE_LLM, `callscope models install llm`): cached opinions only", file=sys.stderr)
    out: dict[str, dict | None] = {}
    seconds: list[float] = []
    for cid, (turns, lang) in turns_by_call.items():
        if cid in stored:
            out[cid] = None if stored[cid] is None else {Emotion(k): v for k, v in stored[cid].items()}
            continue
        if llm is None:
            out[cid] = None
            continue
        before = llm.seconds
        out[cid] = judge_caller([(t.role, t.text) for t in turns], lang, llm, languages=languages)
        if llm.seconds > before:
            seconds.append(llm.seconds - before)
        stored[cid] = None if out[cid] is None else {str(k): v for k, v in out[cid].items()}
        if cache is not None:
            cache.write_text(json.dumps(stored, indent=0), encoding="utf-8")
    return out, seconds


def rescore(asr: Path, audio_dir: Path, gold: dict[str, str], cache: Path | None = None,
            languages: tuple[str, ...] = ("zh",)) -> tuple[dict[str, list], dict[str, list[float]], list[float]]:
    """Per method, (id, script emotion, predicted label, language) from the analysis files' turns + audio
    (text only where the audio is not there); per language, each call's ASR error against its script;
    the LLM's seconds per call it judged in this run."""
    from callscope.analysis.emotion import TurnText, analyze_emotions
    from callscope.analysis.sentiment import TextSentiment
    from callscope.domain import Role
    from callscope.recordings.audio import load_audio
    from callscope.transcription.scoring import error_rate

    scorer = TextSentiment()
    methods = ("cues alone", "cues + LLM opinion")
    rows: dict[str, list] = {m: [] for m in methods}
    errors: dict[str, list[float]] = {}
    calls: dict[str, tuple[list, str]] = {}
    for cid in gold:
        path = asr / f"{cid}.stereo.analysis.json"
        if not path.exists():
            continue
        meta = json.loads(path.read_text(encoding="utf-8"))
        lang = "zh" if cid.startswith("c_zh") else "en"
        turns = [TurnText(t["speaker"], Role(t["role"]) if t["role"] in ("agent", "caller") else Role.UNKNOWN,
                          t["start"], t["end"], t["text"], {"caller": 0, "agent": 1}.get(t["role"]))
                 for t in meta["turns"]]
        # a snapshot (bench/corpus/snapshot.py) keeps the reference beside the analysis file and has no audio
        reference_path = next((d / f"{cid}.txt" for d in (asr, audio_dir) if (d / f"{cid}.txt").exists()), None)
        if reference_path is not None:
            reference = reference_path.read_text(encoding="utf-8")
            errors.setdefault(lang, []).append(error_rate(reference, "\n".join(t.text for t in turns), lang))
        calls[cid] = (turns, lang)
    opinions, seconds = opinions_for(calls, cache, languages)
    for cid, (turns, lang) in calls.items():
        wav = audio_dir / f"{cid}.stereo.wav"
        audio = load_audio(wav) if wav.exists() else None
        for name in methods:
            opinion = opinions[cid] if name == "cues + LLM opinion" else None
            report = analyze_emotions(turns, audio, language=lang, sentiment=scorer, opinion=opinion)
            rows[name].append((cid, gold[cid], str(report.caller.label), lang))
    return rows, errors, seconds


def table(name: str, rows: list[tuple[str, str, str]], missing: list[str]) -> list[str]:
    four = [(g, p) for _, g, p in rows if g in LABEL]
    acc4 = sum(LABEL[g] == p for g, p in four) / max(len(four), 1)
    group = sum(GROUP[LABEL.get(g, g)] == GROUP[p] for _, g, p in rows) / max(len(rows), 1)
    out = [f"| {name} | {len(rows)}{f' (of {len(rows) + len(missing)})' if missing else ''} | "
           f"{acc4:.3f} ({sum(LABEL[g] == p for g, p in four)}/{len(four)}) | {group:.3f} |"]
    return out


def confusion(rows: list[tuple[str, str, str]]) -> list[str]:
    gold_names = sorted({g for _, g, _ in rows})
    out = ["| script emotion \\ predicted | " + " | ".join(CLASSES) + " |", "|---" * (len(CLASSES) + 1) + "|"]
    counts = Counter((g, p) for _, g, p in rows)
    for g in gold_names:
        out.append(f"| {g} | " + " | ".join(str(counts[(g, p)]) for p in CLASSES) + " |")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--corpus-asr", type=Path, default=ROOT / "bench" / "out" / "corpus" / "analysis")
    parser.add_argument("--kokoro-asr", type=Path)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rescore", action="store_true", help="score the analysis files' turns again, both methods")
    parser.add_argument("--audio-dir", type=Path, default=ROOT / "bench" / "out" / "corpus" / "audio")
    parser.add_argument("--opinions", type=Path, help="JSON cache of the LLM's reading per call (read, then extended)")
    parser.add_argument("--judge-languages", default="zh", help="comma-separated languages the LLM judges")
    args = parser.parse_args()

    corpus = ROOT / "bench" / "corpus"
    split = json.loads((corpus / "split.json").read_text())["split"]
    calls = json.loads((corpus / "scenarios.json").read_text(encoding="utf-8"))["calls"]
    sets = {f"call corpus, {args.split} split": {c["id"]: c["emotion"] for c in calls if split[c["id"]] == args.split}}
    if args.kokoro_asr:
        rows = [json.loads(x) for x in (args.data / "calls_kokoro" / "manifest.jsonl").read_text().splitlines() if x]
        sets["16 shared calls, Kokoro voices"] = {r["id"]: r["emotion"] for r in rows}
    lines = [f"### Caller emotion on neural-voice calls ({args.split} split)", "",
             "| calls | n | 4-label accuracy (sad left out) | group accuracy (neg/neu/pos, sad = neg) |",
             "|---|---|---|---|"]
    details: list[str] = []
    for name, gold in sets.items():
        asr = args.kokoro_asr if name.startswith("16") else args.corpus_asr
        rows, missing = predictions(asr, gold)
        lines += table(name, rows, missing)
        details += ["", f"{name}: rows script emotion, columns predicted", "", *confusion(rows)]
    if args.rescore:
        import statistics

        rows_by, errors, seconds = rescore(args.corpus_asr, args.audio_dir, sets[f"call corpus, {args.split} split"],
                                           args.opinions, tuple(args.judge_languages.split(",")))
        lines += ["", "Rescored from the analysis files' Whisper turns + audio:", "",
                  "| method | language | n | 4-label accuracy (sad left out) | group accuracy |", "|---|---|---|---|---|"]
        for name, rows in rows_by.items():
            for lang in ("en", "zh", None):
                part = [r[:3] for r in rows if lang is None or r[3] == lang]
                lines += [f"| {name} | {lang or 'all'} " + table("", part, [])[0][3:]]
            details += ["", f"{name}, rescored: rows script emotion, columns predicted", "",
                        *confusion([r[:3] for r in rows])]
        lines += ["", "| ASR error against the scripts | n | median | mean |", "|---|---|---|---|"]
        for lang, values in errors.items():
            kind = "CER" if lang == "zh" else "WER"
            lines.append(f"| {kind} {lang} | {len(values)} | {statistics.median(values):.3f} | "
                         f"{statistics.mean(values):.3f} |")
        if seconds:
            lines += ["", f"LLM opinion: {len(seconds)} calls judged in this run, {statistics.median(seconds):.1f} s median, "
                          f"{statistics.mean(seconds):.1f} s mean per call (wall, this machine)"]
    lines += details
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return None


if __name__ == "__main__":
    sys.exit(main())
