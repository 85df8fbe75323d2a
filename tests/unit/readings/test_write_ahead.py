"""The usual batch's Parquet file is written while it is validated, and committed only then."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from meterkast.readings.adapters.parquet import EncryptedMonthStore
from meterkast.readings.adapters.parquet_files import month_dir_name
from meterkast.readings.api import ElectricityDaily
from meterkast.readings.frames import electricity_table
from meterkast.readings.intake import accepted_rows
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

from .conftest import E1, E2, NOW, make_service

JANUARY = date(2026, 1, 1)


def days(ean: str, first: int, count: int, start: int = 1_000) -> list[ElectricityDaily]:
    return [
        ElectricityDaily(ean, JANUARY + timedelta(days=first + i), start + 5_000 * i, 0, 0, 0)
        for i in range(count)
    ]


def batch_table(rows: list[ElectricityDaily]) -> pa.Table:
    """Rows as the store keeps them (version 1, an intake time)."""
    n = len(rows)
    ones = np.ones(n, dtype=np.int64)
    return accepted_rows(
        Dataset.ELECTRICITY_DAILY, electricity_table(rows), np.arange(n), ones, NOW
    )


def parquet_files(root: Path, month: date = JANUARY) -> set[str]:
    return {p.name for p in (root / month_dir_name(month)).glob("*.parquet")}


def committed(store: EncryptedMonthStore, month: date = JANUARY) -> set[str]:
    return {p.name for p in store.files(Dataset.ELECTRICITY_DAILY, month)}


def stored_rows(service: ReadingsService) -> list[dict[str, object]]:
    table = service.month(Dataset.ELECTRICITY_DAILY, JANUARY, all_versions=True)
    return table.sort_by([("ean", "ascending"), ("day", "ascending")]).to_pylist()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "readings"


def spy(service: ReadingsService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record what happens to files written ahead."""
    store = service._store  # the test looks at the store's own files
    events: list[str] = []
    write_ahead, discard = store.write_ahead, store.discard

    def recorded_write(*args, **kwargs):  # type: ignore[no-untyped-def]
        events.append("ahead")
        return write_ahead(*args, **kwargs)

    def recorded_discard(ahead):  # type: ignore[no-untyped-def]
        events.append("discard")
        discard(ahead)

    monkeypatch.setattr(store, "write_ahead", recorded_write)
    monkeypatch.setattr(store, "discard", recorded_discard)
    return events


