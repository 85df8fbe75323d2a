"""Records the head-end and manual intake hand to the readings store, and the intake port."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from meterkast.kernel.codes import ReadingQuality, ReadingSource

if TYPE_CHECKING:
    import pyarrow as pa

    from meterkast.readings.schema import Dataset


@dataclass(frozen=True, slots=True)
class ElectricityDaily:
    """Register values at 00:00 (Europe/Amsterdam) at the start of ``day``, in Wh."""

    ean: str
    day: date
    import_t1_wh: int
    import_t2_wh: int
    export_t1_wh: int
    export_t2_wh: int
    source: ReadingSource = ReadingSource.REMOTE
    quality: ReadingQuality = ReadingQuality.MEASURED
    series: int = 1  # meter series: a meter exchange starts the next number


@dataclass(frozen=True, slots=True)
class GasDaily:
    """Gas register (temperature corrected) in dm3 with the meter's own capture time."""

    ean: str
    day: date
    volume_dm3: int
    captured_at: datetime
    source: ReadingSource = ReadingSource.REMOTE
    quality: ReadingQuality = ReadingQuality.MEASURED
    series: int = 1  # meter series: a meter exchange starts the next number


@dataclass(frozen=True, slots=True)
class IntervalValue:
    """One interval (electricity 15 min in Wh, gas 1 h in dm3) starting at ``start`` (UTC)."""

    ean: str
    start: datetime
    value: int
    source: ReadingSource = ReadingSource.REMOTE
    quality: ReadingQuality = ReadingQuality.MEASURED


@dataclass(frozen=True, slots=True)
class IntakeResult:
    stored: int
    duplicates: int
    rejected: list[tuple[int, str]]  # (index in the batch, reason)
    estimated: int = 0  # gap days filled (or re-estimated) with profile-based estimates


class ReadingsSink(Protocol):
    """Where the head-end hands validated-at-source readings (the readings store implements it)."""

    def add_electricity_daily(self, rows: Sequence[ElectricityDaily]) -> IntakeResult: ...

    def add_gas_daily(self, rows: Sequence[GasDaily]) -> IntakeResult: ...

    def add_interval(self, rows: Sequence[IntervalValue]) -> IntakeResult: ...


@runtime_checkable
class DailyTableSink(Protocol):
    """Added for the head-end (issue 3): a batch of daily readings as one Arrow table.

    Columns as ``readings.frames.electricity_table`` / ``gas_table`` build them; rejected
    indexes are rows of ``table``. ``ReadingsStore.add_daily_table`` has this shape already.
    A sink may offer it next to :class:`ReadingsSink`; the head-end uses it when it is there.
    """

    def add_daily_table(self, dataset: Dataset, table: pa.Table) -> IntakeResult: ...
