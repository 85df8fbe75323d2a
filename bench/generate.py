"""`meterkast generate` for 100,000 connections: seconds and peak memory (target < 60 s).

Baseline in the same run: inserting the same number of rows with plain sqlite3 executemany in
one transaction (the floor for any SQLite load), so the ratio holds on a noisy machine.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 60.0

_CHILD = """
import json, resource, sys, time
from datetime import date
from meterkast.bootstrap import bootstrap
app = bootstrap()
app.init()
t0 = time.perf_counter()
result = app.area_generator.generate(int(sys.argv[1]), 42, date(2026, 11, 23))
elapsed = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mb": peak_mb, "rows": sum(result.tables.values())}))
"""


def _baseline(rows: int, folder: Path) -> float:
    db = sqlite3.connect(folder / "baseline.db")
    db.execute("CREATE TABLE t (a INTEGER, b TEXT, c TEXT, d INTEGER, e TEXT, f TEXT)")
    data = [
        (i, "871690000000000010", "8011AB", i % 70, "Kerkstraat", "Zwolle") for i in range(rows)
    ]
    t0 = time.perf_counter()
    with db:
        db.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?)", data)
    db.close()
    return time.perf_counter() - t0


def run(scale: str) -> None:
    connections = 100_000 if scale == "full" else 5_000
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "METERKAST_HOME": str(Path(tmp) / "home")}
        env.pop("METERKAST_DATABASE_URL", None)
        out = subprocess.run(  # noqa: S603 - our own interpreter and code
            [sys.executable, "-c", _CHILD, str(connections)],
            env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        figures = json.loads(out.strip().splitlines()[-1])
        baseline = _baseline(figures["rows"], Path(tmp))
    print(f"connections            {connections:,}")
    print(f"rows written           {figures['rows']:,}")
    print(f"generate               {figures['seconds']:.1f} s   (target < {TARGET_SECONDS:.0f} s"
          f" at 100,000)")  # fmt: skip
    print(f"peak memory            {figures['peak_mb']:.0f} MB")
    print(f"baseline sqlite3 insert of the same row count: {baseline:.2f} s"
          f"  -> generate / baseline = {figures['seconds'] / baseline:.1f}x")  # fmt: skip
