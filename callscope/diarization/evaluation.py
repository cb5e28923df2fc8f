"""Diarization error rates with pyannote.metrics (DER, JER), for tests and benchmarks."""

from __future__ import annotations

import os
from dataclasses import dataclass

from callscope.diarization.rttm import to_annotation
from callscope.domain import Diarization


@dataclass(frozen=True, slots=True)
class DiarizationScore:
    """DER and its parts (seconds), plus JER, for one recording."""

    der: float
    jer: float
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    reference_s: float


def score(
    reference: Diarization,
    hypothesis: Diarization,
    *,
    collar: float = 0.25,
    skip_overlap: bool = False,
    uem: tuple[float, float] | None = None,
) -> DiarizationScore:
    """Compare a hypothesis with a reference using pyannote.metrics.

    Args:
        reference: the true turns.
        hypothesis: the system's turns (labels are mapped optimally).
        collar: pyannote's collar (seconds removed around each reference boundary, in total).
        skip_overlap: ignore overlapped reference speech.
        uem: the evaluated (start, end); default: from 0 to the end of either diarization.

    Returns:
        The scores; DER is 0 when the reference holds no speech and the hypothesis none.
    """
    os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
    from pyannote.core import Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    ref = to_annotation(reference, uri="x")
    hyp = to_annotation(hypothesis, uri="x")
    end = max(
        reference.duration_s,
        hypothesis.duration_s,
        max((t.end for t in reference.turns), default=0.0),
        max((t.end for t in hypothesis.turns), default=0.0),
    )
    start_s, end_s = uem if uem is not None else (0.0, end)
    timeline = Timeline([Segment(start_s, max(end_s, start_s + 1e-3))], uri="x")
    der_metric = DiarizationErrorRate(collar=collar, skip_overlap=skip_overlap)
    parts = der_metric(ref, hyp, uem=timeline, detailed=True)
    total = float(parts["total"])
    errors = float(parts["missed detection"] + parts["false alarm"] + parts["confusion"])
    der = errors / total if total > 0 else (0.0 if errors == 0 else 1.0)
    jer = 0.0
    if len(ref.labels()):
        jer = float(JaccardErrorRate(collar=collar, skip_overlap=skip_overlap)(ref, hyp, uem=timeline))
    return DiarizationScore(
        der=der,
        jer=jer,
        missed_s=float(parts["missed detection"]),
        false_alarm_s=float(parts["false alarm"]),
        confusion_s=float(parts["confusion"]),
        reference_s=total,
    )