def test_a_fully_accepted_batch_commits_the_file_written_ahead(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(root)
    service.add_electricity_daily(days(E1, 0, 3) + days(E2, 0, 3))
    events = spy(service, monkeypatch)
    before = parquet_files(root)
    result = service.add_electricity_daily(days(E1, 3, 4, 16_000) + days(E2, 3, 4, 16_000))
    assert (result.stored, result.rejected, result.estimated) == (8, [], 0)
    assert events == ["ahead"]  # written once, never discarded
    assert parquet_files(root) == committed(service._store)
    assert len(parquet_files(root) - before) == 1
    assert [r["import_t1_wh"] for r in stored_rows(service)][:7] == [
        1_000 + 5_000 * i for i in range(7)
    ]


def test_a_batch_with_a_refused_row_discards_the_file_and_writes_the_accepted_rows(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(root)
    service.add_electricity_daily(days(E1, 0, 3))
    events = spy(service, monkeypatch)
    batch = days(E1, 3, 3, 16_000)
    batch[1] = ElectricityDaily(E1, batch[1].day, 500, 0, 0, 0)  # lower than the day before
    result = service.add_electricity_daily(batch)
    assert result.stored == 2
    assert [r for r, _ in result.rejected] == [1]
    assert events == ["ahead", "discard"]
    assert parquet_files(root) == committed(service._store)
    rows = stored_rows(service)
    assert [r["day"] for r in rows if r["quality"] == "measured"] == [
        JANUARY + timedelta(days=d) for d in (0, 1, 2, 3, 5)
    ]
    assert [r["day"] for r in rows if r["quality"] == "estimated"] == [JANUARY + timedelta(4)]


def test_a_batch_with_estimates_discards_the_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(root)
    service.add_electricity_daily(days(E1, 0, 2))
    events = spy(service, monkeypatch)
    result = service.add_electricity_daily(days(E1, 4, 2, 21_000))  # days 2 and 3 missing
    assert (result.stored, result.estimated) == (2, 2)
    assert events == ["ahead", "discard"]
    assert parquet_files(root) == committed(service._store)
    assert len(stored_rows(service)) == 6


def test_a_batch_out_of_order_is_not_written_ahead(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(root)
    events = spy(service, monkeypatch)
    service.add_electricity_daily(list(reversed(days(E1, 0, 3))))
    assert events == []
    assert len(stored_rows(service)) == 3


def test_a_failure_during_validation_discards_the_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = make_service(root)
    service.add_electricity_daily(days(E1, 0, 2))
    events = spy(service, monkeypatch)

    def broken(*_args: object) -> None:
        raise RuntimeError("validation failed")

    monkeypatch.setattr(service, "_decide", broken)
    with pytest.raises(RuntimeError):
        service.add_electricity_daily(days(E1, 2, 2, 11_000))
    assert events == ["ahead", "discard"]
    assert parquet_files(root) == committed(service._store)
    assert len(stored_rows(service)) == 2


def test_a_file_written_ahead_but_never_committed_is_an_invisible_orphan(root: Path) -> None:
    keys = FakeDataKeyService()
    service = make_service(root, keys)
    service.add_electricity_daily(days(E1, 0, 2))
    before = stored_rows(service)
    store = EncryptedMonthStore(root, keys, row_group_rows=256)
    table = batch_table(days(E1, 2, 3, 11_000))
    with store.writing():  # a crash right after writing ahead: nothing else happens
        ahead = store.write_ahead(Dataset.ELECTRICITY_DAILY, JANUARY, lambda: table, presorted=True)
        ahead.future.result()
    february = store.write_ahead(
        Dataset.ELECTRICITY_DAILY,
        date(2026, 2, 1),
        lambda: batch_table(days(E1, 40, 2)),
        presorted=True,
    )
    february.future.result()
    assert ahead.name in parquet_files(root)
    reopened = make_service(root, keys)
    assert stored_rows(reopened) == before
    assert reopened.months() == [JANUARY]  # a month with no manifest does not exist
    assert (
        reopened.daily(
            Dataset.ELECTRICITY_DAILY, E1, JANUARY, date(2026, 3, 1), serving=False
        ).num_rows
        == 2
    )
    reopened.purge(as_of=date(2026, 2, 1))  # purging removes orphans
    assert parquet_files(root) == committed(store)


def test_append_commits_a_file_written_ahead_only_for_that_very_table(root: Path) -> None:
    store = EncryptedMonthStore(root, FakeDataKeyService(), row_group_rows=256)
    ahead_table = batch_table(days(E1, 0, 2))
    other = batch_table(days(E2, 0, 3))
    with store.writing():
        ahead = store.write_ahead(
            Dataset.ELECTRICITY_DAILY, JANUARY, lambda: ahead_table, presorted=True
        )
        store.append(Dataset.ELECTRICITY_DAILY, JANUARY, other, ahead=ahead)
        assert ahead.name not in committed(store)
        assert parquet_files(root) == committed(store)
        assert store.read_month(Dataset.ELECTRICITY_DAILY, JANUARY).num_rows == 3
        again = store.write_ahead(
            Dataset.ELECTRICITY_DAILY, JANUARY, lambda: ahead_table, presorted=True
        )
        store.append(Dataset.ELECTRICITY_DAILY, JANUARY, ahead_table, ahead=again)
        assert again.name in committed(store)
        store.discard(again)  # too late: it is part of the store
        assert again.name in parquet_files(root)
        table = store.read_month(Dataset.ELECTRICITY_DAILY, JANUARY)
    assert table.num_rows == 5
    assert isinstance(table, pa.Table)
