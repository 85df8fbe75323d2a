"""CLI tests run the real command in-process against an isolated instance folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from meterkast.cli import app
from meterkast.cli.context import app_state

Invoke = Callable[..., Result]


@pytest.fixture
def cli(home: Path) -> Iterator[Invoke]:
    """Invoke ``meterkast`` with fresh composition-root state for this test's home."""
    runner = CliRunner()
    app_state.cache_clear()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args))

    yield invoke
    if app_state.cache_info().currsize:
        app_state().close()
    app_state.cache_clear()
