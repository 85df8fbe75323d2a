"""One process at a time drives the simulated fleet.

Meters live in the instance as sealed state; a head-end run loads them, talks to them for
minutes and seals them back. A key renewal in a second process meanwhile would load the same
meters, change their keys and counters, and one of the two would then write over the other's
state. A real meter serialises this itself; the simulation does it with an advisory lock on a
file in the instance folder, refused at once (not waited for) with a clear message.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from meterkast.kernel.errors import DomainError


class FleetBusyError(DomainError):
    """Another process holds the fleet (a read cycle, a key renewal or a fleet build)."""

    code = "fleet-busy"


class FleetLock:
    """An exclusive ``flock`` on ``path``, re-entrant within this process."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._depth = 0

    def __repr__(self) -> str:
        return f"FleetLock({self._path.name}, held={self._depth > 0})"

    @contextmanager
    def held(self) -> Iterator[None]:
        if self._depth == 0:
            self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise FleetBusyError(
                    "the meter fleet is in use by another process (a read cycle, key renewal"
                    " or fleet build); run this again when that has finished"
                ) from None
            self._fd = fd
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
                os.close(self._fd)
                self._fd = None
