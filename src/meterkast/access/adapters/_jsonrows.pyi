"""Disclosed readings columns written as one JSON array of objects (``_jsonrows.c``)."""

from collections.abc import Sequence

from typing_extensions import Buffer

KIND_INT: int  # signed integers of 1, 2, 4 or 8 bytes
KIND_DATE32: int  # int32 days since 1970-01-01
KIND_MICROS: int  # int64 microseconds since the epoch, UTC
KIND_CODES: int  # int32 indices into the field's texts (each a complete JSON value)
KIND_TEXT: int  # Arrow string offsets (int32 or int64); the field's fourth item is the data

def rows_json(
    rows: int, fields: Sequence[tuple[bytes, int, Buffer, Sequence[bytes] | Buffer | None]], /
) -> bytes:
    """``[{key: value, ...}, ...]`` for ``rows`` rows; ValueError on a field that does not fit."""
