"""The cheap per-view check of the audit log against recorded full verifications (both DBs)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import audit_entries, audit_verifications
from meterkast.access.audit import Tampering
from meterkast.access.audit_checks import AuditChecks
from meterkast.access.audit_service import AuditLog
from meterkast.access.days import DaySet
from meterkast.access.instance_keys import InstanceKeys
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.kernel.codes import LegalBasis, Role

T0 = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EAN = "871687140000000011"
WHO = Principal(Role.SUPPLIER, "8712345678920")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def checks(engine: Engine, tmp_path: Path) -> AuditChecks:
    clock = Clock()
    log = AuditLog(engine, InstanceKeys(tmp_path / "keys"), clock, checkpoint_every=4)
    return AuditChecks(engine, log, clock)


def _record(checks: AuditChecks, n: int) -> None:
    days = DaySet.between(date(2026, 1, 1), date(2026, 1, 31))
    decision = Decision(True, "3.1", LegalBasis.LEGAL_OBLIGATION, ("test",), days)
    resource = Resource(EAN, date(2026, 1, 1), date(2026, 1, 31))
    for _ in range(n):
        checks._log.record(principal=WHO, action=Action.READ_DAILY, resource=resource,
                           decision=decision, at=T0)  # fmt: skip


def _edit(engine: Engine, seq: int, **values: object) -> None:
    with engine.begin() as db:
        db.execute(audit_entries.update().where(audit_entries.c.seq == seq).values(**values))


def test_a_view_walks_only_what_follows_the_last_full_run(checks: AuditChecks,
                                                          engine: Engine) -> None:  # fmt: skip
    _record(checks, 10)
    first = checks.status()  # nothing recorded yet: runs and records a full verification
    assert first.ok and first.full.verdict.entries == 10 and first.walked_from == 11
    _record(checks, 5)
    later = checks.status()
    assert later.ok and later.walked_from == 11 and later.recent is not None
    assert later.recent.entries == 15 and later.full.verdict.entries == 10
    _edit(engine, 13, purpose="7.1")  # an entry after the full run: the view sees it
    bad = checks.status()
    assert not bad.ok and bad.first_problem.first_bad == 13
    assert bad.first_problem.tampering is Tampering.MODIFIED


def test_an_old_edit_waits_for_the_full_run_which_the_view_then_reports(
    checks: AuditChecks, engine: Engine
) -> None:
    _record(checks, 10)
    checks.full()
    _edit(engine, 3, purpose="7.1")  # before the last full run and no checkpoint's hash
    assert checks.status().ok  # honest only with the full run's time beside it
    run = checks.full()
    assert not run.verdict.ok and run.verdict.first_bad == 3
    status = checks.status()
    assert not status.ok and status.recent is None and status.first_problem.first_bad == 3
    with engine.connect() as db:
        recorded = db.execute(sa.select(audit_verifications.c.first_bad)).scalars().all()
    assert recorded == [None, 3]


def test_a_view_still_catches_a_rewritten_checkpointed_or_last_verified_entry(
    checks: AuditChecks, engine: Engine
) -> None:
    _record(checks, 10)
    checks.full()
    signed = checks._hash_of(4) or ""
    _edit(engine, 4, hash="f" * 64)  # entry 4 is signed by a checkpoint
    caught = checks.status()
    assert not caught.ok and caught.first_problem.first_bad == 4
    _edit(engine, 4, hash=signed)
    assert checks.status().ok
    _edit(engine, 10, hash="e" * 64)  # the entry the last full run ended on
    status = checks.status()
    assert not status.ok and status.first_problem.first_bad == 10
