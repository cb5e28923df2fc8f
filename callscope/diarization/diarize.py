"""Pick the diarization method for a recording and run it.

* Stereo with two live channels: one speaker per channel (``channels``); long
  stretches that Silero VAD calls non-speech (hold music) are cut from a channel.
* Stereo with one dead channel, or both channels carrying the same mix: the live
  audio is treated as mono.
* Mono: the user's pyannote pipeline when one is configured, else segmentation-3.0 +
  CAM++ (``neural``) where its weights are installed (:func:`mono.neural_preferred`),
  else resemblyzer speaker embeddings (``embeddings``); BENCHMARKS.md, issue #13.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from callscope.diarization import channels, mono, speech_check
from callscope.diarization.options import DiarizeOptions
from callscope.diarization.pyannote_backend import diarize_pyannote
from callscope.domain import Audio, AudioReader, Diarization
from callscope.errors import InvalidAudioError
from callscope.progress import Hook, no_progress
from callscope.recordings.audio import spool_audio

log = logging.getLogger(__name__)

CHUNK_S = 30.0

ChunkSource = Callable[[], Iterable[Audio]]


def _select(chunks: Iterable[Audio], channel: int) -> Iterator[Audio]:
    for chunk in chunks:
        yield chunk.channel(channel)


def _mono(
    source: ChunkSource, whole_audio: Callable[[], Audio], options: DiarizeOptions, hook: Hook, total_s: float
) -> Diarization:
    if options.method == "pyannote" or (options.method == "auto" and options.pyannote_pipeline is not None):
        return diarize_pyannote(whole_audio(), options, hook)
    if options.method == "neural" or (options.method == "auto" and mono.neural_preferred()):
        # imported here on purpose: neural.py loads torch (campplus) at import, ~190 MB and
        # ~2 s that every CLI command and worker would pay, even for stereo calls that never use it
        from callscope.diarization.neural import diarize_neural

        return diarize_neural(source(), options, hook, total_s)
    feats = mono.extract(source(), options, hook, total_s)
    return mono.segment(feats, options)


def _run(
    source: ChunkSource,
    channel_count: int,
    total_s: float,
    whole_audio: Callable[[], Audio],
    options: DiarizeOptions,
    hook: Hook,
) -> Diarization:
    if channel_count >= 2 and options.method in ("auto", "channels"):
        feats = channels.features_from_chunks(source(), hook, total_s)
        activity = channels.channel_activity(feats, options)
        if options.check_channel_speech:
            activity = speech_check.reject_non_speech(source(), activity)
        if options.method == "channels":
            return channels.diarize_from_activity(activity, options, feats.duration_s)
        if channels.duplicated_channels(feats, activity):
            log.info("both channels carry the same audio: diarizing it as mono")
            return _mono(lambda: _select(source(), 0), whole_audio, options, hook, total_s)
        live = channels.live_channels(activity, feats.duration_s)
        if len(live) >= 2:
            if len(live) < channel_count:
                activity = [a if c in live else [] for c, a in enumerate(activity)]
            return channels.diarize_from_activity(activity, options, feats.duration_s)
        if not live:
            log.info("no speech on any channel")
            return Diarization(turns=(), method="channels", duration_s=feats.duration_s)
        log.info("only channel %d carries speech: diarizing it as mono", live[0])
        only = live[0]

        def live_audio() -> Audio:
            return whole_audio().channel(only)

        return _mono(lambda: _select(source(), only), live_audio, options, hook, total_s)
    return _mono(source, whole_audio, options, hook, total_s)


def diarize(audio: AudioReader, options: DiarizeOptions = DiarizeOptions(), hook: Hook = no_progress) -> Diarization:
    """Find who spoke when in a call recording.

    Args:
        audio: decoded audio, mono or dual-channel, any sample rate: in memory
            (:class:`Audio`) or spooled to disk (``recordings.audio.SpooledAudio``), which
            is read :data:`CHUNK_S` seconds at a time (memory stays flat however long the call).
        options: method, speaker count and channel roles.
        hook: progress callback (seconds of audio).

    Returns:
        The turns, with roles for dual-channel calls (``agent``/``caller`` from
        ``options.channel_roles``); mono speakers are ``SPEAKER_00``... (see
        :func:`assign_roles`).

    Raises:
        InvalidAudioError: the audio holds no samples.
        ModelNotFoundError: a needed model (pyannote pipeline) is not available.
    """
    if audio.frames == 0 or audio.sample_rate <= 0:
        raise InvalidAudioError("the audio holds no samples: nothing to diarize")
    return _run(lambda: audio.blocks(CHUNK_S), audio.channels, audio.duration_s, lambda: _whole(audio), options, hook)


def _whole(audio: AudioReader) -> Audio:
    """All of ``audio`` in memory: only for the pyannote pipeline, which needs the whole call."""
    if isinstance(audio, Audio):
        return audio
    return Audio(audio.read(0, audio.frames), audio.sample_rate)


def diarize_file(path: str | Path, options: DiarizeOptions = DiarizeOptions(), hook: Hook = no_progress) -> Diarization:
    """Diarize a file, decoded once to a temporary file and read back in chunks (memory
    stays flat however long the call).

    Raises:
        InvalidAudioError: the file cannot be decoded.
    """
    with spool_audio(path, clip=False) as audio:
        return diarize(audio, options, hook)
