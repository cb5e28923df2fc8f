"""Options for :func:`callscope.diarization.diarize`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from callscope.errors import ConfigError
from callscope.settings import Settings

Method = Literal["auto", "channels", "neural", "embeddings", "pyannote"]
METHODS: tuple[str, ...] = ("auto", "channels", "embeddings", "neural", "pyannote")


@dataclass(frozen=True, slots=True)
class DiarizeOptions:
    """How to find who spoke when.

    ``method="auto"`` picks the channel method for stereo calls with two live
    channels, pyannote when ``pyannote_pipeline`` is set, and otherwise for mono audio
    ``neural`` (segmentation-3.0 + CAM++, :mod:`callscope.diarization.neural`) where its
    weights are installed, else ``embeddings`` (resemblyzer, :mod:`callscope.diarization.mono`).
    """

    method: Method = "auto"
    num_speakers: int | None = None  # exact count; overrides min/max
    min_speakers: int | None = None
    max_speakers: int | None = None  # default for auto count: 8
    # Speaker label (and role) of each channel of a dual-channel recording. Twilio's
    # dual-channel recordings put the parent/inbound leg (the caller) on channel 0.
    channel_roles: tuple[str, ...] = ("caller", "agent")
    pyannote_pipeline: Path | None = None  # local folder holding config.yaml + weights
    min_gap_s: float = 0.5  # same-speaker pauses shorter than this stay inside one turn
    min_turn_s: float = 0.15  # shorter bursts are dropped (clicks, line noise)
    # threads for segmentation-3.0 + CAM++ (``from_settings``: CALLSCOPE_DIARIZATION_THREADS): with CAM++ on ONNX
    # Runtime, that many threads embed crops, one core each (neural.extract); with torch CAM++, torch threads
    # (OpenMP waits passive, callscope.diarization.neural).
    # The resemblyzer LSTM always runs on one (faster there).
    cpu_threads: int = 1
    # Mono: give both speakers the stretch around a speaker change that has no pause
    # (a barge-in). See BENCHMARKS.md for its effect on DER.
    mono_overlap: bool = False
    # Dual-channel: run Silero VAD over each channel's active stretches and cut long
    # non-speech (hold music, noise) out of that party's speech.
    check_channel_speech: bool = True

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ConfigError(f"unknown diarization method {self.method!r}; use {', '.join(METHODS)}")
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1 (got {value})")
        if self.min_speakers is not None and self.max_speakers is not None and self.min_speakers > self.max_speakers:
            raise ConfigError(f"min_speakers ({self.min_speakers}) is larger than max_speakers ({self.max_speakers})")
        if len(self.channel_roles) < 2 or len(set(self.channel_roles)) != len(self.channel_roles):
            raise ConfigError(
                f"channel_roles needs one distinct label per channel, e.g. ('caller', 'agent'); got {self.channel_roles!r}"
            )
        if self.min_gap_s < 0 or self.min_turn_s < 0:
            raise ConfigError("min_gap_s and min_turn_s must not be negative")

    def speaker_range(self, default_max: int = 8) -> tuple[int, int]:
        """The (lowest, highest) number of speakers to consider."""
        if self.num_speakers is not None:
            return self.num_speakers, self.num_speakers
        low = self.min_speakers or 1
        high = self.max_speakers or max(default_max, low)
        return low, max(low, high)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> DiarizeOptions:
        """Options from the settings (method, channel roles, local pyannote pipeline, CPU threads), with keyword overrides.

        Raises:
            ConfigError: an option is invalid.
        """
        if "method" not in overrides and settings.diarization_method not in METHODS:
            raise ConfigError(
                f"CALLSCOPE_DIARIZATION_METHOD={settings.diarization_method!r} is not a diarization method; "
                f"use {', '.join(METHODS)}"
            )
        defaults: dict[str, Any] = {
            "method": settings.diarization_method,
            "channel_roles": tuple(settings.channel_roles),
            "pyannote_pipeline": settings.pyannote_pipeline,
            "cpu_threads": settings.diarization_threads,
        }
        return cls(**{**defaults, **overrides})
