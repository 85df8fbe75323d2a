"""Rows grouped by connection as numpy columns, and the last-row summaries (pure, numpy).

The serving layout (:mod:`meterkast.readings.adapters.serving`) codes the rows of many
connections at once (:mod:`meterkast.readings.bucket_codec`); this module prepares them: each
record field of a dataset (every column but the EAN) as one contiguous numpy column, source
and quality as one byte each (their position in the sorted code list), rows grouped by
connection in (time, version) order. It also keeps the per-month summary of each connection's
last row that intake validation uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.kernel.errors import InvalidValueError
from meterkast.readings import _codec
from meterkast.readings.schema import SCHEMAS, TIME_COLUMN, Dataset

CODES = {
    "source": pa.array(sorted(s.value for s in ReadingSource)),
    "quality": pa.array(sorted(q.value for q in ReadingQuality)),
}
_NUMPY = {
    pa.date32(): "<i4",
    pa.int16(): "<i2",
    pa.int64(): "<i8",
    pa.timestamp("us", tz="UTC"): "<i8",
    pa.string(): "u1",
}
_STORAGE = {"<i4": pa.int32(), "<i2": pa.int16(), "<i8": pa.int64(), "u1": pa.uint8()}


def _record_type(dataset: Dataset) -> np.dtype:
    fields = [(f.name, _NUMPY[f.type]) for f in SCHEMAS[dataset] if f.name != "ean"]
    return np.dtype(fields)  # packed: no padding between fields


RECORDS = {dataset: _record_type(dataset) for dataset in Dataset}


@dataclass(frozen=True, slots=True)
class Groups:
    """Rows grouped by connection: ``eans[i]`` owns rows ``starts[i]:starts[i + 1]`` of the
    record fields in ``columns`` (sorted by EAN, time, version)."""

    dataset: Dataset
    eans: pa.StringArray
    columns: dict[str, np.ndarray]  # each field of RECORDS[dataset], one array per field
    starts: np.ndarray  # int64, len(eans) + 1


def _columns(dataset: Dataset, table: pa.Table) -> dict[str, np.ndarray]:
    """The table's record fields as contiguous numpy columns (codes as their positions)."""
    dtype = RECORDS[dataset]
    columns = {}
    for name in dtype.names or ():
        column = table[name]
        if name in CODES:
            columns[name] = code_positions(name, column)
        else:
            storage = _STORAGE[dtype[name].str.replace("|", "")]
            columns[name] = column.cast(storage).to_numpy()
    return columns


_CODE_WORDS = {name: [str(v).encode() for v in codes.to_pylist()] for name, codes in CODES.items()}


def code_positions(name: str, column: pa.ChunkedArray) -> np.ndarray:
    """Each row's position in the code list (a C scan: hashing millions of strings to find
    one of a handful of words cost 50 ns per row)."""
    parts = []
    for chunk in column.chunks:
        if chunk.type != pa.string():
            chunk = chunk.cast(pa.string())
        offsets_buffer, data_buffer = chunk.buffers()[1:3]
        offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        data = b"" if data_buffer is None else data_buffer
        try:
            found = _codec.positions(offsets, data, _CODE_WORDS[name])
        except ValueError:
            raise InvalidValueError(f"unknown {name} code in the readings") from None
        parts.append(np.frombuffer(found, dtype=np.uint8))
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint8)


def _records(dataset: Dataset, columns: dict[str, np.ndarray]) -> np.ndarray:
    records = np.empty(len(next(iter(columns.values()))), dtype=RECORDS[dataset])
    for name, column in columns.items():
        records[name] = column
    return records


def to_records(dataset: Dataset, table: pa.Table) -> np.ndarray:
    """The table's rows (any order) as records; the EAN column is left out."""
    return _records(dataset, _columns(dataset, table))


