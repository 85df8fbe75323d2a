"""Synthetic register history for demos and benchmarks, built column-wise with numpy.

No Python loop per row: one month for all connections is a handful of array operations, and
the result goes to the store as an Arrow table already sorted by EAN and day.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Protocol

import numpy as np
import pyarrow as pa

from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.readings.profiles import MONTH_SHARES, SOLAR_KWH_PER_KWP, SOLAR_SHARES, day_shares
from meterkast.readings.schema import SCHEMAS, Dataset


class HistorySink(Protocol):
    def write_history(self, tables: Iterable[pa.Table], *, presorted: bool = False) -> int: ...


# Share of consumption on the low tariff (T1) on working days; weekends are all T1.
LOW_TARIFF_WEEKDAY = 0.4
# Share of solar production used behind the meter (never reaches the export register).
SELF_CONSUMED = 0.3


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def synthesise_electricity(
    eans: np.ndarray,
    annual_kwh: np.ndarray,
    solar_kwp: np.ndarray,
    first_month: date,
    months: int,
    seed: int,
    recorded_at: datetime | None = None,
) -> Iterator[pa.Table]:
    """Yield one table per month of cumulative daily registers (Wh) for every connection.

    ``eans`` are EAN-18 strings; rows come out sorted by EAN, then day. Registers start at a
    random level and never decrease; import follows the electricity profile with day-to-day
    noise, export follows the solar profile times kWp.
    """
    order = np.argsort(eans)
    eans = np.asarray(eans)[order]
    annual_wh = np.asarray(annual_kwh, dtype=np.float64)[order] * 1000.0
    solar_wh = np.asarray(solar_kwp, dtype=np.float64)[order] * SOLAR_KWH_PER_KWP * 1000.0
    n = eans.size
    rng = np.random.default_rng(seed)
    registers = rng.integers(0, 20_000_000, size=(4, n), dtype=np.int64)
    stamp = recorded_at or datetime(first_month.year, first_month.month, 1, tzinfo=UTC)
    ean_array = pa.array(eans, type=pa.string())
    for offset in range(months):
        start = _add_months(first_month, offset)
        end = _add_months(start, 1)
        days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D"))
        d = days.size
        consumption = np.outer(annual_wh, day_shares(days, MONTH_SHARES[Product.ELECTRICITY]))
        consumption *= rng.lognormal(0.0, 0.25, size=(n, d))
        production = np.outer(solar_wh, day_shares(days, SOLAR_SHARES))
        production *= rng.uniform(0.2, 1.8, size=(n, d))
        exported = production * (1.0 - SELF_CONSUMED)
        imported = np.maximum(consumption - production * SELF_CONSUMED, 0.0)
        weekend = ((days.astype(int) + 3) % 7) >= 5  # 1970-01-01 was a Thursday
        low = np.where(weekend, 1.0, LOW_TARIFF_WEEKDAY)
        deltas = np.stack(
            [imported * low, imported * (1 - low), exported * low, exported * (1 - low)]
        ).astype(np.int64)
        # The register at 00:00 of a day holds everything before it: shift by one day.
        cumulative = np.cumsum(deltas, axis=2) - deltas + registers[:, :, None]
        registers = cumulative[:, :, -1] + deltas[:, :, -1]
        rows = n * d
        columns = {
            "ean": pa.DictionaryArray.from_arrays(
                pa.array(np.repeat(np.arange(n, dtype=np.int32), d)), ean_array
            ).cast(pa.string()),
            "day": pa.array(np.tile(days, n)),
            "series": pa.array(np.ones(rows, dtype=np.int16)),
            "version": pa.array(np.ones(rows, dtype=np.int16)),
            "import_t1_wh": pa.array(cumulative[0].ravel()),
            "import_t2_wh": pa.array(cumulative[1].ravel()),
            "export_t1_wh": pa.array(cumulative[2].ravel()),
            "export_t2_wh": pa.array(cumulative[3].ravel()),
            "source": pa.array(np.full(rows, ReadingSource.REMOTE.value)),
            "quality": pa.array(np.full(rows, ReadingQuality.MEASURED.value)),
            "recorded_at": pa.array(np.full(rows, np.datetime64(stamp.replace(tzinfo=None), "us"))),
        }
        yield pa.table(columns).cast(SCHEMAS[Dataset.ELECTRICITY_DAILY])


def write_synthetic_history(
    sink: HistorySink,
    eans: np.ndarray,
    annual_kwh: np.ndarray,
    solar_kwp: np.ndarray,
    last_month: date,
    months: int,
    seed: int,
) -> int:
    """Write ``months`` months of synthetic daily registers ending with ``last_month``.

    What ``meterkast generate --history-months M`` calls; returns the rows written.
    """
    first = _add_months(last_month.replace(day=1), -(months - 1))
    tables = synthesise_electricity(eans, annual_kwh, solar_kwp, first, months, seed)
    return sink.write_history(tables, presorted=True)
