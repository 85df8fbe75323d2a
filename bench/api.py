"""A customer's 24-month daily history through the API: requests/s and latency.

Each request pays the full path: bearer-token check (with the revocation lookup), access decision
(contracts, grants, cases in one query), an audit-log append (group commit), the readings store's
query and the JSON answer. Baseline in the same run: a bare FastAPI JSON endpoint served by the
same uvicorn settings (uvloop + httptools, one worker) and driven by the same closed-loop client;
the issue names the plain-function one (``/bare``), and since the readings path is now answered in
the event loop an ``async`` one (``/bare-async``) is printed beside it. The bare and the history
servers run side by side and are driven in alternating rounds (this machine's speed drifts by
1.5x within minutes, so back-to-back runs of 15 s each gave ratios from 35 % to 47 % for the same
code); the server's own CPU time per request is printed too. A third server runs the
same application with the readings port answering from memory, so the request path is seen apart
from the store; a fourth serves one recorded real answer's bytes from the bare app (an async
endpoint doing no work: what moving an answer of the real size costs this server and client); then
the in-process breakdown per stage (``bench/api_stages.py``). Targets (issue 5): at least 40 % of
the bare throughput and p95 <= 25 ms.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.api_stages import stages
from meterkast.bootstrap import bootstrap
from meterkast.fleet.history import electricity_history
from meterkast.fleet.service import plan_meters
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import MeterKind, Product, ReadingChoice, Role
from meterkast.settings import CoreSettings

SCALES = {"quick": 2_000, "full": 100_000}
CUSTOMERS = 200  # distinct households queried, each with 24 months of readings
SECONDS = {"quick": 5.0, "full": 15.0}  # per measurement (the rounds of one add up to it)
ROUNDS = {"quick": 2, "full": 5}  # bare and history alternate (see _interleaved)
CLIENTS = 4  # concurrent keep-alive connections (2 processes x 2 threads)
# Worker processes of every server in the run (the bare one too): METERKAST_BENCH_API_WORKERS.
WORKERS = int(os.environ.get("METERKAST_BENCH_API_WORKERS", "1"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prepare(home: Path, connections: int) -> list[tuple[str, str]]:
    """An area, 24 months of readings for CUSTOMERS households, and (path, token) pairs."""
    app = bootstrap(CoreSettings(home=home))
    app.init()
    today = local_day(datetime.now(UTC))
    app.area_generator.generate(connections, 42, today)
    chosen, paths = {}, []
    offset = 0
    while len(chosen) < CUSTOMERS and (
        page := app.grid.list_connections(limit=2000, offset=offset)
    ):
        offset += len(page)
        for c in page:
            running = app.parties.contract_end_register(c.ean, today)
            if (c.product is Product.ELECTRICITY and c.meter is not None
                    and c.meter.kind is MeterKind.SMART and running is not None
                    and c.reading_choice(today) is ReadingChoice.STANDARD):  # fmt: skip
                chosen[c.ean] = (c, running.customer_id)
            if len(chosen) >= CUSTOMERS:
                break
    first = today.replace(day=1) - timedelta(days=730)
    plans = plan_meters(c for c, _ in chosen.values())
    by_ean = {c.ean: c for c, _ in chosen.values()}
    app.readings.write_history(
        electricity_history(plans, by_ean, first, today - timedelta(days=1), app.clock())
    )
    start = (today - timedelta(days=730)).isoformat()
    for ean, (_, customer) in chosen.items():
        token = app.tokens.issue(Role.CUSTOMER, customer, timedelta(hours=2))
        path = (f"/api/v1/connections/{ean}/readings/daily?from={start}"
                f"&to={today.isoformat()}&purpose=A.1")  # fmt: skip
        paths.append((path, token))
    app.close()
    return paths


def _serve(args: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = Path(env["METERKAST_HOME"]).parent / f"server-{port}.log"
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
        [sys.executable, *args], env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb")
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("server did not start")


def _client(port: int, requests: list[tuple[str, str]], seconds: float,
            out: mp.Queue) -> None:  # fmt: skip
    import threading

    def loop(offset: int, lat: list[float]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port)
        end, i = time.perf_counter() + seconds, offset
        while time.perf_counter() < end:
            path, token = requests[i % len(requests)]
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{response.status} for {path}")
            lat.append(time.perf_counter() - t0)
            i += 1

    latencies: list[list[float]] = [[], []]
    threads = [threading.Thread(target=loop, args=(k * 7, latencies[k])) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.put(latencies[0] + latencies[1])


def _fetch(port: int, path: str, token: str) -> bytes:
    """One real answer's body (recorded for the transfer baseline)."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"{response.status} for {path}")
        return body
    finally:
        conn.close()


