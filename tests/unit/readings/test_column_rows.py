"""Decoded columns (``ColumnRows``) answer exactly as the Arrow table path (``ArrowRows``): the
same rows when iterated and the same JSON bytes, for every dataset and for disclosures of
several ranges; months whose serving units are not current fall back to the table path."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from meterkast.access.adapters.arrow_rows import ArrowRows
from meterkast.access.adapters.column_rows import ColumnRows
from meterkast.access.adapters.readings import StoreReadings, _disclosed
from meterkast.access.days import DayRange, DaySet
from meterkast.access.ports import READING_KINDS, READING_REQUIRED
from meterkast.kernel.clock import AMSTERDAM
from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.readings.adapters.serving import SERVING
from meterkast.readings.api import ElectricityDaily, GasDaily, IntervalValue
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

from .conftest import E1, E2, G1, make_service

START = date(2026, 1, 10)


@pytest.fixture
def filled(tmp_path: Path) -> ReadingsService:
    service = make_service(tmp_path / "readings", FakeDataKeyService())
    service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=d), 5_000 * d, 7 * d, 0, 3) for d in range(40)]
    )
    service.add_electricity_daily(  # corrections: a second version of some days
        [
            ElectricityDaily(
                E1,
                START + timedelta(days=d),
                5_000 * d + 1,
                7 * d,
                0,
                3,
                ReadingSource.CORRECTION,
                ReadingQuality.CORRECTED,
            )
            for d in (3, 25)
        ]
    )
    service.add_gas_daily(
        [
            GasDaily(
                G1, START + timedelta(days=d), 900 * d, datetime(2026, 1, 10, 5, 7, tzinfo=UTC)
            )
            for d in range(35)
        ]
    )
    service.add_interval(
        [
            IntervalValue(E2, datetime(2026, 1, 31, 22, tzinfo=UTC) + timedelta(minutes=15 * q), q)
            for q in range(24)
        ]
    )
    return service


def _product(ean: str) -> Product:
    return Product.GAS if ean == G1 else Product.ELECTRICITY


DAYS = [
    DaySet.of([DayRange(date(2026, 1, 1), date(2026, 3, 1))]),
    DaySet.of(
        [
            DayRange(date(2026, 1, 12), date(2026, 1, 20)),
            DayRange(date(2026, 2, 3), date(2026, 2, 9)),
        ]
    ),
    DaySet.of([DayRange(date(2026, 1, 31), date(2026, 2, 1))]),
    DaySet.of([DayRange(date(2025, 1, 1), date(2025, 2, 1))]),  # nothing stored then
]


def _arrow(service: ReadingsService, ean: str, days: DaySet, *, interval: bool) -> ArrowRows:
    """The table path, as StoreReadings answered before the decoded columns."""
    if interval:
        tables = [
            service.intervals(
                ean,
                datetime.combine(r.first, time(), AMSTERDAM),
                datetime.combine(r.last + timedelta(days=1), time(), AMSTERDAM),
            )
            for r in days.ranges
        ]
    else:
        dataset = Dataset.GAS_DAILY if ean == G1 else Dataset.ELECTRICITY_DAILY
        tables = [service.daily(dataset, ean, r.first, r.last) for r in days.ranges]
    rows = _disclosed(tables)
    assert isinstance(rows, ArrowRows)
    return rows


@pytest.mark.parametrize("days", DAYS)
@pytest.mark.parametrize(("ean", "interval"), [(E1, False), (G1, False), (E2, True)])
def test_decoded_columns_answer_as_the_table(
    filled: ReadingsService, days: DaySet, ean: str, interval: bool
) -> None:
    store = StoreReadings(filled, _product)
    rows = store.interval(ean, days) if interval else store.daily(ean, days)
    assert isinstance(rows, ColumnRows)
    reference = _arrow(filled, ean, days, interval=interval)
    assert len(rows) == len(reference)
    written = rows.json_array(READING_KINDS, READING_REQUIRED)
    assert written is not None
    assert written == reference.json_array(READING_KINDS, READING_REQUIRED)
    assert list(rows) == list(reference)
    if ean == E1 and days is DAYS[0]:
        assert len(rows) == 40  # one row per day: the corrections replaced versions 1
        assert rows[3]["version"] == 2 and rows[3]["source"] == "correction"


def test_a_field_the_caller_does_not_allow_writes_no_json(filled: ReadingsService) -> None:
    rows = StoreReadings(filled, _product).daily(E1, DAYS[0])
    assert isinstance(rows, ColumnRows)
    assert rows.json_array({**READING_KINDS, "day": "integer"}, READING_REQUIRED) is None
    assert rows.json_array(READING_KINDS, ("not_there",)) is None


def test_a_month_without_current_units_is_read_from_the_files(
    filled: ReadingsService, tmp_path: Path
) -> None:
    (tmp_path / "readings" / "2026-02" / SERVING).unlink()
    fresh = make_service(tmp_path / "readings", filled._store._keys)
    rows = StoreReadings(fresh, _product).daily(E1, DAYS[0])
    assert isinstance(rows, ArrowRows)
    assert len(rows) == 40
