"""The recordings store: idempotent, validating, atomic ingest on real call audio."""

from __future__ import annotations

import multiprocessing
import shutil
from pathlib import Path

import pytest

from callscope.db import make_engine, session_factory, init_schema
from callscope.errors import InvalidAudioError, NotFoundError
from callscope.recordings.store import RecordingFilter, RecordingStore


@pytest.fixture
def store(tmp_path: Path, db_engine) -> RecordingStore:
    return RecordingStore(tmp_path / "audio", session_factory(db_engine))


def test_ingest_stores_metadata_of_mulaw_stereo_call(store: RecordingStore, data_dir: Path) -> None:
    result = store.ingest_file(data_dir / "calls" / "s_en_01.stereo.wav", source="cli", call_id="CA1")
    rec = result.recording
    assert result.created
    assert rec.channels == 2 and rec.sample_rate == 8000 and rec.codec == "pcm_mulaw"
    assert rec.duration_s == pytest.approx(71.543, abs=0.01)
    assert rec.call_id == "CA1" and rec.original_name == "s_en_01.stereo.wav"
    stored = Path(rec.path)
    assert stored.read_bytes() == (data_dir / "calls" / "s_en_01.stereo.wav").read_bytes()
    assert rec.id in stored.name


def test_same_file_twice_is_one_recording(store: RecordingStore, data_dir: Path, tmp_path: Path) -> None:
    src = data_dir / "calls" / "s_en_01.mono.wav"
    copy = tmp_path / "renamed.wav"
    shutil.copy(src, copy)
    first = store.ingest_file(src)
    second = store.ingest_file(copy)
    third = store.ingest_bytes(src.read_bytes(), original_name="x.wav", source="upload")
    assert first.created and not second.created and not third.created
    assert first.recording.id == second.recording.id == third.recording.id
    assert store.count() == 1


@pytest.mark.parametrize(
    "name, content, reason",
    [
        ("empty.wav", b"", "empty"),
        ("notes.wav", b"this is a text file, not audio\n" * 20, "not a readable audio file"),
        ("truncated.wav", None, ""),
    ],
)
def test_bad_files_are_rejected_and_store_untouched(
    store: RecordingStore, data_dir: Path, tmp_path: Path, name: str, content: bytes | None, reason: str
) -> None:
    good = store.ingest_file(data_dir / "calls" / "s_en_01.mono.wav").recording
    bad = tmp_path / name
    if content is None:  # a RIFF header claiming data that is not there
        bad.write_bytes((data_dir / "calls" / "s_en_01.mono.wav").read_bytes()[:44])
    else:
        bad.write_bytes(content)
    with pytest.raises(InvalidAudioError) as info:
        store.ingest_file(bad)
    assert name in str(info.value) and reason in str(info.value)
    assert store.count() == 1
    assert Path(good.path).read_bytes() == (data_dir / "calls" / "s_en_01.mono.wav").read_bytes()
    leftovers = [p for p in (tmp_path / "audio").rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert leftovers == []


def test_other_formats_decode(store: RecordingStore, tmp_path: Path, data_dir: Path) -> None:
    import subprocess

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg binary not installed (only needed to make the test files)")
    src = data_dir / "asr" / "librispeech-1995-1837-0001.wav"
    for ext, args in {"mp3": [], "flac": [], "ogg": ["-c:a", "libopus"], "m4a": [], "webm": ["-c:a", "libopus"]}.items():
        out = tmp_path / f"clip.{ext}"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), *args, str(out)], check=True)
        rec = store.ingest_file(out).recording
        assert rec.duration_s == pytest.approx(8.73, abs=0.1), ext
    assert store.count() == 5


def test_artifacts_and_delete(store: RecordingStore, data_dir: Path) -> None:
    rec = store.ingest_file(data_dir / "calls" / "s_en_01.mono.wav").recording
    store.save_artifact(rec.id, "transcript", {"language": "en", "segments": []})
    store.save_artifact(rec.id, "transcript", {"language": "en", "segments": [1]})
    assert store.get_artifact(rec.id, "transcript") == {"language": "en", "segments": [1]}
    assert store.get(rec.id[:10]).id == rec.id
    store.delete(rec.id)
    assert not Path(rec.path).exists()
    assert store.get_artifact(rec.id, "transcript") is None
    with pytest.raises(NotFoundError):
        store.get(rec.id)


def test_list_filters(store: RecordingStore, data_dir: Path) -> None:
    store.ingest_file(data_dir / "calls" / "s_en_01.mono.wav", language="en", agent="emma")
    store.ingest_file(data_dir / "calls" / "s_zh_01.mono.wav", language="zh")
    assert [r.language for r in store.list(RecordingFilter(language="zh"))] == ["zh"]
    assert [r.agent for r in store.list(RecordingFilter(agent="emma"))] == ["emma"]
    assert store.count(RecordingFilter(min_duration_s=70.0)) == 1


def _ingest_in_process(db_url: str, audio_dir: str, path: str, queue) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    store = RecordingStore(Path(audio_dir), session_factory(engine))
    queue.put(store.ingest_file(Path(path)).recording.id)


def test_concurrent_ingest_from_two_processes_gives_one_recording(tmp_path: Path, data_dir: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    init_schema(make_engine(url))
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    src = str(data_dir / "calls" / "s_en_03.stereo.wav")
    procs = [ctx.Process(target=_ingest_in_process, args=(url, str(tmp_path / "audio"), src, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    ids = {queue.get(timeout=5) for _ in procs}
    assert len(ids) == 1
    store = RecordingStore(tmp_path / "audio", session_factory(make_engine(url)))
    assert store.count() == 1


@pytest.mark.postgres
def test_store_on_postgresql(pg_engine, tmp_path: Path, data_dir: Path) -> None:
    store = RecordingStore(tmp_path / "audio", session_factory(pg_engine))
    first = store.ingest_file(data_dir / "calls" / "s_zh_01.stereo.wav", language="zh", metadata={"queue": "vip"})
    again = store.ingest_file(data_dir / "calls" / "s_zh_01.stereo.wav")
    assert first.created and not again.created
    store.save_artifact(first.recording.id, "transcript", {"language": "zh", "text": "您好"})
    got = store.get(first.recording.id)
    assert got.metadata == {"queue": "vip"} and got.channels == 2
    assert store.get_artifact(got.id, "transcript")["text"] == "您好"
    assert store.count(RecordingFilter(language="zh")) == 1
    store.delete(got.id)
    assert store.count() == 0
