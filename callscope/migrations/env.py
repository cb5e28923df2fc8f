"""Alembic environment: uses the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from callscope.migrations import metadata

target_metadata = metadata
config = context.config


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # several workers may start at once on a fresh database: one migrates at a time
            connection.execute(text("SELECT pg_advisory_xact_lock(726172)"))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations_online()
