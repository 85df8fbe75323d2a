"""The customer's 24-month chart page on a real instance: server time (median, p95), page weight.

Target (issue 6): p95 <= 150 ms for the month view at 100,000 connections. The world is built
like bench/api.py's: a generated area (quick 2,000 / full 100,000 connections), 24 months of
daily readings in the encrypted month store for CUSTOMERS households, the real audit log (each
page view appends its decisions), real one-time sign-in codes and signed session cookies, the
app that ``meterkast serve`` runs. Requests go through Starlette's TestClient in-process (ASGI
time, no network), rotating over the households. Baseline in the same run: the sign-in page of
the same application (template, session and middleware, no data).
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from meterkast.access.audit import AuditRecord
from meterkast.access.days import DaySet
from meterkast.bootstrap import App, bootstrap
from meterkast.fleet.history import electricity_history
from meterkast.fleet.service import plan_meters
from meterkast.grid.domain import Connection
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import AuditEvent, LegalBasis, MeterKind, Product, ReadingChoice, Role
from meterkast.settings import CoreSettings
from meterkast.web.staff import issue_staff_code

TARGET_P95_MS = 150.0
SCALES = {"quick": 2_000, "full": 100_000}
REQUESTS = {"quick": 60, "full": 300}
AUDIT_ENTRIES = {"quick": 10_000, "full": 100_000}  # for the officer's audit page
NEW_SINCE_FULL = 1_000  # entries appended after the last full verification (the page walks them)
CUSTOMERS = 50  # distinct households, each with its own signed-in session


def _households(app: App, connections: int) -> list[tuple[str, str]]:
    """(EAN, customer) of smart electricity connections with a running contract and readings."""
    today = local_day(datetime.now(UTC))
    app.area_generator.generate(connections, 42, today)
    chosen: dict[str, tuple[Connection, str]] = {}
    offset = 0
    while len(chosen) < CUSTOMERS and (
        page := app.grid.list_connections(limit=2000, offset=offset)
    ):
        offset += len(page)
        for c in page:
            running = app.parties.contract_end_register(c.ean, today)
            if (
                c.product is Product.ELECTRICITY
                and c.meter is not None
                and c.meter.kind is MeterKind.SMART
                and running is not None
                and c.reading_choice(today) is ReadingChoice.STANDARD
            ):
                chosen[c.ean] = (c, running.customer_id)
            if len(chosen) >= CUSTOMERS:
                break
    first = today.replace(day=1) - timedelta(days=730)
    connections_by_ean = {ean: c for ean, (c, _) in chosen.items()}
    plans = plan_meters(connections_by_ean.values())
    app.readings.write_history(
        electricity_history(
            plans,
            connections_by_ean,
            first,
            today - timedelta(days=1),
            app.clock(),
        )
    )
    return [(ean, customer) for ean, (_, customer) in chosen.items()]


def _signed_in(app: App, web: FastAPI, customer: str) -> TestClient:
    client = TestClient(web, base_url="https://localhost", follow_redirects=False)
    login = client.get("/portal/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    answer = client.post(
        "/portal/login",
        data={"csrf": csrf, "customer_id": customer, "code": app.login_codes.issue(customer)},
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed for a customer: {answer.status_code}")
    return client


def _officer(app: App, web: FastAPI, entries: int) -> TestClient:
    """A signed-in privacy officer, after filling the audit log up to about ``entries``."""
    filler = [
        AuditRecord(
            at=app.clock().astimezone(UTC),
            event=AuditEvent.ACCESS_DECISION,
            role=Role.SUPPLIER,
            principal_ref=app.audit.pseudonyms.party(f"p{i % 97}"),
            party=None,
            organisation=None,
            purpose="3.1",
            legal_basis=LegalBasis.LEGAL_OBLIGATION,
            action="read_daily",
            allowed=True,
            subject_ref=app.audit.pseudonyms.connection(f"{i:018d}"),
            asked_first=None,
            asked_last=None,
            days=DaySet(),
            reasons=("bench",),
            policy_version="bench",
            grant_id=None,
            case_id=None,
        )
        for i in range(max(0, entries - app.audit.count()))
    ]
    app.audit.append_many(filler)
    client = TestClient(web, base_url="https://localhost", follow_redirects=False)
    login = client.get("/portal/staff/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
    code = issue_staff_code(app.login_codes, app.audit, app.clock, Role.PRIVACY_OFFICER, "PO01")
    client.post("/portal/staff/login", data={"csrf": csrf, "staff_id": "PO01", "code": code})
    return client


def _measure(pairs: list[tuple[TestClient, str]], n: int) -> tuple[float, float, int]:
    for client, url in pairs[:3]:
        client.get(url)  # warm-up: template compilation, first queries, month footers
    times, sizes = [], []
    for i in range(n):
        client, url = pairs[i % len(pairs)]
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        sizes.append(len(response.content))
    times.sort()
    p95 = times[max(0, round(0.95 * len(times)) - 1)]
    return statistics.median(times), p95, round(statistics.median(sizes))


def run(scale: str) -> None:
    connections = SCALES.get(scale, SCALES["quick"])
    n = REQUESTS.get(scale, REQUESTS["quick"])
    with tempfile.TemporaryDirectory(prefix="bench-portal-") as tmp:
        app = bootstrap(CoreSettings(home=Path(tmp) / "home"))
        app.init()
        t0 = time.perf_counter()
        households = _households(app, connections)
        print(
            f"prepared {connections:,} connections, {len(households)} households with 24 "
            f"months in {time.perf_counter() - t0:.0f} s"
        )
        web = app.web_app()
        clients = [(_signed_in(app, web, customer), ean) for ean, customer in households]
        audit_before = app.audit.count()
        rows = [
            ("baseline: sign-in page", *_measure([(c, "/portal/login") for c, _ in clients], n)),
            (
                "chart page, by month",
                *_measure([(c, f"/portal/connections/{e}") for c, e in clients], n),
            ),
            (
                "chart page, by day",
                *_measure(
                    [(c, f"/portal/connections/{e}?view=day") for c, e in clients], max(10, n // 5)
                ),
            ),
        ]
        audited = app.audit.count() - audit_before
        officer = _officer(app, web, AUDIT_ENTRIES.get(scale, AUDIT_ENTRIES["quick"]))
        entries = app.audit.count()
        t0 = time.perf_counter()
        app.audit_checks.full()  # what `meterkast audit verify` or the page's button records
        full_ms = (time.perf_counter() - t0) * 1000
        rows.append((f"full verification ({entries // 1000}k)", full_ms, full_ms, 0))
        page = "/portal/officer/audit"
        rows.append((f"officer audit page ({entries // 1000}k)", *_measure([(officer, page)], 20)))
        _officer(app, web, app.audit.count() + NEW_SINCE_FULL).close()
        rows.append((f"  +{NEW_SINCE_FULL // 1000}k since full run",
                     *_measure([(officer, page)], 20)))  # fmt: skip
        officer.close()
        for client, _ in clients:
            client.close()
        app.close()
    print(f"{'page':<26} {'median ms':>10} {'p95 ms':>8} {'median bytes':>13}")
    for name, median, p95, size in rows:
        print(f"{name:<26} {median:>10.1f} {p95:>8.1f} {size:>13,}")
    month_p95 = rows[1][2]
    verdict = "meets" if month_p95 <= TARGET_P95_MS else "misses"
    print(
        f"target: month view p95 <= {TARGET_P95_MS:.0f} ms -> {verdict} ({month_p95:.1f} ms); "
        f"{month_p95 / max(rows[0][2], 0.001):.1f}x the baseline p95 ({n} requests each); "
        f"{audited:,} audit entries appended during the run"
    )
