"""Manual readings from a CSV file: every line checked, good lines stored, bad ones reported.

Columns (header required): ``ean,day`` and either the electricity registers
``import_t1_wh,import_t2_wh,export_t1_wh,export_t2_wh`` or gas ``volume_dm3`` (optional
``captured_at``, ISO 8601); optional ``source`` (default ``customer``) and ``series``
(default 1). Empty cells of an electricity line count as absent, not zero.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from meterkast.kernel.clock import AMSTERDAM
from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.kernel.errors import InvalidValueError
from meterkast.readings.api import ElectricityDaily, GasDaily
from meterkast.readings.service import ReadingsService

ELECTRICITY = ("import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh")
QUALITY = {
    ReadingSource.ESTIMATE: ReadingQuality.ESTIMATED,
    ReadingSource.CORRECTION: ReadingQuality.CORRECTED,
}


@dataclass
class ImportReport:
    stored: int = 0
    duplicates: int = 0
    estimated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)


def _parse(row: dict[str, str]) -> ElectricityDaily | GasDaily:
    ean = (row.get("ean") or "").strip()
    if len(ean) != 18 or not ean.isdigit():
        raise InvalidValueError("ean must be 18 digits")
    try:
        day = date.fromisoformat((row.get("day") or "").strip())
    except ValueError:
        raise InvalidValueError("day must be YYYY-MM-DD") from None
    try:
        source = ReadingSource((row.get("source") or "customer").strip())
        series = int((row.get("series") or "1").strip())
    except ValueError:
        raise InvalidValueError("unknown source or series") from None
    quality = QUALITY.get(source, ReadingQuality.MEASURED)
    try:
        if (row.get("volume_dm3") or "").strip():
            stamp = (row.get("captured_at") or "").strip()
            captured = (
                datetime.fromisoformat(stamp)
                if stamp
                else datetime.combine(day, time(), AMSTERDAM).astimezone(UTC)
            )
            if captured.tzinfo is None:
                raise InvalidValueError("captured_at needs a time zone offset")
            volume = int(row["volume_dm3"])
            return GasDaily(ean, day, volume, captured, source, quality, series)
        values = [(row.get(name) or "").strip() for name in ELECTRICITY]
        if not all(values):
            raise InvalidValueError("needs all four electricity registers or volume_dm3")
        t1, t2, e1, e2 = (int(v) for v in values)
    except ValueError:
        raise InvalidValueError("register values must be whole numbers") from None
    return ElectricityDaily(ean, day, t1, t2, e1, e2, source, quality, series)


def import_csv(service: ReadingsService, path: Path) -> ImportReport:
    report = ImportReport()
    electricity: list[tuple[int, ElectricityDaily]] = []
    gas: list[tuple[int, GasDaily]] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"ean", "day"} <= set(reader.fieldnames):
            raise InvalidValueError(f"{path.name}: header must name at least ean and day")
        for row in reader:
            line = reader.line_num
            try:
                reading = _parse(row)
            except InvalidValueError as error:
                report.errors.append((line, str(error)))
                continue
            if isinstance(reading, GasDaily):
                gas.append((line, reading))
            else:
                electricity.append((line, reading))
    for lines, result in (
        ([n for n, _ in electricity], service.add_electricity_daily([r for _, r in electricity])),
        ([n for n, _ in gas], service.add_gas_daily([r for _, r in gas])),
    ):
        report.stored += result.stored
        report.duplicates += result.duplicates
        report.estimated += result.estimated
        report.errors.extend((lines[index], reason) for index, reason in result.rejected)
    report.errors.sort()
    return report
