"""``generate --history-months`` writes what the meters would have reported, gas included."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from meterkast.cli.context import app_state
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import MeterKind, Product, ReadingChoice
from meterkast.readings.schema import Dataset
from tests.cli.conftest import Invoke


def test_history_agrees_with_meter_memory_for_electricity_and_gas(cli: Invoke) -> None:
    made = cli("generate", "--connections", "60", "--seed", "5", "--history-months", "2")
    assert made.exit_code == 0, made.output
    today = local_day(datetime.now(UTC))
    state = app_state()
    gas = [
        c
        for c in state.grid.list_connections(limit=500)
        if c.product is Product.GAS and c.meter is not None and c.meter.kind is MeterKind.SMART
    ]
    assert gas, "the area should have smart gas meters"
    yesterday = today - timedelta(days=1)
    with_history = [
        c
        for c in gas
        if c.reading_choice(yesterday) is ReadingChoice.STANDARD
        and state.readings.daily(Dataset.GAS_DAILY, c.ean, yesterday, yesterday).num_rows
    ]
    assert with_history, "smart gas connections that are read have gas history"
    row = state.readings.daily(
        Dataset.GAS_DAILY, with_history[0].ean, yesterday, yesterday
    ).to_pylist()[0]
    assert row["volume_dm3"] > 0 and row["source"] == "remote"
    assert row["captured_at"].astimezone(UTC).hour in (22, 23)  # 00:00 Dutch time
    for c in gas:  # days the gas connection was not to be read remotely have no history
        if c.reading_choice(yesterday) is not ReadingChoice.STANDARD:
            assert not state.readings.daily(Dataset.GAS_DAILY, c.ean, yesterday, yesterday)

    assert cli("fleet", "build").exit_code == 0
    read = cli("read", "--from", (today - timedelta(days=3)).isoformat(),
               "--to", yesterday.isoformat(), "--format", "json")  # fmt: skip
    assert read.exit_code == 0, read.output
    cycle = json.loads(read.output)
    # The meters answered the same values the history holds: stored again, nothing new.
    assert cycle["stored"] > 0 and cycle["rejected"] == 0
    assert (cycle["electricity_rows"], cycle["gas_rows"]) == (0, 0)
