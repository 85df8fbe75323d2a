"""Typed access to reading rows as the readings store hands them out (mappings)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

REGISTERS = ("import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh")


@dataclass(frozen=True, slots=True)
class Reading:
    """One daily register reading (00:00 of ``day``): electricity counters in Wh, gas in dm³."""

    day: date
    import_t1_wh: int
    import_t2_wh: int
    export_t1_wh: int
    export_t2_wh: int
    source: str
    quality: str
    volume_dm3: int = 0  # gas meters count volume; their electricity registers stay 0

    @property
    def import_wh(self) -> int:
        return self.import_t1_wh + self.import_t2_wh

    @property
    def consumed(self) -> int:
        """What the meter counts as use: Wh for electricity, dm³ for gas (both /1000 to show)."""
        return self.import_wh + self.volume_dm3

    @property
    def export_wh(self) -> int:
        return self.export_t1_wh + self.export_t2_wh


def _int(row: Mapping[str, object], key: str) -> int:
    value = row.get(key)
    if value is None:
        return 0
    if isinstance(value, int | float | str | Decimal):  # stores hand out any of these
        return int(value)
    raise TypeError(f"reading field {key} is not a number")


def _day(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def readings(rows: Iterable[Mapping[str, object]]) -> list[Reading]:
    """Rows as readings, sorted by day; the last version of a day wins."""
    by_day: dict[date, tuple[int, Reading]] = {}
    for row in rows:
        imp1, imp2, exp1, exp2 = (_int(row, k) for k in REGISTERS)
        source, quality = str(row.get("source") or ""), str(row.get("quality") or "")
        volume = _int(row, "volume_dm3")
        reading = Reading(_day(row["day"]), imp1, imp2, exp1, exp2, source, quality, volume)
        version = _int(row, "version")
        if reading.day not in by_day or by_day[reading.day][0] <= version:
            by_day[reading.day] = (version, reading)
    return [by_day[d][1] for d in sorted(by_day)]
