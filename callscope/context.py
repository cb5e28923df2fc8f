"""Wires settings to the stores: one :class:`Context` per process (CLI, API, worker)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callscope.db import init_schema, make_engine, session_factory
from callscope.errors import StorageError
from callscope.recordings.store import RecordingStore
from callscope.settings import Settings


@dataclass
class Context:
    """Settings plus the database and stores built from them (created lazily)."""

    settings: Settings

    @cached_property
    def engine(self) -> Engine:
        try:
            self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create the data folder {self.settings.data_dir}: {exc.strerror}; "
                "set CALLSCOPE_DATA_DIR to a writable folder"
            ) from exc
        engine = make_engine(self.settings.resolved_database_url)
        init_schema(engine)
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.engine)

    @cached_property
    def store(self) -> RecordingStore:
        return RecordingStore(self.settings.audio_dir, self.sessions, max_duration_s=self.settings.max_duration_s)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
