"""Runs a fixed sequence of intakes into a store; the crash test kills it at random points."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.readings.adapters.facts import StaticConnectionFacts
from meterkast.readings.adapters.parquet import EncryptedMonthStore
from meterkast.readings.api import ElectricityDaily
from meterkast.readings.ports import ConnectionFact
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

EANS = [f"8716871400000{i:05d}" for i in range(30)]
START = date(2026, 1, 20)


def batches() -> list[list[ElectricityDaily]]:
    result = []
    for offset in range(24):
        day = START + timedelta(days=offset)
        rows = [
            ElectricityDaily(ean, day, 10_000 * offset + i, 5_000 * offset, 0, 0)
            for i, ean in enumerate(EANS)
            if (offset + i) % 4  # every fourth reading is missing: gaps to estimate
        ]
        if offset % 5 == 4:  # a correction of the day before
            previous = START + timedelta(days=offset - 1)
            rows.append(
                ElectricityDaily(
                    EANS[1], previous, 10_000 * (offset - 1), 5_000 * (offset - 1) + 7, 0, 0,
                    ReadingSource.CORRECTION, ReadingQuality.CORRECTED,
                )
            )  # fmt: skip
        result.append(rows)
    return result


def service(root: Path, keys: Path) -> ReadingsService:
    facts = StaticConnectionFacts(
        ConnectionFact(e, Product.ELECTRICITY, 3000.0, capacity_amps=25, phases=3) for e in EANS
    )
    store = EncryptedMonthStore(root, FakeDataKeyService(keys), row_group_rows=256)
    return ReadingsService(store, facts, lambda: datetime(2026, 3, 1, tzinfo=UTC))


def run(root: Path, keys: Path) -> None:
    target = service(root, keys)
    for batch in batches():
        target.add_electricity_daily(batch)


if __name__ == "__main__":
    root, keys = Path(sys.argv[1]), Path(sys.argv[2])
    target = service(root, keys)
    print("ready", flush=True)  # noqa: T201  # the parent waits for this line
    for batch in batches():
        target.add_electricity_daily(batch)
