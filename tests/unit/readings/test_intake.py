from __future__ import annotations

from datetime import UTC, date, datetime

from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.readings.api import ElectricityDaily, GasDaily
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService

from .conftest import E1, E2, G1


def e(day: date, t1: int, t2: int = 0, **kw: object) -> ElectricityDaily:
    return ElectricityDaily(E1, day, t1, t2, 0, 0, **kw)  # type: ignore[arg-type]


def rows(service: ReadingsService, ean: str = E1) -> list[dict[str, object]]:
    table = service.daily(Dataset.ELECTRICITY_DAILY, ean, date(2020, 1, 1), date(2030, 1, 1))
    return table.to_pylist()


def test_readings_are_stored_and_read_back(service: ReadingsService) -> None:
    result = service.add_electricity_daily([e(date(2026, 1, 1), 1000), e(date(2026, 1, 2), 6000)])
    assert (result.stored, result.duplicates, result.rejected) == (2, 0, [])
    stored = rows(service)
    assert [r["import_t1_wh"] for r in stored] == [1000, 6000]
    assert stored[0]["quality"] == "measured"
    assert stored[0]["version"] == 1


def test_the_same_reading_twice_is_stored_once(service: ReadingsService) -> None:
    batch = [e(date(2026, 1, 1), 1000), e(date(2026, 1, 2), 6000)]
    service.add_electricity_daily(batch)
    again = service.add_electricity_daily([*batch, batch[0]])
    assert (again.stored, again.duplicates) == (0, 3)
    everything = service.daily(
        Dataset.ELECTRICITY_DAILY, E1, date(2026, 1, 1), date(2026, 1, 31), all_versions=True
    )
    assert everything.num_rows == 2


def test_a_decreasing_register_is_refused(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 5000)])
    result = service.add_electricity_daily([e(date(2026, 1, 2), 4000)])
    assert result.stored == 0
    assert result.rejected == [
        (0, "import_t1_wh lower than the previous reading (same meter series)")
    ]


def test_a_meter_exchange_starts_a_new_series(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 5_000_000)])
    result = service.add_electricity_daily([e(date(2026, 1, 2), 10, series=2)])
    assert result.stored == 1
    back = service.add_electricity_daily([e(date(2026, 1, 3), 6_000_000, series=1)])
    assert back.rejected[0][1].startswith("series number lower")


def test_an_implausible_daily_use_is_refused(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 0)])
    # 1x25 A can deliver 138 kWh a day; an SJV of 3000 kWh allows about 97 kWh a day.
    result = service.add_electricity_daily([e(date(2026, 1, 2), 120_000)])
    assert "implausible consumption" in result.rejected[0][1]
    ok = service.add_electricity_daily([e(date(2026, 1, 2), 60_000)])
    assert ok.stored == 1


def test_gaps_are_estimated_and_replaced_by_real_values(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 0)])
    result = service.add_electricity_daily([e(date(2026, 1, 11), 100_000, 50_000)])
    assert (result.stored, result.estimated) == (1, 9)
    stored = rows(service)
    assert len(stored) == 11
    estimates = [r for r in stored if r["quality"] == "estimated"]
    assert len(estimates) == 9
    assert all(r["source"] == "estimate" for r in estimates)
    values = [r["import_t1_wh"] for r in stored]
    assert values == sorted(values)
    assert 0 < values[5] < 100_000
    real = service.add_electricity_daily([e(date(2026, 1, 6), 30_000, 20_000)])
    assert real.stored == 1
    day6 = next(r for r in rows(service) if r["day"] == date(2026, 1, 6))
    assert (day6["import_t1_wh"], day6["quality"], day6["version"]) == (30_000, "measured", 2)
    after = rows(service)
    assert [r["import_t1_wh"] for r in after] == sorted(r["import_t1_wh"] for r in after)
    assert all(r["import_t1_wh"] <= 30_000 for r in after if r["day"] < date(2026, 1, 6))


