"""Disclosed readings kept as the serving codec decoded them: JSON straight from its buffers.

A history read decodes each field of 730 rows into one buffer (``readings/_codec.c``). Wrapping
those in Arrow arrays, looking up source and quality texts, selecting the disclosed columns
and then taking the buffers back out for the JSON writer cost more than the decoding and the
writing together (about 0.3 ms per request, served). :class:`ColumnRows` hands the decoded
buffers to the same compiled writer as :class:`ArrowRows` (``_jsonrows.c``) directly, so its
``json_array`` is byte for byte that of the Arrow path (tests hold both to it). Callers that
iterate get the rows of the equivalent :class:`ArrowRows`, built on first use.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from meterkast.access.adapters._jsonrows import (
    KIND_CODES,
    KIND_DATE32,
    KIND_INT,
    KIND_MICROS,
    rows_json,
)
from meterkast.access.adapters.arrow_rows import (
    INT_FORMATS,
    ArrowRows,
    IntFormat,
    LazyRows,
    json_key,
)
from meterkast.access.ports import READING_FIELDS
from meterkast.readings.bucket_codec import CODE_TEXTS, Decoded, decoded_table
from meterkast.readings.schema import SCHEMAS, Dataset

if TYPE_CHECKING:
    from typing_extensions import Buffer

Row = Mapping[str, object]


@functools.cache
def _disclosed(dataset: Dataset) -> tuple[tuple[str, str, IntFormat], ...]:
    """(name, reading kind, buffer format) of the dataset's disclosed columns, in the order
    the Arrow path writes them (the schema's)."""
    out: list[tuple[str, str, IntFormat]] = []
    for field in SCHEMAS[dataset]:
        if field.name not in READING_FIELDS:
            continue
        arrow = field.type
        if field.name in CODE_TEXTS:
            out.append((field.name, "string", "b"))  # widened to int32 for the writer
        elif pa.types.is_date32(arrow):
            out.append((field.name, "date", "i"))
        elif pa.types.is_timestamp(arrow):
            out.append((field.name, "timestamp", "q"))
        else:
            out.append((field.name, "integer", INT_FORMATS[arrow.bit_width]))
    return tuple(out)


@functools.cache
def _texts(name: str) -> tuple[bytes, ...]:
    return tuple(json.dumps(t, ensure_ascii=False).encode() for t in CODE_TEXTS[name])


class ColumnRows(LazyRows):
    """The ``ReadingsQuery`` answer over decoded columns, one part per disclosed range."""

    __slots__ = ("_arrow", "_count", "_dataset", "_ean", "_parts")

    def __init__(self, dataset: Dataset, ean: str, parts: Sequence[Decoded]) -> None:
        if any(part.dataset is not dataset for part in parts):
            raise ValueError("every part must be of the one dataset")
        self._dataset = dataset
        self._ean = ean
        self._parts = tuple(parts)
        self._count = sum(part.count for part in parts)
        self._arrow: ArrowRows | None = None

    def __len__(self) -> int:
        return self._count

    def _materialised(self) -> Sequence[Row]:
        return self.as_arrow()

    def as_arrow(self) -> ArrowRows:
        """The same rows as the Arrow path gives them (built once)."""
        if self._arrow is None:
            names = [name for name, _, _ in _disclosed(self._dataset)]
            tables = [decoded_table(part, self._ean, names) for part in self._parts]
            if tables:
                table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
            else:
                table = pa.schema([SCHEMAS[self._dataset].field(n) for n in names]).empty_table()
            self._arrow = ArrowRows(table)
        return self._arrow

    def json_array(self, kinds: Mapping[str, str], required: Sequence[str]) -> bytes | None:
        """The rows as a JSON array of objects, or None where a column does not fit ``kinds``
        (as :meth:`ArrowRows.json_array`)."""
        columns = _disclosed(self._dataset)
        names = {name for name, _, _ in columns}
        if not set(required) <= names:
            return None
        fields: list[tuple[bytes, int, Buffer, Sequence[bytes] | None]] = []
        for name, kind, form in columns:
            if kinds.get(name) != kind:
                return None
            raw = b"".join(part.field(name) for part in self._parts)
            if kind == "string":  # positions in the code texts, as the writer's int32 indices
                codes = np.frombuffer(raw, dtype=np.uint8).astype(np.int32).tobytes()
                fields.append(
                    (json_key(name), KIND_CODES, memoryview(codes).cast("i"), _texts(name))
                )
            else:
                writer = {"date": KIND_DATE32, "timestamp": KIND_MICROS, "integer": KIND_INT}[kind]
                fields.append((json_key(name), writer, memoryview(raw).cast(form), None))
        try:
            return rows_json(self._count, fields)
        except ValueError:  # a day or moment outside years 1..9999: Python's date cannot either
            return None
