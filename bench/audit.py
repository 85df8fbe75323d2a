"""Per-request costs of the access layer on SQLite: token check and audit append.

Baselines in the same run: a bare Ed25519 signature check (the floor under a token check) and a
bare sqlite3 one-row insert committed per transaction (the floor under a single append), and
sqlite3 ``executemany`` of the same rows for the batch append. Target: the API serves about
4.4 k req/s per worker (limits.md), so token check + single append should cost less than half
of that budget (≈ 114 µs per request, ≥ 8.8 k/s for the pair).
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.audit_backends import run_backends
from meterkast.access.audit_service import AuditLog
from meterkast.access.days import DaySet
from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.instance_keys import InstanceKeys
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.access.tokens import BearerTokens
from meterkast.db.engine import create_engine
from meterkast.db.migrate import upgrade
from meterkast.kernel.codes import LegalBasis, Role

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
PAIR_TARGET_PER_S = 8_800


def _rate(n: int, work: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    for _ in range(n):
        work()
    return n / (time.perf_counter() - t0)


def _threaded(
    trail: GroupCommitAudit, resource: Resource, decision: Decision, who: Principal, n: int
) -> float:
    """Appends per second from 8 threads (a threaded API server) sharing commits."""

    def work() -> None:
        for _ in range(n // 8):
            trail.record(principal=who, action=Action.READ_DAILY, resource=resource,
                         decision=decision, at=T0)  # fmt: skip

    threads = [threading.Thread(target=work) for _ in range(8)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (n // 8 * 8) / (time.perf_counter() - t0)


def _bare_insert_rate(folder: Path, n: int) -> float:
    db = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT, hash TEXT)")
    counter = iter(range(1, n + 1))

    def one() -> None:
        db.execute("BEGIN")
        db.execute("INSERT INTO t VALUES (?, ?, ?)", (next(counter), "x" * 300, "h" * 64))
        db.execute("COMMIT")

    rate = _rate(n, one)
    db.close()
    return rate


def _bare_many_rate(folder: Path, n: int) -> float:
    db = sqlite3.connect(folder / "baseline-many.db")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT, hash TEXT)")
    rows = [(i, "x" * 300, "h" * 64) for i in range(n)]
    t0 = time.perf_counter()
    with db:
        db.executemany("INSERT INTO t VALUES (?, ?, ?)", rows)
    db.close()
    return n / (time.perf_counter() - t0)


def run(scale: str) -> None:
    single, batch, checks = (3_000, 100_000, 20_000) if scale == "full" else (300, 5_000, 2_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        keys = InstanceKeys(folder / "keys")
        engine = create_engine(f"sqlite:///{folder / 'bench.db'}")
        upgrade(engine)
        log = AuditLog(engine, keys, lambda: T0, checkpoint_every=1000)
        days = DaySet.between(date(2026, 1, 1), date(2026, 1, 31))
        decision = Decision(True, "3.1", LegalBasis.LEGAL_OBLIGATION, ("own contract",), days)
        resource = Resource("871687140000000011", date(2026, 1, 1), date(2026, 1, 31))
        who = Principal(Role.SUPPLIER, "8712345678920")

        def append() -> None:
            log.record(principal=who, action=Action.READ_DAILY, resource=resource,
                       decision=decision, at=T0)  # fmt: skip

        append_rate = _rate(single, append)
        shared_rate = _threaded(GroupCommitAudit(log), resource, decision, who, single)
        records = [log.record_of(who, Action.READ_DAILY, resource, decision, T0)] * batch
        t0 = time.perf_counter()
        log.append_many(records)
        many_rate = batch / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        verdict = log.verify()
        verify_rate = verdict.entries / (time.perf_counter() - t0)
        assert verdict.ok  # noqa: S101 - a benchmark of a broken log would mean nothing
        engine.dispose()
        bare_insert = _bare_insert_rate(folder, single)
        bare_many = _bare_many_rate(folder, batch)

    # Without the revocation list: the lookup is measured per backend below (run_backends).
    tokens = BearerTokens(keys.token_signing_key, issuer="bench",
                          default_ttl=timedelta(hours=1), clock=lambda: T0)  # fmt: skip
    fresh = iter([tokens.issue(Role.SUPPLIER, "8712345678920") for _ in range(checks // 4)])
    cold_rate = _rate(checks // 4, lambda: tokens.verify(next(fresh)))
    token = tokens.issue(Role.SUPPLIER, "8712345678920")
    token_rate = _rate(checks, lambda: tokens.verify(token))
    issue_rate = _rate(checks // 4, lambda: tokens.issue(Role.CUSTOMER, "C00000042"))
    public, message = keys.token_signing_key.public_key(), b"x" * 200
    signature = keys.token_signing_key.sign(message)
    bare_verify = _rate(checks, lambda: public.verify(signature, message))
    pair = 1 / (1 / token_rate + 1 / append_rate)
    cold_pair = 1 / (1 / cold_rate + 1 / append_rate)

    ratio = "{:.1f}x slower than the baseline".format
    print(f"token verify, first   {cold_rate:>10,.0f} /s")
    print(f"  bare Ed25519 verify {bare_verify:>10,.0f} /s   ({ratio(bare_verify / cold_rate)})")
    print(f"token verify, again   {token_rate:>10,.0f} /s   (a client reusing its token)")
    print(f"token issue           {issue_rate:>10,.0f} /s")
    print(f"audit append (single) {append_rate:>10,.0f} /s")
    print(f"  bare insert+commit  {bare_insert:>10,.0f} /s   ({ratio(bare_insert / append_rate)})")
    print(f"  8 threads, shared   {shared_rate:>10,.0f} /s   (group commit)")
    print(f"audit append_many     {many_rate:>10,.0f} rows/s")
    print(f"  bare executemany    {bare_many:>10,.0f} rows/s   ({ratio(bare_many / many_rate)})")
    print(f"audit verify          {verify_rate:>10,.0f} entries/s")
    print(f"token + append pair   {pair:>10,.0f} /s   (target >= {PAIR_TARGET_PER_S:,} /s)")
    print(f"  with a new token    {cold_pair:>10,.0f} /s")
    with tempfile.TemporaryDirectory() as tmp:
        run_backends(Path(tmp), 2_000 if scale == "full" else 300)
