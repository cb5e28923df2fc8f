"""TranscribeOptions from Settings (environment variables)."""

from __future__ import annotations

import pytest

from callscope.errors import ConfigError
from callscope.transcription import TranscribeOptions


def test_from_settings(settings, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    options = TranscribeOptions.from_settings(settings)
    assert options.model == settings.whisper_model == "base"
    assert options.engine == "faster-whisper" and options.compute_type == "int8"
    assert options.languages == ("en", "zh") and options.channel_roles == ("caller", "agent")
    assert options.vad and options.word_timestamps and options.hallucinations == "drop"

    from callscope.settings import Settings, get_settings

    monkeypatch.setenv("CALLSCOPE_WHISPER_MODEL", "/models/whisper-small")
    monkeypatch.setenv("CALLSCOPE_LANGUAGES", "zh")
    monkeypatch.setenv("CALLSCOPE_CHANNEL_ROLES", "agent,caller")
    monkeypatch.setenv("CALLSCOPE_BEAM_SIZE", "5")
    custom = TranscribeOptions.from_settings(Settings(), language="zh", engine=None)
    assert custom.model == "/models/whisper-small" and custom.languages == ("zh",)
    assert custom.channel_roles == ("agent", "caller") and custom.beam_size == 5 and custom.language == "zh"
    assert custom.engine == "faster-whisper"  # None overrides are ignored

    monkeypatch.setenv("CALLSCOPE_ENGINE", "transformers")  # not an engine: refused with the settings
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="CALLSCOPE_ENGINE='transformers'.*'faster-whisper' or 'openai-whisper'"):
        get_settings()
    get_settings.cache_clear()


def test_invalid_options() -> None:
    with pytest.raises(ConfigError, match="unknown engine"):
        TranscribeOptions(engine="whisper.cpp")
    with pytest.raises(ConfigError, match="'drop' or 'flag'"):
        TranscribeOptions(hallucinations="keep")
    with pytest.raises(ConfigError):
        TranscribeOptions(beam_size=0)
