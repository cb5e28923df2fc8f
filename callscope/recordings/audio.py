"""Audio decoding with PyAV (bundled FFmpeg libraries; no ffmpeg binary needed).

Reads wav (PCM, 8 kHz mu-law/A-law as Twilio sends), mp3, flac, ogg/opus, m4a/aac and
webm. Every failure becomes an :class:`InvalidAudioError` naming the file and why.

:func:`spool_audio` decodes a call once into a nameless temporary file that the pipeline's
stages read back a block at a time (:class:`SpooledAudio`), so their memory does not grow
with the call's length; :func:`load_audio` holds a whole call in memory (short clips, tests).
"""

from __future__ import annotations

import io
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import av
import numpy as np

from callscope.errors import InvalidAudioError
from callscope.domain import Audio, AudioInfo

SUPPORTED_EXTENSIONS = frozenset(
    {".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".webm", ".mka"}
)

AudioSource = str | Path | bytes

MIN_SAMPLE_RATE = 4_000  # below this there is no intelligible speech
MAX_SAMPLE_RATE = 384_000  # the highest rate real recorders write; larger headers are hostile or corrupt
MAX_CHANNELS = 8
WORK_RATE = 16_000  # the pipeline's working rate: every model and feature runs at 16 kHz or less


def _name(source: AudioSource) -> str:
    return "<bytes>" if isinstance(source, bytes) else Path(source).name


def _open(source: AudioSource) -> av.container.InputContainer:
    name = _name(source)
    if isinstance(source, bytes):
        if not source:
            raise InvalidAudioError(f"{name}: the file is empty (0 bytes)")
        handle: str | io.BytesIO = io.BytesIO(source)
    else:
        path = Path(source)
        if not path.exists():
            raise InvalidAudioError(f"{name}: no such file ({path})")
        if path.is_dir():
            raise InvalidAudioError(f"{name}: is a folder, not an audio file")
        if path.stat().st_size == 0:
            raise InvalidAudioError(f"{name}: the file is empty (0 bytes)")
        handle = str(path)
    try:
        container = av.open(handle, mode="r", metadata_errors="ignore")
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise InvalidAudioError(
            f"{name}: not a readable audio file ({_reason(exc)}); "
            f"supported: {', '.join(sorted(e.lstrip('.') for e in SUPPORTED_EXTENSIONS))}"
        ) from exc
    if not container.streams.audio:
        container.close()
        raise InvalidAudioError(f"{name}: the file has no audio stream")
    try:
        _check_stream(container.streams.audio[0], name)
    except InvalidAudioError:
        container.close()
        raise
    return container


def _check_stream(stream: av.audio.stream.AudioStream, name: str) -> None:
    """Reject header values no call recording has, before any sample is decoded."""
    ctx = stream.codec_context
    if ctx is None:
        raise InvalidAudioError(f"{name}: the audio codec is missing or unsupported (corrupt header?)")
    rate = int(ctx.sample_rate or 0)
    channels = int(ctx.channels or 0)
    if rate <= 0 or channels <= 0:
        raise InvalidAudioError(f"{name}: the audio stream has no sample rate or channels")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(
            f"{name}: sample rate {rate} Hz is not a speech recording "
            f"(need {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz; the header may be corrupt)"
        )
    if channels > MAX_CHANNELS:
        raise InvalidAudioError(f"{name}: {channels} channels is not a call recording (at most {MAX_CHANNELS})")


def check_duration(duration_s: float, name: str, max_duration_s: float | None) -> None:
    """Raise when ``duration_s`` exceeds the configured maximum (``CALLSCOPE_MAX_DURATION_S``)."""
    if max_duration_s is not None and duration_s > max_duration_s:
        raise InvalidAudioError(
            f"{name}: {_hms(duration_s)} of audio is longer than the maximum of {_hms(max_duration_s)} "
            "(CALLSCOPE_MAX_DURATION_S); split the recording or raise the limit"
        )


def _hms(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours} h {rest // 60:02d} min"
    return f"{rest // 60} min {rest % 60:02d} s" if rest >= 60 else f"{rest} s"


def _reason(exc: BaseException) -> str:
    """What went wrong, in words: FFmpeg's and the OS's own message without the errno and the
    file name ("Invalid data found when processing input")."""
    strerror = getattr(exc, "strerror", None)
    text = strerror.strip() if isinstance(strerror, str) and strerror.strip() else str(exc).strip()
    return (text or type(exc).__name__).split(";")[0][:200]


def probe(source: AudioSource) -> AudioInfo:
    """Read duration, sample rate, channels and codec without decoding the file.

    Raises:
        InvalidAudioError: the file is missing, empty, corrupt or has no audio.
    """
    container = _open(source)
    try:
        stream = container.streams.audio[0]
        ctx = stream.codec_context
        duration_s = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / 1_000_000
        sample_rate = int(ctx.sample_rate)
        channels = int(ctx.channels)
        return AudioInfo(
            duration_s=duration_s,
            sample_rate=sample_rate,
            channels=channels,
            codec=str(ctx.name),
            container=str(container.format.name),
        )
    finally:
        container.close()


def iter_audio(
    source: AudioSource,
    *,
    sample_rate: int | None = None,
    mono: bool = False,
    chunk_s: float = 30.0,
    max_duration_s: float | None = None,
) -> Iterator[Audio]:
    """Decode ``source`` lazily in chunks of about ``chunk_s`` seconds (memory stays flat).

    Args:
        source: a path or the file's bytes.
        sample_rate: resample to this rate; ``None`` keeps the file's rate.
        mono: down-mix to one channel.
        chunk_s: seconds of audio per yielded chunk (the last one may be shorter).
        max_duration_s: stop with an error once more audio than this has been decoded
            (headers can lie about the duration; this holds whatever they say).

    Raises:
        InvalidAudioError: the file cannot be decoded, decodes to no samples, or is
            longer than ``max_duration_s``.
    """
    container = _open(source)
    name = _name(source)
    try:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        in_rate = int(stream.codec_context.sample_rate)
        out_rate = sample_rate or in_rate
        layout = "mono" if mono else None
        if sample_rate is not None and not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
            raise ValueError(f"sample_rate {sample_rate} is outside {MIN_SAMPLE_RATE}–{MAX_SAMPLE_RATE} Hz")
        max_frames = None if max_duration_s is None else int(max_duration_s * out_rate) + out_rate
        total_frames = 0
        resampler = av.AudioResampler(
            format="fltp", layout=layout or stream.layout.name, rate=out_rate
        )
        chunk_frames = max(1, int(chunk_s * out_rate))
        pending: list[np.ndarray] = []
        pending_frames = 0
        decoded_any = False

        def frames_from(frames: list[av.AudioFrame]) -> Iterator[np.ndarray]:
            for frame in frames:
                array = frame.to_ndarray()
                if array.ndim == 1:
                    array = array[None, :]
                yield array.astype(np.float32, copy=False)

        def decode() -> Iterator[np.ndarray]:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    frame.pts = None
                    yield from frames_from(resampler.resample(frame))
            yield from frames_from(resampler.resample(None))

        try:
            for array in decode():
                if array.shape[1] == 0:
                    continue
                decoded_any = True
                total_frames += array.shape[1]
                if max_frames is not None and total_frames > max_frames:
                    raise InvalidAudioError(
                        f"{name}: decodes to more than the maximum of {_hms(max_duration_s or 0)} of audio "
                        "(CALLSCOPE_MAX_DURATION_S), whatever its header says; split the recording or raise the limit"
                    )
                pending.append(array)
                pending_frames += array.shape[1]
                while pending_frames >= chunk_frames:
                    joined = np.concatenate(pending, axis=1)
                    yield Audio(np.ascontiguousarray(joined[:, :chunk_frames]), out_rate)
                    rest = joined[:, chunk_frames:]
                    pending = [rest] if rest.shape[1] else []
                    pending_frames = rest.shape[1]
        except av.error.FFmpegError as exc:
            raise InvalidAudioError(f"{name}: the audio data is corrupt ({_reason(exc)})") from exc
        if pending_frames:
            yield Audio(np.ascontiguousarray(np.concatenate(pending, axis=1)), out_rate)
        if not decoded_any:
            raise InvalidAudioError(f"{name}: the file holds no audio samples (zero length)")
    finally:
        container.close()


def load_audio(
    source: AudioSource,
    *,
    sample_rate: int | None = None,
    mono: bool = False,
    max_duration_s: float | None = None,
) -> Audio:
    """Decode a whole file into memory; see :func:`iter_audio` for long files.

    With ``max_duration_s`` the declared duration is checked before decoding and the
    decoded one while streaming, so memory stays below ``max_duration_s`` of audio.

    Raises:
        InvalidAudioError: the file cannot be decoded or is longer than ``max_duration_s``.
    """
    info = probe(source)
    if max_duration_s is not None:
        check_duration(info.duration_s, _name(source), max_duration_s)
    # one array filled in place (sized from the header, grown if the header understated
    # it): joining a list of chunks would hold the call twice
    out: np.ndarray | None = None
    filled = 0
    rate = sample_rate or info.sample_rate
    for chunk in iter_audio(source, sample_rate=sample_rate, mono=mono, chunk_s=30.0, max_duration_s=max_duration_s):
        if out is None:
            out = np.empty((chunk.channels, max(chunk.frames, int(info.duration_s * rate) + rate)), dtype=np.float32)
        if filled + chunk.frames > out.shape[1]:
            grown = np.empty((out.shape[0], max(filled + chunk.frames, out.shape[1] * 3 // 2)), dtype=np.float32)
            grown[:, :filled] = out[:, :filled]
            out = grown
        out[:, filled : filled + chunk.frames] = chunk.samples
        filled += chunk.frames
    assert out is not None  # iter_audio raises on a file without samples
    _shrink(out, filled)
    return Audio(np.clip(out, -1.0, 1.0, out=out), rate)


class SpooledAudio:
    """A call decoded once into a temporary file of float32 frames, read back in blocks.

    The stages (transcription, diarization, prosody, loudness) read what they need a
    block or a turn at a time, so memory stays flat however long the call; the samples
    are exactly what :func:`load_audio` would have held in memory. The file has no name
    (it is gone when closed, or when the process ends) and lives in ``directory``
    (default: the system's temporary folder); it takes as much disk as the decoded call
    (4 bytes × channels × rate × duration).
    """

    def __init__(self, handle: io.BufferedRandom, sample_rate: int, channels: int, frames: int) -> None:
        self._handle = handle
        self._lock = threading.Lock()
        self._sample_rate = sample_rate
        self._channels = channels
        self._frames = frames

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    @property
    def channels(self) -> int:
        return self._channels

    @property
    def frames(self) -> int:
        return self._frames

    @property
    def duration_s(self) -> float:
        return self._frames / float(self._sample_rate)

    def read(self, first: int, last: int) -> np.ndarray:
        """Frames ``first`` to ``last`` (exclusive, clamped to the call) of every channel,
        a new float32 (channels, frames) array."""
        first, last = max(0, first), min(self._frames, last)
        frames = np.empty((max(0, last - first), self._channels), dtype=np.float32)  # as stored: interleaved
        if frames.size:
            with self._lock:
                self._handle.seek(first * self._channels * 4)
                got = self._handle.readinto(memoryview(frames).cast("B"))
            if got != frames.nbytes:
                raise InvalidAudioError(f"the decoded call's temporary file ended early ({got} of {frames.nbytes} bytes)")
        return np.ascontiguousarray(frames.T)

    def blocks(self, block_s: float) -> Iterator[Audio]:
        """The call ``block_s`` seconds at a time, in order (the last block may be shorter)."""
        step = max(1, int(block_s * self._sample_rate))
        for first in range(0, self._frames, step):
            yield Audio(self.read(first, first + step), self._sample_rate)

    def load(self) -> Audio:
        """The whole call in memory (for engines that need all of it at once)."""
        return Audio(self.read(0, self._frames), self._sample_rate)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> SpooledAudio:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def spool_audio(
    source: AudioSource,
    *,
    sample_rate: int | None = None,
    mono: bool = False,
    max_duration_s: float | None = None,
    clip: bool = True,
    directory: Path | None = None,
) -> SpooledAudio:
    """Decode ``source`` once, a chunk at a time, into a :class:`SpooledAudio`.

    Memory holds one 30 s chunk whatever the call's length; the declared duration is
    checked before decoding and the decoded one while streaming, as :func:`load_audio` does.

    Args:
        source: a path or the file's bytes.
        sample_rate: resample to this rate while decoding; ``None`` keeps the file's rate.
        mono: down-mix to one channel.
        max_duration_s: refuse longer audio (``CALLSCOPE_MAX_DURATION_S``).
        clip: clip the samples to [-1, 1] as :func:`load_audio` does.
        directory: where the temporary file goes (created if missing).

    Raises:
        InvalidAudioError: the file cannot be decoded or is longer than ``max_duration_s``.
    """
    if max_duration_s is not None:
        check_duration(probe(source).duration_s, _name(source), max_duration_s)
    if directory is not None:
        Path(directory).mkdir(parents=True, exist_ok=True)
    handle = tempfile.TemporaryFile(dir=directory)
    try:
        frames, channels, rate = 0, 0, 0
        for chunk in iter_audio(source, sample_rate=sample_rate, mono=mono, chunk_s=30.0, max_duration_s=max_duration_s):
            samples = np.clip(chunk.samples, -1.0, 1.0, out=chunk.samples) if clip else chunk.samples
            handle.write(memoryview(np.ascontiguousarray(samples.T)).cast("B"))
            frames += chunk.frames
            channels, rate = chunk.channels, chunk.sample_rate
        handle.flush()
    except BaseException:
        handle.close()
        raise
    return SpooledAudio(handle, rate, channels, frames)


def _shrink(array: np.ndarray, frames: int) -> None:
    """Cut a C-ordered (channels, capacity) array to (channels, frames) in place (no copy of the call)."""
    channels, capacity = array.shape
    if frames == capacity:
        return
    flat = array.reshape(-1)
    for channel in range(1, channels):  # rows move left, in order: never over unread data
        flat[channel * frames : (channel + 1) * frames] = flat[channel * capacity : channel * capacity + frames]
    del flat
    array.resize((channels, frames), refcheck=False)


def working_rate(source: AudioSource) -> int:
    """The rate the pipeline decodes ``source`` at: its own rate, at most :data:`WORK_RATE`.

    Resampling while streaming keeps a 48 kHz stereo call at a third of its decoded size.
    """
    return min(probe(source).sample_rate, WORK_RATE)


def check_extension(path: Path) -> None:
    """Reject names whose extension is not a supported audio type (before decoding)."""
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise InvalidAudioError(
            f"{path.name}: unsupported file type '{path.suffix or '(none)'}'; "
            f"supported: {', '.join(sorted(e.lstrip('.') for e in SUPPORTED_EXTENSIONS))}"
        )
