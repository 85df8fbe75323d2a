"""Group commit for the audit log: concurrent requests share one transaction (and one fsync).

Every decision must be durable in the log before it is used, and appenders serialise on the
chain head, so under concurrency the commit wait is the bottleneck (on PostgreSQL about a
millisecond per commit). Here a caller that finds no write in progress becomes the writer and
appends everything waiting, its own record included, in one transaction; the others wait until
their record is committed. Nobody returns before their own record is durable.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from meterkast.access.audit import AuditRecord
from meterkast.access.policy import Action, Decision, Principal, Resource


class Appender(Protocol):
    def record_of(self, principal: Principal, action: Action, resource: Resource,
                  decision: Decision, at: datetime) -> AuditRecord: ...  # fmt: skip

    def append_many(self, records: Sequence[AuditRecord]) -> int: ...


class _Slot:
    __slots__ = ("done", "error", "record", "seq")

    def __init__(self, record: AuditRecord) -> None:
        self.record = record
        self.done = False
        self.seq = 0
        self.error: BaseException | None = None


class GroupCommitAudit:
    """The ``AuditTrail`` port for a multi-threaded server, over one :class:`AuditLog`."""

    def __init__(self, log: Appender, *, max_batch: int = 1000) -> None:
        self._log = log
        self._max = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Slot] = []
        self._writing = False

    def record(self, *, principal: Principal, action: Action, resource: Resource,
               decision: Decision, at: datetime) -> None:  # fmt: skip
        self.append(self._log.record_of(principal, action, resource, decision, at))

    def append(self, record: AuditRecord) -> int:
        """Append and return the record's sequence number once it is committed."""
        slot = _Slot(record)
        with self._cond:
            self._pending.append(slot)
        while True:
            with self._cond:
                while not slot.done and self._writing:
                    self._cond.wait()
                if slot.done:
                    break
                self._writing = True
                batch = self._pending[: self._max]
                del self._pending[: self._max]
            self._write(batch)
        if slot.error is not None:
            raise slot.error
        return slot.seq

    def _write(self, batch: list[_Slot]) -> None:
        error: BaseException | None = None
        last = 0
        try:
            last = self._log.append_many([s.record for s in batch])
        except BaseException as caught:  # every waiter of this batch gets it
            error = caught
        with self._cond:
            for offset, slot in enumerate(batch):
                slot.seq = last - len(batch) + 1 + offset if error is None else 0
                slot.error = error
                slot.done = True
            self._writing = False
            self._cond.notify_all()
