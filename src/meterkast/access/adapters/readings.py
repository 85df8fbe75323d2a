"""The readings store as the access service discloses it: exactly the decided days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

import pyarrow as pa

from meterkast.access.days import DaySet
from meterkast.access.ports import READING_FIELDS
from meterkast.kernel.clock import AMSTERDAM
from meterkast.kernel.codes import Product
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService

Row = dict[str, object]


class StoreReadings:
    """Implements access's ReadingsQuery port over the encrypted month store."""

    def __init__(self, readings: ReadingsService, product_of: Callable[[str], Product]) -> None:
        self._readings = readings
        self._product_of = product_of

    def daily(self, ean: str, days: DaySet) -> list[Row]:
        dataset = (
            Dataset.GAS_DAILY if self._product_of(ean) is Product.GAS else Dataset.ELECTRICITY_DAILY
        )
        rows: list[Row] = []
        for r in days.ranges:
            rows += _disclosed(self._readings.daily(dataset, ean, r.first, r.last))
        return rows

    def interval(self, ean: str, days: DaySet) -> list[Row]:
        rows: list[Row] = []
        for r in days.ranges:
            start = datetime.combine(r.first, time(), AMSTERDAM)
            end = datetime.combine(r.last + timedelta(days=1), time(), AMSTERDAM)
            rows += _disclosed(self._readings.intervals(ean, start, end))
        return rows


def _disclosed(table: pa.Table) -> list[Row]:
    """Only the columns a disclosed reading carries (the EAN and series stay behind)."""
    return table.select([c for c in table.column_names if c in READING_FIELDS]).to_pylist()  # type: ignore[no-any-return]
