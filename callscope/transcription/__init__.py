"""Offline Whisper transcription: models from PyPI packages or local paths, two engines,
VAD, per-channel stereo, hallucination guards, streaming for long files.

    from callscope.transcription import Transcriber, TranscribeOptions
    transcriber = Transcriber(TranscribeOptions.from_settings(settings), settings.resolved_model_dir)
    transcript = transcriber.transcribe("call.wav")
"""

from callscope.transcription.options import TranscribeOptions
from callscope.transcription.transcriber import SegmentStream, Transcriber

__all__ = ["SegmentStream", "TranscribeOptions", "Transcriber"]
