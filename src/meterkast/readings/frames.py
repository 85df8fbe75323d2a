"""Conversions between intake records, numpy columns and the stored Arrow tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from meterkast.kernel.errors import InvalidValueError
from meterkast.readings._columns import ean_codes
from meterkast.readings.api import ElectricityDaily, GasDaily
from meterkast.readings.blobs import CODES, code_positions
from meterkast.readings.columns import DailyColumns
from meterkast.readings.schema import (
    ELECTRICITY_REGISTERS,
    GAS_REGISTERS,
    SCHEMAS,
    TIME_COLUMN,
    Dataset,
)

REGISTERS = {Dataset.ELECTRICITY_DAILY: ELECTRICITY_REGISTERS, Dataset.GAS_DAILY: GAS_REGISTERS}


def electricity_table(rows: Sequence[ElectricityDaily]) -> pa.Table:
    return pa.table(
        {
            "ean": [r.ean for r in rows],
            "day": pa.array([r.day for r in rows], pa.date32()),
            "series": pa.array([r.series for r in rows], pa.int16()),
            "version": pa.array(np.zeros(len(rows), np.int16)),
            "import_t1_wh": pa.array([r.import_t1_wh for r in rows], pa.int64()),
            "import_t2_wh": pa.array([r.import_t2_wh for r in rows], pa.int64()),
            "export_t1_wh": pa.array([r.export_t1_wh for r in rows], pa.int64()),
            "export_t2_wh": pa.array([r.export_t2_wh for r in rows], pa.int64()),
            "source": [r.source.value for r in rows],
            "quality": [r.quality.value for r in rows],
        }
    )


def gas_table(rows: Sequence[GasDaily]) -> pa.Table:
    return pa.table(
        {
            "ean": [r.ean for r in rows],
            "day": pa.array([r.day for r in rows], pa.date32()),
            "series": pa.array([r.series for r in rows], pa.int16()),
            "version": pa.array(np.zeros(len(rows), np.int16)),
            "volume_dm3": pa.array([r.volume_dm3 for r in rows], pa.int64()),
            "captured_at": pa.array(
                [r.captured_at.astimezone(UTC) for r in rows], pa.timestamp("us", tz="UTC")
            ),
            "source": [r.source.value for r in rows],
            "quality": [r.quality.value for r in rows],
        }
    )


_WORDS = {name: np.array(codes.to_pylist(), dtype=str) for name, codes in CODES.items()}


def _code_column(name: str, column: pa.ChunkedArray) -> np.ndarray:
    """A source or quality column as a fixed-width numpy array: one compiled scan against
    the known codes (hashing millions of strings cost more than the rest of the conversion).
    A value outside the codes takes the general path, so validation can name it."""
    try:
        positions = code_positions(name, column)
    except InvalidValueError:
        return _strings(column)
    words = _WORDS[name]
    if positions.size and not np.any(positions != positions[0]):  # the usual batch
        first = int(positions[0])
        return np.broadcast_to(words[first : first + 1], (positions.size,))
    result: np.ndarray = words[positions]
    return result


def _strings(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A string column as a fixed-width numpy array (fast comparisons, no Python objects)."""
    encoded = pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    values = np.array(encoded.dictionary.to_pylist(), dtype=str)
    if values.size == 0:
        return np.array([], dtype="U1")
    if values.size == 1:  # the usual batch: one source, one quality. A read-only view of
        return np.broadcast_to(values, (len(column),))  # the value, not millions of copies
    result: np.ndarray = values[encoded.indices.to_numpy(zero_copy_only=False)]
    return result


def to_columns(dataset: Dataset, table: pa.Table) -> DailyColumns:
    registers = REGISTERS[dataset]
    n = table.num_rows
    regs = np.empty((len(registers), n), dtype=np.int64)
    for k, name in enumerate(registers):
        regs[k] = table[name].to_numpy()
    return DailyColumns(
        ean=ean_numbers(table["ean"]),
        day=table["day"].to_numpy().astype("datetime64[D]"),
        series=table["series"].to_numpy().astype(np.int64),
        registers=regs,
        source=_code_column("source", table["source"]),
        quality=_code_column("quality", table["quality"]),
        version=table["version"].to_numpy().astype(np.int64),
    )


