"""Alembic environment: the engine comes from the caller (see meterkast.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Engine

from meterkast.db.metadata import all_tables

engine: Engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=all_tables(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
