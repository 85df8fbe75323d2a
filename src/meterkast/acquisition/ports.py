"""What the head-end needs from outside: the meter link and the interval-grant lookup."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol

from meterkast.acquisition.domain import Progress, ProgressUpdate, SecurityEvent
from meterkast.kernel.codes import ReadOutcome


class MeterLink(Protocol):
    """The wide-area link to the meters: one secured frame out, one back.

    Raises ``meterkast.fleet.service.MeterSilentError`` (a DomainError) when no answer comes.
    """

    def exchange(self, meter_id: str, frame: bytes) -> bytes: ...


class IntervalGrantLookup(Protocol):
    """Which connections have an active grant for interval data (15 min / hourly) on a day."""

    def eans_with_interval_grant(self, day: date) -> frozenset[str]: ...


class NoIntervalGrants:
    """Until the access context lands nobody holds an interval grant: read daily values only."""

    def eans_with_interval_grant(self, day: date) -> frozenset[str]:
        return frozenset()


class HeadEndStore(Protocol):
    """The head-end's own state: progress per meter and security events."""

    def progress(self) -> dict[str, Progress]: ...

    def outcomes(self) -> dict[str, ReadOutcome]: ...

    def record(self, updates: Sequence[ProgressUpdate]) -> None: ...

    def add_security_events(self, events: Iterable[SecurityEvent]) -> None: ...
