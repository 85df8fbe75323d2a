"""The API server's event-loop thread keeps one SQLite connection.

The loop runs a few short statements per request (facts, token revocation, the audit append's
transaction). Through the pool each use costs a checkout and a return, 16 µs together against
2.5 µs for a short statement, so the loop's thread keeps one connection instead.

Tried and left out (docs/decisions/0017): giving the kept connection's WAL checkpoints to a
thread of their own. It removed the loop's rare 5-10 ms checkpoint stalls from the audit
append's mean, but served throughput did not change measurably (four A/B runs).
"""

from __future__ import annotations

import threading
import weakref
from asyncio import _get_running_loop as running_loop  # None outside a loop, never raises
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

_KEPT: weakref.WeakKeyDictionary[Engine, threading.local] = weakref.WeakKeyDictionary()
_GUARD = threading.Lock()


def _keeps(engine: Engine) -> bool:
    """SQLite on a file: its driver starts no transaction for a SELECT and every caller ends
    its own, so nothing stays open between uses. Not PostgreSQL (a network round trip per
    statement outweighs the pool), not an in-memory database (one per connection)."""
    return engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:")


def loop_connection(engine: Engine) -> Any | None:
    """The connection kept for the calling thread while it runs an event loop, or None (not
    in a loop, or not a SQLite file: use the pool).

    Taken from the pool once (so it has the engine's pragmas) and detached from it, so it
    never counts against the pool's size; it closes when its thread ends or once nothing
    refers to it after ``engine.dispose()``.
    """
    if running_loop() is None or not _keeps(engine):
        return None
    local = _KEPT.get(engine)
    if local is None:
        with _GUARD:
            local = _KEPT.get(engine)
            if local is None:
                local = _KEPT[engine] = threading.local()
                sa.event.listen(engine, "engine_disposed", _disposed)
    raw = getattr(local, "raw", None)
    if raw is None:
        raw = engine.raw_connection()
        raw.detach()
        local.raw = raw
    return raw


def _disposed(engine: Engine) -> None:
    """Threads take fresh connections next time."""
    with _GUARD:
        _KEPT.pop(engine, None)
