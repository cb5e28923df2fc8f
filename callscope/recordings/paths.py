"""Expanding command-line PATH arguments (files, folders, globs) into audio files."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path

from callscope.recordings.audio import SUPPORTED_EXTENSIONS


def expand_audio_paths(args: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """Files given explicitly are kept whatever their extension (so a bad one is reported);
    folders are searched recursively and globs expanded for supported audio extensions.

    Returns:
        (files in a stable order without duplicates, arguments that matched nothing)
    """
    files: list[Path] = []
    missing: list[str] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            files.append(path)

    for arg in args:
        path = Path(arg)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and child.suffix.lower() in SUPPORTED_EXTENSIONS and not child.name.startswith("."):
                    add(child)
        elif path.exists():
            add(path)
        elif any(ch in str(arg) for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(arg), recursive=True))
            audio = [m for m in matches if m.is_file() and m.suffix.lower() in SUPPORTED_EXTENSIONS]
            if not audio:
                missing.append(str(arg))
            for match in audio:
                add(match)
        else:
            missing.append(str(arg))
    return files, missing
