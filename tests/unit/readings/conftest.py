from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from meterkast.kernel.codes import Product
from meterkast.readings.adapters.facts import StaticConnectionFacts
from meterkast.readings.adapters.parquet import EncryptedMonthStore
from meterkast.readings.ports import ConnectionFact
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

E1 = "871687140000000011"
E2 = "871687140000000028"
G1 = "871687140000000035"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def facts() -> StaticConnectionFacts:
    return StaticConnectionFacts(
        [
            ConnectionFact(E1, Product.ELECTRICITY, 3000.0, capacity_amps=25, phases=1),
            ConnectionFact(
                E2, Product.ELECTRICITY, 3500.0, capacity_amps=25, phases=3, solar_kwp=4.0
            ),
            ConnectionFact(G1, Product.GAS, 1200.0, gas_max_m3h=6.0),
        ]
    )


def make_service(root: Path, keys: FakeDataKeyService | None = None) -> ReadingsService:
    store = EncryptedMonthStore(root, keys or FakeDataKeyService(), row_group_rows=256)
    return ReadingsService(store, facts(), lambda: NOW)


@pytest.fixture
def keys(tmp_path: Path) -> FakeDataKeyService:
    return FakeDataKeyService(tmp_path / "keys.json")


@pytest.fixture
def service(tmp_path: Path, keys: FakeDataKeyService) -> ReadingsService:
    return make_service(tmp_path / "readings", keys)
