"""Group commit: every caller returns only once its own record is in a committed batch."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from datetime import UTC, date, datetime

from meterkast.access.audit import AuditRecord, Pseudonyms, decision_record
from meterkast.access.days import DaySet
from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.instance_keys import Secret
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.kernel.codes import LegalBasis, Role

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
NAMES = Pseudonyms(Secret(b"p" * 32))


class SlowLog:
    """Appends to a list; the first write waits so that others queue up behind it."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[AuditRecord]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail = fail

    def record_of(self, principal: Principal, action: Action, resource: Resource,
                  decision: Decision, at: datetime) -> AuditRecord:  # fmt: skip
        return decision_record(principal, action, resource, decision, at, NAMES)

    def append_many(self, records: Sequence[AuditRecord]) -> int:
        if not self.batches:
            self.entered.set()
            self.gate.wait(timeout=5)
        if self.fail and self.batches:
            raise RuntimeError("database went away")
        self.batches.append(list(records))
        return sum(len(b) for b in self.batches)


def _record(i: int) -> AuditRecord:
    decision = Decision(True, "3.1", LegalBasis.CONTRACT, ("x",), DaySet())
    resource = Resource(f"8716871400000{i:05d}", date(2026, 1, 1), date(2026, 1, 2))
    return decision_record(Principal(Role.SUPPLIER, "8712345678920"), Action.READ_DAILY,
                           resource, decision, T0, NAMES)  # fmt: skip


def _call(trail: GroupCommitAudit, i: int, out: dict[int, object]) -> None:
    record = _record(i)
    try:
        out[i] = trail.append(record)
    except RuntimeError as error:
        out[i] = error


def _run(log: SlowLog, callers: int) -> dict[int, object]:
    trail = GroupCommitAudit(log, max_batch=5)
    out: dict[int, object] = {}
    first = threading.Thread(target=_call, args=(trail, 0, out))
    first.start()
    assert log.entered.wait(timeout=5)  # the first caller is writing; the rest must queue
    others = [threading.Thread(target=_call, args=(trail, i, out)) for i in range(1, callers)]
    for thread in others:
        thread.start()
    log.gate.set()
    for thread in [first, *others]:
        thread.join(timeout=10)
    return out


def test_waiting_callers_share_batches_and_get_their_own_numbers() -> None:
    log = SlowLog()
    out = _run(log, 12)
    written = [r.subject_ref for batch in log.batches for r in batch]
    assert len(written) == 12 and len(log.batches) < 12  # some callers shared a transaction
    assert len(log.batches[0]) == 1 and max(len(b) for b in log.batches) <= 5
    for i, seq in out.items():  # each caller got the number its own record was written at
        assert isinstance(seq, int) and written[seq - 1] == _record(i).subject_ref


def test_a_failed_batch_fails_every_caller_in_it() -> None:
    log = SlowLog(fail=True)
    out = _run(log, 6)
    assert out[0] == 1 and [len(b) for b in log.batches] == [1]
    assert all(isinstance(out[i], RuntimeError) for i in range(1, 6))


def test_uncontended_append_writes_alone() -> None:
    log = SlowLog()
    log.gate.set()
    trail = GroupCommitAudit(log)
    decision = Decision(False, "3.1", None, ("no",))
    trail.record(principal=Principal(Role.CUSTOMER, "C1"), action=Action.READ_DAILY,
                 resource=Resource("871687140000000011", None, None), decision=decision,
                 at=T0)  # fmt: skip
    assert [len(b) for b in log.batches] == [1] and log.batches[0][0].allowed is False


def _soon(trail: GroupCommitAudit, i: int) -> asyncio.Future[int]:
    """The record of ``_record(i)``, queued from the running loop."""
    decision = Decision(True, "3.1", LegalBasis.CONTRACT, ("x",), DaySet())
    resource = Resource(f"8716871400000{i:05d}", date(2026, 1, 1), date(2026, 1, 2))
    return trail.record_soon(principal=Principal(Role.SUPPLIER, "8712345678920"),
                             action=Action.READ_DAILY, resource=resource, decision=decision,
                             at=T0)  # fmt: skip


def test_awaited_records_share_commits_and_resolve_only_once_written() -> None:
    log = SlowLog()
    trail = GroupCommitAudit(log, max_batch=5)

    async def main() -> list[int]:
        first = _soon(trail, 0)
        await asyncio.to_thread(log.entered.wait, 5)  # the drain job is writing the first
        rest = [_soon(trail, i) for i in range(1, 12)]
        await asyncio.sleep(0.05)
        assert not first.done() and not any(f.done() for f in rest)  # nothing committed yet
        log.gate.set()
        return list(await asyncio.gather(first, *rest))

    seqs = asyncio.run(main())
    written = [r.subject_ref for batch in log.batches for r in batch]
    assert [len(b) for b in log.batches] == [1, 5, 5, 1]  # one drain job, batched behind it
    for i, seq in enumerate(seqs):
        assert written[seq - 1] == _record(i).subject_ref


