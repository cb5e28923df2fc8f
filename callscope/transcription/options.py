"""The knobs of a transcription, in one dataclass."""

from __future__ import annotations

from dataclasses import dataclass, replace

from callscope.errors import ConfigError
from callscope.settings import Settings

ENGINES: tuple[str, ...] = ("faster-whisper", "openai-whisper")

# Whisper base writes Traditional characters for Mandarin unless prompted (docs/models.md 4).
MANDARIN_PROMPT = "以下是普通话的句子。"


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """How to transcribe: model, engine, languages, VAD, guards and streaming.

    Attributes:
        model: ``"base"``, ``"tiny.en"`` or a local .pt file / CTranslate2 folder / HF folder.
        engine: ``"faster-whisper"`` (CTranslate2, fast) or ``"openai-whisper"`` (reference).
        compute_type: CTranslate2 compute type (``int8``, ``float32``, ...); openai-whisper is fp32.
        cpu_threads: threads for the model.
        language: force this language; ``None`` detects it among ``languages``.
        languages: languages detection may choose from (``("en", "zh")``); empty = any.
        beam_size: 1 = greedy (fast); 5 = Whisper's CLI default.
        temperatures: fallback temperatures tried when a window's decode looks broken.
        word_timestamps: align each word (needed by diarization and the JSON contract).
        vad: skip silence, hold music and noise with Silero VAD before decoding.
        split_channels: transcribe each channel of a stereo call on its own.
        channel_roles: speaker names per channel (Twilio: ``caller``, ``agent``).
        hallucinations: ``"drop"`` suspect segments, or ``"flag"`` them (kept, ``Segment.flags`` set).
        initial_prompt: text to condition every window on (the Mandarin prompt is added for zh).
        batch_size: windows decoded together by faster-whisper.
        block_s: seconds of audio decoded and segmented at a time (memory stays flat).
    """

    model: str = "base"
    engine: str = "faster-whisper"
    compute_type: str = "int8"
    cpu_threads: int = 2
    language: str | None = None
    languages: tuple[str, ...] = ("en", "zh")
    beam_size: int = 1
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    word_timestamps: bool = True
    vad: bool = True
    split_channels: bool = True
    channel_roles: tuple[str, ...] = ("caller", "agent")
    hallucinations: str = "drop"
    initial_prompt: str | None = None
    batch_size: int = 8
    block_s: float = 120.0

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}; choose one of: {', '.join(ENGINES)}")
        if self.hallucinations not in ("drop", "flag"):
            raise ConfigError(f"hallucinations must be 'drop' or 'flag', not {self.hallucinations!r}")
        if self.beam_size < 1:
            raise ConfigError(f"beam_size must be at least 1, not {self.beam_size}")
        if self.cpu_threads < 0:
            raise ConfigError(f"cpu_threads must be >= 0, not {self.cpu_threads}")
        if self.block_s < 30:
            raise ConfigError("block_s must be at least 30 seconds")
        if not self.temperatures:
            raise ConfigError("temperatures needs at least one value (0.0 = greedy)")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> TranscribeOptions:
        """Options from :class:`~callscope.settings.Settings`, with keyword overrides.

        ``CALLSCOPE_WHISPER_MODEL`` (``settings.whisper_model``) picks the model.

        Raises:
            ConfigError: a setting or override is invalid.
        """
        options = cls(
            model=settings.whisper_model,
            engine=settings.engine,
            compute_type=settings.compute_type,
            cpu_threads=settings.cpu_threads,
            languages=tuple(lang.strip().lower() for lang in settings.languages if lang.strip()),
            beam_size=settings.beam_size,
            vad=settings.vad,
            channel_roles=tuple(settings.channel_roles),
        )
        return options.with_(**overrides) if overrides else options

    def with_(self, **changes: object) -> TranscribeOptions:
        """A copy with ``changes`` applied (``None`` values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]
