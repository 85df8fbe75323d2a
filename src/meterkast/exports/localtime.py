"""ESPI LocalTimeParameters for Europe/Amsterdam (pure).

A DST rule is a 32-bit map (ESPI / IEEE 2030.5 ``DstRuleType``): month in bits 28-31, the
operator in bits 25-27 (7 = the last such weekday of the month), day of the month in bits 20-24
(0 = not used), weekday in bits 17-19 (Monday 1 ... Sunday 7), hour in bits 12-16 and seconds
in bits 0-11, in local wall-clock time at the change. The Netherlands follow the EU rule:
summer time from the last Sunday of March at 02:00 (CET) to the last Sunday of October at
03:00 (CEST). The offsets are taken from the time-zone database, not written down here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from meterkast.kernel.clock import AMSTERDAM

LAST = 7  # operator: the last occurrence of the weekday in the month
SUNDAY = 7


@dataclass(frozen=True, slots=True)
class DstRule:
    month: int
    weekday: int  # 1 Monday ... 7 Sunday
    hour: int
    operator: int = LAST
    day_of_month: int = 0
    seconds: int = 0

    def encode(self) -> int:
        return (self.month << 28 | self.operator << 25 | self.day_of_month << 20
                | self.weekday << 17 | self.hour << 12 | self.seconds)  # fmt: skip

    @classmethod
    def decode(cls, value: int) -> DstRule:
        return cls(month=value >> 28 & 0xF, weekday=value >> 17 & 0x7, hour=value >> 12 & 0x1F,
                   operator=value >> 25 & 0x7, day_of_month=value >> 20 & 0x1F,
                   seconds=value & 0xFFF)  # fmt: skip

    def day_in(self, year: int) -> date:
        """The change's day in ``year`` (only the last-weekday operator is used here)."""
        if self.operator != LAST:
            raise ValueError("only 'last weekday of the month' rules are supported")
        last = date(year, self.month, calendar.monthrange(year, self.month)[1])
        return last - timedelta(days=(last.isoweekday() - self.weekday) % 7)


DST_START = DstRule(month=3, weekday=SUNDAY, hour=2)
DST_END = DstRule(month=10, weekday=SUNDAY, hour=3)


@dataclass(frozen=True, slots=True)
class LocalTime:
    tz_offset: int  # seconds east of UTC in winter
    dst_offset: int  # seconds added in summer
    dst_start_rule: int
    dst_end_rule: int


def amsterdam(year: int) -> LocalTime:
    """The parameters for ``year``, offsets read from the time-zone database."""
    winter = datetime(year, 1, 15, 12, tzinfo=UTC).astimezone(AMSTERDAM).utcoffset()
    summer = datetime(year, 7, 15, 12, tzinfo=UTC).astimezone(AMSTERDAM).utcoffset()
    if winter is None or summer is None:  # pragma: no cover - zoneinfo always answers
        raise ValueError("no offset for Europe/Amsterdam")
    tz = int(winter.total_seconds())
    return LocalTime(tz, int(summer.total_seconds()) - tz, DST_START.encode(), DST_END.encode())
