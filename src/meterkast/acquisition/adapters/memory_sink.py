"""A ReadingsSink (and DailyTableSink) that keeps everything in memory (tests, benchmarks).

Daily readings are kept as the tables they came in, with the EANs already held per day (as
integers) for the duplicate check. Records are made only
when ``electricity`` or ``gas`` is read - after the timed part of a benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from meterkast.acquisition.batch import electricity_rows, gas_rows
from meterkast.readings.api import ElectricityDaily, GasDaily, IntakeResult, IntervalValue
from meterkast.readings.frames import electricity_table, gas_table
from meterkast.readings.schema import Dataset

T = TypeVar("T")
Eans = npt.NDArray[np.int64]


class InMemoryReadingsSink:
    """Keeps rows; a row already held (same connection and day or start) counts as duplicate."""

    def __init__(self) -> None:
        self._electricity: dict[tuple[str, object], ElectricityDaily] = {}
        self._gas: dict[tuple[str, object], GasDaily] = {}
        self.intervals: dict[tuple[str, object], IntervalValue] = {}
        self._tables: dict[Dataset, list[pa.Table]] = {d: [] for d in Dataset}
        self._held: dict[Dataset, dict[int, set[int]]] = {d: {} for d in Dataset}

    @property
    def electricity(self) -> dict[tuple[str, object], ElectricityDaily]:
        for table in self._take(Dataset.ELECTRICITY_DAILY):
            self._electricity.update(((r.ean, r.day), r) for r in electricity_rows(table))
        return self._electricity

    @property
    def gas(self) -> dict[tuple[str, object], GasDaily]:
        for table in self._take(Dataset.GAS_DAILY):
            self._gas.update(((r.ean, r.day), r) for r in gas_rows(table))
        return self._gas

    def _take(self, dataset: Dataset) -> list[pa.Table]:
        tables, self._tables[dataset] = self._tables[dataset], []
        return tables

    def add_electricity_daily(self, rows: Sequence[ElectricityDaily]) -> IntakeResult:
        return self.add_daily_table(Dataset.ELECTRICITY_DAILY, electricity_table(rows))

    def add_gas_daily(self, rows: Sequence[GasDaily]) -> IntakeResult:
        return self.add_daily_table(Dataset.GAS_DAILY, gas_table(rows))

    def add_interval(self, rows: Sequence[IntervalValue]) -> IntakeResult:
        return _add(self.intervals, [((r.ean, r.start), r) for r in rows])

    def add_daily_table(self, dataset: Dataset, table: pa.Table) -> IntakeResult:
        if table.num_rows == 0:
            return IntakeResult(stored=0, duplicates=0, rejected=[])
        eans: Eans = pc.cast(table["ean"], pa.int64()).to_numpy()  # EAN-18 fits in int64
        days = table["day"].cast(pa.int32()).to_numpy()
        fresh = np.zeros(len(eans), np.bool_)
        held = self._held[dataset]
        for day in np.unique(days).tolist():
            rows = np.flatnonzero(days == day)
            known = held.setdefault(day, set())
            # First of repeats wins, within this table too.
            fresh[rows] = [e not in known and not known.add(e) for e in eans[rows].tolist()]  # type: ignore[func-returns-value]
        new = int(fresh.sum())
        self._tables[dataset].append(table if new == len(eans) else table.filter(pa.array(fresh)))
        return IntakeResult(stored=new, duplicates=len(eans) - new, rejected=[])


def _add(
    held: dict[tuple[str, object], T], keyed: list[tuple[tuple[str, object], T]]
) -> IntakeResult:
    stored = duplicates = 0
    for key, row in keyed:
        if key in held:
            duplicates += 1
        else:
            held[key] = row
            stored += 1
    return IntakeResult(stored=stored, duplicates=duplicates, rejected=[])
