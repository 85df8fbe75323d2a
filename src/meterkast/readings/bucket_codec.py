"""Serving payloads: the rows of many connections per bucket, delta-coded by a C kernel.

A payload (the plaintext of one sealed serving unit, see
:mod:`meterkast.readings.adapters.serving`) holds, per connection of its bucket, the EAN and
the connection's record fields (:data:`meterkast.readings.blobs.RECORDS`), each stored as its
first value and fixed-width steps from row to row (format in ``_codec.c``): about 7 bytes per
electricity day. Decoding one connection out of a read's payloads (24 months, any segments)
is one call that also applies the time window and the latest-version choice.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from meterkast.readings import _codec
from meterkast.readings.blobs import CODES, RECORDS, SUMMARY, Groups
from meterkast.readings.schema import SCHEMAS, TIME_COLUMN, Dataset

FIELDS = {dataset: tuple(RECORDS[dataset].names or ()) for dataset in Dataset}
# The texts behind the positions a decoded source or quality field holds.
CODE_TEXTS: dict[str, tuple[str, ...]] = {
    name: tuple(str(v) for v in codes.to_pylist()) for name, codes in CODES.items()
}
# The width of each field as decoded: the byte width of its Arrow storage type.
_WIDTHS = {d: bytes(RECORDS[d][name].itemsize for name in FIELDS[d]) for d in Dataset}
_TIME = {d: FIELDS[d].index(TIME_COLUMN[d]) for d in Dataset}
_VERSION = {d: FIELDS[d].index("version") for d in Dataset}
_EVERYTHING = (-(2**63), 2**63 - 1)
# A summary is coded as one connection without a name whose fields start with the EAN.
_SUMMARY_FIELDS = {d: tuple(SUMMARY[d].names or ()) for d in SUMMARY}
_SUMMARY_WIDTHS = {d: bytes(SUMMARY[d][n].itemsize for n in _SUMMARY_FIELDS[d]) for d in SUMMARY}


def _name_buffers(names: pa.StringArray) -> tuple[np.ndarray, np.ndarray]:
    """The names' UTF-8 bytes and int64 offsets into them (from the Arrow buffers, no copy
    of the strings into Python objects)."""
    offsets_buffer, data_buffer = names.buffers()[1:3]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32)[
        names.offset : names.offset + len(names) + 1
    ].astype(np.int64)
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8)
        if data_buffer is not None
        else np.empty(0, np.uint8)
    )
    start = int(offsets[0]) if offsets.size else 0
    return np.ascontiguousarray(data[start : start + int(offsets[-1] - start)]), offsets - start


def encode_buckets(groups: Groups, buckets: np.ndarray, n_buckets: int) -> list[bytes]:
    """One payload per bucket (``b""`` for a bucket without connections); connection ``i``
    of ``groups`` goes to bucket ``buckets[i]``."""
    data, offsets = _name_buffers(groups.eans)
    columns = [np.ascontiguousarray(groups.columns[name]) for name in FIELDS[groups.dataset]]
    return _codec.encode(
        columns,
        np.ascontiguousarray(groups.starts, dtype=np.int64),
        data,
        offsets,
        np.ascontiguousarray(buckets, dtype=np.int64),
        n_buckets,
    )


@dataclass(frozen=True, slots=True)
class Decoded:
    """One connection's rows as the codec decoded them, ordered by (time, version): each field
    of :data:`FIELDS` as raw little-endian values at its Arrow width (source and quality as
    one-byte positions in :data:`CODE_TEXTS`). Callers that only write the rows out (the API's
    JSON) use the buffers as they are; :func:`decoded_table` makes the Arrow table."""

    dataset: Dataset
    count: int
    fields: tuple[bytes, ...]

    def field(self, name: str) -> bytes:
        return self.fields[FIELDS[self.dataset].index(name)]


def decode(
    dataset: Dataset,
    payloads: list[bytes],
    ean: str,
    *,
    window: tuple[int, int] | None = None,
    latest: bool = False,
) -> Decoded:
    """One connection's rows from ``payloads``. ``window`` keeps rows whose time (days since
    1970 for daily datasets, microseconds for intervals) lies in ``[low, high)``; ``latest``
    keeps only the highest version per time."""
    low, high = window or _EVERYTHING
    count, fields = _codec.decode(
        payloads,
        ean.encode(),
        _WIDTHS[dataset],
        _TIME[dataset],
        _VERSION[dataset],
        low,
        high,
        latest,
    )
    return Decoded(dataset, count, tuple(fields))


def decode_rows(
    dataset: Dataset,
    payloads: list[bytes],
    ean: str,
    columns: Sequence[str],
    *,
    window: tuple[int, int] | None = None,
    latest: bool = False,
) -> pa.Table:
    """:func:`decode` as an Arrow table of ``columns`` (schema types, in the given order)."""
    return decoded_table(decode(dataset, payloads, ean, window=window, latest=latest), ean, columns)


def decoded_table(decoded: Decoded, ean: str, columns: Sequence[str]) -> pa.Table:
    """The decoded rows as Arrow: Python only wraps the buffers (``pa.Array.from_buffers``)."""
    count, fields = decoded.count, decoded.fields
    schema, plan = _plan(decoded.dataset, tuple(columns))
    arrays: list[pa.Array] = []
    for position, kind in plan:
        if position < 0:  # the EAN on every row, built from buffers (pa.repeat costs more)
            text = ean.encode()
            offsets = np.arange(count + 1, dtype=np.int32) * np.int32(len(text))
            buffers = [None, pa.py_buffer(offsets), pa.py_buffer(text * count)]
            arrays.append(pa.Array.from_buffers(pa.string(), count, buffers))
        elif isinstance(kind, pa.Array):  # source or quality: positions in the code list
            raw = pa.py_buffer(fields[position])
            arrays.append(kind.take(pa.Array.from_buffers(pa.uint8(), count, [None, raw])))
        else:
            raw = pa.py_buffer(fields[position])
            arrays.append(pa.Array.from_buffers(kind, count, [None, raw]))
    return pa.Table.from_arrays(arrays, schema=schema)


@functools.lru_cache(maxsize=64)
def _plan(
    dataset: Dataset, columns: tuple[str, ...]
) -> tuple[pa.Schema, list[tuple[int, pa.DataType | pa.Array]]]:
    """The output schema and, per column, its field position (-1: the EAN) and its Arrow type
    (or code list): worked out once per column selection, not on every read."""
    schema = SCHEMAS[dataset]
    plan: list[tuple[int, pa.DataType | pa.Array]] = []
    for name in columns:
        if name == "ean":
            plan.append((-1, pa.string()))
        else:
            plan.append((FIELDS[dataset].index(name), CODES.get(name, schema.field(name).type)))
    return pa.schema([schema.field(c) for c in columns]), plan


def encode_summary(dataset: Dataset, summary: np.ndarray) -> bytes:
    """A month's last rows (:data:`meterkast.readings.blobs.SUMMARY`, sorted by EAN) as one
    payload: one nameless connection, so the EANs are steps too."""
    columns = {name: np.ascontiguousarray(summary[name]) for name in _SUMMARY_FIELDS[dataset]}
    groups = Groups(
        dataset, pa.array([""], pa.string()), columns, np.array([0, summary.size], np.int64)
    )
    data, offsets = _name_buffers(groups.eans)
    (payload,) = _codec.encode(
        [columns[name] for name in _SUMMARY_FIELDS[dataset]],
        groups.starts,
        data,
        offsets,
        np.zeros(1, np.int64),
        1,
    )
    return payload


def decode_summary(dataset: Dataset, payload: bytes) -> np.ndarray:
    """The last rows :func:`encode_summary` coded."""
    count, fields = _codec.decode(
        [payload], b"", _SUMMARY_WIDTHS[dataset], -1, 0, *_EVERYTHING, False
    )
    summary = np.empty(count, dtype=SUMMARY[dataset])
    for name, raw in zip(_SUMMARY_FIELDS[dataset], fields, strict=True):
        summary[name] = np.frombuffer(raw, dtype=SUMMARY[dataset][name])
    return summary
