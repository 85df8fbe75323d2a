"""Given/then scenarios for readings intake: ``given.csv`` batches in, ``expected.csv`` latest view.

given.csv: ``batch,ean,day,import_t1_wh,import_t2_wh,export_t1_wh,export_t2_wh,source,series``
(rows with the same batch number go in one intake call, batches in order).
expected.csv: every connection's latest version per day after all batches.
"""

from __future__ import annotations

import csv
from datetime import date
from itertools import groupby
from pathlib import Path

import pytest

from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.readings.api import ElectricityDaily
from meterkast.readings.schema import Dataset
from tests.unit.readings.conftest import make_service

HERE = Path(__file__).parent / "readings"
SCENARIOS = sorted(p.name for p in HERE.iterdir() if (p / "given.csv").exists())
COLUMNS = (
    "ean", "day", "import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh",
    "series", "version", "source", "quality",
)  # fmt: skip
QUALITY = {"estimate": ReadingQuality.ESTIMATED, "correction": ReadingQuality.CORRECTED}


def _reading(row: dict[str, str]) -> ElectricityDaily:
    source = ReadingSource(row["source"])
    return ElectricityDaily(
        row["ean"],
        date.fromisoformat(row["day"]),
        int(row["import_t1_wh"]),
        int(row["import_t2_wh"]),
        int(row["export_t1_wh"]),
        int(row["export_t2_wh"]),
        source,
        QUALITY.get(row["source"], ReadingQuality.MEASURED),
        int(row["series"]),
    )


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name: str, tmp_path: Path) -> None:
    service = make_service(tmp_path / "readings")
    with (HERE / name / "given.csv").open() as handle:
        given = list(csv.DictReader(handle))
    for _batch, rows in groupby(given, key=lambda r: r["batch"]):
        service.add_electricity_daily([_reading(r) for r in rows])
    actual = []
    for ean in sorted({r["ean"] for r in given}):
        table = service.daily(Dataset.ELECTRICITY_DAILY, ean, date(2000, 1, 1), date(2100, 1, 1))
        actual += [{c: str(row[c]) for c in COLUMNS} for row in table.to_pylist()]
    with (HERE / name / "expected.csv").open() as handle:
        expected = list(csv.DictReader(handle))
    assert actual == expected
