"""Daily register rows as numpy columns, and integer keys over (EAN, day)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEY_DAY_LIMIT = 1_000_000  # days since 1970 fit well below this: key = code * limit + day


@dataclass
class DailyColumns:
    """Daily register rows as arrays; ``registers`` has one row per register (k x n)."""

    ean: np.ndarray  # int64: the 18 digits of the EAN as a number (fast to sort and compare)
    day: np.ndarray  # datetime64[D]
    series: np.ndarray  # int64
    registers: np.ndarray  # int64, shape (k, n)
    source: np.ndarray  # str
    quality: np.ndarray  # str
    version: np.ndarray  # int64; 0 for incoming rows

    def __len__(self) -> int:
        return int(self.day.size)

    def take(self, index: np.ndarray) -> DailyColumns:
        return DailyColumns(
            self.ean[index],
            self.day[index],
            self.series[index],
            self.registers[:, index],
            self.source[index],
            self.quality[index],
            self.version[index],
        )


def find(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position in ``keys`` of each wanted key (keys are unique), or -1."""
    if keys.size == 0:
        return np.full(wanted.size, -1, dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(keys[order], wanted), keys.size - 1)
    return np.where(keys[order][pos] == wanted, order[pos], -1)


def concat(parts: list[DailyColumns]) -> DailyColumns:
    """Rows of several column sets, one after the other."""
    return DailyColumns(
        np.concatenate([p.ean for p in parts]),
        np.concatenate([p.day for p in parts]),
        np.concatenate([p.series for p in parts]),
        np.hstack([p.registers for p in parts]),
        np.concatenate([p.source for p in parts]),
        np.concatenate([p.quality for p in parts]),
        np.concatenate([p.version for p in parts]),
    )


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (without a sort when they already come in order)."""
    if values.size > 1 and bool(np.all(values[1:] >= values[:-1])):
        first = np.ones(values.size, dtype=bool)
        first[1:] = values[1:] != values[:-1]
        result: np.ndarray = values[first]
        return result
    return np.unique(values)
