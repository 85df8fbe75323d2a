"""Grouping rows per connection, the bucket payloads' round trip, last rows (pure)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pytest

from meterkast.kernel.errors import InvalidValueError
from meterkast.readings.blobs import group, last_rows, merge_last
from meterkast.readings.bucket_codec import decode_rows, encode_buckets
from meterkast.readings.schema import SCHEMAS, Dataset

E1, E2 = "871687140000000011", "871687140000000028"
DAILY = Dataset.ELECTRICITY_DAILY


def table(rows: list[tuple[str, int, int, int]]) -> pa.Table:
    """(ean, day of January, version, import_t1_wh) rows, other columns fixed."""
    n = len(rows)
    return pa.table(
        {
            "ean": [r[0] for r in rows],
            "day": [date(2026, 1, r[1]) for r in rows],
            "series": [1] * n,
            "version": [r[2] for r in rows],
            "import_t1_wh": [r[3] for r in rows],
            "import_t2_wh": [0] * n,
            "export_t1_wh": [0] * n,
            "export_t2_wh": [0] * n,
            "source": ["remote"] * (n - 1) + ["correction"],
            "quality": ["measured"] * (n - 1) + ["corrected"],
            "recorded_at": pa.array([0] * n, pa.timestamp("us", tz="UTC")),
        }
    ).cast(SCHEMAS[DAILY])


def test_unordered_rows_are_grouped_per_connection_in_time_and_version_order() -> None:
    rows = table([(E2, 3, 1, 30), (E1, 2, 1, 20), (E2, 1, 1, 10), (E1, 2, 2, 21), (E1, 1, 1, 5)])
    groups = group(DAILY, rows)
    assert groups.eans.to_pylist() == [E1, E2]
    assert groups.starts.tolist() == [0, 3, 5]
    (payload,) = encode_buckets(groups, np.zeros(2, np.int64), 1)
    back = decode_rows(DAILY, [payload], E1, SCHEMAS[DAILY].names)
    assert back.schema == SCHEMAS[DAILY]
    assert [(r["day"].day, r["version"], r["import_t1_wh"]) for r in back.to_pylist()] == [
        (1, 1, 5),
        (2, 1, 20),
        (2, 2, 21),
    ]
    assert back["quality"].to_pylist() == ["corrected", "measured", "measured"]  # last input row
    latest = decode_rows(DAILY, [payload], E1, ["day", "import_t1_wh"], latest=True)
    assert latest["import_t1_wh"].to_pylist() == [5, 21]
    last = last_rows(DAILY, groups)
    assert last["ean"].tolist() == [int(E1), int(E2)]
    assert last["import_t1_wh"].tolist() == [21, 30]
    newer = last_rows(DAILY, group(DAILY, table([(E1, 1, 3, 6), (E1, 9, 1, 90)])))
    merged = merge_last(DAILY, [last, newer])
    assert merged["import_t1_wh"].tolist() == [90, 30]


def test_an_unknown_code_is_refused() -> None:
    rows = table([(E1, 1, 1, 5), (E1, 2, 1, 6)])
    bad = rows.set_column(
        rows.schema.get_field_index("source"), "source", pa.array(["remote", "guess"])
    )
    with pytest.raises(InvalidValueError):
        group(DAILY, bad)


def test_ordered_grouping_and_the_payloads_round_trip_exactly() -> None:
    # Registers that jump back (a new series) and huge values: steps are taken modulo 2**64
    # and must undo exactly, also where they wrap around.
    rows = []
    for c in range(80):
        ean = f"8716871400{c:08d}"
        rows += [(ean, 1, 1, 2**62 + c), (ean, 2, 1, 7), (ean, 2, 2, 2**63 - 1), (ean, 5, 1, 0)]
    ordered = table(rows)
    fast, slow = group(DAILY, ordered, ordered=True), group(DAILY, ordered)
    assert fast.eans.equals(slow.eans)
    assert fast.starts.tolist() == slow.starts.tolist()
    buckets = np.arange(80, dtype=np.int64) % 5
    payloads = encode_buckets(fast, buckets, 5)
    assert len(payloads) == 5 and all(payloads)
    for k, ean in enumerate(fast.eans.to_pylist()):
        back = decode_rows(DAILY, payloads, ean, SCHEMAS[DAILY].names)
        assert back.to_pylist() == ordered.slice(4 * k, 4).to_pylist()
    # Several payloads holding one connection (segments, months) decode together, in order.
    both = decode_rows(DAILY, [payloads[3]] * 2, fast.eans[3].as_py(), SCHEMAS[DAILY].names)
    expected = ordered.slice(12, 4).to_pylist()
    assert both.to_pylist() == [row for row in expected for _ in range(2)]
