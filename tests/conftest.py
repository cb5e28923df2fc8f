"""Shared test fixtures: small real audio in tests/data, a throw-away data dir and DB."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("PYANNOTE_METRICS_ENABLED", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The suite runs the extractive paths (topic names, FAQ questions, summaries) unless a test asks
# for the bundled LLM with the `local_llm` fixture: a 1.5B model on every FAQ draft would make
# the suite slow and its outputs depend on generation.
os.environ.setdefault("CALLSCOPE_LLM", "false")

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data: real clips (asr/), synthetic calls (calls/), texts."""
    return DATA


@pytest.fixture(scope="session")
def asr_manifest() -> dict[str, dict]:
    rows = [json.loads(line) for line in (DATA / "asr" / "manifest.jsonl").read_text().splitlines() if line]
    return {row["file"]: row for row in rows}


@pytest.fixture(scope="session")
def call_manifest() -> dict[str, dict]:
    rows = [json.loads(line) for line in (DATA / "calls" / "manifest.jsonl").read_text().splitlines() if line]
    return {row["id"]: row for row in rows}


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator["object"]:
    """Settings pointing at a temporary data dir; shared model cache kept for speed."""
    from callscope.settings import Settings, get_settings

    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    if "CALLSCOPE_MODEL_DIR" not in os.environ:
        monkeypatch.setenv("CALLSCOPE_MODEL_DIR", str(_model_cache()))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def local_llm(settings, monkeypatch: pytest.MonkeyPatch):
    """The bundled local LLM, switched on for this test (callers skip when it is not installed)."""
    from callscope import llm
    from callscope.settings import get_settings

    monkeypatch.setenv("CALLSCOPE_LLM", "true")
    get_settings.cache_clear()
    llm.reset_llm()
    service = llm.get_llm()
    assert service is not None, "the local LLM is installed but did not load"
    yield service
    llm.reset_llm()
    get_settings.cache_clear()


