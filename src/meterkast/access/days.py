"""Sets of calendar days as sorted, disjoint, inclusive ranges (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True, order=True)
class DayRange:
    first: date
    last: date  # inclusive

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"day range ends ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


@dataclass(frozen=True, slots=True)
class DaySet:
    """An immutable set of days; every operation keeps ranges sorted, disjoint and merged."""

    ranges: tuple[DayRange, ...] = ()

    @classmethod
    def of(cls, ranges: Iterable[DayRange]) -> DaySet:
        merged: list[DayRange] = []
        for r in sorted(ranges):
            if merged and r.first <= merged[-1].last + ONE_DAY:
                if r.last > merged[-1].last:
                    merged[-1] = DayRange(merged[-1].first, r.last)
            else:
                merged.append(r)
        return cls(tuple(merged))

    @classmethod
    def between(cls, first: date, last: date) -> DaySet:
        return cls((DayRange(first, last),)) if first <= last else cls()

    def __and__(self, other: DaySet) -> DaySet:
        out: list[DayRange] = []
        i = j = 0
        a, b = self.ranges, other.ranges
        while i < len(a) and j < len(b):
            first, last = max(a[i].first, b[j].first), min(a[i].last, b[j].last)
            if first <= last:
                out.append(DayRange(first, last))
            if a[i].last < b[j].last:
                i += 1
            else:
                j += 1
        return DaySet(tuple(out))

    def __or__(self, other: DaySet) -> DaySet:
        return DaySet.of(self.ranges + other.ranges)

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and any(r.first <= day <= r.last for r in self.ranges)

    @property
    def count(self) -> int:
        return sum(r.days for r in self.ranges)

    def as_pairs(self) -> list[tuple[str, str]]:
        return [(r.first.isoformat(), r.last.isoformat()) for r in self.ranges]