def group(dataset: Dataset, table: pa.Table, *, ordered: bool = False) -> Groups:
    """Group ``table``'s rows by connection, each in (time, version) order.

    ``ordered`` promises that the rows already come sorted by (EAN, time, version), as the
    store writes them: then connections are found where the EAN changes (no hashing, no sort
    check). Otherwise rows that happen to be in that order are not sorted again.
    """
    if ordered:
        return _group_ordered(dataset, table)
    time = TIME_COLUMN[dataset]
    encoded = pc.dictionary_encode(table["ean"]).combine_chunks()
    names = encoded.dictionary.to_pylist()
    owner = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    records = to_records(dataset, table)
    # Sort by EAN text, then time, then version: the rank of each name orders the owners.
    rank = np.argsort(np.argsort(np.array(names, dtype=str), kind="stable"), kind="stable")
    key = rank[owner]
    if not _ordered(key, records[time], records["version"]):
        order = np.lexsort((records["version"], records[time], key))
        records, owner = records[order], owner[order]
    columns = {name: np.ascontiguousarray(records[name]) for name in records.dtype.names or ()}
    if owner.size == 0:
        return Groups(dataset, pa.array([], pa.string()), columns, np.zeros(1, np.int64))
    cuts = np.flatnonzero(owner[1:] != owner[:-1]) + 1
    starts = np.concatenate([[0], cuts, [owner.size]]).astype(np.int64)
    eans = pa.array([names[i] for i in owner[starts[:-1]].tolist()], pa.string())
    return Groups(dataset, eans, columns, starts)


def _group_ordered(dataset: Dataset, table: pa.Table) -> Groups:
    ean = table["ean"].combine_chunks()
    n = len(ean)
    columns = _columns(dataset, table)
    if n == 0:
        return Groups(dataset, pa.array([], pa.string()), columns, np.zeros(1, np.int64))
    change = pc.not_equal(ean.slice(1), ean.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.flatnonzero(change) + 1, [n]]).astype(np.int64)
    return Groups(dataset, ean.take(pa.array(starts[:-1])).cast(pa.string()), columns, starts)


def _ordered(key: np.ndarray, time: np.ndarray, version: np.ndarray) -> bool:
    """Whether rows already come in (key, time, version) order (history and bulk intake do)."""
    if key.size < 2:
        return True
    dk, dt, dv = np.diff(key), np.diff(time.astype(np.int64)), np.diff(version.astype(np.int64))
    return bool(np.all((dk > 0) | ((dk == 0) & ((dt > 0) | ((dt == 0) & (dv > 0))))))


# The last row (highest day, then version) of each connection in a month, with its EAN as a
# number: what intake needs to check the next reading without reading the month's rows.
SUMMARY = {
    dataset: np.dtype(
        [("ean", "<i8"), *((n, RECORDS[dataset][n]) for n in RECORDS[dataset].names or ())]
    )
    for dataset in (Dataset.ELECTRICITY_DAILY, Dataset.GAS_DAILY)
}


def last_rows(dataset: Dataset, groups: Groups) -> np.ndarray:
    """Each connection's last record of ``groups`` (they are in time, version order)."""
    summary = np.empty(len(groups.eans), dtype=SUMMARY[dataset])
    if not len(groups.eans):
        return summary
    last = groups.starts[1:] - 1
    for name in RECORDS[dataset].names or ():
        summary[name] = groups.columns[name][last]
    # Raises ValueError (ArrowInvalid) for an EAN that is not a number.
    summary["ean"] = pc.cast(groups.eans, pa.int64()).to_numpy(zero_copy_only=False)
    return summary


def merge_last(dataset: Dataset, parts: Sequence[np.ndarray]) -> np.ndarray:
    """The last row per EAN over several summaries."""
    rows = np.concatenate([np.asarray(p, dtype=SUMMARY[dataset]) for p in parts])
    if rows.size == 0:
        return rows
    order = np.lexsort((rows["version"], rows[TIME_COLUMN[dataset]], rows["ean"]))
    rows = rows[order]
    keep = np.ones(rows.size, dtype=bool)
    keep[:-1] = rows["ean"][1:] != rows["ean"][:-1]
    result: np.ndarray = rows[keep]
    return result
