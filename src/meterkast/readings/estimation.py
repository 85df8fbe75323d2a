"""Profile-based estimates for the days between two accepted readings (pure, numpy)."""

from __future__ import annotations

import numpy as np

from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.readings.columns import KEY_DAY_LIMIT, DailyColumns, find
from meterkast.readings.profiles import MONTH_SHARES, SOLAR_SHARES, day_shares


class Shares:
    """Cumulative profile shares over a day range, so any span's share is one subtraction."""

    def __init__(self, first: np.datetime64, last: np.datetime64, shares: np.ndarray) -> None:
        self.first = first
        days = np.arange(first, last + np.timedelta64(1, "D"))
        self.cumulative = np.concatenate([[0.0], np.cumsum(day_shares(days, shares))])

    def span(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Share of the year's volume used from day ``start`` up to (not including) ``end``."""
        a = (start - self.first).astype(np.int64)
        b = (end - self.first).astype(np.int64)
        result: np.ndarray = self.cumulative[b] - self.cumulative[a]
        return result


def product_shares(
    product: Product, export_rows: tuple[int, ...], registers: int
) -> list[np.ndarray]:
    """The profile each register follows: consumption profile, solar profile for feed-in."""
    return [SOLAR_SHARES if k in export_rows else MONTH_SHARES[product] for k in range(registers)]


def estimates_between(
    eans: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    series: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    shares: list[Shares],
) -> DailyColumns:
    """Registers for the days strictly between each (start, end) pair, split by profile."""
    span = (end - start).astype(np.int64)
    inner = span - 1
    total = int(inner.sum())
    pair = np.repeat(np.arange(span.size), inner)
    offset = np.arange(total) - np.repeat(np.cumsum(inner) - inner, inner) + 1
    days = start[pair] + offset.astype("timedelta64[D]")
    registers = np.empty((low.shape[0], total), dtype=np.int64)
    for k, share in enumerate(shares):
        whole = share.span(start, end)
        part = share.span(start[pair], days)
        fraction = np.where(whole[pair] > 0, part / np.where(whole[pair] > 0, whole[pair], 1), 0)
        registers[k] = low[k, pair] + np.floor((high[k, pair] - low[k, pair]) * fraction)
    return DailyColumns(
        eans[pair],
        days,
        series[pair],
        registers,
        np.full(total, ReadingSource.ESTIMATE.value),
        np.full(total, ReadingQuality.ESTIMATED.value),
        np.ones(total, dtype=np.int64),
    )


def versioned(
    estimates: DailyColumns, existing: DailyColumns, e_key: np.ndarray, all_eans: np.ndarray
) -> DailyColumns:
    """Drop estimates equal to what is stored; number the rest after the stored version."""
    if not len(estimates):
        return estimates
    codes = np.searchsorted(all_eans, estimates.ean)
    key = codes * KEY_DAY_LIMIT + estimates.day.astype(np.int64)
    found = find(e_key, key)
    hit = found >= 0
    keep = np.ones(len(estimates), dtype=bool)
    version = np.ones(len(estimates), dtype=np.int64)
    if hit.any():
        m = found[hit]
        same = (existing.registers[:, m] == estimates.registers[:, hit]).all(axis=0) & (
            existing.series[m] == estimates.series[hit]
        )
        keep[np.flatnonzero(hit)[same]] = False
        version[hit] = existing.version[m] + 1
    estimates.version = version
    return estimates.take(np.flatnonzero(keep))
