"""The audit log on SQLite and PostgreSQL: appends, every kind of tampering, the customer's view."""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import audit_checkpoints, audit_entries, audit_head
from meterkast.access.audit import Tampering, chain_hash, sign_checkpoint
from meterkast.access.audit_service import AuditLog
from meterkast.access.days import DayRange, DaySet
from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.instance_keys import InstanceKeys
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.kernel.codes import LegalBasis, Role

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EAN = "871687140000000011"
OTHER_EAN = "871687140000000028"
SUPPLIER = Principal(Role.SUPPLIER, "8712345678920")
NEW_CUSTOMER = Principal(Role.CUSTOMER, "C00000042")
OLD_CUSTOMER = Principal(Role.CUSTOMER, "C00000007")
STAFF = Principal(Role.STAFF_SERVICE, "emp-4711", "Netbeheer Zuid, klantenservice")
MOVE_IN = date(2026, 3, 1)  # the new customer's contract starts here


def _days(first: date, last: date) -> DaySet:
    return DaySet.between(first, last)


def _allowed(purpose: str, days: DaySet, **extra: str) -> Decision:
    return Decision(True, purpose, LegalBasis.LEGAL_OBLIGATION, ("test",), days, **extra)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def keys(tmp_path: Path) -> InstanceKeys:
    return InstanceKeys(tmp_path / "keys")


@pytest.fixture
def log(engine: Engine, keys: InstanceKeys) -> AuditLog:
    names = {SUPPLIER.party_id: "Stroom & Co"}
    return AuditLog(engine, keys, Clock(), checkpoint_every=4, party_name=names.get)


def _record_ten(log: AuditLog) -> None:
    """Ten decisions about two connections; checkpoints land at 4 and 8."""
    year = _days(date(2025, 12, 1), date(2026, 5, 31))
    for i in range(10):
        at = T0 + timedelta(minutes=i)
        who = (SUPPLIER, STAFF, OLD_CUSTOMER, NEW_CUSTOMER)[i % 4]
        ean = EAN if i != 9 else OTHER_EAN
        resource = Resource(ean, year.ranges[0].first, year.ranges[0].last)
        decision = _allowed("3.1", year) if i % 3 else Decision(False, "3.1", None, ("no",))
        log.record(principal=who, action=Action.READ_DAILY, resource=resource,
                   decision=decision, at=at)  # fmt: skip


def _sql(engine: Engine, *statements: sa.Executable) -> None:
    with engine.begin() as db:
        for statement in statements:
            db.execute(statement)


def _entry_row(engine: Engine, seq: int) -> dict[str, object]:
    with engine.connect() as db:
        row = db.execute(sa.select(audit_entries).where(audit_entries.c.seq == seq)).one()
    return dict(row._mapping)


def test_a_clean_log_verifies(log: AuditLog) -> None:
    assert log.verify().ok and log.verify().entries == 0
    _record_ten(log)
    verdict = log.verify()
    assert verdict.ok, verdict.detail
    assert (verdict.entries, verdict.last_checkpoint) == (10, 8)
    assert log.checkpoint() is not None and log.verify().last_checkpoint == 10
    assert log.count() == 10


