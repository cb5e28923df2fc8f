"""Database plumbing shared by every subpackage: one declarative ``Base``, engines
for SQLite (default, WAL mode) and PostgreSQL (by URL), sessions, and schema set-up
through Alembic migrations.

Each unit declares its tables in its own ``tables.py`` on :class:`Base`;
:mod:`callscope.migrations` imports all of them, so Alembic sees the whole schema.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from callscope.errors import StorageError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Base(DeclarativeBase):
    """Declarative base of every callscope table."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "ALTER", "DROP")
_VERB_CHARS = max(map(len, _WRITE_VERBS))  # upper-case only a statement's first word, not all of it


class SqliteWriteLock:
    """One write transaction at a time per process on a SQLite engine, queued on a Python lock.

    SQLite allows one writer; a second thread that writes meanwhile gets "busy" and SQLite's
    busy handler sleeps 1, 2, 5, 10, 25 ... ms before it looks again, so under concurrent
    webhooks a write that waited behind a 1 ms commit could sleep tens of milliseconds. Here
    a connection takes the lock at its first writing statement and gives it back when its
    transaction commits or rolls back (or the connection returns to the pool): the next
    writer wakes the moment the lock is free. Other processes still meet SQLite's own lock.
    """

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()

    def install(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._before_execute)
        event.listen(engine, "commit", self._release_connection)
        event.listen(engine, "rollback", self._release_connection)
        event.listen(engine.pool, "checkin", self._release_record)

    def _before_execute(self, conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        info = conn.info
        if info.get("sqlite_write_lock") or not statement.lstrip()[:_VERB_CHARS].upper().startswith(_WRITE_VERBS):
            return
        if self._lock.acquire(timeout=self.timeout_s):
            info["sqlite_write_lock"] = True
        else:  # a writer that never finished: leave the wait to SQLite's busy timeout
            log.warning("waited %.0f s for this process's SQLite write lock; writing anyway", self.timeout_s)

    def _release(self, info: dict) -> None:
        if info.pop("sqlite_write_lock", False):
            self._lock.release()

    def _release_connection(self, conn) -> None:  # type: ignore[no-untyped-def]
        self._release(conn.info)

    def _release_record(self, _dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        if record is not None:
            self._release(record.info)


def make_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys, a busy timeout and one queued writer
    per process (:class:`SqliteWriteLock`).

    Raises:
        StorageError: the database cannot be reached.
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False})
        SqliteWriteLock(busy_timeout_s).install(engine)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise StorageError(
            f"cannot connect to the database {engine.url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}. "
            "Check CALLSCOPE_DATABASE_URL and that the server is running."
        ) from exc
    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration for the migrations in :data:`MIGRATIONS_DIR`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` on ``engine``'s database (default: every head,
    so branches that each add a migration on the same parent upgrade together)."""
    command.upgrade(alembic_config(engine), revision)


def init_schema(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic ``upgrade head``)."""
    for attempt in range(3):
        try:
            upgrade(engine)
            return
        except OperationalError as exc:
            # another process created the schema at the same moment (SQLite): try again
            if attempt == 2 or "already exists" not in str(exc):
                raise StorageError(f"cannot set up the database schema: {exc}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot set up the database schema: {exc}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
