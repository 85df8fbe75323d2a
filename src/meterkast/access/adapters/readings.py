"""The readings store as the access service discloses it: exactly the decided days."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import cast

import pyarrow as pa

from meterkast.access.adapters.arrow_rows import ArrowRows
from meterkast.access.adapters.column_rows import ColumnRows
from meterkast.access.days import DaySet
from meterkast.access.ports import READING_FIELDS
from meterkast.kernel.clock import AMSTERDAM
from meterkast.kernel.codes import Product
from meterkast.readings.bucket_codec import Decoded
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService

Rows = Sequence[Mapping[str, object]]


class StoreReadings:
    """Implements access's ReadingsQuery port over the encrypted month store: the decoded
    serving columns where every month's units are current (``ColumnRows``), else the table
    (``ArrowRows``, which may come from the Parquet files)."""

    def __init__(self, readings: ReadingsService, product_of: Callable[[str], Product]) -> None:
        self._readings = readings
        self._product_of = product_of

    def daily(self, ean: str, days: DaySet) -> Rows:
        dataset = (
            Dataset.GAS_DAILY if self._product_of(ean) is Product.GAS else Dataset.ELECTRICITY_DAILY
        )
        decoded = [self._readings.daily_decoded(dataset, ean, r.first, r.last) for r in days.ranges]
        if decoded and all(part is not None for part in decoded):
            return ColumnRows(dataset, ean, cast(list[Decoded], decoded))
        return _disclosed(
            [self._readings.daily(dataset, ean, r.first, r.last) for r in days.ranges]
        )

    def interval(self, ean: str, days: DaySet) -> Rows:
        windows = [
            (
                datetime.combine(r.first, time(), AMSTERDAM),
                datetime.combine(r.last + timedelta(days=1), time(), AMSTERDAM),
            )
            for r in days.ranges
        ]
        decoded = [self._readings.intervals_decoded(ean, start, end) for start, end in windows]
        if decoded and all(part is not None for part in decoded):
            return ColumnRows(Dataset.INTERVAL, ean, cast(list[Decoded], decoded))
        return _disclosed([self._readings.intervals(ean, start, end) for start, end in windows])


def _disclosed(tables: list[pa.Table]) -> Rows:
    """One table per disclosed range, oldest first, with only the columns a disclosed reading
    carries (the EAN and series stay behind); kept columnar (see ``ArrowRows``)."""
    if not tables:
        return []
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    return ArrowRows(table.select([c for c in table.column_names if c in READING_FIELDS]))
