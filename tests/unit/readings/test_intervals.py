from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.readings.api import IntervalValue
from meterkast.readings.service import ReadingsService

from .conftest import E1, G1

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def test_intervals_are_stored_versioned_and_deduplicated(service: ReadingsService) -> None:
    quarter = [IntervalValue(E1, T0 + timedelta(minutes=15 * i), 100 + i) for i in range(8)]
    assert service.add_interval(quarter).stored == 8
    again = service.add_interval(quarter)
    assert (again.stored, again.duplicates) == (0, 8)
    fix = IntervalValue(E1, T0, 90, ReadingSource.CORRECTION, ReadingQuality.CORRECTED)
    assert service.add_interval([fix]).stored == 1
    # Replaying the original after the correction changes nothing (idempotent by content).
    assert service.add_interval(quarter[:1]).duplicates == 1
    table = service.intervals(E1, T0, T0 + timedelta(hours=2)).to_pylist()
    assert [r["value"] for r in table] == [90, *range(101, 108)]
    assert table[0]["version"] == 2


def test_intervals_are_checked(service: ReadingsService) -> None:
    result = service.add_interval(
        [
            IntervalValue(E1, T0 + timedelta(minutes=7), 10),  # not on a quarter
            IntervalValue(E1, T0, -1),
            IntervalValue(E1, T0, 1_500),  # 1x25 A gives at most 1437 Wh a quarter
            IntervalValue(G1, T0 + timedelta(minutes=15), 100),  # gas is hourly
            IntervalValue(G1, T0, 500),
            IntervalValue("871687140000009999", T0, 1),
        ]
    )
    assert [r for _, r in result.rejected] == [
        "interval start not on a 15-minute step",
        "negative interval value",
        "interval value above what the connection's capacity allows",
        "interval start not on a 60-minute step",
        "unknown connection",
    ]
    assert result.stored == 1