def from_columns(
    dataset: Dataset,
    columns: DailyColumns,
    recorded_at: datetime,
    captured_at: np.ndarray | None = None,
) -> pa.Table:
    n = len(columns)
    data: dict[str, object] = {
        "ean": ean_strings(columns.ean),
        "day": pa.array(columns.day.astype("datetime64[D]"), pa.date32()),
        "series": pa.array(columns.series.astype(np.int16)),
        "version": pa.array(columns.version.astype(np.int16)),
    }
    for k, name in enumerate(REGISTERS[dataset]):
        data[name] = pa.array(columns.registers[k])
    if dataset is Dataset.GAS_DAILY:
        if captured_at is None:  # estimates: midnight UTC of the day they stand for
            captured_at = columns.day.astype("datetime64[us]")
        data["captured_at"] = pa.array(captured_at.astype("datetime64[us]"))
    data["source"] = pa.array(columns.source, pa.string())
    data["quality"] = pa.array(columns.quality, pa.string())
    stamp = np.datetime64(recorded_at.astimezone(UTC).replace(tzinfo=None), "us")
    data["recorded_at"] = pa.array(np.full(n, stamp))
    return pa.table(data).cast(SCHEMAS[dataset])


def ean_strings(codes: np.ndarray) -> pa.Array:
    """EANs held as numbers back to their 18-digit text."""
    return pc.utf8_lpad(pc.cast(pa.array(codes, pa.int64()), pa.string()), 18, "0")


def ean_numbers(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """18-digit EANs as int64 numbers: one compiled pass over each chunk's bytes (Arrow's
    general integer cast takes several times longer). Anything else is a ValueError."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    out = np.empty(len(column), dtype=np.int64)
    position = 0
    for chunk in chunks:
        n = len(chunk)
        if chunk.null_count:
            raise ValueError("an EAN is missing")
        if pa.types.is_large_string(chunk.type):
            width = 8
        elif pa.types.is_string(chunk.type):
            width = 4
        else:
            raise ValueError(f"EANs must be text, not {chunk.type}")
        if n:
            _, offsets, data = chunk.buffers()
            ean_codes(offsets, data or b"", chunk.offset, n, width, out[position : position + n])
        position += n
    return out


def valid_eans(column: pa.ChunkedArray) -> np.ndarray:
    """Which values are 18 digits (only those can be held as numbers)."""
    digits = pc.and_(pc.ascii_is_decimal(column), pc.equal(pc.binary_length(column), 18))
    valid = pc.fill_null(digits, False)
    return np.asarray(valid.to_numpy(zero_copy_only=False), dtype=bool)


def latest(table: pa.Table, dataset: Dataset) -> pa.Table:
    """Only the highest version of each (EAN, day/start): what readers see."""
    if table.num_rows == 0:
        return table
    encoded = pc.dictionary_encode(table["ean"]).combine_chunks()
    code = encoded.indices.to_numpy(zero_copy_only=False)
    time = table[TIME_COLUMN[dataset]].to_numpy().astype(np.int64)
    version = table["version"].to_numpy()
    order = np.lexsort((version, time, code))
    code, time = code[order], time[order]
    last = np.ones(order.size, dtype=bool)
    last[:-1] = (code[1:] != code[:-1]) | (time[1:] != time[:-1])
    return table.take(pa.array(order[last]))


def one_connection(table: pa.Table, time_column: str, *, latest_only: bool) -> pa.Table:
    """One connection's rows in time order (then version); only the latest if asked."""
    time = table[time_column].to_numpy().astype(np.int64)
    version = table["version"].to_numpy()
    order = np.lexsort((version, time))
    if latest_only and order.size:
        ordered = time[order]
        last = np.ones(order.size, dtype=bool)
        last[:-1] = ordered[1:] != ordered[:-1]
        order = order[last]
    return table.take(pa.array(order))


def month_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[M]")
