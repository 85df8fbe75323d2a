"""The COSEM date-time (12 bytes) and the moment daily profiles capture (00:00 Dutch time).

Layout: year (2) month day weekday hour minute second hundredths, deviation (2, signed minutes,
UTC = local + deviation), clock status (0x80 = summer time).
"""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta

from meterkast.dlms.errors import AxdrError
from meterkast.kernel.clock import AMSTERDAM

CLOCK_SIZE = 12
_CLOCK = struct.Struct(">HBBBBBBBhB")


def encode_clock(moment: datetime) -> bytes:
    """The clock of an aware moment, in Dutch local time with its deviation from UTC."""
    local = moment.astimezone(AMSTERDAM)
    offset = local.utcoffset() or timedelta(0)
    deviation = -int(offset.total_seconds() // 60)
    status = 0x80 if local.dst() else 0x00
    return _CLOCK.pack(
        local.year, local.month, local.day, local.isoweekday(), local.hour, local.minute,
        local.second, local.microsecond // 10_000, deviation, status,
    )  # fmt: skip


def decode_clock(raw: bytes) -> datetime:
    """The UTC moment a fully specified clock value names."""
    if len(raw) != CLOCK_SIZE:
        raise AxdrError("a clock is 12 bytes")
    year, month, day, _dow, hour, minute, second, hundredths, deviation, _status = _CLOCK.unpack(
        raw
    )
    if deviation == -0x8000 or 0xFF in (month, day, hour, minute, second):
        raise AxdrError("clock value is not fully specified")
    try:
        local = datetime(year, month, day, hour, minute, second, hundredths * 10_000, tzinfo=UTC)
    except ValueError:
        raise AxdrError("clock value out of range") from None
    return local + timedelta(minutes=deviation)


def local_midnight(day: date) -> datetime:
    """The UTC instant a Dutch calendar day starts (readings are captured then)."""
    return datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM).astimezone(UTC)