def test_an_estimate_never_replaces_a_measured_value(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 1000)])
    result = service.add_electricity_daily(
        [e(date(2026, 1, 1), 1500, source=ReadingSource.ESTIMATE, quality=ReadingQuality.ESTIMATED)]
    )
    assert result.rejected == [(0, "an estimate cannot replace a measured reading")]


def test_a_correction_is_a_new_version_and_history_stays(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 1000), e(date(2026, 1, 2), 3000)])
    fix = e(
        date(2026, 1, 2), 2500, source=ReadingSource.CORRECTION, quality=ReadingQuality.CORRECTED
    )
    assert service.add_electricity_daily([fix]).stored == 1
    latest = rows(service)
    assert latest[-1]["import_t1_wh"] == 2500
    history = service.daily(
        Dataset.ELECTRICITY_DAILY, E1, date(2026, 1, 2), date(2026, 1, 2), all_versions=True
    ).to_pylist()
    assert [(r["version"], r["import_t1_wh"]) for r in history] == [(1, 3000), (2, 2500)]


def test_customer_reading_far_above_expectation_is_refused(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 0)])
    # 30 days of a 3000 kWh SJV is about 300 kWh: 3x plus 150 kWh margin is ~1050 kWh.
    high = e(date(2026, 1, 31), 1_500_000, source=ReadingSource.CUSTOMER)
    result = service.add_electricity_daily([high])
    assert result.stored == 0
    assert result.rejected[0][1].startswith("customer reading implausible")
    assert len(rows(service)) == 1
    fine = e(date(2026, 1, 31), 350_000, source=ReadingSource.CUSTOMER)
    assert service.add_electricity_daily([fine]).stored == 1


def test_unknown_and_wrong_product_connections_are_refused(service: ReadingsService) -> None:
    other = ElectricityDaily("871687140000009999", date(2026, 1, 1), 1, 1, 0, 0)
    gas_ean = ElectricityDaily(G1, date(2026, 1, 1), 1, 1, 0, 0)
    result = service.add_electricity_daily([other, gas_ean])
    assert [r for _, r in result.rejected] == ["unknown electricity connection"] * 2


def test_feed_in_without_solar_is_bounded(service: ReadingsService) -> None:
    first = ElectricityDaily(E2, date(2026, 1, 1), 0, 0, 0, 0)
    sunny = ElectricityDaily(E2, date(2026, 1, 2), 0, 0, 20_000, 10_000)
    service.add_electricity_daily([first])
    # 4 kWp: at most 34 kWh a day.
    assert service.add_electricity_daily([sunny]).stored == 1
    too_much = ElectricityDaily(E2, date(2026, 1, 3), 0, 0, 70_000, 10_000)
    assert "feed-in" in service.add_electricity_daily([too_much]).rejected[0][1]


def test_gas_readings_keep_their_capture_time(service: ReadingsService) -> None:
    captured = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)
    result = service.add_gas_daily(
        [
            GasDaily(G1, date(2026, 1, 2), 1_000_000, captured),
            GasDaily(G1, date(2026, 1, 4), 1_010_000, captured),
        ]
    )
    assert (result.stored, result.estimated) == (2, 1)
    table = service.daily(Dataset.GAS_DAILY, G1, date(2026, 1, 1), date(2026, 1, 31)).to_pylist()
    assert next(r["volume_dm3"] for r in table) == 1_000_000
    assert table[0]["captured_at"] == captured
    assert table[1]["quality"] == "estimated"


def test_a_narrow_view_reads_only_the_asked_columns(service: ReadingsService) -> None:
    service.add_electricity_daily([e(date(2026, 1, 1), 1000), e(date(2026, 1, 2), 6000)])
    table = service.daily(
        Dataset.ELECTRICITY_DAILY, E1, date(2026, 1, 1), date(2026, 1, 2), columns=["import_t1_wh"]
    )
    assert table.column_names == ["ean", "day", "version", "import_t1_wh"]
    assert table["import_t1_wh"].to_pylist() == [1000, 6000]
