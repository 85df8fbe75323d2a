"""Where the time of one API history request goes, measured in-process, stage by stage.

Also the ASGI factory ``create_prepared`` used by ``bench/api.py``: the real application with
the readings port answering from memory (each connection's rows read once from the real store),
so the served figures show the request path apart from the readings store.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import FastAPI

from meterkast.access.adapters.facts import SqlFacts
from meterkast.access.adapters.readings import StoreReadings
from meterkast.access.days import DaySet
from meterkast.access.policy import Action, Resource, decide
from meterkast.access.ports import ReadingsQuery
from meterkast.access.service import AccessService, Disclosure
from meterkast.api.app import create_app
from meterkast.api.encode import readings_json
from meterkast.bootstrap import App, bootstrap
from meterkast.kernel.codes import Product
from meterkast.settings import CoreSettings

Rows = Sequence[Mapping[str, object]]


class PreparedReadings:
    """The readings port from memory: the first read of a connection goes to the real store."""

    def __init__(self, real: ReadingsQuery) -> None:
        self._real = real
        self._rows: dict[tuple[str, str, str], Rows] = {}

    def daily(self, ean: str, days: DaySet) -> Rows:
        key = (ean, "daily", repr(days))
        if key not in self._rows:
            self._rows[key] = self._real.daily(ean, days)
        return self._rows[key]

    def interval(self, ean: str, days: DaySet) -> Rows:
        key = (ean, "interval", repr(days))
        if key not in self._rows:
            self._rows[key] = self._real.interval(ean, days)
        return self._rows[key]


def prepared_access(app: App) -> AccessService:
    """The instance's access service, its readings port answering from memory."""

    def product_of(ean: str) -> Product:
        return app.grid.get_connection(ean).product

    store = StoreReadings(app.readings, lru_cache(maxsize=65_536)(product_of))
    return AccessService(grid=app.grid, parties=app.parties, grants=app.grants,
                         cases=app.cases, readings=PreparedReadings(store),
                         audit=app.audit_trail, register=app.register_service,
                         clock=app.clock, facts=SqlFacts(app.engine))  # fmt: skip


def create_prepared() -> FastAPI:
    """``uvicorn --factory bench.api_stages:create_prepared`` (METERKAST_HOME set)."""
    app = bootstrap()
    services = replace(app.api_services(), access=prepared_access(app))
    return create_app(services, app.portal_settings(app.tokens))


def _median_us(work: Callable[[int], object], n: int) -> tuple[float, float]:
    work(0)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        work(i)
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1e6, times[int(n * 0.95)] * 1e6


def _scope(path: str, token: str) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
            "scheme": "http", "path": route, "raw_path": route.encode(),
            "query_string": query.encode(), "root_path": "", "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80), "state": {},
            "headers": [(b"host", b"127.0.0.1"),
                        (b"authorization", f"Bearer {token}".encode())]}  # fmt: skip


def _asgi_timer(web: Any, requests: list[tuple[str, str]]) -> Callable[[int], object]:
    loop = asyncio.new_event_loop()
    scopes = [_scope(p, t) for p, t in requests]

    async def call(scope: dict[str, Any]) -> int:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await web(dict(scope), receive, send)
        return int(sent[0]["status"])

    for scope in scopes:  # warm: every connection's rows read once
        loop.run_until_complete(call(scope))

    def one(i: int) -> object:
        status = loop.run_until_complete(call(scopes[i % len(scopes)]))
        if status != 200:
            raise RuntimeError(f"in-process request answered {status}")
        return status

    return one


def _awaited_audit(app: App, claims: Sequence[Any], resources: Sequence[Resource],
                   decisions: Sequence[Any], now: Any) -> Callable[[int], object]:  # fmt: skip
    loop = asyncio.new_event_loop()
    k = len(claims)

    async def append(i: int) -> int:
        return await app.audit_trail.record_soon(
            principal=claims[i % k], action=Action.READ_DAILY, resource=resources[i % k],
            decision=decisions[i % k], at=now)  # fmt: skip

    def one(i: int) -> object:
        return loop.run_until_complete(append(i))

    return one


def stages(home: Path, requests: list[tuple[str, str]], n: int) -> list[tuple[str, float, float]]:
    """(stage, median µs, p95 µs) for the request path on the prepared instance."""
    import bench.bare_app

    app = bootstrap(CoreSettings(home=home))
    access = prepared_access(app)
    parsed = []
    for path, token in requests:
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        first, last = date.fromisoformat(query["from"]), date.fromisoformat(query["to"])
        parsed.append((url.path.split("/")[4], token, first, last))
    claims = [app.tokens.verify(t) for _, t, _, _ in parsed]
    facts = [access.facts(e) for e, _, _, _ in parsed]
    now, bases = app.clock(), app.register_service.legal_bases()
    resources = [Resource(e, f, la) for e, _, f, la in parsed]
    decisions = [decide(c, Action.READ_DAILY, r, "A.1", now, f, bases)
                 for c, r, f in zip(claims, resources, facts, strict=True)]  # fmt: skip
    store = StoreReadings(app.readings, lambda _ean: Product.ELECTRICITY)
    rows = [store.daily(e, d.days) for (e, _, _, _), d in zip(parsed, decisions, strict=True)]
    composed = AccessService(grid=app.grid, parties=app.parties, grants=app.grants,
                             cases=app.cases, readings=store, audit=app.audit_trail,
                             register=app.register_service, clock=app.clock)  # fmt: skip
    k = len(parsed)
    out = [
        ("token check (remembered) + revocation lookup",
         *_median_us(lambda i: app.tokens.verify(parsed[i % k][1]), n)),
        ("  of which the revocation lookup",
         *_median_us(lambda i: app.revocations.is_revoked(claims[i % k].token_id), n)),
        ("facts: one indexed query", *_median_us(lambda i: access.facts(parsed[i % k][0]), n)),
        ("  composed from the services (before)",
         *_median_us(lambda i: composed.facts(parsed[i % k][0]), n)),
        ("decision (pure)", *_median_us(lambda i: decide(
            claims[i % k], Action.READ_DAILY, resources[i % k], "A.1", now, facts[i % k],
            bases), n)),
        ("audit append (one request, group commit)", *_median_us(lambda i: app.audit_trail.record(
            principal=claims[i % k], action=Action.READ_DAILY, resource=resources[i % k],
            decision=decisions[i % k], at=now), n)),
        ("readings read, real store (decoded serving columns)",
         *_median_us(lambda i: store.daily(parsed[i % k][0], decisions[i % k].days), min(n, 60))),
        ("730 rows -> JSON bytes", *_median_us(lambda i: readings_json(
            parsed[i % k][0], Disclosure(decisions[i % k], rows[i % k])), n)),
        ("audit append awaited in the loop (record_soon)",
         *_median_us(_awaited_audit(app, claims, resources, decisions, now), n)),
        ("whole request in-process, readings prepared",
         *_median_us(_asgi_timer(create_app(replace(app.api_services(), access=access)),
                                 requests), n)),
        ("  same through the FastAPI routes (reference)",
         *_median_us(_asgi_timer(create_app(replace(app.api_services(), access=access),
                                            readings_in_loop=False), requests), n)),
        ("bare FastAPI endpoint in-process",
         *_median_us(_asgi_timer(bench.bare_app.app, [("/bare", "-")]), n)),
    ]  # fmt: skip
    app.close()
    return out
