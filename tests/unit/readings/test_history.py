from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from meterkast.readings.api import ElectricityDaily
from meterkast.readings.frames import electricity_table
from meterkast.readings.history import synthesise_electricity, write_synthetic_history
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

from .conftest import E1, E2, make_service

EANS = np.array([E2, E1])  # unsorted on purpose


def test_synthetic_registers_are_sorted_increasing_and_near_the_annual_use() -> None:
    months = list(
        synthesise_electricity(
            EANS, np.array([0.0, 3000.0]), np.array([4.0, 0.0]), date(2025, 1, 1), 12, 1
        )
    )
    assert len(months) == 12
    table = pa.concat_tables(months)
    assert table.num_rows == 2 * 365
    first = months[0]["ean"].to_pylist()
    assert first == sorted(first)
    for ean in (E1, E2):
        rows = table.filter(pa.compute.equal(table["ean"], ean))
        for name in ("import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh"):
            assert (np.diff(rows[name].to_numpy()) >= 0).all()
    e1 = table.filter(pa.compute.equal(table["ean"], E1))
    used = (e1["import_t1_wh"].to_numpy()[-1] - e1["import_t1_wh"].to_numpy()[0]) + (
        e1["import_t2_wh"].to_numpy()[-1] - e1["import_t2_wh"].to_numpy()[0]
    )
    assert 2_600_000 < used < 3_400_000  # 3000 kWh a year, give or take noise
    e2 = table.filter(pa.compute.equal(table["ean"], E2))
    fed = e2["export_t1_wh"].to_numpy()[-1] - e2["export_t1_wh"].to_numpy()[0]
    assert fed > 500_000  # 4 kWp feeds in


def test_history_written_in_bulk_reads_back_and_validates_the_next_reading(
    service: ReadingsService, tmp_path: Path, keys: FakeDataKeyService
) -> None:
    tables = synthesise_electricity(
        EANS, np.array([3500.0, 3000.0]), np.array([4.0, 0.0]), date(2026, 1, 1), 3, 5
    )
    assert service.write_history(tables, presorted=True) == 2 * (31 + 28 + 31)
    assert service.months() == [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]
    history = service.daily(Dataset.ELECTRICITY_DAILY, E1, date(2026, 1, 1), date(2026, 3, 31))
    assert history.num_rows == 90
    # Another instance on the same folder sees the committed months and files.
    other = make_service(tmp_path / "readings", keys)
    assert other.months() == service.months()
    # ... and a commit by that other instance is seen by the first (no stale caches).
    last = history.to_pylist()[-1]
    later = ElectricityDaily(
        E1,
        date(2026, 4, 1),
        last["import_t1_wh"] + 5000,
        last["import_t2_wh"],
        last["export_t1_wh"],
        last["export_t2_wh"],
    )
    assert other.add_electricity_daily([later]).stored == 1
    assert service.months()[-1] == date(2026, 4, 1)
    assert (
        service.daily(Dataset.ELECTRICITY_DAILY, E1, date(2026, 4, 1), date(2026, 4, 1)).num_rows
        == 1
    )


def test_an_ean_that_is_not_18_digits_is_refused_alone(service: ReadingsService) -> None:
    result = service.add_electricity_daily(
        [
            ElectricityDaily("12345", date(2026, 1, 1), 1, 1, 0, 0),
            ElectricityDaily(E1, date(2026, 1, 1), 1, 1, 0, 0),
        ]
    )
    assert result.rejected == [(0, "ean must be 18 digits")]
    assert result.stored == 1


def test_malformed_eans_anywhere_in_a_batch_are_refused_alone(service: ReadingsService) -> None:
    days = [date(2026, 2, d) for d in range(1, 6)]
    eans = [E1, "87168714000000001x", E1, "８71687140000000011", E1]  # noqa: RUF001
    table = electricity_table(
        [
            ElectricityDaily(e, d, 100 * i, 0, 0, 0)
            for i, (e, d) in enumerate(zip(eans, days, strict=True))
        ]
    )
    missing = table.set_column(0, "ean", pa.array([*eans[:4], None], pa.string()))
    result = service.add_daily_table(Dataset.ELECTRICITY_DAILY, missing)
    assert result.rejected == [(i, "ean must be 18 digits") for i in (1, 3, 4)]
    assert result.stored == 2


def test_a_month_can_be_queried_with_duckdb(service: ReadingsService) -> None:
    tables = synthesise_electricity(
        EANS, np.array([3500.0, 3000.0]), np.array([4.0, 0.0]), date(2026, 1, 1), 1, 5
    )
    service.write_history(tables, presorted=True)
    result = service.query_month(
        Dataset.ELECTRICITY_DAILY,
        date(2026, 1, 1),
        "SELECT ean, count(*) AS days, max(import_t1_wh) - min(import_t1_wh) AS used "
        "FROM readings GROUP BY ean ORDER BY ean",
    ).to_pylist()
    assert [(r["ean"], r["days"]) for r in result] == [(E1, 31), (E2, 31)]
    assert all(r["used"] > 0 for r in result)


def test_synthetic_history_ends_with_the_given_month(service: ReadingsService) -> None:
    rows = write_synthetic_history(
        service, EANS, np.array([3500.0, 3000.0]), np.zeros(2), date(2026, 10, 15), 3, 9
    )
    assert rows == 2 * (31 + 30 + 31)
    assert service.months() == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]


def test_concurrent_reads_of_the_same_files_agree(service: ReadingsService) -> None:
    """The API reads on a thread pool: shared open files must not be read concurrently."""
    from concurrent.futures import ThreadPoolExecutor

    eans = np.array([f"8716900000000{i:04d}0"[:18] for i in range(40)])
    tables = synthesise_electricity(eans, np.full(40, 3000.0), np.zeros(40), date(2026, 1, 1), 3, 7)
    service.write_history(tables)
    first, last = date(2026, 1, 1), date(2026, 3, 31)
    expected = {e: service.daily(Dataset.ELECTRICITY_DAILY, e, first, last) for e in eans}

    def read(ean: str) -> bool:
        return service.daily(Dataset.ELECTRICITY_DAILY, ean, first, last).equals(expected[ean])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(read, [e for _ in range(10) for e in eans]))
    assert all(results) and len(results) == 400
