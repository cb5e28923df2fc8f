"""Transcript downloads in the openai-whisper formats (via callscope.transcription.writers)."""

from __future__ import annotations

from callscope.domain import Transcript
from callscope.transcription import writers

MEDIA_TYPES = {
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}


def render_transcript(transcript: Transcript, fmt: str) -> tuple[str, str]:
    """The transcript as ``fmt`` (srt, vtt, txt or tsv); returns (body, media type).

    Raises:
        KeyError: an unknown format (the route only lets the known ones through).
    """

    media = MEDIA_TYPES[fmt]
    return writers.RENDERERS[fmt](transcript), media
