from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from meterkast.readings.adapters.serving import SERVING
from meterkast.readings.api import ElectricityDaily
from meterkast.readings.ports import DataKeyUnavailableError
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

from .conftest import E1, make_service

OLD, KEPT = date(2023, 1, 1), date(2025, 6, 1)


def fill(service: ReadingsService) -> None:
    service.add_electricity_daily([ElectricityDaily(E1, OLD, 1000, 0, 0, 0)])
    service.add_electricity_daily([ElectricityDaily(E1, KEPT, 9_000_000, 0, 0, 0)])


def test_purge_removes_old_months_and_keeps_the_window(service: ReadingsService) -> None:
    fill(service)
    assert service.months() == [OLD, KEPT]
    result = service.purge(as_of=date(2025, 6, 15))
    assert result.months == [OLD]
    assert service.months() == [KEPT]
    assert service.retention_cutoff(date(2025, 6, 15)) == date(2023, 6, 1)
    assert service.purge(as_of=date(2025, 6, 15)).months == []


def test_a_copy_taken_before_the_purge_is_unreadable_after_it(
    tmp_path: Path, keys: FakeDataKeyService
) -> None:
    service = make_service(tmp_path / "readings", keys)
    fill(service)
    copy = tmp_path / "backup"
    shutil.copytree(tmp_path / "readings", copy)
    # The copy is readable while the key exists, files and serving units alike ...
    before = make_service(copy, FakeDataKeyService(tmp_path / "keys.json"))
    assert before.month(Dataset.ELECTRICITY_DAILY, OLD).num_rows == 1
    assert before.serving_is_current(OLD)
    assert before.daily(Dataset.ELECTRICITY_DAILY, E1, OLD, OLD).num_rows == 1
    assert (copy / "2023-01" / SERVING).exists()

    service.purge(as_of=date(2025, 6, 15))

    # ... and not after: the key service (reloaded from disk) no longer has the month's key.
    after = make_service(copy, FakeDataKeyService(tmp_path / "keys.json"))
    with pytest.raises(DataKeyUnavailableError):
        after.month(Dataset.ELECTRICITY_DAILY, OLD)
    # Nor are its serving units: neither the bucket number nor the unit can be computed or
    # opened.
    with pytest.raises(DataKeyUnavailableError):
        after.daily(Dataset.ELECTRICITY_DAILY, E1, OLD, OLD)
    with pytest.raises(DataKeyUnavailableError):
        keys.data_key_open("readings-2023-01", [sealed_unit(copy / "2023-01")], [b""])
    with pytest.raises(DataKeyUnavailableError):
        keys.data_key_prf_each(["readings-2023-01"], [bytes(16)])
    # The month inside the window is still readable from the same copy.
    assert after.month(Dataset.ELECTRICITY_DAILY, KEPT).num_rows == 1
    assert after.daily(Dataset.ELECTRICITY_DAILY, E1, KEPT, KEPT).num_rows == 1
    # Even the process that did the purge keeps no usable key in a cache.
    with pytest.raises(DataKeyUnavailableError):
        make_service(copy, keys).month(Dataset.ELECTRICITY_DAILY, OLD)
    assert service.daily(Dataset.ELECTRICITY_DAILY, E1, OLD, OLD).num_rows == 0  # gone
    with pytest.raises(DataKeyUnavailableError):
        make_service(copy, keys).daily(Dataset.ELECTRICITY_DAILY, E1, OLD, OLD)


def sealed_unit(folder: Path) -> bytes:
    with sqlite3.connect(folder / SERVING) as connection:
        (sealed,) = connection.execute("SELECT sealed FROM units").fetchone()
    assert isinstance(sealed, bytes)
    return sealed


def test_files_hold_no_readable_plaintext(service: ReadingsService, tmp_path: Path) -> None:
    fill(service)
    paths = [*(tmp_path / "readings").rglob("*.parquet"), *(tmp_path / "readings").rglob(SERVING)]
    assert len(paths) == 4
    for path in paths:
        data = path.read_bytes()
        assert E1.encode() not in data
        assert b"import_t1_wh" not in data  # even the footer (schema) is encrypted


def test_a_purge_interrupted_after_taking_the_month_out_is_finished_next_time(
    service: ReadingsService, keys: FakeDataKeyService, tmp_path: Path
) -> None:
    fill(service)
    root = tmp_path / "readings"
    # As if a purge crashed right after the atomic rename, before destroying the key.
    (root / "2023-01").replace(root / ".purging-2023-01")
    assert service.months() == [KEPT]
    assert keys.has_data_key("readings-2023-01")
    service.purge(as_of=date(2025, 6, 15))
    assert not keys.has_data_key("readings-2023-01")
    assert not (root / ".purging-2023-01").exists()
    assert keys.has_data_key("readings-2025-06")
