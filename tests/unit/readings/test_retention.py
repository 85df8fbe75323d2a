from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

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
    # The copy is readable while the key exists ...
    before = make_service(copy, FakeDataKeyService(tmp_path / "keys.json"))
    assert before.month(Dataset.ELECTRICITY_DAILY, OLD).num_rows == 1

    service.purge(as_of=date(2025, 6, 15))

    # ... and not after: the key service (reloaded from disk) no longer has the month's key.
    after = make_service(copy, FakeDataKeyService(tmp_path / "keys.json"))
    with pytest.raises(DataKeyUnavailableError):
        after.month(Dataset.ELECTRICITY_DAILY, OLD)
    # The month inside the window is still readable from the same copy.
    assert after.month(Dataset.ELECTRICITY_DAILY, KEPT).num_rows == 1
    # Even the process that did the purge keeps no usable key in a cache.
    with pytest.raises(DataKeyUnavailableError):
        make_service(copy, keys).month(Dataset.ELECTRICITY_DAILY, OLD)


def test_files_hold_no_readable_plaintext(service: ReadingsService, tmp_path: Path) -> None:
    fill(service)
    for path in (tmp_path / "readings").rglob("*.parquet"):
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
