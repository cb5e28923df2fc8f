"""Database plumbing shared by every subpackage: one declarative ``Base``, engines
for SQLite (default, WAL mode) and PostgreSQL (by URL), sessions, and schema set-up
through Alembic migrations.

Each unit declares its tables in its own ``tables.py`` on :class:`Base`;
:mod:`callscope.migrations` imports all of them, so Alembic sees the whole schema.
"""

from __future__ import annotations

import logging
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


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout.

    Raises:
        StorageError: the database cannot be reached.
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

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


def upgrade(engine: Engine, revision: str = "heads") -> None:
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
