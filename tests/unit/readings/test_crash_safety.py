"""Kill -9 an intake at random points: the store stays readable, a re-run completes it exactly."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pyarrow as pa

from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService

from . import crash_child

CHILD = Path(crash_child.__file__)
SRC = Path(__file__).resolve().parents[3] / "src"


def content(service: ReadingsService) -> list[dict[str, object]]:
    parts = [
        service.month(Dataset.ELECTRICITY_DAILY, m, all_versions=True) for m in service.months()
    ]
    if not parts:
        return []
    table = pa.concat_tables(parts).sort_by(
        [("ean", "ascending"), ("day", "ascending"), ("version", "ascending")]
    )
    return table.to_pylist()


def served(service: ReadingsService) -> list[dict[str, object]]:
    """The same content as :func:`content`, read one connection at a time (serving blobs)."""
    rows: list[dict[str, object]] = []
    for ean in crash_child.EANS:
        table = service.daily(
            Dataset.ELECTRICITY_DAILY, ean, date(2020, 1, 1), date(2030, 1, 1), all_versions=True
        )
        rows += table.to_pylist()
    return rows


def start(root: Path, keys: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{CHILD.parents[3]}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.unit.readings.crash_child", str(root), str(keys)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=CHILD.parents[3],
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def test_intake_killed_at_random_points_loses_and_doubles_nothing(tmp_path: Path) -> None:
    reference_root = tmp_path / "reference"
    crash_child.run(reference_root, tmp_path / "reference-keys.json")
    expected = content(crash_child.service(reference_root, tmp_path / "reference-keys.json"))
    assert len(expected) > 600

    root, keys = tmp_path / "store", tmp_path / "keys.json"
    rng = random.Random(20261123)  # noqa: S311  # reproducible kill points, not crypto
    kills = 0
    for _ in range(12):
        process = start(root, keys)
        time.sleep(rng.uniform(0.0, 0.5))
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            kills += 1
        process.wait()
        assert process.stdout is not None
        process.stdout.close()
        # Whatever was committed is readable, and nothing half-written shows.
        seen = content(crash_child.service(root, keys))
        assert len(seen) <= len(expected)
        assert all(row in expected for row in seen)
        # One-connection reads (blobs where current, files where not) give the same view.
        assert served(crash_child.service(root, keys)) == seen
    assert kills >= 6
    finish = start(root, keys)
    assert finish.wait() == 0
    assert finish.stdout is not None
    finish.stdout.close()
    after = crash_child.service(root, keys)
    assert content(after) == expected
    assert date(2026, 2, 1) in after.months()
    # The rerun left every month's serving blobs current, and they hold exactly the files' view.
    assert all(after.serving_is_current(m) for m in after.months())
    assert served(after) == expected
