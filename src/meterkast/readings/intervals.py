"""Interval values (electricity 15 min in Wh, gas hourly in dm3): checks and versions (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC

import numpy as np
import pyarrow as pa

from meterkast.kernel.codes import Product, ReadingQuality
from meterkast.readings.api import IntervalValue
from meterkast.readings.ports import ConnectionFact
from meterkast.readings.schema import SCHEMAS, Dataset
from meterkast.readings.validation import DUPLICATE, NEW, REJECTED, VOLTS

STEP_SECONDS = {Product.ELECTRICITY: 900, Product.GAS: 3600}


def interval_table(rows: Sequence[IntervalValue]) -> pa.Table:
    n = len(rows)
    return pa.table(
        {
            "ean": [r.ean for r in rows],
            "start": pa.array([r.start.astimezone(UTC) for r in rows], pa.timestamp("us", "UTC")),
            "version": pa.array(np.zeros(n, np.int16)),
            "value": pa.array([r.value for r in rows], pa.int64()),
            "source": [r.source.value for r in rows],
            "quality": [r.quality.value for r in rows],
            "recorded_at": pa.array(np.zeros(n, "datetime64[us]"), pa.timestamp("us", "UTC")),
        },
        schema=SCHEMAS[Dataset.INTERVAL],
    )


def _max_per_interval(fact: ConnectionFact) -> float:
    """What the capacity can deliver in one interval (no capacity known: no bound)."""
    if fact.product is Product.ELECTRICITY:
        wh = fact.capacity_amps * fact.phases * VOLTS * 0.25
    else:
        wh = fact.gas_max_m3h * 1000.0
    return wh if wh > 0 else float("inf")


def decide_intervals(
    incoming: pa.Table, existing: pa.Table, facts: Mapping[str, ConnectionFact]
) -> tuple[np.ndarray, np.ndarray, dict[int, str]]:
    """Status (NEW/DUPLICATE/REJECTED), version to store and reasons, per incoming row."""
    n = incoming.num_rows
    status = np.full(n, NEW, dtype=np.int8)
    version = np.ones(n, dtype=np.int64)
    reasons: dict[int, str] = {}
    eans = incoming["ean"].to_pylist()
    starts = incoming["start"].to_numpy().astype("datetime64[s]").astype(np.int64)
    values = incoming["value"].to_numpy()
    quality = incoming["quality"].to_pylist()
    source = incoming["source"].to_pylist()
    stored: dict[tuple[str, int], tuple[int, int, str]] = {}  # latest version per interval
    readings: set[tuple[str, int, int, str]] = set()  # every stored (interval, value, source)
    for e, t, v, ver, q, src in zip(
        existing["ean"].to_pylist(),
        existing["start"].to_numpy().astype("datetime64[s]").astype(np.int64).tolist(),
        existing["value"].to_pylist(),
        existing["version"].to_pylist(),
        existing["quality"].to_pylist(),
        existing["source"].to_pylist(),
        strict=True,
    ):
        readings.add((e, t, v, src))
        if (e, t) not in stored or stored[(e, t)][1] < ver:
            stored[(e, t)] = (v, ver, q)
    seen: dict[tuple[str, int], int] = {}

    def reject(row: int, reason: str) -> None:
        status[row] = REJECTED
        reasons[row] = reason

    for row in range(n):
        fact = facts.get(eans[row])
        key = (eans[row], int(starts[row]))
        if fact is None:
            reject(row, "unknown connection")
        elif starts[row] % STEP_SECONDS[fact.product]:
            reject(row, f"interval start not on a {STEP_SECONDS[fact.product] // 60}-minute step")
        elif values[row] < 0:
            reject(row, "negative interval value")
        elif values[row] > _max_per_interval(fact):
            reject(row, "interval value above what the connection's capacity allows")
        elif key in seen:
            if values[seen[key]] == values[row]:
                status[row] = DUPLICATE
            else:
                reject(row, "two different values for the same interval in one batch")
        elif (*key, int(values[row]), source[row]) in readings:
            status[row] = DUPLICATE
        elif key in stored:
            value, stored_version, stored_quality = stored[key]
            if value == values[row]:
                status[row] = DUPLICATE
            elif (
                stored_quality != ReadingQuality.ESTIMATED.value
                and quality[row] == ReadingQuality.ESTIMATED.value
            ):
                reject(row, "an estimate cannot replace a measured value")
            else:
                version[row] = stored_version + 1
        if status[row] == NEW:
            seen[key] = row
    return status, version, reasons
