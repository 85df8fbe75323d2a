"""Disclosed readings kept as the store's Arrow table: rows for Python, JSON straight from columns.

Turning a 24-month history (730 rows) into Python dicts costs ≈ 0.75 ms and writing them as JSON
another ≈ 0.2 ms. The API needs only the JSON, so :meth:`ArrowRows.json_array` hands the columns'
buffers to a compiled writer (``_jsonrows.c``, one call, no Python object per value; strings
escaped there as ``json.dumps`` escapes them). Its output is byte for byte ``json.dumps`` of
the rows (compact, UTF-8, days as YYYY-MM-DD, UTC moments as pydantic writes them: a fraction
only where there is one, then Z).
Callers that iterate (the portal, the access export) get the dicts, built once on first use. A
column that cannot be written this way (nulls, a type not listed, a column the caller's field
list does not allow or of another kind) makes ``json_array`` answer None, and the API then
validates the rows one by one.
"""

from __future__ import annotations

import functools
import json
from abc import abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, overload

import pyarrow as pa

from meterkast.access.adapters._jsonrows import (
    KIND_CODES,
    KIND_DATE32,
    KIND_INT,
    KIND_MICROS,
    KIND_TEXT,
    rows_json,
)

if TYPE_CHECKING:
    from typing_extensions import Buffer  # collections.abc.Buffer from Python 3.12

    Field = tuple[int, Buffer, Sequence[bytes] | Buffer | None]

Row = Mapping[str, object]


class LazyRows(Sequence[Row]):
    """Rows for Python built on first use (:meth:`_materialised`); equal to any sequence of
    the same rows, like a list. The API only asks for ``json_array``."""

    __slots__ = ()

    @overload
    def __getitem__(self, index: int) -> Row: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...

    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        return self._materialised()[index]

    def __iter__(self) -> Iterator[Row]:
        return iter(self._materialised())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking sequence: like a list

    @abstractmethod
    def _materialised(self) -> Sequence[Row]:
        """The rows as Python mappings, built once."""


class ArrowRows(LazyRows):
    """The ``ReadingsQuery`` answer over one Arrow table (the ``JsonRows`` port of the API)."""

    __slots__ = ("_rows", "_table")

    def __init__(self, table: pa.Table) -> None:
        self._table = table
        self._rows: list[Row] | None = None

    def __len__(self) -> int:
        return int(self._table.num_rows)

    def _materialised(self) -> list[Row]:
        if self._rows is None:
            self._rows = self._table.to_pylist()
        return self._rows

    def json_array(self, kinds: Mapping[str, str], required: Sequence[str]) -> bytes | None:
        """The rows as a JSON array of objects, or None where a column does not fit ``kinds``."""
        table = self._table
        names = table.column_names
        if not set(required) <= set(names) or not set(names) <= set(kinds):
            return None
        if any(c.num_chunks != 1 for c in table.columns):  # several ranges: one chunk each
            table = table.combine_chunks()
        fields: list[tuple[bytes, int, Buffer, Sequence[bytes] | Buffer | None]] = []
        for name in names:
            field = _field(_only_chunk(table.column(name)), kinds[name])
            if field is None:
                return None
            fields.append((json_key(name), *field))
        try:
            return rows_json(table.num_rows, fields)
        except ValueError:  # a day or moment outside years 1..9999: Python's date cannot either
            return None


def _field(array: pa.Array, kind: str) -> Field | None:
    """(writer kind, values, code texts or string data) for one column, or None where the
    column is not ``kind`` or has nulls. Values are views of Arrow's buffers, not copies."""
    arrow = array.type
    if array.null_count:
        return None
    if kind == "integer" and pa.types.is_signed_integer(arrow):
        return KIND_INT, _fixed(array, INT_FORMATS[arrow.bit_width]), None
    if kind == "integer" and pa.types.is_integer(arrow):
        try:  # unsigned: as int64, an unsigned value too big for it refused
            return KIND_INT, _fixed(array.cast(pa.int64()), "q"), None
        except pa.ArrowInvalid:
            return None
    if kind == "date" and pa.types.is_date32(arrow):
        return KIND_DATE32, _fixed(array, "i"), None
    if kind == "timestamp" and pa.types.is_timestamp(arrow) and arrow.tz in _UTC:
        if arrow.unit != "us":
            try:  # seconds or milliseconds widen; nanoseconds that would round are refused
                array = array.cast(pa.timestamp("us", arrow.tz))
            except pa.ArrowInvalid:
                return None
        return KIND_MICROS, _fixed(array, "q"), None
    if kind != "string":
        return None
    if pa.types.is_dictionary(arrow) and _is_text(arrow.value_type):
        # the few distinct values escaped here, once
        texts = [json.dumps(v, ensure_ascii=False).encode() for v in array.dictionary.to_pylist()]
        return KIND_CODES, _fixed(array.indices.cast(pa.int32()), "i"), texts
    if not _is_text(arrow):
        return None
    _, offsets, data = array.buffers()
    raw = memoryview(offsets)
    starts = raw.cast("q") if pa.types.is_large_string(arrow) else raw.cast("i")
    starts = starts[array.offset : array.offset + len(array) + 1]
    return KIND_TEXT, starts, (b"" if data is None else data)


@functools.lru_cache(maxsize=256)
def json_key(name: str) -> bytes:
    """A column name as its JSON key (the same dozen names every request)."""
    return json.dumps(name, ensure_ascii=False).encode()


_UTC = {"UTC", "+00:00"}
IntFormat = Literal["b", "h", "i", "q"]
INT_FORMATS: dict[int, IntFormat] = {8: "b", 16: "h", 32: "i", 64: "q"}


def _is_text(arrow: pa.DataType) -> bool:
    return bool(pa.types.is_string(arrow) or pa.types.is_large_string(arrow))


def _only_chunk(column: pa.ChunkedArray) -> pa.Array:
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _fixed(array: pa.Array, format: IntFormat) -> memoryview:
    """A fixed-width column's values (its slice of the data buffer) as typed memory."""
    width = array.type.bit_width // 8
    start = array.offset * width
    return memoryview(array.buffers()[1])[start : start + len(array) * width].cast(format)
