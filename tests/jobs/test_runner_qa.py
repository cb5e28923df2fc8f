"""The job runner scores each call with the active QA scorecard and keeps PII originals only when asked."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from callscope.context import Context
from callscope.jobs.runner import create_job, run_job
from callscope.domain import AnalyzedTurn, Emotion, EmotionScore, JobState, Role, Segment, Transcript, Word
from callscope.pipeline import CallProcessor
from callscope.qa import store as qa_store
from tests.jobs.doubles import CountingProcessor

SAID = " You can call me back on 07700 900321."


class PhoneNumberCall(CountingProcessor):
    """A caller who gives a phone number; the real PII redaction runs."""

    def transcribe(self, audio, hook=None):  # type: ignore[no-untyped-def]
        self._stage("transcribe", hook)
        words = tuple(Word(0.2 + 0.3 * i, 0.5 + 0.3 * i, f" {w}", 0.9, "caller") for i, w in enumerate(SAID.split()))
        return Transcript("en", (Segment(0.2, 3.0, SAID, words, channel=0, speaker="caller"),), audio.duration_s, "t", "t")

    def redact(self, transcript):  # type: ignore[no-untyped-def]
        return CallProcessor.redact(self, transcript)

    def analyze(self, recording_id, audio, transcript, diarization):  # type: ignore[no-untyped-def]
        analysis = super().analyze(recording_id, audio, transcript, diarization)
        neutral = EmotionScore(Emotion.NEUTRAL, 0.9, 0.0)
        turns = tuple(AnalyzedTurn("caller", Role.CALLER, s.start, s.end, s.text, neutral) for s in transcript.segments)
        return replace(analysis, turns=turns)


def _run(ctx: Context, data_dir: Path) -> str:
    rid = ctx.store.ingest_file(data_dir / "calls" / "s_en_01.stereo.wav").recording.id
    assert run_job(ctx, PhoneNumberCall(ctx.settings), create_job(ctx, rid)).state == JobState.DONE
    return rid


def test_originals_are_kept_aside_only_when_configured(ctx: Context, data_dir: Path) -> None:
    rid = _run(ctx, data_dir)
    assert "900321" not in ctx.store.get_artifact(rid, "transcript")["segments"][0]["text"]
    assert ctx.store.get_artifact(rid, "transcript_original") is None  # the default keeps no PII
    keep = Context(ctx.settings.model_copy(update={"pii_keep_original": True,
                                                   "data_dir": ctx.settings.data_dir.parent / "keep"}))
    try:
        rid = _run(keep, data_dir)
        assert "900321" not in keep.store.get_artifact(rid, "transcript")["segments"][0]["text"]
        assert "07700 900321" in keep.store.get_artifact(rid, "transcript_original")["segments"][0]["text"]
    finally:
        keep.close()


def test_a_dashboard_scorecard_scores_new_calls(ctx: Context, data_dir: Path) -> None:
    qa_store.save_scorecard(ctx, "id: callback\nname: Callback\ncriteria:\n  - id: number\n    name: Caller left a number\n"
                                 "    rule: {said: {by: caller, regex: 'call me back'}}\n", "lead")
    rid = _run(ctx, data_dir)
    result = qa_store.get_result(ctx, rid)
    assert result is not None and result.scorecard == "callback" and result.items[0].passed is True
    assert ctx.store.get_artifact(rid, "analysis")["qa"]["scorecard"] == "callback"
