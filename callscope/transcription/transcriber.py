"""Transcribe recordings: load a Whisper model once, stream any length of audio through it.

Pipeline per recording (every stage is plain data in, plain data out)::
    decode 30 s chunks (PyAV, 16 kHz) ─► per-channel buffers ─► Silero VAD regions
    ─► windows <= 30 s of speech ─► engine (batched) ─► map times back ─► guards
    ─► merge channels by time ─► Segment stream

Long files never sit in memory: a buffer holds one block (``block_s``) plus the speech
that straddles its end, and regions are only decoded once VAD has seen the silence
that ends them, so no segment is cut at a chunk edge. Stereo calls (Twilio
dual-channel) are transcribed per channel; a silent channel costs nothing.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter

import numpy as np

from callscope.domain import Audio, AudioReader, Segment, Transcript, Word
from callscope.errors import InvalidAudioError
from callscope.language import to_simplified
from callscope.progress import Hook, no_progress
from callscope.recordings.audio import iter_audio, probe
from callscope.transcription import guards, model_files
from callscope.transcription.engines import (
    DecodeOptions,
    FasterWhisperEngine,
    OpenAIWhisperEngine,
    WhisperEngine,
    compression_ratio,
)
from callscope.transcription.options import MANDARIN_PROMPT, TranscribeOptions
from callscope.transcription.vad import (
    SAMPLE_RATE,
    Span,
    VadSettings,
    Window,
    pack_contiguous,
    pack_speech,
    speech_regions,
)

log = logging.getLogger(__name__)

Source = AudioReader | str | Path | bytes
CHUNK_S = 30.0
ENGINE_FIELDS = ("model", "engine", "compute_type", "cpu_threads")
SPLIT_GAP_S = 1.0  # split a decoded segment where its words come from regions this far apart


@dataclass(slots=True)
class _Channel:
    """Streaming state of one transcribed channel (or of the mono mix)."""

    index: int | None
    speaker: str | None
    start: int = 0  # absolute sample offset of parts[0]
    parts: list[np.ndarray] = field(default_factory=list)
    recent: deque = field(default_factory=lambda: deque(maxlen=2))
    speech_s: float = 0.0

    def buffer(self) -> np.ndarray:
        if len(self.parts) != 1:
            self.parts = [np.concatenate(self.parts) if self.parts else np.zeros(0, np.float32)]
        return self.parts[0]


@dataclass(slots=True)
class _Job:
    channel: _Channel
    window: Window
    audio: np.ndarray


class SegmentStream:
    """Segments of one recording, produced lazily in time order.

    ``language``, ``language_probability`` are set once the first speech has been
    decoded; ``duration_s`` and ``timings`` are final once the stream is exhausted.
    """

    def __init__(self, transcriber: Transcriber, source: Source, hook: Hook) -> None:
        self.language: str | None = None
        self.language_probability: float | None = None
        self.duration_s = 0.0
        self.timings: dict[str, float] = {}
        self.segments: list[Segment] = []
        self._transcriber = transcriber
        self._iterator = transcriber._run(source, hook, self)

    def __iter__(self) -> SegmentStream:
        return self

    def __next__(self) -> Segment:
        segment = next(self._iterator)
        self.segments.append(segment)
        return segment

    def transcript(self) -> Transcript:
        """Run to the end and return the whole :class:`Transcript`."""
        for _ in self:
            pass
        return Transcript(
            language=self.language or self._transcriber.fallback_language,
            segments=tuple(self.segments),
            duration_s=self.duration_s,
            model=self._transcriber.model_label,
            engine=self._transcriber.options.engine,
            language_probability=self.language_probability,
            timings=dict(self.timings),
        )


class Transcriber:
    """Speech to text with one loaded Whisper model, reusable for any number of files."""

    def __init__(self, options: TranscribeOptions, model_dir: Path) -> None:
        """Prepare a transcriber; the model loads on first use (or :meth:`load`).

        Args:
            options: what to run and how.
            model_dir: cache for assembled/converted models (``settings.resolved_model_dir``).
        """
        self.options = options
        self.model_dir = Path(model_dir)
        self.vad_settings = VadSettings()
        self.guard_settings = guards.GuardSettings()
        self._engine: WhisperEngine | None = None
        self._label = options.model
        self._load_lock = threading.Lock()
        self._decode_lock = threading.Lock()
        self.load_s = 0.0

    @property
    def model_label(self) -> str:
        return self._label

    @property
    def fallback_language(self) -> str:
        """The language reported when a recording holds no speech."""
        if self.options.language:
            return self.options.language
        return self.options.languages[0] if self.options.languages else "en"

    def load(self) -> WhisperEngine:
        """Resolve, provision/convert and load the model (once).

        Raises:
            ModelNotFoundError: the model is not installed / the path does not exist.
            ModelError: the model is broken or cannot be converted.
        """
        with self._load_lock:
            if self._engine is not None:
                return self._engine

            started = perf_counter()
            source = model_files.resolve_model(self.options.model, self.model_dir)
            self._label = source.label
            if self.options.engine == "faster-whisper":
                engine: WhisperEngine = FasterWhisperEngine(
                    model_files.ct2_folder(source, self.model_dir),
                    compute_type=self.options.compute_type,
                    cpu_threads=self.options.cpu_threads,
                )
            else:
                engine = OpenAIWhisperEngine(
                    model_files.openai_checkpoint(source, self.model_dir), cpu_threads=self.options.cpu_threads
                )
            self.load_s = perf_counter() - started
            log.info("loaded Whisper %s (%s) in %.1f s", source.label, engine.name, self.load_s)
            self._engine = engine
            return engine

    def with_options(self, **changes: object) -> Transcriber:
        """A transcriber with some options changed, sharing this one's loaded model when it can.

        The model is shared when ``model``, ``engine``, ``compute_type`` and ``cpu_threads``
        are unchanged (e.g. a forced language or a different hallucination policy).
        """
        options = self.options.with_(**changes)
        other = Transcriber(options, self.model_dir)
        if self._engine is not None and all(getattr(options, f) == getattr(self.options, f) for f in ENGINE_FIELDS):
            other._engine = self._engine
            other._label = self._label
            other._decode_lock = self._decode_lock
        return other

    def transcribe(self, source: Source, hook: Hook = no_progress) -> Transcript:
        """Transcribe a whole recording.

        Args:
            source: decoded audio (:class:`Audio`, or a call spooled to disk, read a block
                at a time), or a path / the bytes of an audio file.
            hook: progress callback, ``hook("transcribe", seconds_done, seconds_total)``.

        Returns:
            The transcript; stereo calls carry ``channel`` and ``speaker`` on each segment.

        Raises:
            InvalidAudioError: the audio cannot be decoded.
            ModelNotFoundError, ModelError: the model cannot be loaded.
        """
        return self.stream(source, hook).transcript()

    def stream(self, source: Source, hook: Hook = no_progress) -> SegmentStream:
        """Lazily transcribe ``source``: iterate the result to get segments as they are decoded.

        Nothing runs until the first ``next()``; errors surface there.
        """
        return SegmentStream(self, source, hook)

    # ------------------------------------------------------------------ internals

    def _run(self, source: Source, hook: Hook, info: SegmentStream) -> Iterator[Segment]:
        started = perf_counter()
        loaded_before = self._engine is not None
        engine = self.load()
        options = self.options
        total_s, chunks = _open_source(source)
        info.duration_s = total_s
        timings = {"vad": 0.0, "asr": 0.0}
        channels: list[_Channel] = []
        pending: list[tuple[float, int, Segment]] = []
        order = itertools.count()
        frames_read = 0
        unprocessed = 0
        block_frames = int(options.block_s * SAMPLE_RATE)

        def process(eof: bool) -> Iterator[Segment]:
            jobs, regions, carries = self._plan(channels, eof, timings)
            segments = self._decode(engine, jobs, regions, info, timings) if jobs else []
            for channel, carry in zip(channels, carries, strict=True):
                buffer = channel.buffer()
                channel.parts = [buffer[carry - channel.start :]]
                channel.start = carry
            for segment in segments:
                heapq.heappush(pending, (segment.start, next(order), segment))
            horizon = float("inf") if eof else min(c.start for c in channels) / SAMPLE_RATE
            while pending and pending[0][0] < horizon:
                yield heapq.heappop(pending)[2]

        for chunk in chunks:
            if not channels:
                channels = self._layout(chunk)
            frames = chunk.shape[1]
            mixed = chunk.mean(axis=0, dtype=np.float32) if channels[0].index is None and chunk.shape[0] > 1 else None
            for channel in channels:
                channel.parts.append(mixed if mixed is not None else chunk[channel.index or 0])
            frames_read += frames
            unprocessed += frames
            if unprocessed >= block_frames:
                unprocessed = 0
                yield from process(eof=False)
                hook("transcribe", frames_read / SAMPLE_RATE, max(total_s, frames_read / SAMPLE_RATE))
        if not channels:
            raise InvalidAudioError("the recording holds no audio samples")
        yield from process(eof=True)
        info.duration_s = frames_read / SAMPLE_RATE
        hook("transcribe", info.duration_s, info.duration_s)
        timings["total"] = perf_counter() - started
        if not loaded_before:
            timings["load"] = self.load_s
        info.timings = {k: round(v, 3) for k, v in timings.items()}
        if info.language is None:
            info.language = self.fallback_language
        silent = [c.speaker or f"channel {c.index}" for c in channels if c.index is not None and c.speech_s == 0]
        if silent and len(silent) < len(channels):
            log.info("no speech on %s: skipped", ", ".join(silent))

    def _layout(self, chunk: np.ndarray) -> list[_Channel]:
        """Mono mix, or one state per channel for a stereo call."""
        count = chunk.shape[0]
        roles = self.options.channel_roles
        if count == 2 and self.options.split_channels and not _same_signal(chunk[0], chunk[1]):
            return [_Channel(i, roles[i] if i < len(roles) else f"channel_{i}") for i in range(2)]
        if count > 2:
            log.info("%d channels: transcribing the down-mix", count)
        return [_Channel(None, None)]

    def _plan(self, channels: list[_Channel], eof: bool, timings: dict[str, float]) -> tuple[list[_Job], dict[int, list[Span]], list[int]]:
        """VAD each buffer; windows for the regions that are certainly over; where to carry from."""
        jobs: list[_Job] = []
        regions_by_channel: dict[int, list[Span]] = {}  # keyed by id(channel)
        carries: list[int] = []
        settle = int(self.vad_settings.settle_s * SAMPLE_RATE)
        for channel in channels:
            buffer = channel.buffer()
            end = channel.start + buffer.shape[0]
            started = perf_counter()
            regions = [(s + channel.start, e + channel.start) for s, e in speech_regions(buffer, self.vad_settings)]
            timings["vad"] += perf_counter() - started
            if eof:
                final, carry = regions, end
            else:
                final = [r for r in regions if r[1] <= end - settle]
                rest = [r for r in regions if r[1] > end - settle]
                last_end = final[-1][1] if final else channel.start
                carry = rest[0][0] if rest else max(last_end, end - settle)
                carry = max(carry, last_end, channel.start)
            regions_by_channel[id(channel)] = final
            channel.speech_s += sum(e - s for s, e in final) / SAMPLE_RATE
            if self.options.vad:
                windows = pack_speech(final)
            else:
                windows = pack_contiguous(channel.start, carry, final)
            for window in windows:
                jobs.append(_Job(channel, window, window.audio(buffer, channel.start)))
            carries.append(carry)
        return jobs, regions_by_channel, carries

    def _decode(
        self,
        engine: WhisperEngine,
        jobs: list[_Job],
        regions: dict[int, list[Span]],
        info: SegmentStream,
        timings: dict[str, float],
    ) -> list[Segment]:
        options = self.options
        decode_options = DecodeOptions(
            beam_size=options.beam_size,
            temperatures=options.temperatures,
            word_timestamps=options.word_timestamps,
            initial_prompt=options.initial_prompt,
            language_prompts=(("zh", MANDARIN_PROMPT),),
            languages=options.languages,
            batch_size=options.batch_size,
        )
        started = perf_counter()
        with self._decode_lock:
            decoded = engine.transcribe_windows([job.audio for job in jobs], info.language or options.language, decode_options)
        timings["asr"] += perf_counter() - started
        raw = decoded.segments
        if info.language is None:
            info.language = decoded.language
            info.language_probability = decoded.language_probability
            log.info("language %s (p=%s)", decoded.language, decoded.language_probability)
        language = decoded.language
        prompt = decode_options.prompt_for(language)
        simplify = language == "zh"
        segments: list[tuple[Segment, float]] = []
        for job, window_segments in zip(jobs, raw, strict=True):
            channel = job.channel
            buffer = channel.buffer()
            channel_regions = regions.get(id(channel), [])
            for raw_segment in window_segments:
                for segment in _map_segment(raw_segment, job.window, channel, simplify):
                    overlap = _overlap(segment.start, segment.end, channel_regions)
                    flags = guards.segment_flags(segment, speech_overlap=overlap, prompt=prompt, settings=self.guard_settings)
                    flags = self._repetition_flags(channel, segment, flags)
                    segment = _with_flags(segment, flags)
                    segments.append((segment, _rms(buffer, channel.start, segment.start, segment.end)))
        segments = _flag_crosstalk(segments)
        kept: list[Segment] = []
        for segment, _ in segments:
            if options.hallucinations == "drop" and guards.is_droppable(segment):
                log.info("dropped %.2f-%.2f %s: %r", segment.start, segment.end, ",".join(segment.flags), segment.text[:80])
                continue
            kept.append(segment)
        return kept

    def _repetition_flags(self, channel: _Channel, segment: Segment, flags: tuple[str, ...]) -> tuple[str, ...]:
        key = "".join(guards.units(segment.text))
        repeated = len(key) >= 10 and len(channel.recent) == channel.recent.maxlen and all(k == key for k in channel.recent)
        channel.recent.append(key)
        if repeated and "hallucination:repetition" not in flags:
            return (*flags, "hallucination:repetition")
        return flags


def _with_flags(segment: Segment, flags: tuple[str, ...]) -> Segment:
    if flags == segment.flags:
        return segment
    from dataclasses import replace

    return replace(segment, flags=flags)


def _map_segment(raw, window: Window, channel: _Channel, simplify: bool) -> list[Segment]:  # type: ignore[no-untyped-def]
    """Window-relative raw segment -> recording-time Segments (split where speech regions were joined)."""

    def clean(text: str) -> str:
        return to_simplified(text) if simplify else text

    common = {
        "channel": channel.index,
        "speaker": channel.speaker,
        "avg_logprob": raw.avg_logprob,
        "no_speech_prob": raw.no_speech_prob,
    }
    if not raw.words:
        span_end = window.span_index(max(raw.start, raw.end - 1e-3))
        start = window.to_recording(raw.start)
        end = max(window.to_recording(raw.end, span_end), start)
        text = clean(raw.text).strip()
        return [Segment(start, end, text, compression_ratio=compression_ratio(text), **common)]
    groups: list[list[tuple[int, Word]]] = []
    for raw_word in raw.words:
        span = window.span_index((raw_word.start + raw_word.end) / 2)
        start = window.to_recording(raw_word.start, span)
        end = max(window.to_recording(raw_word.end, span), start)
        word = Word(round(start, 3), round(end, 3), clean(raw_word.word), round(raw_word.probability, 4), channel.speaker)
        if groups:
            last_span, last_word = groups[-1][-1]
            if span != last_span and word.start - last_word.end >= SPLIT_GAP_S:
                groups.append([])
        else:
            groups.append([])
        groups[-1].append((span, word))
    out = []
    for group in groups:
        words = tuple(w for _, w in group)
        text = "".join(w.word for w in words).strip()
        out.append(Segment(words[0].start, words[-1].end, text, words, compression_ratio=compression_ratio(text), **common))
    return out


def _overlap(start: float, end: float, regions: list[Span]) -> float:
    if end - start <= 0.0:
        return 1.0
    a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
    covered = sum(max(0, min(b, e) - max(a, s)) for s, e in regions)
    return covered / max(b - a, 1)


def _rms(buffer: np.ndarray, buffer_start: int, start: float, end: float) -> float:
    a = max(int(start * SAMPLE_RATE) - buffer_start, 0)
    b = min(int(end * SAMPLE_RATE) - buffer_start, buffer.shape[0])
    if b <= a:
        return 0.0
    piece = buffer[a:b]
    return float(np.sqrt(np.mean(piece.astype(np.float64) ** 2)))


def _flag_crosstalk(items: list[tuple[Segment, float]]) -> list[tuple[Segment, float]]:
    """Flag the quieter copy when both legs of a call carry the same words at the same time (echo)."""
    out = list(items)
    for i, (a, rms_a) in enumerate(out):
        for j in range(i + 1, len(out)):
            b, rms_b = out[j]
            if a.channel is None or b.channel is None or a.channel == b.channel:
                continue
            shared = min(a.end, b.end) - max(a.start, b.start)
            shortest = max(min(a.end - a.start, b.end - b.start), 1e-3)
            if shared / shortest < 0.5 or not guards.similar_text(a.text, b.text):
                continue
            if rms_a < rms_b:
                out[i] = (_with_flags(a, (*a.flags, "crosstalk")), rms_a)
                a = out[i][0]
            else:
                out[j] = (_with_flags(b, (*b.flags, "crosstalk")), rms_b)
    return out


def _same_signal(left: np.ndarray, right: np.ndarray) -> bool:
    """Whether a 'stereo' file is really mono copied to both channels."""
    level = max(float(np.sqrt(np.mean(left**2))), float(np.sqrt(np.mean(right**2))), 1e-9)
    return float(np.sqrt(np.mean((left - right) ** 2))) < 0.02 * level


def _open_source(source: Source) -> tuple[float, Iterator[np.ndarray]]:
    """Duration estimate and an iterator of (channels, frames) float32 chunks at 16 kHz."""
    if isinstance(source, Audio):
        return source.duration_s, _audio_chunks(source)
    if not isinstance(source, (str, Path, bytes)):
        return source.duration_s, _reader_chunks(source)

    info = probe(source)
    return info.duration_s, (np.clip(c.samples, -1.0, 1.0) for c in iter_audio(source, sample_rate=SAMPLE_RATE, chunk_s=CHUNK_S))


def _reader_chunks(reader: AudioReader) -> Iterator[np.ndarray]:
    """16 kHz chunks of audio read a block at a time: exactly what :func:`_audio_chunks`
    gives for the same samples held in memory."""
    if reader.frames == 0:
        raise InvalidAudioError("the audio holds no samples")
    if reader.sample_rate <= 0:
        raise InvalidAudioError(f"invalid sample rate {reader.sample_rate}")
    if reader.sample_rate != SAMPLE_RATE:
        pieces = _resample_pieces(reader.read, reader.frames, reader.sample_rate, SAMPLE_RATE, CHUNK_S)
        yield from (np.clip(c, -1.0, 1.0) for c in pieces)
        return
    for block in reader.blocks(CHUNK_S):
        yield np.clip(block.samples, -1.0, 1.0)


def _audio_chunks(audio: Audio) -> Iterator[np.ndarray]:
    samples = np.asarray(audio.samples, dtype=np.float32)
    if samples.ndim == 1:
        samples = samples[None, :]
    if samples.ndim != 2 or samples.shape[1] == 0:
        raise InvalidAudioError("the audio holds no samples")
    if audio.sample_rate <= 0:
        raise InvalidAudioError(f"invalid sample rate {audio.sample_rate}")
    if audio.sample_rate != SAMPLE_RATE:
        # chunk by chunk: resampling the whole call at once held it twice more, in float64
        yield from (np.clip(c, -1.0, 1.0) for c in resample_chunks(samples, audio.sample_rate, SAMPLE_RATE, CHUNK_S))
        return
    step = int(CHUNK_S * SAMPLE_RATE)
    for first in range(0, samples.shape[1], step):
        yield np.clip(samples[:, first : first + step], -1.0, 1.0)


def resample_chunks(samples: np.ndarray, rate: int, target: int, chunk_s: float) -> Iterator[np.ndarray]:
    """``scipy.signal.resample_poly`` of (channels, frames) ``samples`` in pieces of about
    ``chunk_s`` seconds: each piece is filtered with enough context on both sides that the
    joined output equals resampling the whole array (memory: one piece, not the call)."""
    return _resample_pieces(lambda first, last: samples[:, first:last], samples.shape[1], rate, target, chunk_s)


def _resample_pieces(
    read: Callable[[int, int], np.ndarray], total: int, rate: int, target: int, chunk_s: float
) -> Iterator[np.ndarray]:
    """:func:`resample_chunks` of ``total`` frames fetched with ``read(first, last)``."""
    from math import ceil, gcd

    from scipy.signal import resample_poly

    g = gcd(rate, target)
    up, down = target // g, rate // g
    half = 10 * max(up, down)  # resample_poly's default filter half-length, at the upsampled rate
    pad = down * ceil((half / up + 2) / down)  # input frames of context, a multiple of ``down``
    step = max(down, int(chunk_s * rate) // down * down)
    out_total = ceil(total * up / down)
    for first in range(0, total, step):
        last = min(total, first + step)
        lo, hi = max(0, first - pad), min(total, last + pad)
        piece = resample_poly(read(lo, hi), up, down, axis=1)
        skip = (first - lo) * up // down
        keep = min(out_total, ceil(last * up / down)) - first * up // down
        yield piece[:, skip : skip + keep].astype(np.float32)
