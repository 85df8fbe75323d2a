"""The nightly read cycle: plan, exchange secured frames, verify, validate, hand on, remember."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from meterkast.acquisition.decoding import ingest, request_apdu
from meterkast.acquisition.domain import (
    MeterRead,
    Progress,
    ProgressUpdate,
    ReadJob,
    ReadTarget,
    SecurityEvent,
    frame_digest,
    plan_job,
    targets_from,
)
from meterkast.acquisition.ports import HeadEndStore, IntervalGrantLookup, MeterLink
from meterkast.grid.domain import Connection
from meterkast.kernel.clock import Clock, local_day
from meterkast.kernel.codes import ReadOutcome
from meterkast.kernel.errors import DomainError, InvalidValueError
from meterkast.keys.api import CryptoServer, FrameRejectedError, MeterSession
from meterkast.readings.api import ReadingsSink

BATCH = 2_000  # meters handed to the readings store per call
MAX_DAYS = 366


@dataclass(slots=True)
class CycleReport:
    days: list[date] = field(default_factory=list)
    meters: int = 0
    outcomes: Counter[ReadOutcome] = field(default_factory=Counter)
    electricity_rows: int = 0
    gas_rows: int = 0
    interval_rows: int = 0

    def as_record(self) -> dict[str, object]:
        return {
            "days": [d.isoformat() for d in self.days],
            "meters": self.meters,
            **{o.value: self.outcomes.get(o, 0) for o in ReadOutcome},
            "electricity_rows": self.electricity_rows,
            "gas_rows": self.gas_rows,
            "interval_rows": self.interval_rows,
        }


class HeadEnd:
    def __init__(
        self,
        connections: Callable[[], Iterator[Connection]],
        crypto: Callable[[], CryptoServer],
        link: Callable[[], AbstractContextManager[MeterLink]],
        sink: Callable[[], ReadingsSink],
        store: HeadEndStore,
        grants: IntervalGrantLookup,
        clock: Clock,
    ) -> None:
        self._connections = connections
        self._crypto = crypto
        self._link = link
        self._sink = sink
        self._store = store
        self._grants = grants
        self._clock = clock

    def run(
        self, first: date, last: date, on_meter: Callable[[], None] | None = None
    ) -> CycleReport:
        """The nightly cycle for each day from ``first`` to ``last``, in order."""
        if last < first:
            raise InvalidValueError("the last day comes before the first")
        if (last - first).days >= MAX_DAYS:
            raise InvalidValueError(f"at most {MAX_DAYS} days in one run")
        if last > local_day(self._clock()):
            raise InvalidValueError(f"{last} has not started yet: its 00:00 reading is not due")
        targets = targets_from(self._connections())
        crypto, sink = self._crypto(), self._sink()
        report = CycleReport(meters=len(targets))
        with self._link() as link:
            day = first
            while day <= last:
                report.days.append(day)
                self._night(day, targets, crypto, link, sink, report, on_meter)
                day += timedelta(days=1)
        return report

    def _night(
        self,
        day: date,
        targets: list[ReadTarget],
        crypto: CryptoServer,
        link: MeterLink,
        sink: ReadingsSink,
        report: CycleReport,
        on_meter: Callable[[], None] | None,
    ) -> None:
        progress = self._store.progress()
        grants: dict[date, frozenset[str]] = {}

        def granted(d: date) -> frozenset[str]:
            if d not in grants:
                grants[d] = self._grants.eans_with_interval_grant(d)
            return grants[d]

        for start in range(0, len(targets), BATCH):
            reads: list[tuple[ReadJob, MeterRead]] = []
            updates: list[ProgressUpdate] = []
            events: list[SecurityEvent] = []
            for target in targets[start : start + BATCH]:
                job = plan_job(
                    target,
                    day,
                    progress.get(target.serial),
                    None if target.gas_serial is None else progress.get(target.gas_serial),
                    granted,
                )
                outcome, read = self._read(job, crypto, link, events)
                report.outcomes[outcome] += 1
                if read is not None:
                    reads.append((job, read))
                else:
                    now = self._clock()
                    updates.append(ProgressUpdate(target.serial, outcome, now, None))
                if on_meter is not None:
                    on_meter()
            updates += self._hand_over(reads, sink, report)
            self._store.add_security_events(events)
            self._store.record(updates)

    def _read(
        self, job: ReadJob, crypto: CryptoServer, link: MeterLink, events: list[SecurityEvent]
    ) -> tuple[ReadOutcome, MeterRead | None]:
        if not job.has_work:
            return ReadOutcome.NOTHING_TO_READ, None
        serial = job.target.serial
        try:
            session = crypto.session(serial)
            request = session.protect(request_apdu(job))
        except FrameRejectedError as refused:  # e.g. a meter the crypto-server has no keys for
            events.append(SecurityEvent(serial, self._clock(), refused.reason, frame_digest(b"")))
            return ReadOutcome.REJECTED, None
        try:
            frame = link.exchange(serial, request)
        except DomainError:  # the meter stayed silent or is unreachable
            return ReadOutcome.NO_RESPONSE, None
        return receive(job, session, frame, events, self._clock())

    def _hand_over(
        self, reads: list[tuple[ReadJob, MeterRead]], sink: ReadingsSink, report: CycleReport
    ) -> list[ProgressUpdate]:
        return hand_over(reads, sink, report, self._clock())


def receive(
    job: ReadJob, session: MeterSession, frame: bytes, events: list[SecurityEvent], at: datetime
) -> tuple[ReadOutcome, MeterRead | None]:
    """One meter's answer: its read, or why nothing of it may be stored."""
    try:
        return ReadOutcome.STORED, ingest(job, session, frame)
    except FrameRejectedError as rejected:
        events.append(SecurityEvent(job.target.serial, at, rejected.reason, frame_digest(frame)))
        return ReadOutcome.REJECTED, None
    except DomainError:  # authentic, but unusable: nothing from it is stored
        return ReadOutcome.INVALID, None


def hand_over(
    reads: list[tuple[ReadJob, MeterRead]], sink: ReadingsSink, report: CycleReport, at: datetime
) -> list[ProgressUpdate]:
    """Give a batch to the readings store; progress moves only for meters fully taken."""
    refused: set[int] = set()
    for kind in ("electricity", "gas", "intervals"):
        rows = [row for _job, read in reads for row in getattr(read, kind)]
        if not rows:
            continue
        if kind == "electricity":
            result = sink.add_electricity_daily(rows)
            report.electricity_rows += result.stored
        elif kind == "gas":
            result = sink.add_gas_daily(rows)
            report.gas_rows += result.stored
        else:
            result = sink.add_interval(rows)
            report.interval_rows += result.stored
        if result.rejected:  # map rows back to their meters only when needed
            owners = [i for i, (_job, read) in enumerate(reads) for _ in getattr(read, kind)]
            refused |= {owners[i] for i, _reason in result.rejected}
    now = at
    updates = []
    for index, (job, read) in enumerate(reads):
        if index in refused:
            updates.append(ProgressUpdate(job.target.serial, ReadOutcome.INVALID, now, None))
            continue
        moved = _moved(read.e_progress, job.e_progress)
        updates.append(ProgressUpdate(job.target.serial, ReadOutcome.STORED, now, moved))
        if job.target.gas_serial is not None:
            gas = _moved(read.gas_progress, job.gas_progress)
            updates.append(ProgressUpdate(job.target.gas_serial, ReadOutcome.STORED, now, gas))
    return updates


def _moved(new: Progress | None, old: Progress | None) -> Progress | None:
    return new if new is not None and new != old else None