def _latencies(port: int, requests: list[tuple[str, str]], seconds: float) -> list[float]:
    """Every request's latency (s) of ``seconds`` of closed-loop load by CLIENTS clients."""
    queue: mp.Queue = mp.Queue()
    shares = [requests[k::2] or requests for k in range(CLIENTS // 2)]
    workers = [mp.Process(target=_client, args=(port, share, seconds, queue)) for share in shares]
    for w in workers:
        w.start()
    latencies = [x for _ in workers for x in queue.get()]
    for w in workers:
        w.join()
    return latencies


def _figures(latencies: list[float], seconds: float) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p95 ms)."""
    ordered = sorted(latencies)
    rps = len(ordered) / seconds
    return rps, statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95)] * 1000


def _drive(
    port: int, requests: list[tuple[str, str]], seconds: float
) -> tuple[float, float, float]:
    return _figures(_latencies(port, requests, seconds), seconds)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _interleaved(
    bare: tuple[int, int],
    history: tuple[int, int],
    requests: list[tuple[str, str]],
    rounds: int,
    seconds: float,
) -> tuple[
    tuple[float, float, float], tuple[float, float, float], list[float], tuple[float, float]
]:
    """The sync bare endpoint and the history alternately, in ``rounds`` rounds that add up
    to ``seconds`` for each, so both see the same machine (this one's speed drifts by 1.5x
    within minutes): each one's figures over all its rounds, the per-round throughput ratios,
    and each server's CPU time per request (one worker: the server process itself)."""
    bare_lat: list[float] = []
    history_lat: list[float] = []
    ratios: list[float] = []
    cpu = [0.0, 0.0]
    each = seconds / rounds
    for _ in range(rounds):
        got = []
        for k, ((port, pid), work, into) in enumerate(
            ((bare, [("/bare", "-")], bare_lat), (history, requests, history_lat))
        ):
            before = _cpu_seconds(pid)
            latencies = _latencies(port, work, each)
            cpu[k] += _cpu_seconds(pid) - before
            into += latencies
            got.append(len(latencies))
        ratios.append(got[1] / got[0])
    total = seconds
    per_request = (cpu[0] / len(bare_lat) * 1e6, cpu[1] / len(history_lat) * 1e6)
    return _figures(bare_lat, total), _figures(history_lat, total), ratios, per_request


def run(scale: str) -> None:
    connections = SCALES.get(scale, SCALES["quick"])
    seconds = SECONDS.get(scale, SECONDS["quick"])
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        home = Path(tmp) / "home"
        t0 = time.perf_counter()
        requests = _prepare(home, connections)
        print(f"prepared {connections:,} connections, {len(requests)} customers with 24 months "
              f"in {time.perf_counter() - t0:.0f} s")  # fmt: skip
        answer = Path(tmp) / "answer.json"
        env = {**os.environ, "METERKAST_HOME": str(home)}
        env.pop("METERKAST_DATABASE_URL", None)
        flags = ["--loop", "uvloop", "--http", "httptools", "--log-level", "warning",
                 "--workers", str(WORKERS)]  # fmt: skip
        port = _free_port()
        bare = _serve(["-m", "uvicorn", "bench.bare_app:app", "--port", str(port), *flags],
                      env, port)  # fmt: skip
        store_port = _free_port()
        store = _serve(["-m", "uvicorn", "--factory", "meterkast.api.asgi:create", "--port",
                        str(store_port), *flags], env, store_port)  # fmt: skip
        try:
            _drive(port, [("/bare", "-")], 1.0)  # warm-up
            _drive(store_port, requests, 2.0)  # warm-up: tokens verified, files opened
            bare_figures, history, ratios, cpu = _interleaved(
                (port, bare.pid), (store_port, store.pid), requests, ROUNDS[scale], seconds
            )
            bare_async = _drive(port, [("/bare-async", "-")], seconds)
            answer.write_bytes(_fetch(store_port, *requests[0]))
        finally:
            for server in (bare, store):
                server.terminate()
                server.wait()
        port = _free_port()
        prepared = _serve(["-m", "uvicorn", "--factory", "bench.api_stages:create_prepared",
                           "--port", str(port), *flags], env, port)  # fmt: skip
        try:
            _drive(port, requests, 6.0)  # warm-up: every household's rows read once
            prepared_figures = _drive(port, requests, seconds)
        finally:
            prepared.terminate()
            prepared.wait()
        port = _free_port()
        transfer = _serve(["-m", "uvicorn", "bench.bare_app:app", "--port", str(port), *flags],
                         {**env, "METERKAST_BENCH_ANSWER": str(answer)}, port)  # fmt: skip
        try:
            _drive(port, [("/answer", "-")], 1.0)
            transfer_rps, transfer_p50, transfer_p95 = _drive(port, [("/answer", "-")], seconds)
        finally:
            transfer.terminate()
            transfer.wait()
        breakdown = stages(home, requests, 300 if scale == "full" else 200)
    bare_rps, bare_p50, bare_p95 = bare_figures
    rps, p50, p95 = history
    prepared_rps, prepared_p50, prepared_p95 = prepared_figures
    print(f"uvicorn, uvloop + httptools, {WORKERS} worker(s) for every server; bare and "
          f"history alternate, {ROUNDS[scale]} rounds, {seconds:.0f} s in all each")  # fmt: skip
    async_rps, async_p50, async_p95 = bare_async
    print(f"bare FastAPI endpoint    {bare_rps:8,.0f} req/s   p50 {bare_p50:6.2f} ms   "
          f"p95 {bare_p95:6.2f} ms   (sync def: the issue's baseline)")  # fmt: skip
    print(f"bare, async endpoint     {async_rps:8,.0f} req/s   p50 {async_p50:6.2f} ms   "
          f"p95 {async_p95:6.2f} ms   (async def: no thread-pool hand-off)")  # fmt: skip
    print(f"24-month history via API {rps:8,.0f} req/s   p50 {p50:6.2f} ms   p95 {p95:6.2f} ms")
    print(f"ratio to bare            {rps / bare_rps:8.1%}   (target >= 40 %); "
          f"p95 target <= 25 ms: {'met' if p95 <= 25 else 'not met'}")  # fmt: skip
    print(f"  per round              {', '.join(f'{r:.1%}' for r in ratios)}")
    if WORKERS == 1:
        print(f"server CPU per request   bare {cpu[0]:6.0f} µs, history {cpu[1]:6.0f} µs "
              f"({cpu[0] / cpu[1]:.1%}: the ratio the server's own work allows)")  # fmt: skip
    print(f"ratio to bare async      {rps / async_rps:8.1%}   (the stricter baseline)")
    print(
        f"same answer's bytes, no work {transfer_rps:8,.0f} req/s   p50 {transfer_p50:6.2f} ms   "
        f"p95 {transfer_p95:6.2f} ms   ({transfer_rps / bare_rps:.1%} of bare: moving an answer "
        "of this size is not what limits the real path)"
    )
    print(f"same, readings prepared  {prepared_rps:8,.0f} req/s   p50 {prepared_p50:6.2f} ms   "
          f"p95 {prepared_p95:6.2f} ms   ({prepared_rps / bare_rps:.1%} of bare, "
          f"{prepared_rps / async_rps:.1%} of bare async; the path without the store)")  # fmt: skip
    print("in-process, one request at a time (median / p95 in µs):")
    for stage, median, p95_us in breakdown:
        print(f"  {stage:50s} {median:8.0f} {p95_us:8.0f}")
