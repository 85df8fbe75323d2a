"""Readings store: intake, one connection's 24-month history, whole-month scan, purge.

Baselines measured in the same run: a raw PyArrow zstd Parquet write of the same rows (intake
target >= 50 % of its rate). Targets: history p95 <= 20 ms at 100,000 connections (and a
projection to 1,000,000), purge of one month <= 1 s and flat in the number of readings.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from meterkast.bootstrap import bootstrap
from meterkast.kernel.codes import Product
from meterkast.readings.adapters.facts import StaticConnectionFacts
from meterkast.readings.adapters.parquet import EncryptedMonthStore
from meterkast.readings.history import synthesise_electricity
from meterkast.readings.ports import ConnectionFact, DataKeyService
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService, add_months
from meterkast.settings import CoreSettings

MONTHS = 24
FIRST = date(2024, 11, 1)
CONNECTIONS = {"quick": 5_000, "full": 100_000}
SAMPLES = 200
ROW_GROUP_ROWS = int(os.environ.get("BENCH_READINGS_ROW_GROUP_ROWS", "1024"))
# What a customer's history view shows: the four registers and whether a day is estimated.
VIEW = ("import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh", "quality")


class _Facts(StaticConnectionFacts):
    """Every EAN is a 3x25 A household with 3,500 kWh SJV and 4 kWp (bulk, no per-EAN objects)."""

    def lookup(self, eans: list[str]) -> dict[str, ConnectionFact]:  # type: ignore[override]
        return {
            e: ConnectionFact(e, Product.ELECTRICITY, 3500.0, 25, 3, solar_kwp=4.0) for e in eans
        }


def _service(root: Path, keys: DataKeyService) -> ReadingsService:
    store = EncryptedMonthStore(root, keys, row_group_rows=ROW_GROUP_ROWS)
    return ReadingsService(store, _Facts(), lambda: datetime(2026, 11, 23, tzinfo=UTC))


def _eans(n: int) -> np.ndarray:
    return np.array([f"871687{i:012d}" for i in range(n)])


def _populate(root: Path, keys: DataKeyService, n: int) -> tuple[float, int, pa.Table]:
    """Write 24 months of history; return the seconds, rows and the following month's rows."""
    service = _service(root, keys)
    tables = synthesise_electricity(
        _eans(n),
        np.full(n, 3500.0),
        np.where(np.arange(n) % 3 == 0, 4.0, 0.0),
        FIRST,
        MONTHS + 1,
        7,
    )
    start = time.perf_counter()
    rows = service.write_history(islice(tables, MONTHS), presorted=True)
    return time.perf_counter() - start, rows, next(tables)


def _history_latency(root: Path, keys: DataKeyService, n: int) -> tuple[float, float, float]:
    service = _service(root, keys)
    eans = _eans(n)
    last = add_months(FIRST, MONTHS) - (add_months(FIRST, MONTHS) - add_months(FIRST, MONTHS - 1))
    t0 = time.perf_counter()
    service.daily(Dataset.ELECTRICITY_DAILY, str(eans[0]), FIRST, last)
    first_open = time.perf_counter() - t0
    rng = np.random.default_rng(3)
    latencies = []
    for ean in rng.choice(eans, SAMPLES):
        t0 = time.perf_counter()
        table = service.daily(Dataset.ELECTRICITY_DAILY, str(ean), FIRST, last, columns=VIEW)
        latencies.append(time.perf_counter() - t0)
        assert table.num_rows >= 700  # noqa: S101  # 24 months of days, or the read is wrong
    values = np.array(latencies) * 1000
    return float(np.median(values)), float(np.percentile(values, 95)), first_open * 1000


def _data_keys(home: Path) -> DataKeyService:
    """The real crypto-server's data keys, on an embedded instance of their own."""
    app = bootstrap(CoreSettings(home=home))
    app.init()
    return app.data_keys


def run(scale: str) -> None:
    n = CONNECTIONS.get(scale, CONNECTIONS["quick"])
    small = n // 4
    folder = Path(tempfile.mkdtemp(prefix="bench-readings-"))
    keys = _data_keys(folder / "home")
    try:
        seconds, rows, batch = _populate(folder / "big", keys, n)
        print(f"history write: {rows:,} rows in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        _populate(folder / "small", keys, small)

        # Intake: the next month for every connection, validated against the stored history.
        service = _service(folder / "big", keys)
        t0 = time.perf_counter()
        pq.write_table(batch, folder / "raw.parquet", compression="zstd")
        raw = time.perf_counter() - t0
        t0 = time.perf_counter()
        pq.write_table(
            batch,
            folder / "encrypted.parquet",
            compression="zstd",
            row_group_size=ROW_GROUP_ROWS,
            encryption_properties=EncryptedMonthStore(folder / "big", keys).encryption_properties(
                add_months(FIRST, 1)
            ),
        )
        encrypted = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = service.add_daily_table(Dataset.ELECTRICITY_DAILY, batch)
        intake = time.perf_counter() - t0
        assert result.stored == batch.num_rows, result.rejected[:3]  # noqa: S101
        print(
            f"intake (validated, encrypted): {batch.num_rows / intake:,.0f} rows/s vs raw PyArrow "
            f"zstd write {batch.num_rows / raw:,.0f} rows/s = {raw / intake:.0%} "
            "(target >= 50 %)"
        )
        print(
            f"  of which the encrypted write ({ROW_GROUP_ROWS}-row groups) alone: "
            f"{batch.num_rows / encrypted:,.0f} rows/s = {raw / encrypted:.0%} of raw"
        )

        median, p95, first_open = _history_latency(folder / "big", keys, n)
        s_median, s_p95, _ = _history_latency(folder / "small", keys, small)
        # Per read: two binary searches over row-group bounds per month file and a fixed-size
        # row group, so nothing grows with the connections; the projection is the larger p95.
        print(
            f"one connection, 24 months daily, {n:,} connections: median {median:.1f} ms, "
            f"p95 {p95:.1f} ms (first call, opening footers: {first_open:.0f} ms); at {small:,}: "
            f"median {s_median:.1f} ms, p95 {s_p95:.1f} ms; projected p95 at 1,000,000 (flat): "
            f"{max(p95, s_p95):.1f} ms (target 20 ms)"
        )

        t0 = time.perf_counter()
        scanned = service.month(Dataset.ELECTRICITY_DAILY, add_months(FIRST, 12))
        scan = time.perf_counter() - t0
        print(f"whole-month scan (latest versions): {scanned.num_rows / scan:,.0f} rows/s")

        timings = {}
        for name, count in (("big", n), ("small", small)):
            target = _service(folder / name, keys)
            t0 = time.perf_counter()
            purged = target.purge(as_of=add_months(FIRST, 25))
            timings[count] = time.perf_counter() - t0
            assert purged.months == [FIRST]  # noqa: S101
        print(
            f"purge one month: {timings[n] * 1000:.0f} ms at {n:,}, {timings[small] * 1000:.0f} ms "
            f"at {small:,} (one folder and one key, flat); projected at 1,000,000: "
            f"{max(timings.values()) * 1000:.0f} ms (target <= 1000 ms)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    import sys

    run(sys.argv[1] if len(sys.argv) > 1 else "quick")
