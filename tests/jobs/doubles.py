"""A recording processor double (no models) and a worker entry point using it.

The job tests are about job state, queues and faults, not model output (the slow test
in test_worker_kill.py and tests/test_pipeline.py run the real models). The double
records the stages it ran, can fail once at a stage, and can be slowed down so a test
can kill its worker mid-stage.

    python -m tests.jobs.doubles [--slow-transcribe S] [--stage-s S] [--burst]

runs ``callscope.jobs.worker.run_worker`` with this double in a separate process
(settings from the ``CALLSCOPE_*`` environment), for tests that kill workers.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from callscope.domain import (
    CallAnalysis,
    Diarization,
    Emotion,
    EmotionScore,
    Role,
    Segment,
    SpeakerTurn,
    Transcript,
)
from callscope.pipeline import CallProcessor


class CountingProcessor(CallProcessor):
    """Stages that return fixed results, count their calls and can fail or be slow."""

    def __init__(self, settings, fail_at: str | None = None, fail_times: int = 1,  # type: ignore[no-untyped-def]
                 stage_s: float = 0.0, slow_transcribe_s: float = 0.0, log_path: Path | None = None,
                 error: type[Exception] = RuntimeError) -> None:
        super().__init__(settings)
        self.calls: list[str] = []
        self.fail_at, self.fail_times, self.error = fail_at, fail_times, error
        self.stage_s, self.slow_transcribe_s, self.log_path = stage_s, slow_transcribe_s, log_path

    def _stage(self, stage: str, hook=None) -> None:  # type: ignore[no-untyped-def]
        self.calls.append(stage)
        if self.log_path is not None:  # visible to the test across processes
            with self.log_path.open("a") as handle:
                handle.write(json.dumps({"pid": os.getpid(), "stage": stage}) + "\n")
        if self.fail_at == stage and self.fail_times > 0:
            self.fail_times -= 1
            raise self.error(f"worker died during {stage}")
        seconds = self.stage_s + (self.slow_transcribe_s if stage == "transcribe" else 0.0)
        steps = max(1, int(seconds / 0.1))
        for step in range(steps):
            if seconds:
                time.sleep(seconds / steps)
            if hook is not None:
                hook(stage, step + 1, steps)

    def transcribe(self, audio, hook=None):  # type: ignore[no-untyped-def]
        self._stage("transcribe", hook)
        return Transcript("en", (Segment(0.0, 1.0, " hello", channel=0, speaker="caller"),), audio.duration_s, "t", "t")

    def redact(self, transcript):  # type: ignore[no-untyped-def]
        return transcript

    def diarize(self, audio, transcript, hook=None):  # type: ignore[no-untyped-def]
        self._stage("diarize", hook)
        d = Diarization((SpeakerTurn(0.0, 1.0, "caller", Role.CALLER, 0),), {"caller": Role.CALLER}, method="channels")
        return d, transcript

    def analyze(self, recording_id, audio, transcript, diarization):  # type: ignore[no-untyped-def]
        self._stage("analyze")
        score = EmotionScore(Emotion.NEUTRAL, 0.9, 0.0)
        return CallAnalysis(recording_id, "en", "hello", score, None, (), None)


def main() -> None:
    import logging

    from callscope.context import Context
    from callscope.jobs.worker import run_worker
    from callscope.settings import Settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--slow-transcribe", type=float, default=0.0)
    parser.add_argument("--stage-s", type=float, default=0.0)
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--burst", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    ctx = Context(Settings())
    processor = CountingProcessor(ctx.settings, stage_s=args.stage_s, slow_transcribe_s=args.slow_transcribe,
                                  log_path=args.log)
    run_worker(burst=args.burst, ctx=ctx, processor=processor)


if __name__ == "__main__":
    main()
