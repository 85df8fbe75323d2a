"""One connection's rows of a month as a compact binary record array (pure, numpy).

The serving layout keeps, per month and dataset, one sealed blob per connection. Its plaintext
is the connection's rows (every version) as packed little-endian records, in (time, version)
order, without the EAN (the blob's index tag stands for it). Source and quality are one byte
each (their position in the sorted code list). Before sealing, every numeric
field is delta-coded within the connection (the registers climb by a day's use, the day by
one, versions and intake times barely change) and the records are zstd-compressed: a blob is
about a sixth of its raw size. Decoding 24 blobs is a decompression, a ``frombuffer`` and a
running sum per field each, far below the per-column-chunk cost of Parquet for a few dozen
rows.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import zstandard

from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.kernel.errors import InvalidValueError
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
# Fields stored as the difference to the connection's previous record (codes stay as they are).
_DELTA = {d: [n for n in RECORDS[d].names or () if RECORDS[d][n] != np.uint8] for d in Dataset}
# zstd's fast level -1: on these small delta-coded records as small as level 1 (8.8 bytes
# per electricity row instead of 50) in half the time; level 3 saves 15 % more for 2-3x time.
_LEVEL = -1
# Compress in the library's own threads (it releases the GIL) from this many blobs on.
_MULTI = 64


@dataclass(frozen=True, slots=True)
class Groups:
    """Rows grouped by connection: ``eans[i]`` owns rows ``starts[i]:starts[i + 1]`` of the
    record fields in ``columns`` (sorted by EAN, time, version)."""

    dataset: Dataset
    eans: list[str]
    columns: dict[str, np.ndarray]  # each field of RECORDS[dataset], one array per field
    starts: np.ndarray  # int64, len(eans) + 1

    def payloads(self) -> list[bytes]:
        """Each connection's records, delta-coded and compressed (see :func:`decompress`)."""
        if not self.eans:
            return []
        coded = _coded(self.dataset, self.columns, self.starts)
        size = coded.dtype.itemsize
        bounds = self.starts * size
        compressor = zstandard.ZstdCompressor(level=_LEVEL, write_checksum=False)
        if len(self.eans) < _MULTI:
            buffer = memoryview(coded.tobytes())
            return [compressor.compress(buffer[a:b]) for a, b in itertools.pairwise(bounds)]
        segments = np.empty((len(self.eans), 2), dtype=np.uint64)
        segments[:, 0] = bounds[:-1]
        segments[:, 1] = np.diff(bounds)
        packed = compressor.multi_compress_to_buffer(
            zstandard.BufferWithSegments(coded.view(np.uint8).data, segments.tobytes()),
            threads=2,
        )
        return [packed[i].tobytes() for i in range(len(packed))]


_LOCAL = threading.local()  # one decompression context per thread (contexts are not shared)


def decompress(payload: bytes) -> bytes:
    """One blob's plaintext (:meth:`Groups.payloads`) to its delta-coded records; hand those
    to :func:`to_table`, which undoes the deltas of many blobs at once."""
    if not payload:
        return b""
    context = getattr(_LOCAL, "context", None)
    if context is None:
        context = _LOCAL.context = zstandard.ZstdDecompressor()
    result: bytes = context.decompress(payload)
    return result


def _coded(dataset: Dataset, columns: dict[str, np.ndarray], starts: np.ndarray) -> np.ndarray:
    """Records whose numeric fields hold the difference to the connection's previous row
    (its first row keeps the value); integer wrap-around is undone exactly by the sum."""
    coded = np.empty(starts[-1], dtype=RECORDS[dataset])
    firsts = starts[:-1]
    for name, column in columns.items():
        if name in _DELTA[dataset]:
            delta = np.empty_like(column)
            if column.size:
                delta[0] = column[0]
            np.subtract(column[1:], column[:-1], out=delta[1:])
            delta[firsts] = column[firsts]
            coded[name] = delta
        else:
            coded[name] = column
    return coded


def _columns(dataset: Dataset, table: pa.Table) -> dict[str, np.ndarray]:
    """The table's record fields as contiguous numpy columns (codes as their positions)."""
    dtype = RECORDS[dataset]
    columns = {}
    for name in dtype.names or ():
        column = table[name]
        if name in CODES:  # a handful of distinct values: map the dictionary, not the rows
            encoded = pc.dictionary_encode(column).combine_chunks()
            codes = pc.index_in(encoded.dictionary, value_set=CODES[name])
            if codes.null_count:
                raise InvalidValueError(f"unknown {name} code in the readings")
            indices = encoded.indices.to_numpy(zero_copy_only=False)
            columns[name] = codes.to_numpy(zero_copy_only=False).astype(np.uint8)[indices]
        else:
            storage = _STORAGE[dtype[name].str.replace("|", "")]
            columns[name] = column.cast(storage).to_numpy()
    return columns


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
        return Groups(dataset, [], columns, np.zeros(1, np.int64))
    cuts = np.flatnonzero(owner[1:] != owner[:-1]) + 1
    starts = np.concatenate([[0], cuts, [owner.size]]).astype(np.int64)
    return Groups(dataset, [names[i] for i in owner[starts[:-1]].tolist()], columns, starts)


def _group_ordered(dataset: Dataset, table: pa.Table) -> Groups:
    ean = table["ean"].combine_chunks()
    n = len(ean)
    columns = _columns(dataset, table)
    if n == 0:
        return Groups(dataset, [], columns, np.zeros(1, np.int64))
    change = pc.not_equal(ean.slice(1), ean.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    starts = np.concatenate([[0], np.flatnonzero(change) + 1, [n]]).astype(np.int64)
    return Groups(dataset, ean.take(pa.array(starts[:-1])).to_pylist(), columns, starts)


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
    if not groups.eans:
        return summary
    last = groups.starts[1:] - 1
    for name in RECORDS[dataset].names or ():
        summary[name] = groups.columns[name][last]
    summary["ean"] = np.array(groups.eans, dtype=np.int64) if groups.eans else []
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


def to_table(
    dataset: Dataset, ean: str, payloads: Sequence[bytes], columns: Sequence[str]
) -> pa.Table:
    """One connection's records back to Arrow, with the dataset's column types.

    ``payloads`` are decompressed blobs (:func:`decompress`), each delta-coded on its own: one
    running sum per field over all of them, less each blob's starting total.
    """
    schema = SCHEMAS[dataset]
    dtype = RECORDS[dataset]
    records = np.frombuffer(b"".join(payloads), dtype=dtype)
    n = records.size
    lengths = np.array([len(p) // dtype.itemsize for p in payloads], dtype=np.int64)
    ends = np.cumsum(lengths)
    arrays = []
    for name in columns:
        field = schema.field(name)
        if name == "ean":
            arrays.append(pa.repeat(pa.scalar(ean, pa.string()), n))
        elif name in CODES:
            arrays.append(CODES[name].take(pa.array(records[name])))
        else:
            values = np.ascontiguousarray(records[name])
            if name in _DELTA[dataset] and n:
                values = np.cumsum(values, dtype=values.dtype)
                if lengths.size > 1:
                    totals = np.concatenate([[0], values[ends[:-1] - 1]]).astype(values.dtype)
                    values -= np.repeat(totals, lengths)
            raw = pa.array(values)
            arrays.append(raw if raw.type == field.type else raw.cast(field.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema([schema.field(c) for c in columns]))
