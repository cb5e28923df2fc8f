"""Progress reporting through a hook, so library code never prints.

The CLI passes a rich progress bar, jobs pass a database updater, tests pass nothing.
"""

from __future__ import annotations

from typing import Protocol


class Hook(Protocol):
    """Called as work advances: ``hook("transcribe", 12.5, 60.0)``.

    ``completed`` and ``total`` are in the step's own unit (seconds of audio for
    transcription, files for a batch).
    """

    def __call__(self, step: str, completed: float, total: float) -> None: ...


def no_progress(step: str, completed: float, total: float) -> None:
    """The default hook: does nothing."""
