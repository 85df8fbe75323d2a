"""The event loop's kept SQLite connection: reused by reads and audit appends in the loop's
thread, never taken from the pool's count, never used outside a loop or on PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import read_cursor
from meterkast.db.engine import create_engine
from meterkast.db.loop import loop_connection


def test_a_loop_thread_keeps_one_connection_and_the_pool_stays_free(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert loop_connection(engine) is None  # no running loop here: the pool serves

    async def in_loop() -> tuple[object, object, list[object]]:
        first, again = loop_connection(engine), loop_connection(engine)
        with read_cursor(engine) as cursor:
            cursor.execute("PRAGMA foreign_keys")
            pragmas = cursor.fetchall()
        return first, again, pragmas

    first, again, pragmas = asyncio.run(in_loop())
    assert first is not None and first is again
    assert pragmas == [(1,)]  # taken from the pool once: it has the engine's pragmas
    assert engine.pool.checkedout() == 0  # detached: not held against the pool

    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(asyncio.run(in_loop())[0]))
    thread.start()
    thread.join()
    assert other[0] is not None and other[0] is not first  # one per loop thread

    engine.dispose()
    assert asyncio.run(in_loop())[0] is not first  # a disposed engine starts afresh
    engine.dispose()


def test_postgresql_and_in_memory_databases_are_never_kept() -> None:
    for url in ("postgresql://postgres@127.0.0.1:5432/test", "sqlite://"):
        engine = create_engine(url)

        async def in_loop(engine: Engine = engine) -> object:
            return loop_connection(engine)

        assert asyncio.run(in_loop()) is None  # decided before any connection is made
        engine.dispose()
