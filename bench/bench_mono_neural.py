"""Mono diarization on real and synthetic audio: segmentation-3.0 + CAM++ (``neural``) vs resemblyzer.

The split is fixed here, before any tuning (issue #13; round 2 added the real-voice
sets of bench/real_voice.py, whose speakers never cross the split):

* **dev** (calibration only): the 16 espeak mono calls, the kokoro (neural-voice) mono
  calls s_en_01..06 and s_zh_01..02, paa_diarizationExample (4 speakers), as
  one-speaker files both channels of kokoro s_en_01, s_en_03 and s_zh_01 alone; the
  AMI excerpts trn00..trn09 and the composed 8 kHz calls / one-speaker files of the
  dev speakers.
* **test** (reported once): the kokoro calls s_en_07..12 and s_zh_03..04, both
  channels of kokoro s_en_08 and s_zh_03 alone (one speaker each),
  paa_diarizationExample2 (6 speakers), the AMI excerpts dev00, dev01 (their names are
  pyannote's), tst00, tst01, the real two-channel AWS call mixed to mono (reference:
  the curators' per-channel VAD RTTM) and the composed calls / one-speaker files of
  the test speakers.

The real-voice sets are skipped (with a message) until fetched into bench/out/ (see
bench/real_voice.py). ``--calibrate`` compares, on dev only, round 6's per-window constraint
with and without round 5's parts (round 5 searched the distinct-voice rule, the VBx-style
resegmentation and an eigengap count; round 4 which runs are clustered and the small-cluster
bar; round 2 fixed thresholds, the bounds and the pause fill: BENCHMARKS.md and this file's history), minimising the mean over dev groups of (pooled DER collar 0.25 + share of files with a
wrong speaker count); the chosen values are constants in callscope/diarization/neural.py.
``--calibrate8 [MIN_EMBED_S ...]`` is round 8's dev grid (the shortest run with its own embedding, each with
and without a clean-speech speaker bar; new features per value); ``--step-s`` / ``--min-embed-s`` override
the window step / shortest embedded run for a run (round 8 scored the test split with 0.5, round 7's value,
beside 0.4 in one sitting). ``--keep-repeats`` scores with session 13's copy search off (copies of one sound count as
neighbours in the threshold's spread, as before; bench/bench_repeated_audio.py measures what it is for);
``--every-copy`` with session 13's speaker bar (every copy of a repeated sound counts toward a cluster's speech,
``neural.ONCE_PER_SOUND`` off).
Without it the script scores the splits with those constants. Scores: pyannote.metrics DER with collar 0.25 and with
no collar (overlap scored), JER, speaker count; speed as audio seconds per wall / CPU
second, the resemblyzer path timed in the same run (the box is shared: compare ratios).
Features and resemblyzer results are cached in bench/out/neural_cache (``--fresh``
recomputes and re-times both).

    python bench/bench_mono_neural.py [--data ../shared/data] [--calibrate] [--calibrate8 [S ...]] [--split dev|test|both]
                                      [--fresh] [--no-baseline] [--no-floor] [--keep-repeats] [--every-copy] [--step-s S]
                                      [--min-embed-s S]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import pickle
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from callscope.diarization import DiarizeOptions, diarize, neural, repeats  # noqa: E402
from callscope.diarization.diarize import CHUNK_S  # noqa: E402
from callscope.diarization.evaluation import score  # noqa: E402
from callscope.diarization.mono import resampled_chunks  # noqa: E402
from callscope.diarization.rttm import read_rttm  # noqa: E402
from callscope.domain import Audio, Diarization  # noqa: E402
from callscope.recordings.audio import load_audio  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import real_voice as real_voice_sets  # noqa: E402

AMI = ROOT / "bench" / "out" / "pyannote_debug"
LIBRISPEECH = ROOT / "bench" / "out" / "librispeech_test_other"
CACHE = ROOT / "bench" / "out" / "neural_cache"

DEV_SINGLE = ["s_en_01", "s_en_03", "s_zh_01"]
TEST_SINGLE = ["s_en_08", "s_zh_03"]
DEV_KOKORO = [f"s_en_{i:02d}" for i in range(1, 7)] + ["s_zh_01", "s_zh_02"]
TEST_KOKORO = [f"s_en_{i:02d}" for i in range(7, 13)] + ["s_zh_03", "s_zh_04"]
ESPEAK = [f"s_en_{i:02d}" for i in range(1, 13)] + [f"s_zh_{i:02d}" for i in range(1, 5)]


@dataclass
class Item:
    name: str
    group: str
    audio: Audio
    reference: Diarization
    uem: tuple[float, float] | None = None


def items(data: Path, split: str, ami: Path = AMI, librispeech: Path = LIBRISPEECH) -> list[Item]:
    out: list[Item] = []

    def call(folder: str, stem: str, group: str) -> None:
        wav = data / folder / f"{stem}.mono.wav"
        if wav.exists():
            out.append(Item(f"{folder}/{stem}", group, load_audio(wav), read_rttm(data / folder / f"{stem}.rttm")))

    def single(stem: str) -> None:
        wav = data / "calls_kokoro" / f"{stem}.stereo.wav"
        if not wav.exists():
            return
        stereo = load_audio(wav)
        reference = read_rttm(data / "calls_kokoro" / f"{stem}.rttm")
        for channel, role in enumerate(("caller", "agent")):  # Twilio layout: caller on channel 0
            turns = tuple(t for t in reference.turns if t.speaker == role)
            out.append(Item(f"calls_kokoro/{stem} {role} channel alone", "one speaker (one channel)",
                            stereo.channel(channel), Diarization(turns=turns, duration_s=stereo.duration_s)))

    def real_voice() -> None:
        """AMI excerpts and composed real-voice calls (bench/real_voice.py), when fetched."""
        if not (real_voice_sets.available(ami) and librispeech.exists()):
            print(f"  (real-voice sets skipped: fetch them into {ami} and {librispeech}, see bench/real_voice.py)",
                  file=sys.stderr)
            return
        for uri in real_voice_sets.DEV_URIS if split == "dev" else ["tst00", "tst01"]:
            audio, reference = real_voice_sets.meeting(ami, uri)
            out.append(Item(f"AMI {uri}", "meeting excerpts", audio, reference, (0.0, 30.0)))
        for composed in real_voice_sets.composed_set(ami, librispeech, split):
            group = ("composed one speaker, real voice" if "one speaker" in composed.name
                     else "composed calls, real voices (8 kHz)")
            out.append(Item(composed.name, group, composed.audio, composed.reference))

    real = data / "diarization"
    if split == "dev":
        for stem in DEV_SINGLE:
            single(stem)
        for stem in ESPEAK:
            call("calls", stem, "espeak mono calls")
        for stem in DEV_KOKORO:
            call("calls_kokoro", stem, "neural-voice mono calls")
        out.append(Item("paa_diarizationExample", "real clips", load_audio(real / "paa_diarizationExample.wav"),
                        read_rttm(real / "paa_diarizationExample.rttm")))
        real_voice()
        return out
    for stem in TEST_KOKORO:
        call("calls_kokoro", stem, "neural-voice mono calls")
    for stem in TEST_SINGLE:
        single(stem)
    out.append(Item("paa_diarizationExample2", "real clips", load_audio(real / "paa_diarizationExample2.wav"),
                    read_rttm(real / "paa_diarizationExample2.rttm")))
    for uri in ("dev00", "dev01"):
        out.append(Item(f"pyannote_{uri}", "meeting excerpts", load_audio(real / f"pyannote_{uri}.wav"),
                        read_rttm(real / "debug.development.rttm", uri=uri), (0.0, 30.0)))
    phone = data / "phone_calls" / "lca_Auto_Repairs_40_2ch_8k_first120s.wav"
    if phone.exists():
        out.append(Item("AWS call, 2-ch mixed to mono", "real phone call (mono mix)", load_audio(phone).mono(),
                        read_rttm(phone.with_name(phone.stem + ".auto_vad.rttm"))))
    real_voice()
    return out


@dataclass
class Run:
    item: Item
    feats: neural.NeuralFeatures
    wall_s: float  # neural: extract + segment
    cpu_s: float
    old: Diarization | None = None
    old_wall_s: float = 0.0
    old_cpu_s: float = 0.0


def _key(item: Item, kind: str) -> Path:
    digest = hashlib.sha1(item.audio.samples.tobytes())
    digest.update(f"{item.audio.sample_rate}|{kind}".encode())
    if kind == "neural":
        digest.update(f"{neural.WINDOW_S}|{neural.STEP_S}|{neural.MIN_EMBED_S}|{neural.BRIDGE_S}".encode())
        digest.update(f"|prints {repeats.SPAN} {repeats.HOP} {repeats.BANDS} {repeats.GROUP}".encode())  # session 13
    return CACHE / f"{kind}-{digest.hexdigest()[:20]}.pkl"


def _cached(path: Path, fresh: bool):
    if fresh or not path.exists():
        return None
    with path.open("rb") as f:
        return pickle.load(f)


def _store(path: Path, value) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(value, f)


def run_all(selected: list[Item], with_old: bool, fresh: bool = False) -> list[Run]:
    """Neural features (and the resemblyzer result) per file; cached under bench/out/neural_cache.

    With ``fresh`` both are recomputed (and timed) in this run; cached timings are those of the run that made them.
    """
    runs = []
    models = neural.load_models()
    for item in selected:
        path = _key(item, "neural")
        hit = _cached(path, fresh)
        if hit is None:
            start, cpu = time.perf_counter(), time.process_time()
            feats = neural.extract(resampled_chunks(item.audio.blocks(CHUNK_S)), total_s=item.audio.duration_s)
            neural.segment(feats, DiarizeOptions())
            hit = (feats.windows, feats.embeddings, feats.speech_s, feats.duration_s,
                   time.perf_counter() - start, time.process_time() - cpu, feats.prints)
            _store(path, hit)
        windows, embeddings, speech_s, duration_s, wall_s, cpu_s, prints = hit
        run = Run(item, neural.NeuralFeatures(windows, embeddings, speech_s, duration_s, models, prints), wall_s, cpu_s)
        if with_old:
            path = _key(item, "resemblyzer")
            old = _cached(path, fresh)
            if old is None:
                start, cpu = time.perf_counter(), time.process_time()
                result = diarize(item.audio, DiarizeOptions(method="embeddings"))
                old = (result, time.perf_counter() - start, time.process_time() - cpu)
                _store(path, old)
            run.old, run.old_wall_s, run.old_cpu_s = old
        runs.append(run)
        print(f"  {item.name}: {item.audio.duration_s:.0f} s, {run.wall_s:.1f} s wall", file=sys.stderr)
    return runs


@dataclass(frozen=True)
class Setting:
    """Clustering knobs: a fixed threshold, or (factor, lowest, highest) of the per-recording rule; the small-cluster
    bar (``union``: the time a cluster's runs cover, else their summed speech), the pause fill, the reliable-run length."""

    threshold: float | None
    factor: float
    lowest: float
    highest: float
    min_speaker_s: float
    fill_s: float
    reliable_s: float = 2.0
    union: bool = False
    distinct: float | None = None  # round 5: DISTINCT_FACTOR (None: off)
    loop: float = neural.RESEGMENT_LOOP  # round 5: resegmentation (sharpness None: off)
    sharpness: float | None = None
    eigengap_gap: float | None = None  # round 5, not adopted: eigengap count when its normalised gap is this wide
    constrain: bool = False  # round 6: distinct clusters for a window's local speakers who talk at once

    def label(self) -> str:
        rule = (f"fixed {self.threshold:.2f}" if self.threshold is not None
                else f"{self.factor:.1f} × spread in [{self.lowest:.2f}, {self.highest:.2f}]")
        mass = "covered" if self.union else "summed"
        return f"| {rule} | {self.reliable_s:.2f} | {self.min_speaker_s:.1f} {mass} | {self.fill_s:.2f} |"

    def label5(self) -> str:
        distinct = "off" if self.distinct is None else f"{self.distinct:.1f} ×"
        reseg = "off" if self.sharpness is None else f"loop {self.loop:.1f}, {self.sharpness:.0f} / spread"
        gate = "off" if self.eigengap_gap is None else f"gap ≥ {self.eigengap_gap:.2f}"
        return f"| {distinct} | {reseg} | {gate} |"


ROUND4 = Setting(None, 3.0, 0.20, 0.55, 3.0, 2.0, 0.75, True)
ROUND5 = Setting(None, 3.0, 0.20, 0.55, 3.0, 2.0, 0.75, True, 2.0, 0.5, 20.0)


def labels_for(feats: neural.NeuralFeatures, setting: Setting, low: int = 1, high: int = 8) -> np.ndarray:
    """Cluster labels of a recording under a setting (neural.cluster's knobs, plus the eigengap gate)."""
    spans, owners = feats.spans(), feats.owners()
    threshold = setting.threshold
    if threshold is None:
        reliable = feats.speech_s >= setting.reliable_s
        if reliable.sum() < 3:  # as neural.cluster does
            reliable = np.ones(len(feats.speech_s), bool)
        threshold = neural.recording_threshold(feats.embeddings[reliable], spans[reliable],
                                               setting.factor, setting.lowest, setting.highest)
    labels = neural.cluster(feats.embeddings, feats.speech_s, low, high, threshold, setting.min_speaker_s,
                            setting.reliable_s, spans, union_mass=setting.union, distinct_factor=setting.distinct,
                            resegment_sharpness=setting.sharpness, resegment_loop=setting.loop,
                          owners=owners, constrain=setting.constrain)
    if setting.eigengap_gap is None or len(labels) < 4:
        return labels
    reliable = feats.speech_s >= setting.reliable_s
    count, gap = eigengap_count(feats.embeddings[reliable] if reliable.sum() >= 4 else feats.embeddings, high)
    found = int(labels.max()) + 1
    if gap < setting.eigengap_gap or count <= found:
        return labels
    return neural.cluster(feats.embeddings, feats.speech_s, count, count, threshold, setting.min_speaker_s,
                          setting.reliable_s, spans, union_mass=setting.union, distinct_factor=setting.distinct,
                          resegment_sharpness=setting.sharpness, resegment_loop=setting.loop,
                          owners=owners, constrain=setting.constrain)


def eigengap_count(embeddings: np.ndarray, max_speakers: int, max_share: float = 0.25) -> tuple[int, float]:
    """Speaker count from the spectrum of the embeddings' affinity graph (NME-SC, Park et al. 2019).

    For each pruning level p, every row of the cosine affinity keeps its p most similar
    other embeddings (as 1, the rest 0), the graph is made symmetric, and the eigenvalues
    of its normalised Laplacian give a count: the position of the largest gap among the
    smallest ``max_speakers + 1`` eigenvalues. The p whose largest gap, relative to the
    largest eigenvalue, is widest per neighbour kept (the smallest p / n over normalised
    gap) is chosen, so the graph is pruned no more and no less than this recording needs.
    Returns the count and that normalised gap (how clear the count is); (1, 0.0) with
    fewer than 4 embeddings.
    """
    n = embeddings.shape[0]
    if n < 4:
        return 1, 0.0
    similarity = embeddings @ embeddings.T
    np.fill_diagonal(similarity, -np.inf)
    ranked = np.argsort(-similarity, axis=1)
    top = min(max_speakers, n - 1)
    best: tuple[float, int, float] | None = None
    for p in range(2, max(2, int(max_share * n)) + 1):
        affinity = np.zeros((n, n), np.float64)
        np.put_along_axis(affinity, ranked[:, :p], 1.0, axis=1)
        affinity = (affinity + affinity.T) / 2
        degree = affinity.sum(axis=1)
        scale = 1.0 / np.sqrt(np.maximum(degree, 1e-12))
        laplacian = np.eye(n) - scale[:, None] * affinity * scale[None, :]
        values = np.linalg.eigvalsh(laplacian)
        if values[min(top, n - 1)] < 1e-6:  # more pieces than speakers allowed: pruned too hard
            continue
        gaps = np.diff(values[: top + 1])
        if gaps.size == 0:
            continue
        k = int(np.argmax(gaps))
        gap = float(gaps[k] / max(values[-1], 1e-12))
        ratio = (p / n) / max(gap, 1e-12)
        if best is None or ratio < best[0]:
            best = (ratio, k + 1, gap)
    if best is None:
        return 1, 0.0
    return best[1], best[2]


def evaluate(runs: list[Run], setting: Setting) -> tuple[float, dict[str, tuple[float, float]]]:
    """Group-balanced objective: mean over groups of (pooled DER c0.25 + share of files with a wrong count)."""
    per_group: dict[str, list[tuple[float, float, bool]]] = {}
    for run in runs:
        feats = run.feats
        labels = labels_for(feats, setting, *DiarizeOptions().speaker_range())
        result = neural.to_diarization(feats, labels, DiarizeOptions(), setting.fill_s)
        s = score(run.item.reference, result, uem=run.item.uem)
        wrong = len(result.speakers) != len(run.item.reference.speakers)
        per_group.setdefault(run.item.group, []).append((s.der * s.reference_s, s.reference_s, wrong))
    return pooled(per_group)


def pooled(per_group: dict[str, list[tuple[float, float, bool]]]) -> tuple[float, dict[str, tuple[float, float]]]:
    """The group-balanced objective and each group's (pooled DER, share of files with a wrong count) from
    its files' (DER x reference seconds, reference seconds, wrong count) rows."""
    groups = {}
    for group, rows in per_group.items():
        a = np.array(rows, dtype=float)
        groups[group] = (a[:, 0].sum() / max(a[:, 1].sum(), 1e-9), a[:, 2].mean())
    return float(np.mean([der + wrong for der, wrong in groups.values()])), groups


def calibrate(runs: list[Run]) -> None:
    """Round 6 on dev, on round 5's features and constants: the per-window constraint (two local speakers of a
    window who talk at once get distinct clusters) with and without the round-5 parts around it. (Round 6's
    embed-once trial and centroid merging: commit 46e1b88 of this file; rounds 4 and 5's grids: its history.)"""
    names = sorted({run.item.group for run in runs})
    header = "| distinct voice | resegmentation | eigengap count | constraint | objective | count right | " + " | ".join(
        f"{n}: DER % / wrong" for n in names) + " |"
    print(header + "\n" + "|---" * (6 + len(names)) + "|")
    results: dict[Setting, float] = {}
    sizes = Counter(run.item.group for run in runs)

    def row(setting: Setting) -> None:
        total, groups = evaluate(runs, setting)
        results[setting] = total
        right = round(sum((1 - groups[n][1]) * sizes[n] for n in names))
        cells = " | ".join(f"{100 * groups[n][0]:.1f} / {100 * groups[n][1]:.0f} %" for n in names)
        print(f"{setting.label5()} {'on' if setting.constrain else 'off'} | {total:.3f} | {right}/{len(runs)} | {cells} |",
              flush=True)

    for base in (ROUND4, replace(ROUND4, distinct=ROUND5.distinct), ROUND5):
        row(base)
        row(replace(base, constrain=True))
    winner = min(results, key=results.get)
    print(f"\nbest on dev: {winner.label5()} constraint {winner.constrain}: objective {results[winner]:.3f}")


def calibrate8(data: Path, min_embed: list[float]) -> None:
    """Round 8 on dev: the shortest run that gets its own embedding (``MIN_EMBED_S``; new features for each value)
    and a speaker bar on clean speech (a cluster's mass only from runs with ``MIN_EMBED_S`` where their speaker
    talks alone), each beside the current pipeline. (The window-step trials were run on the dev meetings with
    ``--step-s``: BENCHMARKS.md, round 8.)"""
    selected = items(data, "dev")
    names = sorted({item.group for item in selected})
    sizes = Counter(item.group for item in selected)
    print("| shortest embedded run s | speaker bar | objective | count right | "
          + " | ".join(f"{n}: DER % / wrong" for n in names) + " |")
    print("|---" * (4 + len(names)) + "|")
    default = neural.MIN_EMBED_S
    try:
        for value in min_embed:
            neural.MIN_EMBED_S = value
            runs = run_all(selected, with_old=False)
            for clean in (False, True):
                per_group: dict[str, list[tuple[float, float, bool]]] = {}
                for run in runs:
                    feats = run.feats
                    low, high = DiarizeOptions().speaker_range()
                    labels = neural.cluster(feats.embeddings, feats.speech_s, low, high, spans=feats.spans(),
                                            owners=feats.owners(), clean=feats.clean() if clean else None)
                    result = neural.to_diarization(feats, labels, DiarizeOptions())
                    s = score(run.item.reference, result, uem=run.item.uem)
                    wrong = len(result.speakers) != len(run.item.reference.speakers)
                    per_group.setdefault(run.item.group, []).append((s.der * s.reference_s, s.reference_s, wrong))
                total, groups = pooled(per_group)
                right = round(sum((1 - groups[n][1]) * sizes[n] for n in names))
                cells = " | ".join(f"{100 * groups[n][0]:.1f} / {100 * groups[n][1]:.0f} %" for n in names)
                bar = "clean speech" if clean else "all runs"
                print(f"| {value:.2f} | {bar} | {total:.3f} | {right}/{len(runs)} | {cells} |", flush=True)
    finally:
        neural.MIN_EMBED_S = default


# (overlap s, alone s, distance x threshold); the first row is the clustering's count alone (COUNT_FLOOR off), the
# second the floor of one only (speech heard, nothing embedded: one speaker)
FLOOR_GRID = [(None, 2.0, None), (None, 0.0, None)] + [(o, 2.0, None) for o in (0.5, 1.0, 2.0)] + [
    (None, a, f) for a in (1.0, 2.0, 3.0) for f in (1.0, 1.5, 2.0)
] + [(1.0, a, f) for a in (1.0, 2.0) for f in (1.0, 1.5)] + [(0.5, 2.0, 1.0)]


def calibrate9(runs: list[Run]) -> None:
    """Round 9 on dev: segmentation's evidence as a floor under the clustering's count (``neural.count_floor``:
    two local speakers of a window who talk at once for OVERLAP s, or who each talk alone for ALONE s with
    embeddings FACTOR x the threshold apart); per-file counts where a setting changes one."""
    names = sorted({run.item.group for run in runs})
    sizes = Counter(run.item.group for run in runs)
    print("| overlap s | alone s | distance × threshold | objective | count right | "
          + " | ".join(f"{n}: DER % / wrong" for n in names) + " |")
    print("|---" * (5 + len(names)) + "|")
    found: dict[tuple, list[int]] = {}
    for row, (overlap_s, alone_s, factor) in enumerate(FLOOR_GRID):
        per_group: dict[str, list[tuple[float, float, bool]]] = {}
        counts = []
        neural.COUNT_FLOOR = row > 0
        for run in runs:
            floor = 0 if overlap_s is None and factor is None else neural.count_floor(run.feats, None, overlap_s,
                                                                                    alone_s, factor)
            labels = neural.floored_labels(run.feats, DiarizeOptions(), floor=floor)
            result = neural.to_diarization(run.feats, labels, DiarizeOptions())
            s = score(run.item.reference, result, uem=run.item.uem)
            counts.append(len(result.speakers))
            wrong = len(result.speakers) != len(run.item.reference.speakers)
            per_group.setdefault(run.item.group, []).append((s.der * s.reference_s, s.reference_s, wrong))
        found[(overlap_s, alone_s, factor)] = counts
        total, groups = pooled(per_group)
        right = round(sum((1 - groups[n][1]) * sizes[n] for n in names))
        cells = " | ".join(f"{100 * groups[n][0]:.1f} / {100 * groups[n][1]:.0f} %" for n in names)
        o = ("off (no floor)" if row == 0 else "off") if overlap_s is None else f"{overlap_s:.1f}"
        f = "off" if factor is None else f"{factor:.1f}"
        print(f"| {o} | {alone_s:.1f} | {f} | {total:.3f} | {right}/{len(runs)} | {cells} |", flush=True)
    neural.COUNT_FLOOR = True
    base = found[FLOOR_GRID[0]]
    print("\nfiles whose count changes (true: off → each setting in grid order)")
    for i, run in enumerate(runs):
        row = [found[key][i] for key in FLOOR_GRID]
        if len(set(row)) > 1 or base[i] != len(run.item.reference.speakers):
            print(f"  {run.item.name}: {len(run.item.reference.speakers)}: {' '.join(map(str, row))}")


def pct(x: float) -> str:
    return f"{100 * x:.2f}"


def report(runs: list[Run], split: str) -> None:
    print(f"\n### {split} split\n")
    print(
        "| file | ref spk | found | DER % c0.25 | DER % c0 | JER % | oracle count DER % | round 5: found / DER % c0.25 "
        "| resemblyzer: found / DER % c0.25 | × real time wall (CPU) | resemblyzer × wall (CPU) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    groups: dict[str, list[tuple[float, float, float, float, bool, bool, float]]] = {}
    for run in runs:
        item = run.item
        result = neural.segment(run.feats, DiarizeOptions())
        oracle = neural.segment(run.feats, DiarizeOptions(num_speakers=len(item.reference.speakers)))
        before = neural.to_diarization(run.feats, labels_for(run.feats, ROUND5), DiarizeOptions())
        s4 = score(item.reference, before, uem=item.uem)
        s, s0 = score(item.reference, result, uem=item.uem), score(item.reference, result, collar=0.0, uem=item.uem)
        so = score(item.reference, oracle, uem=item.uem)
        old = score(item.reference, run.old, uem=item.uem) if run.old is not None else None
        ref_n, n = len(item.reference.speakers), len(result.speakers)
        dur = item.audio.duration_s
        old_cells = (
            f"{len(run.old.speakers)} / {pct(old.der)}" if old is not None and run.old is not None else "–",
            f"{dur / run.old_wall_s:.0f} ({dur / run.old_cpu_s:.0f})" if run.old is not None else "–",
        )
        print(
            f"| {item.name} | {ref_n} | {n} | {pct(s.der)} | {pct(s0.der)} | {pct(s.jer)} | {pct(so.der)} | "
            f"{len(before.speakers)} / {pct(s4.der)} | {old_cells[0]} | {dur / run.wall_s:.0f} ({dur / run.cpu_s:.0f}) | {old_cells[1]} |"
        )
        old0 = score(item.reference, run.old, collar=0.0, uem=item.uem) if run.old is not None else None
        nan = float("nan")
        groups.setdefault(item.group, []).append(
            (s.der * s.reference_s, s0.der * s0.reference_s, s.reference_s, s0.reference_s, n == ref_n,
             (len(run.old.speakers) == ref_n) if run.old is not None else False,
             (old.der * old.reference_s) if old is not None else nan,
             (old0.der * old0.reference_s) if old0 is not None else nan,
             s.jer, old.jer if old is not None else nan, s4.der * s4.reference_s, len(before.speakers) == ref_n)
        )
    print("\n| group | files | pooled DER % c0.25 | pooled DER % c0 | mean JER % | count right | round 5: DER % c0.25 / "
          "count | resemblyzer pooled DER % c0.25 | resemblyzer c0 | resemblyzer mean JER % | resemblyzer count right |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for group, rows in groups.items():
        a = np.array(rows, dtype=float)
        print(
            f"| {group} | {len(rows)} | {pct(a[:, 0].sum() / a[:, 2].sum())} | {pct(a[:, 1].sum() / a[:, 3].sum())} | "
            f"{pct(a[:, 8].mean())} | {int(a[:, 4].sum())}/{len(rows)} | "
            f"{pct(a[:, 10].sum() / a[:, 2].sum())} / {int(a[:, 11].sum())}/{len(rows)} | {pct(a[:, 6].sum() / a[:, 2].sum())} | "
            f"{pct(a[:, 7].sum() / a[:, 3].sum())} | {pct(a[:, 9].mean())} | {int(a[:, 5].sum())}/{len(rows)} |"
        )
    right = sum(int(r[4]) for rows in groups.values() for r in rows)
    old_right = sum(int(r[5]) for rows in groups.values() for r in rows)
    right4 = sum(int(r[11]) for rows in groups.values() for r in rows)
    print(f"\nspeaker count right on {right}/{len(runs)} files (round 5 {right4}/{len(runs)}, "
          f"resemblyzer {old_right}/{len(runs)})")
    audio = sum(r.item.audio.duration_s for r in runs)
    wall, cpu = sum(r.wall_s for r in runs), sum(r.cpu_s for r in runs)
    line = f"\nspeed over {audio:.0f} s: neural {audio / wall:.0f}× wall, {audio / cpu:.0f}× CPU"
    if all(r.old is not None for r in runs):
        old_wall, old_cpu = sum(r.old_wall_s for r in runs), sum(r.old_cpu_s for r in runs)
        line += f"; resemblyzer {audio / old_wall:.0f}× wall, {audio / old_cpu:.0f}× CPU (CPU ratio neural/resemblyzer {old_cpu / cpu:.2f})"
    print(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--calibrate", action="store_true", help="grid-search the clustering knobs on dev")
    parser.add_argument("--split", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--no-baseline", action="store_true", help="skip the resemblyzer runs")
    parser.add_argument("--fresh", action="store_true",
                        help="recompute (and time) both methods in this run instead of reading bench/out/neural_cache")
    parser.add_argument("--calibrate8", type=float, nargs="*", metavar="MIN_EMBED_S",
                        help="round 8 on dev: these shortest embedded runs (s), each with and without the clean-speech bar")
    parser.add_argument("--calibrate9", action="store_true",
                        help="round 9 on dev: segmentation's count floor under the clustering's count")
    parser.add_argument("--no-floor", action="store_true",
                        help="the clustering's count alone, without round 9's floor (neural.COUNT_FLOOR off)")
    parser.add_argument("--keep-repeats", action="store_true",
                        help="copies of one sound count as neighbours in the spread (neural.SKIP_REPEATS off: "
                             "sessions before 13)")
    parser.add_argument("--every-copy", action="store_true",
                        help="every copy of a repeated sound counts toward a cluster's speech for the speaker bar "
                             "(neural.ONCE_PER_SOUND off: session 13)")
    parser.add_argument("--step-s", type=float, help="window step (default neural.STEP_S; round 8's trials)")
    parser.add_argument("--min-embed-s", type=float,
                        help="shortest run with its own embedding (default neural.MIN_EMBED_S; round 8 ran the "
                             "test split with the round-7 value beside the new one)")
    args = parser.parse_args()
    if args.no_floor:
        neural.COUNT_FLOOR = False
    if args.keep_repeats:
        neural.SKIP_REPEATS = False
    if args.every_copy:
        neural.ONCE_PER_SOUND = False
    if args.step_s is not None:
        neural.STEP_S = args.step_s
    if args.min_embed_s is not None:
        neural.MIN_EMBED_S = args.min_embed_s
    neural.load_models()
    diarize(Audio(np.zeros((1, 16000), np.float32), 16000), DiarizeOptions(method="embeddings"))  # load resemblyzer
    if args.calibrate8 is not None:
        calibrate8(args.data, args.calibrate8 or [0.3, 0.4, 0.5])
        return
    if args.calibrate:
        calibrate(run_all(items(args.data, "dev"), with_old=False))
        return
    if args.calibrate9:
        calibrate9(run_all(items(args.data, "dev"), with_old=False))
        return
    for split in ("dev", "test") if args.split == "both" else (args.split,):
        report(run_all(items(args.data, split), with_old=not args.no_baseline, fresh=args.fresh), split)


if __name__ == "__main__":
    main()
