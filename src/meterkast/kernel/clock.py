"""Time is passed into the domain; this is the one place that reads the system clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

Clock = Callable[[], datetime]
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def system_clock() -> datetime:
    return datetime.now(UTC)


def local_day(moment: datetime) -> date:
    """The Dutch calendar day a moment falls in (readings are keyed on Amsterdam days)."""
    return moment.astimezone(AMSTERDAM).date()
