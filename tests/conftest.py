"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, an isolated instance home.

PostgreSQL is mandatory in CI (CI=true): its absence fails the run. Elsewhere the PostgreSQL
half of the suite skips with a message that says why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.db.engine import create_engine
from meterkast.db.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "METERKAST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to connect means "not available"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    return None


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    problem = _postgres_problem()
    if problem is None:
        return True
    if IN_CI:
        pytest.fail(f"PostgreSQL is mandatory in CI but {POSTGRES_URL} is unreachable: {problem}")
    pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({problem}); set up PostgreSQL")
    return False


@pytest.fixture
def postgres_engine(postgres_available: bool) -> Iterator[Engine]:
    """A migrated engine whose tables live in a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-c search_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'meterkast.db'}")
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare_engine(request: pytest.FixtureRequest) -> Engine:
    """An empty database on each backend (not migrated)."""
    name = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    engine: Engine = request.getfixturevalue(name)
    return engine


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """A database on each backend, migrated to head."""
    upgrade(bare_engine)
    return bare_engine


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An isolated instance folder; the environment points meterkast at it."""
    folder = tmp_path / "home"
    monkeypatch.setenv("METERKAST_HOME", str(folder))
    monkeypatch.delenv("METERKAST_DATABASE_URL", raising=False)
    return folder
