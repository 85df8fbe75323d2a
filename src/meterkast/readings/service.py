"""Use cases of the readings store: intake (validate, estimate, version), reads, retention."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from meterkast.kernel.clock import Clock
from meterkast.kernel.codes import Product
from meterkast.readings.adapters.parquet import EncryptedMonthStore, WrittenAhead
from meterkast.readings.anchors import Anchors, from_summaries
from meterkast.readings.api import ElectricityDaily, GasDaily, IntakeResult, IntervalValue
from meterkast.readings.bucket_codec import Decoded
from meterkast.readings.columns import DailyColumns, concat, sorted_unique
from meterkast.readings.fastpath import decide_batch
from meterkast.readings.frames import (
    REGISTERS,
    electricity_table,
    from_columns,
    gas_table,
    latest,
    to_columns,
    valid_eans,
)
from meterkast.readings.intake import (
    accepted_rows,
    in_order,
    start_write_ahead,
    stores_exactly_the_batch,
)
from meterkast.readings.intervals import decide_intervals, interval_table
from meterkast.readings.ports import ConnectionFacts
from meterkast.readings.schema import SCHEMAS, TIME_COLUMN, Dataset
from meterkast.readings.validation import NEW, REJECTED, Decision

# How far back intake looks for a connection's previous reading (beyond the batch's months).
LOOKBACK_MONTHS = 3
# A month with more files than this is compacted into one after an intake (reads stay fast).
COMPACT_AFTER_FILES = 8
PRODUCT = {Dataset.ELECTRICITY_DAILY: Product.ELECTRICITY, Dataset.GAS_DAILY: Product.GAS}
EXPORT_ROWS = {Dataset.ELECTRICITY_DAILY: (2, 3), Dataset.GAS_DAILY: ()}


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    months: list[date]
    keys_destroyed: int


class ReadingsService:
    """The readings store; implements :class:`meterkast.readings.api.ReadingsSink`."""

    def __init__(
        self,
        store: EncryptedMonthStore,
        facts: ConnectionFacts,
        clock: Clock,
        retention_months: int = 24,
        *,
        use_summaries: bool = True,
    ) -> None:
        self._store = store
        self._facts = facts
        self._clock = clock
        self.retention_months = retention_months
        # Validate forward readings against the months' summaries of last rows (same decision,
        # without reading the months); False reads the stored rows for every connection.
        self.use_summaries = use_summaries

    # -- intake (ReadingsSink) --------------------------------------------------------------

    def add_electricity_daily(self, rows: Sequence[ElectricityDaily]) -> IntakeResult:
        return self.add_daily_table(Dataset.ELECTRICITY_DAILY, electricity_table(rows))

    def add_gas_daily(self, rows: Sequence[GasDaily]) -> IntakeResult:
        return self.add_daily_table(Dataset.GAS_DAILY, gas_table(rows))

    def add_interval(self, rows: Sequence[IntervalValue]) -> IntakeResult:
        incoming = interval_table(rows)
        if incoming.num_rows == 0:
            return IntakeResult(0, 0, [])
        with self._store.writing():
            eans = sorted(set(incoming["ean"].to_pylist()))
            months = self._months_of(incoming["start"])
            self._store.repair_serving(months)
            existing = self._existing(Dataset.INTERVAL, eans, months)
            facts = self._facts.lookup(eans)
            status, version, reasons = decide_intervals(incoming, existing, facts)
            keep = np.flatnonzero(status == NEW)
            new = incoming.take(pa.array(keep)).set_column(
                incoming.schema.get_field_index("version"),
                "version",
                pa.array(version[keep].astype(np.int16)),
            )
            self._append(Dataset.INTERVAL, self._stamp(new), "start")
        return _result(status, reasons, 0)

    def add_daily_table(self, dataset: Dataset, table: pa.Table) -> IntakeResult:
        """The columnar intake path (record lists convert to this): validate and store."""
        if table.num_rows == 0:
            return IntakeResult(0, 0, [])
        try:
            incoming = to_columns(dataset, table)  # its EAN parse refuses all but 18 digits
        except ValueError:
            valid = valid_eans(table["ean"])  # only then: find which rows
            if valid.all():
                raise
            inner = self.add_daily_table(dataset, table.filter(pa.array(valid)))
            positions = np.flatnonzero(valid)
            rejected = [(int(positions[i]), reason) for i, reason in inner.rejected]
            rejected += [(int(i), "ean must be 18 digits") for i in np.flatnonzero(~valid)]
            return IntakeResult(inner.stored, inner.duplicates, sorted(rejected), inner.estimated)
        with self._store.writing():
            now = self._clock()
            # The usual batch's file is written while it is validated (see .intake).
            ahead = start_write_ahead(self._store, dataset, table, incoming, now)
            try:
                decision = self._decide(dataset, incoming)
                if ahead is not None and stores_exactly_the_batch(decision):
                    estimates = None
                    self._append(dataset, ahead.table, "day", presorted=True, ahead=ahead)
                else:
                    estimates = self._store_decided(dataset, table, incoming, decision, now, ahead)
            except BaseException:
                if ahead is not None:
                    self._store.discard(ahead)  # a no-op once committed
                raise
        count = len(estimates) if estimates is not None else 0
        return _result(decision.status, decision.reasons, count)

    def _decide(self, dataset: Dataset, incoming: DailyColumns) -> Decision:
        eans = sorted_unique(incoming.ean)
        months = _months_between(incoming.day.min(), incoming.day.max())
        self._store.repair_serving(months)
        existing = self._stored_for(dataset, incoming, eans, months)
        return decide_batch(
            PRODUCT[dataset],
            incoming,
            existing,
            eans,
            self._facts.lookup_columns(eans, PRODUCT[dataset]),
            EXPORT_ROWS[dataset],
            REGISTERS[dataset],
        )

    def _store_decided(
        self,
        dataset: Dataset,
        table: pa.Table,
        incoming: DailyColumns,
        decision: Decision,
        now: datetime,
        ahead: WrittenAhead | None,
    ) -> DailyColumns | None:
        """Store the accepted rows and the estimates; returns the estimates."""
        keep = np.flatnonzero(decision.status == NEW)
        # Usually every row is new: then no copy of the batch's columns.
        accepted = incoming if keep.size == len(incoming) else incoming.take(keep)
        accepted.version = decision.version[keep]
        parts = [accepted_rows(dataset, table, keep, accepted.version, now)]
        estimates = decision.estimates
        if estimates is not None and len(estimates):
            parts.append(from_columns(dataset, estimates, now))
        # A batch that arrives in (EAN, day) order needs no sort before writing.
        ordered = len(parts) == 1 and in_order(accepted.ean, accepted.day)
        self._append(dataset, pa.concat_tables(parts), "day", presorted=ordered, ahead=ahead)
        return estimates

    # -- bulk history -----------------------------------------------------------------------

    def write_history(
        self,
        tables: Iterable[pa.Table],
        dataset: Dataset = Dataset.ELECTRICITY_DAILY,
        *,
        presorted: bool = False,
    ) -> int:
        """Store already-plausible history without validation (demo and benchmark data).

        Each table holds rows of the dataset's schema; ``presorted`` (EAN, then day) tables of
        a single month are written as they are, the fastest path.
        """
        written = 0
        with self._store.writing():
            for table in tables:
                self._append(dataset, table, TIME_COLUMN[dataset], presorted=presorted)
                written += table.num_rows
        return written

    # -- reads ------------------------------------------------------------------------------

    def daily(
        self,
        dataset: Dataset,
        ean: str,
        first: date,
        last: date,
        *,
        all_versions: bool = False,
        columns: Sequence[str] | None = None,
        serving: bool = True,
    ) -> pa.Table:
        """One connection's daily readings between two days (inclusive), oldest first.

        ``columns`` narrows what is returned; ``ean``, ``day`` and ``version`` are always
        included. The default latest view leaves out only the intake time. Reads come from the
        serving units (the connection's bucket in each month, decoded in one call, window and
        latest version applied there); ``serving=False`` reads the Parquet files instead (the
        same answer, slower: for checks and diagnosis).
        """
        span, window = self._days_span(first, last)
        names = SCHEMAS[dataset].names
        if columns is not None:
            wanted = {"ean", "day", "version", *columns}
            names = [c for c in names if c in wanted]
        elif not all_versions:
            names = [c for c in names if c != "recorded_at"]
        return self._store.read_ean(
            dataset, span, ean, names, serving=serving, window=window, latest=not all_versions
        )

    def daily_decoded(self, dataset: Dataset, ean: str, first: date, last: date) -> Decoded | None:
        """:meth:`daily`'s latest view as the serving codec decoded it (raw columns, see
        :class:`meterkast.readings.bucket_codec.Decoded`), for callers that only write the
        rows out; None where a month must be read from its files (then use :meth:`daily`)."""
        span, window = self._days_span(first, last)
        return self._store.read_latest(dataset, span, ean, window)

    def intervals_decoded(self, ean: str, start: datetime, end: datetime) -> Decoded | None:
        """:meth:`intervals` as :meth:`daily_decoded` gives :meth:`daily`."""
        span, window = self._moments_span(start, end)
        return self._store.read_latest(Dataset.INTERVAL, span, ean, window)

    def intervals(
        self, ean: str, start: datetime, end: datetime, *, serving: bool = True
    ) -> pa.Table:
        span, window = self._moments_span(start, end)
        return self._store.read_ean(
            Dataset.INTERVAL, span, ean, serving=serving, window=window, latest=True
        )

    @staticmethod
    def _days_span(first: date, last: date) -> tuple[tuple[date, date], tuple[int, int]]:
        """The months that hold days ``first`` to ``last`` (first month's day, last day) and
        the window in the stored unit of a day (days since 1970), last day included."""
        window = (first.toordinal() - _EPOCH_ORDINAL, last.toordinal() - _EPOCH_ORDINAL + 1)
        return (first_of_month(first), last), window

    @staticmethod
    def _moments_span(start: datetime, end: datetime) -> tuple[tuple[date, date], tuple[int, int]]:
        """The months that hold moments ``start`` (included) to ``end`` (not) and the window
        in microseconds."""
        span = first_of_month(start.astimezone(UTC).date()), end.astimezone(UTC).date()
        return span, (_microseconds(start), _microseconds(end))

    def month(self, dataset: Dataset, month: date, *, all_versions: bool = False) -> pa.Table:
        """A whole month, every connection: the batch-job path (hand it to DuckDB as Arrow)."""
        table = self._store.read_month(dataset, first_of_month(month))
        return table if all_versions else latest(table, dataset)

    def query_month(self, dataset: Dataset, month: date, sql: str) -> pa.Table:
        """Run ``sql`` with DuckDB over a month's latest versions, visible as ``readings``.

        DuckDB cannot decrypt PyArrow-encrypted Parquet, so PyArrow decrypts and DuckDB gets
        the Arrow table (zero-copy). ``sql`` comes from batch jobs, never from end users.
        """
        readings = self.month(dataset, month)
        connection = duckdb.connect()
        try:
            connection.register("readings", readings)
            result: pa.Table = connection.sql(sql).to_arrow_table()
        finally:
            connection.close()
        return result

    def months(self) -> list[date]:
        return self._store.months()

    def rebuild_serving(self, months: Sequence[date] | None = None) -> list[date]:
        """Rewrite the serving blobs of ``months`` (default: every stored month) from their
        Parquet files; returns the months rebuilt."""
        with self._store.writing():
            chosen = self._store.months() if months is None else [first_of_month(m) for m in months]
            stored = set(self._store.months())
            rebuilt = [m for m in chosen if m in stored]
            for month in rebuilt:
                self._store.rebuild_serving(month)
        return rebuilt

    def repair_serving(self) -> list[date]:
        """Rebuild only the months whose serving blobs do not reflect their files."""
        with self._store.writing():
            return self._store.repair_serving(self._store.months())

    def serving_is_current(self, month: date) -> bool:
        return self._store.serving_is_current(first_of_month(month))

    def compact(self, month: date) -> None:
        with self._store.writing():
            for dataset in Dataset:
                self._store.compact(dataset, first_of_month(month))

    # -- retention --------------------------------------------------------------------------

    def retention_cutoff(self, as_of: date) -> date:
        """The oldest month still kept on ``as_of``: everything before it is purged."""
        return add_months(first_of_month(as_of), -self.retention_months)

    def purge(self, as_of: date | None = None) -> PurgeResult:
        """Remove every month older than the retention window and destroy its data key."""
        day = as_of or self._clock().date()
        cutoff = self.retention_cutoff(day)
        purged = []
        with self._store.writing():
            self._store.finish_purges()
            for month in self._store.months():
                if month < cutoff:
                    self._store.drop_month(month)
                    purged.append(month)
            self._store.remove_orphans()
        return PurgeResult(purged, len(purged))

    # -- helpers ----------------------------------------------------------------------------

    def _stored_for(
        self, dataset: Dataset, incoming: DailyColumns, eans: np.ndarray, months: list[date]
    ) -> DailyColumns:
        """The stored rows validation compares the batch with (see :mod:`.anchors`)."""
        anchors = self._anchors(dataset, incoming, months)
        if anchors is None:
            texts = [f"{code:018d}" for code in eans.tolist()]
            return to_columns(dataset, self._existing(dataset, texts, months))
        if anchors.others.size == 0:
            return anchors.rows
        others = [f"{code:018d}" for code in anchors.others.tolist()]
        return concat([anchors.rows, to_columns(dataset, self._existing(dataset, others, months))])

    def _anchors(
        self, dataset: Dataset, incoming: DailyColumns, months: list[date]
    ) -> Anchors | None:
        """Anchors from the summaries of the months validation would read, or None when a
        month after the batch is stored or a summary is missing (then read the rows)."""
        stored = self._store.months()
        if not self.use_summaries or (stored and stored[-1] > months[-1]):
            return None
        oldest = add_months(months[0], -(LOOKBACK_MONTHS + 1))  # the window and its lookback
        summaries = []
        for month in stored:
            if month >= oldest:
                rows = self._store.last_rows(dataset, month)
                if rows is None:
                    return None
                summaries.append(rows)
        return from_summaries(dataset, REGISTERS[dataset], summaries, incoming)

    def _existing(self, dataset: Dataset, eans: list[str], months: list[date]) -> pa.Table:
        """Stored rows (all versions) of ``eans`` in ``months`` plus one month either side, and
        further back (up to LOOKBACK_MONTHS) for connections with nothing stored there."""
        stored = set(self._store.months())
        window = [add_months(months[0], -1), *months, add_months(months[-1], 1)]
        parts = [self._read(dataset, m, eans) for m in window if m in stored]
        missing = set(eans)
        for part in parts:
            missing -= set(pc.unique(part["ean"]).to_pylist())
        back = add_months(months[0], -1)
        for _ in range(LOOKBACK_MONTHS):
            if not missing:
                break
            back = add_months(back, -1)
            if back in stored:
                part = self._read(dataset, back, sorted(missing))
                missing -= set(pc.unique(part["ean"]).to_pylist())
                parts.append(part)
        if not parts:
            names = [c for c in SCHEMAS[dataset].names if c not in ("recorded_at", "captured_at")]
            return SCHEMAS[dataset].empty_table().select(names)
        return pa.concat_tables(parts)

    def _read(self, dataset: Dataset, month: date, eans: list[str]) -> pa.Table:
        # Validation never looks at when a row was recorded or captured: skip those columns.
        names = [c for c in SCHEMAS[dataset].names if c not in ("recorded_at", "captured_at")]
        return self._store.read_eans(dataset, month, eans, names)

    def _months_of(self, starts: pa.ChunkedArray) -> list[date]:
        days = starts.to_numpy().astype("datetime64[D]")
        return _months_between(days.min(), days.max())

    def _stamp(self, table: pa.Table) -> pa.Table:
        now = np.datetime64(self._clock().astimezone(UTC).replace(tzinfo=None), "us")
        index = table.schema.get_field_index("recorded_at")
        column = pa.array(np.full(table.num_rows, now), pa.timestamp("us", tz="UTC"))
        return table.set_column(index, "recorded_at", column)

    def _append(
        self,
        dataset: Dataset,
        table: pa.Table,
        time_column: str,
        *,
        presorted: bool = False,
        ahead: WrittenAhead | None = None,
    ) -> None:
        """Append rows to their months; a file written ahead is committed if it holds exactly
        ``table``, else discarded."""
        month = table[time_column].to_numpy().astype("datetime64[M]")
        single = table.num_rows > 0 and month.min() == month.max()  # the usual batch
        if ahead is not None and not single:
            self._store.discard(ahead)
            ahead = None
        if table.num_rows == 0:
            return
        for value in month[:1] if single else np.unique(month):
            part = table if single else table.filter(pa.array(month == value))
            month_start = value.astype(date)
            self._store.append(dataset, month_start, part, presorted=presorted, ahead=ahead)
            if len(self._store.files(dataset, month_start)) > COMPACT_AFTER_FILES:
                self._store.compact(dataset, month_start)


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _microseconds(moment: datetime) -> int:
    """Microseconds since 1970 (UTC), the stored unit of an interval's start."""
    delta = moment.astimezone(UTC) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _months_between(first: np.datetime64, last: np.datetime64) -> list[date]:
    month = first_of_month(_to_date(first))
    end = _to_date(last)
    months = []
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def _to_date(value: np.datetime64) -> date:
    day = value.astype("datetime64[D]").item()
    assert isinstance(day, date)  # noqa: S101  # a day-unit datetime64 always gives a date
    return day


def _result(status: np.ndarray, reasons: dict[int, str], estimated: int) -> IntakeResult:
    rejected = sorted((row, reasons[row]) for row in np.flatnonzero(status == REJECTED).tolist())
    return IntakeResult(
        stored=int((status == NEW).sum()),
        duplicates=int((status == 1).sum()),
        rejected=rejected,
        estimated=estimated,
    )
