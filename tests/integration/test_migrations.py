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


def test_0011_closes_open_cases_that_serve_no_activity_and_keeps_their_handler(
    engine: Engine,
) -> None:
    from datetime import UTC, datetime

    from meterkast.access.adapters.grants import cases
    from tests.integration.test_register_services import EAN, _seed

    _seed(engine)
    downgrade(engine, "0010")
    row = {"connection_ean": EAN, "customer_id": None, "subject": "s", "opened_by": "st1",
           "opened_at": datetime(2026, 11, 1, tzinfo=UTC), "closed_at": None}  # fmt: skip
    with engine.begin() as db:
        db.execute(cases.insert(), [
            {**row, "id": "fits", "kind": "service", "purpose": "1.5"},
            {**row, "id": "wrong-kind", "kind": "service", "purpose": "7.1"},
            {**row, "id": "free-text", "kind": "netloss", "purpose": "fraud"},
        ])  # fmt: skip
    upgrade(engine)
    with engine.connect() as db:
        still_open = db.execute(sa.select(cases.c.id).where(cases.c.closed_at.is_(None)))
        assert set(still_open.scalars()) == {"fits"}
        handlers = db.execute(sa.select(cases.c.handler)).scalars().all()
        assert handlers == ["st1"] * 3  # existing cases stay with whoever opened them
