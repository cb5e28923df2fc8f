"""Audio decoding with PyAV (bundled FFmpeg libraries; no ffmpeg binary needed).

Reads wav (PCM, 8 kHz mu-law/A-law as Twilio sends), mp3, flac, ogg/opus, m4a/aac and
webm. Every failure becomes an :class:`InvalidAudioError` naming the file and why.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from callscope.errors import InvalidAudioError
from callscope.domain import Audio, AudioInfo

SUPPORTED_EXTENSIONS = frozenset(
    {".wav", ".wave", ".mp3", ".flac", ".ogg", ".oga", ".opus", ".m4a", ".mp4", ".aac", ".webm", ".mka"}
)

AudioSource = str | Path | bytes


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
    return container


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.split(";")[0][:200]


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
        sample_rate = int(ctx.sample_rate or 0)
        channels = int(ctx.channels or 0)
        if sample_rate <= 0 or channels <= 0:
            raise InvalidAudioError(f"{_name(source)}: the audio stream has no sample rate or channels")
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
) -> Iterator[Audio]:
    """Decode ``source`` lazily in chunks of about ``chunk_s`` seconds (memory stays flat).

    Args:
        source: a path or the file's bytes.
        sample_rate: resample to this rate; ``None`` keeps the file's rate.
        mono: down-mix to one channel.
        chunk_s: seconds of audio per yielded chunk (the last one may be shorter).

    Raises:
        InvalidAudioError: the file cannot be decoded, or decodes to no samples.
    """
    container = _open(source)
    name = _name(source)
    try:
        stream = container.streams.audio[0]
        stream.thread_type = "AUTO"
        in_rate = int(stream.codec_context.sample_rate)
        out_rate = sample_rate or in_rate
        layout = "mono" if mono else None
        channels_in = int(stream.codec_context.channels)
        if channels_in > 8:
            raise InvalidAudioError(f"{name}: {channels_in} channels is not a call recording")
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


def load_audio(source: AudioSource, *, sample_rate: int | None = None, mono: bool = False) -> Audio:
    """Decode a whole file into memory; see :func:`iter_audio` for long files.

    Raises:
        InvalidAudioError: the file cannot be decoded.
    """
    chunks = list(iter_audio(source, sample_rate=sample_rate, mono=mono, chunk_s=600.0))
    samples = np.concatenate([c.samples for c in chunks], axis=1) if len(chunks) > 1 else chunks[0].samples
    return Audio(np.clip(samples, -1.0, 1.0, out=samples), chunks[0].sample_rate)


def check_extension(path: Path) -> None:
    """Reject names whose extension is not a supported audio type (before decoding)."""
    if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
        raise InvalidAudioError(
            f"{path.name}: unsupported file type '{path.suffix or '(none)'}'; "
            f"supported: {', '.join(sorted(e.lstrip('.') for e in SUPPORTED_EXTENSIONS))}"
        )
