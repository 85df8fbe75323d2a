"""Group commit for the audit log: concurrent requests share one transaction (and one fsync).

Every decision must be durable in the log before it is used, and appenders serialise on the
chain head, so under concurrency the commit wait is the bottleneck (on PostgreSQL about a
millisecond per commit). Here a caller that finds no write in progress becomes the writer and
appends everything waiting, its own record included, in one transaction; the others wait until
their record is committed. Nobody returns before their own record is durable.

Callers in an event loop use :meth:`GroupCommitAudit.record_soon`: their record joins the same
queue and they await a future instead of blocking a thread. One drain job in the loop's
executor writes batches until the queue is empty, so the loop never waits on the database and
the requests arriving meanwhile share the next commit.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    __slots__ = ("done", "error", "future", "record", "seq")

    def __init__(self, record: AuditRecord, future: asyncio.Future[int] | None = None) -> None:
        self.record = record
        self.future = future  # set for a caller in an event loop
        self.done = False
        self.seq = 0
        self.error: BaseException | None = None


def _settle(future: asyncio.Future[int], seq: int, error: BaseException | None) -> None:
    if future.cancelled():  # the request went away; its record is committed all the same
        return
    if error is None:
        future.set_result(seq)
    else:
        future.set_exception(error)


class GroupCommitAudit:
    """The ``AuditTrail`` port for a server, over one :class:`AuditLog`."""

    def __init__(self, log: Appender, *, max_batch: int = 1000) -> None:
        self._log = log
        self._max = max_batch
        self._cond = threading.Condition()
        self._pending: list[_Slot] = []
        self._writing = False
        self._draining = False  # a drain job for awaited records is scheduled or running

    def record(self, *, principal: Principal, action: Action, resource: Resource,
               decision: Decision, at: datetime) -> None:  # fmt: skip
        self.append(self._log.record_of(principal, action, resource, decision, at))

    def record_soon(self, *, principal: Principal, action: Action, resource: Resource,
                    decision: Decision, at: datetime) -> asyncio.Future[int]:  # fmt: skip
        """Queue the decision's record; the future holds its sequence number once committed.

        Call from a running event loop; awaiting the future never blocks the loop.
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        slot = _Slot(self._log.record_of(principal, action, resource, decision, at), future)
        with self._cond:
            self._pending.append(slot)
            start = not self._draining
            self._draining = True
        if start:
            loop.run_in_executor(None, self._drain)
        return future

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
                batch = self._take()
            self._write(batch)
        if slot.error is not None:
            raise slot.error
        return slot.seq

    def _take(self) -> list[_Slot]:
        batch = self._pending[: self._max]
        del self._pending[: self._max]
        return batch

    def _drain(self) -> None:
        """Write batches until nothing is waiting (awaited records have no thread of their own)."""
        while True:
            with self._cond:
                while self._writing:
                    self._cond.wait()
                if not self._pending:
                    self._draining = False
                    return
                self._writing = True
                batch = self._take()
            self._write(batch)

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
                if slot.future is not None:
                    # RuntimeError: that loop is closed, nobody is waiting any more
                    with contextlib.suppress(RuntimeError):
                        slot.future.get_loop().call_soon_threadsafe(
                            _settle, slot.future, slot.seq, error
                        )
            self._writing = False
            self._cond.notify_all()
