"""Arrow schemas of the stored datasets: checked at every write, one file layout per dataset."""

from __future__ import annotations

from enum import StrEnum

import pyarrow as pa


class Dataset(StrEnum):
    ELECTRICITY_DAILY = "electricity_daily"
    GAS_DAILY = "gas_daily"
    INTERVAL = "interval"


_COMMON_TAIL = [
    pa.field("source", pa.string(), nullable=False),
    pa.field("quality", pa.string(), nullable=False),
    pa.field("recorded_at", pa.timestamp("us", tz="UTC"), nullable=False),
]

ELECTRICITY_REGISTERS = ("import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh")
GAS_REGISTERS = ("volume_dm3",)

SCHEMAS: dict[Dataset, pa.Schema] = {
    Dataset.ELECTRICITY_DAILY: pa.schema(
        [
            pa.field("ean", pa.string(), nullable=False),
            pa.field("day", pa.date32(), nullable=False),
            pa.field("series", pa.int16(), nullable=False),
            pa.field("version", pa.int16(), nullable=False),
            *(pa.field(name, pa.int64(), nullable=False) for name in ELECTRICITY_REGISTERS),
            *_COMMON_TAIL,
        ]
    ),
    Dataset.GAS_DAILY: pa.schema(
        [
            pa.field("ean", pa.string(), nullable=False),
            pa.field("day", pa.date32(), nullable=False),
            pa.field("series", pa.int16(), nullable=False),
            pa.field("version", pa.int16(), nullable=False),
            pa.field("volume_dm3", pa.int64(), nullable=False),
            pa.field("captured_at", pa.timestamp("us", tz="UTC"), nullable=False),
            *_COMMON_TAIL,
        ]
    ),
    Dataset.INTERVAL: pa.schema(
        [
            pa.field("ean", pa.string(), nullable=False),
            pa.field("start", pa.timestamp("us", tz="UTC"), nullable=False),
            pa.field("version", pa.int16(), nullable=False),
            pa.field("value", pa.int64(), nullable=False),
            *_COMMON_TAIL,
        ]
    ),
}

# The column that orders a connection's rows in time, per dataset.
TIME_COLUMN = {
    Dataset.ELECTRICITY_DAILY: "day",
    Dataset.GAS_DAILY: "day",
    Dataset.INTERVAL: "start",
}
