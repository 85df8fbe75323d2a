"""The daily registers (electricity, gas) the fleet's meters would have reported in past months.

``meterkast generate --history-months M`` writes these straight into the readings store, so the
history agrees exactly with what the simulated meters answer from their memory afterwards:
the same household model, the same seeds. Days on which the customer's reading choice did not
allow remote reading are left out, as the head-end would have left them out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa

from meterkast.dlms.clock import local_midnight
from meterkast.fleet.service import MeterPlan, household_of
from meterkast.grid.domain import Connection
from meterkast.kernel.codes import ReadingChoice, ReadingQuality, ReadingSource
from meterkast.readings.schema import SCHEMAS, Dataset

CHUNK = 5_000  # meters per table: bounds memory at any grid size
_U32 = 1 << 32  # the meters report registers as double-long-unsigned


def electricity_history(
    plans: list[MeterPlan],
    connections: dict[str, Connection],
    first: date,
    last: date,
    recorded_at: datetime,
) -> Iterator[pa.Table]:
    """Tables of daily E registers, ``CHUNK`` meters at a time, sorted by EAN then day."""
    schema = SCHEMAS[Dataset.ELECTRICITY_DAILY]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ordered = sorted(plans, key=lambda p: p.ean)
    for start in range(0, len(ordered), CHUNK):
        eans: list[str] = []
        picked: list[date] = []
        registers: list[np.ndarray] = []
        for plan in ordered[start : start + CHUNK]:
            connection = connections[plan.ean]
            allowed = [
                d for d in days
                if d >= plan.installed_on
                and connection.reading_choice(d) is ReadingChoice.STANDARD
            ]  # fmt: skip
            if not allowed:
                continue
            values = household_of(plan).registers_on(allowed)
            eans += [plan.ean] * len(allowed)
            picked += allowed
            registers.append(values[:, :4])
        if not eans:
            continue
        stacked = np.concatenate(registers)
        registers_by_name = {
            "import_t1_wh": stacked[:, 0],
            "import_t2_wh": stacked[:, 1],
            "export_t1_wh": stacked[:, 2],
            "export_t2_wh": stacked[:, 3],
        }
        yield _measured(schema, eans, picked, registers_by_name, recorded_at)


def gas_history(
    plans: list[MeterPlan],
    connections: dict[str, Connection],
    first: date,
    last: date,
    recorded_at: datetime,
) -> Iterator[pa.Table]:
    """Tables of daily gas volumes (dm3) captured at 00:00, as the E meter relays them.

    The gas connection's own reading choice decides which days were read, as in the head-end;
    the capture time is the day's Dutch midnight, the time the meter stamps on the value.
    """
    schema = SCHEMAS[Dataset.GAS_DAILY]
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    midnights = {d: local_midnight(d) for d in days}
    ordered = sorted((p for p in plans if p.gas_ean is not None), key=lambda p: str(p.gas_ean))
    for start in range(0, len(ordered), CHUNK):
        eans: list[str] = []
        picked: list[date] = []
        volumes: list[np.ndarray] = []
        for plan in ordered[start : start + CHUNK]:
            gas = connections.get(str(plan.gas_ean))
            if gas is None:
                continue
            allowed = [
                d for d in days
                if d >= plan.installed_on and gas.reading_choice(d) is ReadingChoice.STANDARD
            ]  # fmt: skip
            if not allowed:
                continue
            volumes.append(household_of(plan).registers_on(allowed)[:, 4] % _U32)
            eans += [gas.ean] * len(allowed)
            picked += allowed
        if not eans:
            continue
        values = {
            "volume_dm3": np.concatenate(volumes),
            "captured_at": pa.array([midnights[d] for d in picked], pa.timestamp("us", tz="UTC")),
        }
        yield _measured(schema, eans, picked, values, recorded_at)


def _measured(
    schema: pa.Schema,
    eans: list[str],
    days: list[date],
    values: Mapping[str, object],
    recorded_at: datetime,
) -> pa.Table:
    """A table of first versions of remotely read, measured values (series 1)."""
    n = len(eans)
    return pa.table(
        {
            "ean": pa.array(eans, pa.string()),
            "day": pa.array(days, pa.date32()),
            "series": pa.array(np.ones(n, np.int16)),
            "version": pa.array(np.ones(n, np.int16)),
            **values,
            "source": pa.array([ReadingSource.REMOTE.value] * n, pa.string()),
            "quality": pa.array([ReadingQuality.MEASURED.value] * n, pa.string()),
            "recorded_at": pa.array([recorded_at] * n, pa.timestamp("us", tz="UTC")),
        },
        schema=schema,
    )


def history_window(as_of: date, months: int) -> tuple[date, date]:
    """From the first day ``months`` months back up to the day before ``as_of``."""
    index = as_of.year * 12 + as_of.month - 1 - months
    return date(index // 12, index % 12 + 1, 1), as_of - timedelta(days=1)