def test_awaited_and_blocking_callers_share_one_queue() -> None:
    log = SlowLog()
    trail = GroupCommitAudit(log)
    out: dict[int, object] = {}

    async def main() -> int:
        future = _soon(trail, 0)
        await asyncio.to_thread(log.entered.wait, 5)
        blocking = threading.Thread(target=_call, args=(trail, 1, out))
        blocking.start()
        log.gate.set()
        seq = await future
        await asyncio.to_thread(blocking.join, 5)
        return seq

    assert asyncio.run(main()) == 1 and out[1] == 2


def test_a_failed_commit_fails_the_awaiting_caller() -> None:
    log = SlowLog(fail=True)
    log.gate.set()
    trail = GroupCommitAudit(log)

    async def main() -> tuple[int, BaseException | None]:
        seq = await _soon(trail, 0)
        second = _soon(trail, 1)
        try:
            await second
        except RuntimeError as error:
            return seq, error
        return seq, None

    seq, error = asyncio.run(main())
    assert seq == 1 and isinstance(error, RuntimeError)
    # the trail still works for later records once the database is back
    log.fail = False
    assert asyncio.run(_one(trail)) == 2


async def _one(trail: GroupCommitAudit) -> int:
    return await _soon(trail, 2)


class ListLog(SlowLog):
    """Appends at once (no gate): what a commit in the loop's own thread would call."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__(fail)
        self.gate.set()
        self.fail_all = fail

    def append_many(self, records: Sequence[AuditRecord]) -> int:
        if self.fail_all:
            raise RuntimeError("database went away")
        self.batches.append(list(records))
        return sum(len(b) for b in self.batches)


def test_in_loop_records_of_one_pass_share_one_commit() -> None:
    log = ListLog()
    trail = GroupCommitAudit(log, commit_in_loop=True)

    async def main() -> list[int]:
        first = [_soon(trail, i) for i in range(5)]  # queued in one pass of the loop
        assert not any(f.done() for f in first) and log.batches == []  # nothing written yet
        seqs = list(await asyncio.gather(*first))
        return [*seqs, await _soon(trail, 5)]

    assert asyncio.run(main()) == [1, 2, 3, 4, 5, 6]
    assert [len(b) for b in log.batches] == [5, 1]


def test_in_loop_a_failed_commit_fails_its_callers() -> None:
    trail = GroupCommitAudit(ListLog(fail=True), commit_in_loop=True)

    async def main() -> list[object]:
        return list(await asyncio.gather(_soon(trail, 0), _soon(trail, 1),
                                         return_exceptions=True))  # fmt: skip

    assert all(isinstance(e, RuntimeError) for e in asyncio.run(main()))


def test_in_loop_leaves_the_batch_to_a_drain_while_a_thread_writes() -> None:
    log = SlowLog()
    trail = GroupCommitAudit(log, commit_in_loop=True)
    out: dict[int, object] = {}

    async def main() -> list[int]:
        blocking = threading.Thread(target=_call, args=(trail, 0, out))
        blocking.start()
        await asyncio.to_thread(log.entered.wait, 5)  # a thread holds the head
        waiting = [_soon(trail, 1), _soon(trail, 2)]
        await asyncio.sleep(0.05)  # the loop did not block on the thread's commit
        assert not any(f.done() for f in waiting)
        log.gate.set()
        seqs = list(await asyncio.gather(*waiting))
        await asyncio.to_thread(blocking.join, 5)
        return seqs

    assert asyncio.run(main()) == [2, 3] and out[0] == 1
    assert [len(b) for b in log.batches] == [1, 2]


def test_a_loop_closed_before_its_flush_does_not_stall_the_next() -> None:
    log = ListLog()
    trail = GroupCommitAudit(log, commit_in_loop=True)
    closed = asyncio.new_event_loop()

    def queue_and_stop() -> None:
        closed.stop()  # after this pass: the flush queued below never runs
        _soon(trail, 0)

    closed.call_soon(queue_and_stop)
    closed.run_forever()
    closed.close()
    assert asyncio.run(_one(trail)) == 2  # flushed in the new loop, with the orphan first
    assert [len(b) for b in log.batches] == [2]