def test_modified_field_is_named(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    _sql(engine, audit_entries.update().where(audit_entries.c.seq == 5).values(purpose="9.9"))
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (5, Tampering.MODIFIED)
    assert verdict.entries == 4


def test_edited_prefilter_columns_count_as_modified(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    hidden = audit_entries.update().where(audit_entries.c.seq == 6)
    _sql(engine, hidden.values(span_first=date(2000, 1, 1), span_last=date(2000, 1, 2)))
    assert (log.verify().first_bad, log.verify().tampering) == (6, Tampering.MODIFIED)


@pytest.mark.parametrize(
    "garbage", [{"days": "not json"}, {"reasons": "[1"}, {"days": '[["2026-02-01", "2026-01-01"]]'}]
)
def test_unreadable_entry_is_named(
    engine: Engine, log: AuditLog, garbage: dict[str, object]
) -> None:
    _record_ten(log)
    _sql(engine, audit_entries.update().where(audit_entries.c.seq == 3).values(**garbage))
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (3, Tampering.MODIFIED)
    assert "no longer reads" in verdict.detail


def test_deleted_row_is_named(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    _sql(engine, audit_entries.delete().where(audit_entries.c.seq == 5))
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (5, Tampering.DELETED)


def test_forged_row_at_the_end_is_named(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    row = _entry_row(engine, 10)
    forged = {**row, "seq": 11, "prev_hash": row["hash"], "purpose": "3.3", "seal": "ab" * 32}
    record = log.entries_for_party(SUPPLIER.party_id)[0]
    forged["hash"] = chain_hash(str(row["hash"]), record, 11)  # a careful forger chains it
    _sql(engine, audit_entries.insert().values(**forged))
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (11, Tampering.INSERTED)


def test_forged_row_in_the_middle_is_named(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    c = audit_entries.c
    row = _entry_row(engine, 5)
    _sql(
        engine,
        audit_entries.update().where(c.seq >= 5).values(seq=c.seq + 1000),
        audit_entries.update().where(c.seq >= 1000).values(seq=c.seq - 999),
        audit_entries.insert().values(**{**row, "hash": "cd" * 32, "seal": "ef" * 32}),
    )
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (5, Tampering.INSERTED)


@pytest.mark.parametrize(("a", "b"), [(3, 7), (5, 6)])
def test_swapped_rows_are_named(engine: Engine, log: AuditLog, a: int, b: int) -> None:
    _record_ten(log)
    c = audit_entries.c
    _sql(
        engine,
        audit_entries.update().where(c.seq == a).values(seq=-1),
        audit_entries.update().where(c.seq == b).values(seq=a),
        audit_entries.update().where(c.seq == -1).values(seq=b),
    )
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (a, Tampering.REORDERED)


def test_truncated_tail_is_caught(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    _sql(engine, audit_entries.delete().where(audit_entries.c.seq > 6))
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (7, Tampering.TRUNCATED)


def test_truncation_below_a_checkpoint_is_caught_even_with_the_head_reset(
    engine: Engine, log: AuditLog
) -> None:
    _record_ten(log)
    row = _entry_row(engine, 6)
    _sql(
        engine,
        audit_entries.delete().where(audit_entries.c.seq > 6),
        audit_head.update().values(seq=6, hash=row["hash"]),
    )
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (7, Tampering.TRUNCATED)
    assert "checkpoint 8" in verdict.detail


def test_forged_checkpoints_are_named(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    seventh = _entry_row(engine, 7)
    moved = audit_checkpoints.update().where(audit_checkpoints.c.seq == 8)
    _sql(engine, moved.values(hash=seventh["hash"]))
    assert (log.verify().first_bad, log.verify().tampering) == (8, Tampering.BAD_CHECKPOINT)


def test_checkpoint_signed_by_another_key_is_named(
    engine: Engine, log: AuditLog, tmp_path: Path
) -> None:
    _record_ten(log)
    sixth = _entry_row(engine, 6)
    stranger = InstanceKeys(tmp_path / "stranger").audit_signing_key
    forged = sign_checkpoint(6, str(sixth["hash"]), T0, stranger)
    row = {"seq": 6, "hash": forged.hash, "at": T0, "key_id": forged.key_id}
    _sql(engine, audit_checkpoints.insert().values(**row, signature=forged.signature))
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (6, Tampering.BAD_CHECKPOINT)


def test_a_leaked_table_holds_no_ean_or_customer_id(engine: Engine, log: AuditLog) -> None:
    _record_ten(log)
    typo = EAN[:-1] + "9"  # a bad request quoting a near-EAN, with junk for a purpose
    bad = Decision(False, f"purpose-{EAN}-and-more", None,
                   (f"connection EAN {typo} has a wrong check digit",))  # fmt: skip
    log.record(principal=NEW_CUSTOMER, action=Action.READ_DAILY,
               resource=Resource(typo, None, None), decision=bad, at=T0)  # fmt: skip
    with engine.connect() as db:
        dump = repr([tuple(r) for r in db.execute(sa.select(audit_entries))])
    assert log.count() == 11 and "wrong check digit" in dump
    for secret in (EAN, OTHER_EAN, typo, EAN[:12], NEW_CUSTOMER.party_id,
                   OLD_CUSTOMER.party_id, STAFF.party_id):  # fmt: skip
        assert secret not in dump
    assert STAFF.organisation is not None and STAFF.organisation in dump


def test_append_many_chains_and_checkpoints_in_one_go(log: AuditLog) -> None:
    resource = Resource(EAN, date(2026, 1, 1), date(2026, 1, 31))
    decision = _allowed("3.5", _days(date(2026, 1, 1), date(2026, 1, 31)))
    staff = Principal(Role.STAFF_MARKET, "job-allocation", "Netbeheer Zuid, markt")
    records = [log.record_of(staff, Action.BATCH_SCAN, resource, decision, T0)] * 9
    assert log.append_many(records) == 9
    assert log.append_many([]) == 9
    verdict = log.verify()
    assert verdict.ok and (verdict.entries, verdict.last_checkpoint) == (9, 9)


def test_concurrent_appenders_never_fork_the_chain(log: AuditLog) -> None:
    resource = Resource(EAN, date(2026, 1, 1), date(2026, 1, 2))
    decision = _allowed("3.1", _days(date(2026, 1, 1), date(2026, 1, 2)))
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(8):
                log.record(principal=SUPPLIER, action=Action.READ_DAILY, resource=resource,
                           decision=decision, at=T0)  # fmt: skip
        except BaseException as error:  # reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    verdict = log.verify()
    assert verdict.ok and verdict.entries == 32, verdict.detail


def test_group_commit_keeps_one_chain_under_concurrency(log: AuditLog) -> None:
    trail = GroupCommitAudit(log, max_batch=8)
    resource = Resource(EAN, date(2026, 1, 1), date(2026, 1, 2))
    record = log.record_of(SUPPLIER, Action.READ_DAILY, resource, Decision(False, "3.1", None,
                           ("no",)), T0)  # fmt: skip
    numbers: list[int] = []

    def work() -> None:
        numbers.extend(trail.append(record) for _ in range(8))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 33))
    verdict = log.verify()
    assert verdict.ok and verdict.entries == 32, verdict.detail


@pytest.mark.parametrize("in_loop", [False, True])
def test_awaited_and_blocking_records_keep_one_chain(log: AuditLog, in_loop: bool) -> None:
    """Requests awaiting in the event loop and blocking callers in threads, on a real database:
    every record committed once, each future holding its own number, the chain verifying."""
    trail = GroupCommitAudit(log, max_batch=8, commit_in_loop=in_loop)
    resource = Resource(EAN, date(2026, 1, 1), date(2026, 1, 2))
    decision = Decision(False, "3.1", None, ("no",))
    record = log.record_of(SUPPLIER, Action.READ_DAILY, resource, decision, T0)
    blocked: list[int] = []

    def work() -> None:
        blocked.extend(trail.append(record) for _ in range(6))

    async def requests() -> list[int]:
        threads = [threading.Thread(target=work) for _ in range(2)]
        for thread in threads:
            thread.start()
        awaited = []
        for _ in range(4):  # four passes of the loop, five requests each
            awaited += await asyncio.gather(*(
                trail.record_soon(principal=SUPPLIER, action=Action.READ_DAILY,
                                  resource=resource, decision=decision, at=T0)
                for _ in range(5)))  # fmt: skip
        for thread in threads:
            await asyncio.to_thread(thread.join, 10)
        return awaited

    awaited = asyncio.run(requests())
    assert sorted(awaited + blocked) == list(range(1, 33))
    verdict = log.verify()
    assert verdict.ok and verdict.entries == 32, verdict.detail


def test_customer_sees_accesses_to_own_days_only(log: AuditLog) -> None:
    both = _days(date(2026, 1, 1), date(2026, 4, 30))  # spans the move on 1 March
    whole = Resource(EAN, date(2026, 1, 1), date(2026, 4, 30))
    own_old = _days(date(2026, 1, 1), date(2026, 2, 28))
    log.record(principal=SUPPLIER, action=Action.READ_DAILY, resource=whole,
               decision=_allowed("3.1", both), at=T0)  # fmt: skip
    log.record(principal=OLD_CUSTOMER, action=Action.READ_DAILY, resource=whole,
               decision=_allowed("A.1", own_old), at=T0)  # fmt: skip
    log.record(principal=STAFF, action=Action.READ_DAILY, resource=whole,
               decision=Decision(False, "1.5", None, ("no open service case",)), at=T0)  # fmt: skip
    log.record(principal=SUPPLIER, action=Action.READ_DAILY,
               resource=Resource(OTHER_EAN, date(2026, 4, 1), date(2026, 4, 2)),
               decision=_allowed("3.1", both), at=T0)  # fmt: skip
    mine = DaySet.of([DayRange(MOVE_IN, date(2026, 11, 23))])

    log.record(principal=NEW_CUSTOMER, action=Action.READ_DAILY, resource=whole,
               decision=_allowed("A.1", _days(MOVE_IN, date(2026, 4, 30))), at=T0)  # fmt: skip
    log.record(principal=OLD_CUSTOMER, action=Action.READ_DAILY, resource=whole,
               decision=Decision(False, "A.1", None, ("no days left",)), at=T0)  # fmt: skip

    views = log.entries_for_connection(EAN, mine, viewer=NEW_CUSTOMER.party_id)

    assert [(v.party, v.allowed) for v in views] == [
        ("Stroom & Co", True),
        ("staff service, Netbeheer Zuid, klantenservice", False),
        ("you", True),
        ("another customer", False),
    ]
    assert log.entries_for_connection(EAN, mine)[2].party == "a customer"
    assert views[0].days == _days(MOVE_IN, date(2026, 4, 30))  # never the old occupant's days
    assert log.entries_for_connection(EAN, DaySet()) == []
    plain = log.entries_for(EAN, mine)
    assert plain[0]["connection_ean"] == EAN and plain[0]["role"] == "supplier"
    assert plain[0]["days"] == [{"first": MOVE_IN, "last": date(2026, 4, 30)}]


def test_entries_for_party_finds_a_principal_by_pseudonym(log: AuditLog) -> None:
    _record_ten(log)
    found = log.entries_for_party(STAFF.party_id)
    assert len(found) == 3 and {r.role for r in found} == {Role.STAFF_SERVICE}
    assert log.entries_for_party(STAFF.party_id, since=T0 + timedelta(minutes=2)) == found[1:]
    assert log.entries_for_party("nobody") == []


def test_the_anchor_file_catches_a_cut_with_its_checkpoints_deleted(
    engine: Engine, keys: InstanceKeys, tmp_path: Path
) -> None:
    anchor = tmp_path / "audit-anchor.json"
    log = AuditLog(engine, keys, Clock(), checkpoint_every=4, anchor=anchor)
    _record_ten(log)
    assert json.loads(anchor.read_text())["seq"] == 8
    row = _entry_row(engine, 6)
    _sql(
        engine,
        audit_entries.delete().where(audit_entries.c.seq > 6),
        audit_checkpoints.delete().where(audit_checkpoints.c.seq > 6),
        audit_head.update().values(seq=6, hash=row["hash"]),
    )
    without_anchor = AuditLog(engine, keys, Clock(), checkpoint_every=4)
    assert without_anchor.verify().ok  # what the database alone can no longer tell
    verdict = log.verify()
    assert (verdict.first_bad, verdict.tampering) == (7, Tampering.TRUNCATED)
    anchor.write_text(anchor.read_text().replace('"seq": 8', '"seq": 5'))
    assert (log.verify().first_bad, log.verify().tampering) == (5, Tampering.BAD_CHECKPOINT)


def test_appends_where_update_returning_is_missing(
    engine: Engine, keys: InstanceKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.dialect, "update_returning", False)  # as SQLite before 3.35
    log = AuditLog(engine, keys, Clock(), checkpoint_every=4)
    _record_ten(log)
    verdict = log.verify()
    assert verdict.ok and (verdict.entries, verdict.last_checkpoint) == (10, 8)


def test_subject_request_steps_are_logged_and_chained(log: AuditLog) -> None:
    _record_ten(log)
    seq = log.subject_request(request_id="r-1", customer_id="C00000001", kind="access",
                              status="received", at=datetime(2026, 11, 23, tzinfo=UTC))  # fmt: skip
    assert seq == 11 and log.verify().ok
