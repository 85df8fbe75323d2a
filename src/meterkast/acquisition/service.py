"""The nightly read cycle: plan, exchange secured frames, verify, validate, hand on, remember."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, timedelta

from meterkast.acquisition.batch import collector_paused, hand_over_batch, receive_batch
from meterkast.acquisition.decoding import request_apdu
from meterkast.acquisition.domain import (
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
            answers: list[tuple[ReadJob, MeterSession, bytes]] = []
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
                outcome, answer = self._exchange(job, crypto, link, events)
                if answer is not None:
                    answers.append(answer)
                else:
                    report.outcomes[outcome] += 1
                    updates.append(ProgressUpdate(target.serial, outcome, self._clock(), None))
                if on_meter is not None:
                    on_meter()
            at = self._clock()
            with collector_paused():
                batch = receive_batch(answers, events, at)
                handed = hand_over_batch(batch, sink, at)
            report.outcomes.update(batch.outcomes)
            report.electricity_rows += handed.electricity_rows
            report.gas_rows += handed.gas_rows
            report.interval_rows += handed.interval_rows
            self._store.add_security_events(events)
            self._store.record(updates + batch.failed + handed.updates)

    def _exchange(
        self, job: ReadJob, crypto: CryptoServer, link: MeterLink, events: list[SecurityEvent]
    ) -> tuple[ReadOutcome, tuple[ReadJob, MeterSession, bytes] | None]:
        """Send the job's request; the answer (still to verify), or why there is none."""
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
        return ReadOutcome.STORED, (job, session, frame)
