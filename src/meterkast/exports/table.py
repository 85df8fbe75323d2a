"""CSV of daily register readings: one row per day, kWh (gas: m³) with dot decimals, UTF-8.

Opens cleanly with ``pandas.read_csv(f, dtype={"ean": str}, parse_dates=["day"])``: the EAN is
an identifier (kept as text), the counters are floats, source and quality are text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from decimal import Decimal

from meterkast.exports.rows import readings

CSV_HEADER = (
    "ean",
    "day",
    "import_t1_kwh",
    "import_t2_kwh",
    "export_t1_kwh",
    "export_t2_kwh",
    "source",
    "quality",
)
GAS_CSV_HEADER = ("ean", "day", "volume_m3", "source", "quality")


def kwh(wh: int) -> str:
    """Exact: Wh to kWh by moving the decimal point, never through a float."""
    return f"{Decimal(wh).scaleb(-3):.3f}"


def to_csv(ean: str, rows: Iterable[Mapping[str, object]], *, gas: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GAS_CSV_HEADER if gas else CSV_HEADER)
    for r in readings(rows):
        if gas:  # dm³ to m³ moves the decimal point like Wh to kWh
            writer.writerow((ean, r.day.isoformat(), kwh(r.volume_dm3), r.source, r.quality))
            continue
        writer.writerow(
            (
                ean,
                r.day.isoformat(),
                kwh(r.import_t1_wh),
                kwh(r.import_t2_wh),
                kwh(r.export_t1_wh),
                kwh(r.export_t2_wh),
                r.source,
                r.quality,
            )
        )
    return out.getvalue()
