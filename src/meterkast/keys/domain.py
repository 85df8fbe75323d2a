"""Key lifecycle rules, pure: which keys a meter has, how a key's status may change, ages.

A key is NEW (stored, maybe transferred, not yet proven on the meter), ACTIVE (in use),
EXPIRED (replaced) or WITHDRAWN (a NEW key the meter never took). Per meter and key type there
is at most one NEW and one ACTIVE key.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from meterkast.kernel.codes import KeyStatus, KeyType, MeterType
from meterkast.kernel.errors import ConflictError, DomainError, InvalidValueError

KEY_SET: dict[MeterType, tuple[KeyType, ...]] = {
    MeterType.ELECTRICITY: (KeyType.MASTER, KeyType.AUTHENTICATION, KeyType.ENCRYPTION),
    MeterType.GAS: (KeyType.MASTER, KeyType.ENCRYPTION),
}
# Yearly renewal order: the authentication key first, then the encryption key. The master
# key wraps the transfers and stays.
ROTATED: tuple[KeyType, ...] = (KeyType.AUTHENTICATION, KeyType.ENCRYPTION)

_NEXT: dict[KeyStatus, frozenset[KeyStatus]] = {
    KeyStatus.NEW: frozenset({KeyStatus.ACTIVE, KeyStatus.WITHDRAWN}),
    KeyStatus.ACTIVE: frozenset({KeyStatus.EXPIRED}),
    KeyStatus.EXPIRED: frozenset(),
    KeyStatus.WITHDRAWN: frozenset(),
}


class KeyLifecycleError(ConflictError):
    """A key status change or key set the lifecycle does not allow."""

    code = "key-lifecycle"


class MeterKeysLockedError(ConflictError):
    """Another process is changing this meter's keys."""

    code = "meter-keys-locked"


class MasterKeyError(DomainError):
    """The master key is missing, malformed or not private enough."""

    code = "master-key"


def rotated_types(meter_type: MeterType) -> tuple[KeyType, ...]:
    return tuple(k for k in ROTATED if k in KEY_SET[meter_type])


def check_transition(old: KeyStatus, new: KeyStatus) -> None:
    if new not in _NEXT[old]:
        raise KeyLifecycleError(f"a key cannot go from {old.value} to {new.value}")


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """One stored key; ``wrapped`` is the key wrapped under the master key."""

    id: int
    key_type: KeyType
    status: KeyStatus
    wrapped: bytes
    created_at: datetime
    activated_at: datetime | None = None
    retired_at: datetime | None = None

    def __repr__(self) -> str:
        return f"KeyRecord({self.id}, {self.key_type.value}, {self.status.value})"

    def moved_to(self, status: KeyStatus, now: datetime) -> KeyRecord:
        check_transition(self.status, status)
        if status is KeyStatus.ACTIVE:
            return replace(self, status=status, activated_at=now)
        return replace(self, status=status, retired_at=now)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """A meter's keys, in any status, with the one-NEW-one-ACTIVE invariant checked."""

    meter_id: str
    meter_type: MeterType
    records: tuple[KeyRecord, ...]

    def __post_init__(self) -> None:
        seen: set[tuple[KeyType, KeyStatus]] = set()
        for record in self.records:
            if record.key_type not in KEY_SET[self.meter_type]:
                raise KeyLifecycleError(
                    f"a {self.meter_type.value} meter has no {record.key_type.value} key"
                )
            slot = (record.key_type, record.status)
            if record.status in (KeyStatus.NEW, KeyStatus.ACTIVE) and slot in seen:
                raise KeyLifecycleError(
                    f"meter {self.meter_id} would have two {record.status.value} "
                    f"{record.key_type.value} keys"
                )
            seen.add(slot)

    def _one(self, key_type: KeyType, status: KeyStatus) -> KeyRecord | None:
        for record in self.records:
            if record.key_type is key_type and record.status is status:
                return record
        return None

    def active(self, key_type: KeyType) -> KeyRecord | None:
        return self._one(key_type, KeyStatus.ACTIVE)

    def pending(self, key_type: KeyType) -> KeyRecord | None:
        return self._one(key_type, KeyStatus.NEW)

    def pending_types(self) -> tuple[KeyType, ...]:
        return tuple(k for k in KEY_SET[self.meter_type] if self.pending(k) is not None)

    def with_record(self, record: KeyRecord) -> KeyRing:
        return replace(self, records=(*self.records, record))

    def _changed(self, changes: list[KeyRecord]) -> tuple[KeyRing, list[KeyRecord]]:
        by_id = {c.id: c for c in changes}
        ring = replace(self, records=tuple(by_id.get(r.id, r) for r in self.records))
        return ring, changes

    def activate(self, key_type: KeyType, now: datetime) -> tuple[KeyRing, list[KeyRecord]]:
        """NEW becomes ACTIVE, the ACTIVE one EXPIRED; return the ring and changed records."""
        new = self.pending(key_type)
        if new is None:
            raise KeyLifecycleError(f"meter {self.meter_id} has no new {key_type.value} key")
        old = self.active(key_type)
        changes = [] if old is None else [old.moved_to(KeyStatus.EXPIRED, now)]
        changes.append(new.moved_to(KeyStatus.ACTIVE, now))
        return self._changed(changes)

    def withdraw(self, key_type: KeyType, now: datetime) -> tuple[KeyRing, list[KeyRecord]]:
        new = self.pending(key_type)
        if new is None:
            raise KeyLifecycleError(f"meter {self.meter_id} has no new {key_type.value} key")
        return self._changed([new.moved_to(KeyStatus.WITHDRAWN, now)])


_AGE = re.compile(r"^\s*(\d+)\s*([dwmy])\s*$")


@dataclass(frozen=True, slots=True)
class Age:
    """An age like ``12m``: days, weeks, calendar months or years."""

    amount: int
    unit: str

    @classmethod
    def parse(cls, text: str) -> Age:
        match = _AGE.match(text.lower())
        if match is None:
            raise InvalidValueError(f"age {text!r} is not like 30d, 6w, 12m or 1y")
        return cls(int(match.group(1)), match.group(2))

    def before(self, now: datetime) -> datetime:
        """The moment this age before ``now`` (months clamp to the month's last day)."""
        if self.unit in "dw":
            return now - timedelta(days=self.amount * (7 if self.unit == "w" else 1))
        months = self.amount * (12 if self.unit == "y" else 1)
        index = now.year * 12 + now.month - 1 - months
        year, month = divmod(index, 12)
        day = min(now.day, calendar.monthrange(year, month + 1)[1])
        return now.replace(year=year, month=month + 1, day=day)
