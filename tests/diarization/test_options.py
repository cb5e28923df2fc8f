"""DiarizeOptions (callscope.diarization.options)."""

from __future__ import annotations

import pytest

from callscope.diarization import DiarizeOptions
from callscope.errors import ConfigError
from callscope.settings import Settings


def test_from_settings_passes_the_diarization_threads():
    settings = Settings(diarization_threads=3, diarization_method="neural")
    options = DiarizeOptions.from_settings(settings)
    assert (options.cpu_threads, options.method) == (3, "neural")
    assert DiarizeOptions.from_settings(settings, cpu_threads=1).cpu_threads == 1
    assert DiarizeOptions().cpu_threads == 1  # the library default stays one thread
    # the transcriber's thread count does not leak into the diarizer's
    assert DiarizeOptions.from_settings(Settings(cpu_threads=4)).cpu_threads == 1


def test_speaker_range_and_bad_counts():
    assert DiarizeOptions(num_speakers=2, max_speakers=5).speaker_range() == (2, 2)
    assert DiarizeOptions(min_speakers=3).speaker_range() == (3, 8)
    with pytest.raises(ConfigError):
        DiarizeOptions(min_speakers=3, max_speakers=2)
