"""RTTM files and pyannote.core interop for :class:`~callscope.domain.Diarization`.

RTTM lines follow NIST's layout, one speaker turn each::

    SPEAKER <uri> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from callscope.domain import Diarization, Role, SpeakerTurn
from callscope.errors import ConfigError

if TYPE_CHECKING:  # pyannote.core is a dependency, but keep import time low
    from pyannote.core import Annotation

_ROLE_NAMES = {r.value: r for r in Role}


def _clean(token: str) -> str:
    """RTTM fields are space-separated: no whitespace inside a uri or a label."""
    return re.sub(r"\s+", "_", token.strip()) or "NA"


def rttm_lines(diarization: Diarization, uri: str) -> list[str]:
    """The RTTM lines of ``diarization`` (sorted by start time)."""
    uri = _clean(uri)
    lines = []
    for turn in sorted(diarization.turns, key=lambda t: (t.start, t.end, t.speaker)):
        duration = turn.end - turn.start
        if duration <= 0:
            continue
        lines.append(f"SPEAKER {uri} 1 {turn.start:.3f} {duration:.3f} <NA> <NA> {_clean(turn.speaker)} <NA> <NA>\n")
    return lines


def write_rttm(diarization: Diarization, path: str | Path, uri: str) -> Path:
    """Write ``diarization`` as an RTTM file.

    Args:
        diarization: the turns to write.
        path: the file to (over)write; its folder must exist.
        uri: the recording name in the file's second column (usually the file stem).

    Returns:
        The path written.
    """
    path = Path(path)
    path.write_text("".join(rttm_lines(diarization, uri)), encoding="utf-8")
    return path


def parse_rttm(text: str, source: str = "<rttm>") -> dict[str, Diarization]:
    """Parse RTTM text into one :class:`Diarization` per uri (SPEAKER lines only).

    Raises:
        ConfigError: a SPEAKER line is malformed.
    """
    turns: dict[str, list[SpeakerTurn]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#") or fields[0] != "SPEAKER":
            continue
        if len(fields) < 8:
            raise ConfigError(f"{source}:{number}: an RTTM SPEAKER line needs at least 8 fields: {line!r}")
        try:
            start, duration = float(fields[3]), float(fields[4])
        except ValueError as exc:
            raise ConfigError(f"{source}:{number}: start/duration are not numbers: {line!r}") from exc
        if duration < 0 or start < 0:
            raise ConfigError(f"{source}:{number}: negative start or duration: {line!r}")
        speaker = fields[7]
        turns.setdefault(fields[1], []).append(
            SpeakerTurn(start, start + duration, speaker, role=_ROLE_NAMES.get(speaker.lower(), Role.UNKNOWN))
        )
    out = {}
    for uri, items in turns.items():
        items.sort(key=lambda t: (t.start, t.end))
        roles = {t.speaker: t.role for t in items if t.role is not Role.UNKNOWN}
        out[uri] = Diarization(
            turns=tuple(items),
            roles=roles,
            role_confidence={s: 1.0 for s in roles},
            method="rttm",
            duration_s=max(t.end for t in items),
        )
    return out


def read_rttm(path: str | Path, uri: str | None = None) -> Diarization:
    """Read one recording's turns from an RTTM file.

    Args:
        path: the RTTM file.
        uri: which recording to take when the file holds several (default: the only one).

    Returns:
        The turns (speakers named ``agent``/``caller`` get those roles). An empty
        file gives an empty diarization.

    Raises:
        ConfigError: the file is missing or malformed, or ``uri`` is ambiguous/absent.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the RTTM file ({exc.strerror or exc})") from exc
    by_uri = parse_rttm(text, source=path.name)
    if uri is not None:
        if uri not in by_uri:
            raise ConfigError(f"{path.name}: no turns for uri {uri!r} (found: {', '.join(sorted(by_uri)) or 'none'})")
        return by_uri[uri]
    if not by_uri:
        return Diarization(turns=(), method="rttm")
    if len(by_uri) > 1:
        raise ConfigError(f"{path.name}: holds {len(by_uri)} recordings ({', '.join(sorted(by_uri))}); pass uri=")
    return next(iter(by_uri.values()))


def to_annotation(diarization: Diarization, uri: str | None = None) -> Annotation:
    """Convert to a ``pyannote.core.Annotation`` (one track per turn, labels = speakers)."""
    from pyannote.core import Annotation
    from pyannote.core import Segment as PSegment

    annotation = Annotation(uri=uri)
    for index, turn in enumerate(sorted(diarization.turns, key=lambda t: (t.start, t.end))):
        if turn.end > turn.start:
            annotation[PSegment(turn.start, turn.end), index] = turn.speaker
    return annotation


def from_annotation(
    annotation: Annotation,
    *,
    method: str = "pyannote",
    roles: dict[str, Role] | None = None,
    duration_s: float | None = None,
) -> Diarization:
    """Convert a ``pyannote.core.Annotation`` into a :class:`Diarization`."""
    turns: list[SpeakerTurn] = []
    for segment, _track, label in annotation.itertracks(yield_label=True):
        speaker = str(label)
        role = (roles or {}).get(speaker) or _ROLE_NAMES.get(speaker.lower(), Role.UNKNOWN)
        turns.append(SpeakerTurn(float(segment.start), float(segment.end), speaker, role=role))
    turns.sort(key=lambda t: (t.start, t.end, t.speaker))
    known = {t.speaker: t.role for t in turns if t.role is not Role.UNKNOWN}
    end = max((t.end for t in turns), default=0.0)
    return Diarization(
        turns=tuple(turns),
        roles=known,
        role_confidence={s: 1.0 for s in known},
        method=method,
        duration_s=duration_s if duration_s is not None else end,
    )
