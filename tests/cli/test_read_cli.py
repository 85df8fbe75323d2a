"""``meterkast fleet build`` and ``meterkast read`` through the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterkast.acquisition.adapters.memory_sink import InMemoryReadingsSink
from meterkast.bootstrap import App
from meterkast.cli import app
from meterkast.cli.context import app_state
from meterkast.dlms.clock import local_midnight
from meterkast.grid.domain import GridArea
from meterkast.kernel.codes import ReadingChoice
from meterkast.readings.schema import Dataset
from tests.fake_crypto import FakeCryptoServer
from tests.fleet_world import AREA, ean, fleet_held_elsewhere, household_connections

DAY = date(2026, 3, 1)
runner = CliRunner()


@pytest.fixture
def state(home: Path) -> Iterator[App]:
    app_state.cache_clear()
    current = app_state()
    clock = {"now": local_midnight(DAY) + timedelta(hours=2)}

    def now() -> datetime:
        return clock["now"]

    current.clock = now
    current.init()
    current.grid.add_grid_area(GridArea(AREA, "Zwolle"))
    for c in (
        household_connections(1)
        + household_connections(2, choice=ReadingChoice.ADMINISTRATIVELY_OFF)
        + household_connections(3, smart=False)
    ):
        current.grid.add_connection(c)
    yield current
    current.close()
    app_state.cache_clear()


def test_read_stores_into_the_encrypted_readings_store(state: App) -> None:
    built = runner.invoke(app, ["fleet", "build", "--format", "json"])
    assert built.exit_code == 0, built.output
    result = runner.invoke(app, ["read", "--date", DAY.isoformat(), "--format", "json"])
    assert result.exit_code == 0, result.output
    stored = state.readings.daily(Dataset.ELECTRICITY_DAILY, ean(1), DAY, DAY).to_pylist()
    assert [(r["day"], r["source"]) for r in stored] == [(DAY, "remote")]
    off = state.readings.daily(Dataset.ELECTRICITY_DAILY, ean(2), DAY, DAY)
    assert off.num_rows == 0  # administratively off: never read for consumption


def test_build_then_read_with_backfill(state: App) -> None:
    sink = InMemoryReadingsSink()
    state.crypto_server = FakeCryptoServer()
    state.readings_sink = sink
    built = runner.invoke(app, ["fleet", "build", "--format", "json"])
    assert built.exit_code == 0, built.output
    assert json.loads(built.output) == {"created": 2, "existing": 0, "with_gas": 2}

    first = runner.invoke(app, ["read", "--date", DAY.isoformat(), "--format", "json"])
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert (report["meters"], report["stored"], report["nothing_to_read"]) == (2, 1, 1)
    assert set(sink.electricity) == {(ean(1), DAY)}

    state.clock = lambda: local_midnight(DAY) + timedelta(days=3, hours=2)
    state.__dict__.pop("acquisition")  # rebuilt with the moved clock
    state.__dict__.pop("fleet")
    later = runner.invoke(
        app, ["read", "--from", "2026-03-03", "--to", "2026-03-04", "--format", "json"]
    )
    assert later.exit_code == 0, later.output
    assert json.loads(later.output)["electricity_rows"] == 3  # 2, 3 and 4 March
    assert sorted(d for e, d in sink.electricity if e == ean(1)) == [
        DAY + timedelta(days=k) for k in range(4)
    ]


def test_read_refuses_bad_arguments(state: App) -> None:
    state.crypto_server = FakeCryptoServer()
    state.readings_sink = InMemoryReadingsSink()
    both = runner.invoke(app, ["read", "--date", "2026-03-01", "--from", "2026-02-01"])
    assert both.exit_code == 2 and "either --date" in both.output
    future = runner.invoke(app, ["read", "--date", "2026-03-05"])
    assert future.exit_code == 2 and "has not started yet" in future.output


def test_a_read_while_another_process_holds_the_fleet_is_refused_and_stores_nothing(
    state: App, home: Path
) -> None:
    assert runner.invoke(app, ["fleet", "build"]).exit_code == 0
    with fleet_held_elsewhere(home / "fleet" / ".lock"):
        result = runner.invoke(app, ["read", "--date", DAY.isoformat()])
        rotate = runner.invoke(app, ["keys", "rotate", "--older-than", "0d"])
    assert result.exit_code == 2
    assert "in use by another process" in result.output
    assert state.readings.daily(Dataset.ELECTRICITY_DAILY, ean(1), DAY, DAY).num_rows == 0
    assert rotate.exit_code == 2 and "in use by another process" in rotate.output
    # Once the other process is done, the same read goes through.
    assert runner.invoke(app, ["read", "--date", DAY.isoformat()]).exit_code == 0
    assert state.readings.daily(Dataset.ELECTRICITY_DAILY, ean(1), DAY, DAY).num_rows == 1
