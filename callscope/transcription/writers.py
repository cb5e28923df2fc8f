"""Transcript files in the openai-whisper CLI formats (``<stem>.txt|srt|vtt|tsv|json``).

Same names and layouts as ``whisper --output_format``; when segments have speakers,
txt/srt lines start with ``caller:``/``agent:`` and vtt cues use WebVTT voice tags
(``<v caller>``). JSON is :meth:`Transcript.to_dict`. Every file is written to a
temporary name and renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from callscope.domain import Segment, Transcript
from callscope.errors import ConfigError, StorageError
from callscope.storage_io import atomic_write_text

FORMATS = ("txt", "vtt", "srt", "tsv", "json")


def format_timestamp(seconds: float, *, always_include_hours: bool = False, decimal_marker: str = ".") -> str:
    """``HH:MM:SS.mmm`` as openai-whisper writes it (hours optional)."""
    milliseconds = round(max(seconds, 0.0) * 1000.0)
    hours, milliseconds = divmod(milliseconds, 3_600_000)
    minutes, milliseconds = divmod(milliseconds, 60_000)
    secs, milliseconds = divmod(milliseconds, 1_000)
    hours_marker = f"{hours:02d}:" if always_include_hours or hours > 0 else ""
    return f"{hours_marker}{minutes:02d}:{secs:02d}{decimal_marker}{milliseconds:03d}"


def _line(segment: Segment) -> str:
    text = " ".join(segment.text.split())
    return f"{segment.speaker}: {text}" if segment.speaker else text


def render_txt(transcript: Transcript) -> str:
    return "".join(f"{_line(s)}\n" for s in transcript.segments)


def render_srt(transcript: Transcript) -> str:
    cues = []
    for index, segment in enumerate(transcript.segments, start=1):
        start = format_timestamp(segment.start, always_include_hours=True, decimal_marker=",")
        end = format_timestamp(max(segment.end, segment.start), always_include_hours=True, decimal_marker=",")
        cues.append(f"{index}\n{start} --> {end}\n{_line(segment)}\n")
    return "\n".join(cues)


def render_vtt(transcript: Transcript) -> str:
    cues = ["WEBVTT\n"]
    for segment in transcript.segments:
        start = format_timestamp(segment.start)
        end = format_timestamp(max(segment.end, segment.start))
        text = " ".join(segment.text.split())
        if segment.speaker:
            text = f"<v {segment.speaker}>{text}"
        cues.append(f"{start} --> {end}\n{text}\n")
    return "\n".join(cues)


def render_tsv(transcript: Transcript) -> str:
    rows = ["start\tend\ttext"]
    for segment in transcript.segments:
        text = segment.text.strip().replace("\t", " ").replace("\n", " ")
        rows.append(f"{round(1000 * segment.start)}\t{round(1000 * segment.end)}\t{text}")
    return "\n".join(rows) + "\n"


def render_json(transcript: Transcript) -> str:
    return json.dumps(transcript.to_dict(), ensure_ascii=False)


RENDERERS: dict[str, Callable[[Transcript], str]] = {
    "txt": render_txt,
    "vtt": render_vtt,
    "srt": render_srt,
    "tsv": render_tsv,
    "json": render_json,
}


def parse_formats(formats: str | Iterable[str]) -> tuple[str, ...]:
    """``"all"``, ``"srt"``, ``"txt,json"`` or a list -> validated format names.

    Raises:
        ConfigError: an unknown format.
    """
    items = [formats] if isinstance(formats, str) else list(formats)
    names: list[str] = []
    for item in items:
        for name in str(item).split(","):
            name = name.strip().lower()
            if not name:
                continue
            if name == "all":
                names.extend(FORMATS)
            elif name in RENDERERS:
                names.append(name)
            else:
                raise ConfigError(f"unknown output format {name!r}; choose from {', '.join(FORMATS)} or all")
    if not names:
        raise ConfigError(f"no output format given; choose from {', '.join(FORMATS)} or all")
    return tuple(dict.fromkeys(names))


def write_outputs(transcript: Transcript, output_dir: Path, stem: str, formats: str | Iterable[str]) -> list[Path]:
    """Write ``<output_dir>/<stem>.<ext>`` for each format.

    Args:
        transcript: what to write.
        output_dir: created if missing.
        stem: file name without extension (the audio file's stem, like the whisper CLI).
        formats: ``"all"``, one name, a comma list or an iterable of names.

    Returns:
        The written paths, in format order.

    Raises:
        ConfigError: an unknown format.
        StorageError: the folder or a file cannot be written.
    """
    names = parse_formats(formats)
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"cannot create the output folder {output_dir} ({exc.strerror or exc})") from exc
    written = []
    for name in names:
        path = output_dir / f"{stem}.{name}"
        atomic_write_text(path, RENDERERS[name](transcript))
        written.append(path)
    return written
