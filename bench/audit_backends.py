"""Per-request costs of the access layer on SQLite and on PostgreSQL, side by side.

For each backend: a small generated area, then the request path's database work one request at
a time (revocation lookup, decision facts in one query and composed from the services, one
audit append) and the audit append from 8 threads with and without group commit. PostgreSQL is
the test server (``METERKAST_TEST_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432
/test``) in a schema of its own, dropped afterwards; it is skipped with a note when unreachable.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from meterkast.access.days import DaySet
from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.access.service import AccessService
from meterkast.bootstrap import bootstrap
from meterkast.db.engine import create_engine
from meterkast.kernel.codes import LegalBasis, Role
from meterkast.settings import CoreSettings

POSTGRES_URL = os.environ.get(
    "METERKAST_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@contextmanager
def _postgres_schema() -> Iterator[str | None]:
    """A URL whose search path is a fresh schema (None if the server is unreachable)."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with admin.begin() as db:
            db.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError:
        yield None
        return
    joiner = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{joiner}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as db:
            db.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _median_us(n: int, work: Callable[[int], object]) -> float:
    work(0)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def _threads(record: Callable[[], None], n: int) -> float:
    """Appends per second from 8 threads (a threaded API server)."""

    def work() -> None:
        for _ in range(n // 8):
            record()

    threads = [threading.Thread(target=work) for _ in range(8)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return n // 8 * 8 / (time.perf_counter() - t0)


def measure(home: Path, url: str | None, n: int) -> dict[str, float]:
    app = bootstrap(CoreSettings(home=home, database_url=url))
    app.init()
    app.area_generator.generate(300, 7, T0.date())
    eans = [c.ean for c in app.grid.list_connections(limit=100)]
    composed = AccessService(grid=app.grid, parties=app.parties, grants=app.grants,
                             cases=app.cases, readings=app.access._readings,
                             audit=app.audit_trail, register=app.register_service,
                             clock=app.clock)  # fmt: skip
    days = DaySet.between(date(2026, 1, 1), date(2026, 1, 31))
    decision = Decision(True, "A.1", LegalBasis.LEGAL_OBLIGATION, ("own contract",), days)
    who = Principal(Role.CUSTOMER, "C00000042")

    def append(log: object) -> Callable[[], None]:
        def one() -> None:
            log.record(principal=who, action=Action.READ_DAILY,  # type: ignore[attr-defined]
                       resource=Resource(eans[0], date(2026, 1, 1), date(2026, 1, 31)),
                       decision=decision, at=T0)  # fmt: skip

        return one

    figures = {
        "revocation lookup": _median_us(n, lambda i: app.revocations.is_revoked(f"jti-{i}")),
        "facts, one query": _median_us(n, lambda i: app.access.facts(eans[i % len(eans)])),
        "facts, composed (before)": _median_us(n, lambda i: composed.facts(eans[i % len(eans)])),
        "audit append, alone": _median_us(n, lambda _i: append(app.audit)()),
        "8 threads, group commit /s": _threads(append(GroupCommitAudit(app.audit)), n * 4),
        "8 threads, one commit each /s": _threads(append(app.audit), n * 4),
    }
    app.close()
    return figures


def run_backends(folder: Path, n: int) -> None:
    results = {"SQLite": measure(folder / "sqlite", None, n)}
    with _postgres_schema() as url:
        if url is None:
            print(f"PostgreSQL not reachable at {POSTGRES_URL}: its column is left out")
        else:
            results["PostgreSQL"] = measure(folder / "postgres", url, n)
    names = list(results)
    print(f"{'per request (median µs, or rate)':34s}" + "".join(f"{n:>12s}" for n in names))
    for figure in results["SQLite"]:
        print(f"{figure:34s}" + "".join(f"{results[b][figure]:12,.0f}" for b in names))
