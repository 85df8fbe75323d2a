"""Migrations and models agree; upgrade and downgrade both run, on every backend."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from meterkast.db.metadata import all_tables
from meterkast.db.migrate import downgrade, upgrade


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, all_tables())
    assert diff == [], f"models and migrations differ: {diff}"


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    downgrade(engine, "base")
    tables = set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set()
    upgrade(engine)
    assert {"connections", "contracts", "parties"} <= set(sa.inspect(engine).get_table_names())
