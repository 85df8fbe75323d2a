"""The customer's 24-month chart page: server time (median, p95) and page weight.

Target: p95 <= 150 ms for the month view. Baseline in the same run: the sign-in page of the
same application (template, session and middleware, no data), so the ratio holds on a busy
machine. The day view (730 bars plus its table) is reported next to it. Requests go through
Starlette's TestClient in-process: ASGI app time without network. Real grid, parties and
grants on SQLite; readings, audit and tokens are the test fakes until the real store is merged.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient
from tests.portal_support import CUSTOMER, EAN, build_portal

from meterkast.db.engine import create_engine
from meterkast.db.migrate import upgrade

TARGET_P95_MS = 150.0


def _measure(client: TestClient, url: str, n: int) -> tuple[float, float, int]:
    client.get(url)  # warm-up: template compilation, first queries
    times, size = [], 0
    for _ in range(n):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
        size = len(response.content)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)], size


def run(scale: str) -> None:
    n = 300 if scale == "full" else 25
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        built = build_portal(engine)
        with TestClient(built.app, base_url="http://localhost", follow_redirects=False) as client:
            login = client.get("/portal/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)  # type: ignore[union-attr]
            client.post(
                "/portal/login",
                data={"csrf": csrf, "customer_id": CUSTOMER, "code": built.codes.issue(CUSTOMER)},
            )
            rows = [
                ("baseline: sign-in page", *_measure(client, "/portal/login", n)),
                ("chart page, by month", *_measure(client, f"/portal/connections/{EAN}", n)),
                (
                    "chart page, by day",
                    *_measure(client, f"/portal/connections/{EAN}?view=day", max(5, n // 5)),
                ),
            ]
        engine.dispose()
    print(f"{'page':<24} {'median ms':>10} {'p95 ms':>8} {'bytes':>9}")
    for name, median, p95, size in rows:
        print(f"{name:<24} {median:>10.1f} {p95:>8.1f} {size:>9,}")
    month_p95 = rows[1][2]
    verdict = "meets" if month_p95 <= TARGET_P95_MS else "misses"
    print(
        f"target: month view p95 <= {TARGET_P95_MS:.0f} ms -> {verdict} ({month_p95:.1f} ms); "
        f"{month_p95 / max(rows[0][2], 0.001):.1f}x the baseline p95 ({n} requests each)"
    )
