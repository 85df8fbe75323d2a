"""A ReadingsSink that keeps everything in lists (tests, benchmarks, until the store lands)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from meterkast.readings.api import ElectricityDaily, GasDaily, IntakeResult, IntervalValue

T = TypeVar("T")


class InMemoryReadingsSink:
    """Keeps rows; a row already held (same connection and day or start) counts as duplicate."""

    def __init__(self) -> None:
        self.electricity: dict[tuple[str, object], ElectricityDaily] = {}
        self.gas: dict[tuple[str, object], GasDaily] = {}
        self.intervals: dict[tuple[str, object], IntervalValue] = {}

    def add_electricity_daily(self, rows: Sequence[ElectricityDaily]) -> IntakeResult:
        return _add(self.electricity, [((r.ean, r.day), r) for r in rows])

    def add_gas_daily(self, rows: Sequence[GasDaily]) -> IntakeResult:
        return _add(self.gas, [((r.ean, r.day), r) for r in rows])

    def add_interval(self, rows: Sequence[IntervalValue]) -> IntakeResult:
        return _add(self.intervals, [((r.ean, r.start), r) for r in rows])


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