def _model_cache() -> Path:
    """Converted/assembled models are cached across test runs (like a user's data dir)."""
    root = Path(os.environ.get("CALLSCOPE_TEST_MODEL_CACHE", Path(__file__).parent.parent / ".callscope" / "models"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def db_engine(tmp_path: Path):
    """A fresh SQLite database with the full schema."""
    from callscope.db import init_schema, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    init_schema(engine)
    yield engine
    engine.dispose()


POSTGRES_URL = os.environ.get("CALLSCOPE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_engine():
    """A throw-away database on the PostgreSQL server (skipped when unreachable and not in CI)."""
    import uuid

    from sqlalchemy import text

    from callscope.db import init_schema, make_engine
    from callscope.errors import StorageError

    try:
        admin = make_engine(POSTGRES_URL)
    except StorageError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    name = f"callscope_test_{uuid.uuid4().hex[:10]}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    init_schema(engine)
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass(frozen=True)
class LongCall:
    """Ten minutes of 8 kHz stereo noise as FLAC, for memory-bound tests."""

    path: Path
    rate: int = 8000
    minutes: int = 10

    @property
    def float32_mb(self) -> float:
        """The decoded call's size (float32 stereo): 36.6 MB."""
        return 2 * self.rate * 60 * self.minutes * 4 / 2**20


@pytest.fixture(scope="session")
def long_call(tmp_path_factory: pytest.TempPathFactory) -> LongCall:
    import numpy as np
    import soundfile as sf

    call = LongCall(tmp_path_factory.mktemp("memory") / "ten_minutes.flac")
    rng = np.random.default_rng(0)
    with sf.SoundFile(call.path, "w", call.rate, 2, "PCM_16", format="FLAC") as handle:
        for _ in range(call.minutes):
            handle.write((rng.standard_normal((call.rate * 60, 2)) * 300).astype(np.int16))
    return call


@pytest.fixture
def peak_mb():
    """``peak_mb(fn) -> (fn(), peak MB traced while it ran)``."""
    import tracemalloc

    def measure(fn):  # type: ignore[no-untyped-def]
        tracemalloc.start()
        try:
            result = fn()
            return result, tracemalloc.get_traced_memory()[1] / 2**20
        finally:
            tracemalloc.stop()

    return measure


@pytest.fixture
def open_files_in():
    """``open_files_in(folder) -> [paths]``: the files this process holds open in ``folder``,
    nameless temporary files included (Linux ``/proc/self/fd``; the test is skipped elsewhere)."""
    fds = Path("/proc/self/fd")
    if not fds.is_dir():
        pytest.skip("needs /proc/self/fd (Linux)")

    def listing(folder: Path) -> list[str]:
        prefix = str(Path(folder).resolve()) + os.sep
        found = []
        for fd in fds.iterdir():
            try:
                target = os.readlink(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor)
                continue
            if target.startswith(prefix):
                found.append(target)
        return found

    return listing


@pytest.fixture(scope="session")
def encoder():
    """The real multilingual encoder, loaded once for the whole test session."""
    from callscope.analysis.embeddings import load_encoder

    return load_encoder("use-multilingual", 1)


@pytest.fixture
def kb_file(tmp_path: Path) -> Path:
    """A writable copy of the bundled demo knowledge base."""
    from callscope.ivr.kb import BUNDLED_KB

    path = tmp_path / "kb.yaml"
    shutil.copyfile(BUNDLED_KB, path)
    return path


@dataclass(frozen=True)
class DemoRun:
    """One run of ``callscope demo --no-serve`` (the closed loop on the bundled samples)."""

    exit_code: int
    output: str
    result: object  # callscope.demo.DemoResult
    ctx: object  # the command's callscope.context.Context (its database and store)
    shipped_kb: bytes  # the packaged knowledge base before the run


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """``callscope demo --no-serve`` run once, as `make demo` runs it: default calls and
    callers, the bundled LLM on (topic names, the FAQ quality gate), a fresh data dir.

    tests/test_closed_loop.py checks the story's result, tests/test_demo.py the command:
    both check this one run. The environment is restored once the command has ended.
    """
    from typer.testing import CliRunner

    from callscope import commands, llm
    from callscope.cli import app
    from callscope.ivr import deps
    from callscope.ivr.kb import BUNDLED_KB
    from callscope.settings import get_settings

    root = tmp_path_factory.mktemp("demo")
    shipped = BUNDLED_KB.read_bytes()
    runs: list[tuple[tuple, object]] = []
    run_demo = commands.run_demo

    def recorded(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = run_demo(*args, **kwargs)
        runs.append((args, result))
        return result

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CALLSCOPE_LLM", "true")
        mp.setenv("CALLSCOPE_DATA_DIR", str(root / "data"))
        mp.setenv("CALLSCOPE_DATABASE_URL", f"sqlite:///{root / 'demo.db'}")
        mp.delenv("CALLSCOPE_KB_PATH", raising=False)
        if "CALLSCOPE_MODEL_DIR" not in os.environ:
            mp.setenv("CALLSCOPE_MODEL_DIR", str(_model_cache()))
        mp.setattr(commands, "run_demo", recorded)
        get_settings.cache_clear()
        llm.reset_llm()
        try:
            outcome = CliRunner().invoke(app, ["demo", "--no-serve"])
        finally:
            deps.reset_caches()
            llm.reset_llm()
    get_settings.cache_clear()
    (root / "output.txt").write_text(outcome.output, encoding="utf-8")  # kept with pytest's temp folders
    if not runs:
        pytest.fail(f"callscope demo failed before its story ran: {outcome.output}{outcome.exception!r}")
    (ctx, *_), result = runs[0]
    try:
        yield DemoRun(outcome.exit_code, outcome.stdout, result, ctx, shipped)
    finally:
        ctx.close()  # type: ignore[attr-defined]
