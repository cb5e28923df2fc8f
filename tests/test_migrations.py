"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from callscope.db import init_schema, make_engine
from callscope.migrations import metadata


def test_migrations_match_the_declared_tables(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    init_schema(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"
    assert {"recordings", "artifacts", "jobs", "alembic_version"} <= set(inspect(engine).get_table_names())


def test_init_schema_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    init_schema(engine)
    init_schema(engine)
