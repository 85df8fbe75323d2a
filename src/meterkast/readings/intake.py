"""The stored form of an intake batch, and writing it ahead while the batch is validated.

Most batches are the next days of daily readings: every row is accepted as a first version and
there is nothing to estimate. Their Parquet file is then exactly the batch with its version and
intake time, so it can be written (a background thread; PyArrow releases the GIL) before the
decision is known. The manifest commit stays the one point where a file becomes part of the
store: a file written ahead for a batch that turns out otherwise is discarded, and one left by
a crash is an orphan like any other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pyarrow as pa

from meterkast.readings._columns import strictly_ordered
from meterkast.readings.adapters.parquet import EncryptedMonthStore, WrittenAhead
from meterkast.readings.columns import DailyColumns
from meterkast.readings.schema import SCHEMAS, Dataset
from meterkast.readings.validation import NEW, Decision


def accepted_rows(
    dataset: Dataset, table: pa.Table, keep: np.ndarray, version: np.ndarray, now: datetime
) -> pa.Table:
    """The accepted incoming rows in the stored schema, with their version and intake time
    (taken from the incoming table itself: no round trip through numpy strings)."""
    schema = SCHEMAS[dataset]
    rows = table if keep.size == table.num_rows else table.take(pa.array(keep))
    stamp = np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")
    columns = {name: rows[name] for name in schema.names if name not in ("version", "recorded_at")}
    columns["version"] = pa.array(version.astype(np.int16))
    columns["recorded_at"] = pa.array(np.full(rows.num_rows, stamp))
    return pa.table({name: columns[name] for name in schema.names}).cast(schema)


def in_order(ean: np.ndarray, day: np.ndarray) -> bool:
    """Whether rows are strictly ordered by EAN, then day (one compiled pass)."""
    days = np.ascontiguousarray(day.astype("datetime64[D]", copy=False)).view(np.int64)
    return strictly_ordered(np.ascontiguousarray(ean, dtype=np.int64), days)


def start_write_ahead(
    store: EncryptedMonthStore,
    dataset: Dataset,
    table: pa.Table,
    incoming: DailyColumns,
    now: datetime,
) -> WrittenAhead | None:
    """Start writing the batch as stored if every row is accepted, when it is a batch that can
    be written as it comes: one month, rows in (EAN, day) order. None otherwise."""
    n = len(incoming)
    if n == 0:
        return None
    month = np.array([incoming.day.min(), incoming.day.max()]).astype("datetime64[M]")
    if month[0] != month[1] or not in_order(incoming.ean, incoming.day):
        return None
    first = month[0].astype("datetime64[D]").item()
    assert isinstance(first, date)  # noqa: S101  # a day-unit datetime64 always gives a date

    def rows() -> pa.Table:  # built on the writing thread too: off the validation's path
        return accepted_rows(dataset, table, np.arange(n), np.ones(n, dtype=np.int64), now)

    return store.write_ahead(dataset, first, rows, presorted=True)


def stores_exactly_the_batch(decision: Decision) -> bool:
    """Whether the decision stores every row as a first version and nothing else."""
    estimated = decision.estimates is not None and len(decision.estimates) > 0
    return bool((decision.status == NEW).all() and (decision.version == 1).all()) and not estimated
