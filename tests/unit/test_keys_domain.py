"""Key lifecycle rules: allowed status changes, one NEW and one ACTIVE per type, ages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from meterkast.kernel.codes import KeyStatus, KeyType, MeterType
from meterkast.kernel.errors import InvalidValueError
from meterkast.keys.domain import (
    Age,
    KeyLifecycleError,
    KeyRecord,
    KeyRing,
    check_transition,
    rotated_types,
)

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
ALLOWED = {
    (KeyStatus.NEW, KeyStatus.ACTIVE),
    (KeyStatus.NEW, KeyStatus.WITHDRAWN),
    (KeyStatus.ACTIVE, KeyStatus.EXPIRED),
}


@pytest.mark.parametrize("old", list(KeyStatus))
@pytest.mark.parametrize("new", list(KeyStatus))
def test_only_the_lifecycle_moves_are_allowed(old: KeyStatus, new: KeyStatus) -> None:
    if (old, new) in ALLOWED:
        check_transition(old, new)
    else:
        with pytest.raises(KeyLifecycleError):
            check_transition(old, new)


def record(number: int, key_type: KeyType, status: KeyStatus) -> KeyRecord:
    return KeyRecord(number, key_type, status, bytes(24), NOW)


def test_ring_refuses_two_live_keys_of_a_kind_and_foreign_types() -> None:
    with pytest.raises(KeyLifecycleError):
        KeyRing(
            "E1",
            MeterType.ELECTRICITY,
            (record(1, KeyType.MASTER, KeyStatus.NEW), record(2, KeyType.MASTER, KeyStatus.NEW)),
        )
    with pytest.raises(KeyLifecycleError):
        KeyRing("G1", MeterType.GAS, (record(1, KeyType.AUTHENTICATION, KeyStatus.ACTIVE),))
    # Any number of expired keys is fine.
    KeyRing(
        "E1",
        MeterType.ELECTRICITY,
        tuple(record(n, KeyType.ENCRYPTION, KeyStatus.EXPIRED) for n in range(3)),
    )


def test_rotation_order_is_authentication_then_encryption() -> None:
    assert rotated_types(MeterType.ELECTRICITY) == (KeyType.AUTHENTICATION, KeyType.ENCRYPTION)
    assert rotated_types(MeterType.GAS) == (KeyType.ENCRYPTION,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12m", datetime(2025, 3, 31, 12, tzinfo=UTC)),
        ("1m", datetime(2026, 2, 28, 12, tzinfo=UTC)),  # clamped to February's last day
        ("1y", datetime(2025, 3, 31, 12, tzinfo=UTC)),
        ("30d", datetime(2026, 3, 1, 12, tzinfo=UTC)),
        ("2w", datetime(2026, 3, 17, 12, tzinfo=UTC)),
        ("0d", NOW),
    ],
)
def test_ages(text: str, expected: datetime) -> None:
    assert Age.parse(text).before(NOW) == expected


@pytest.mark.parametrize("text", ["", "12", "m", "-1m", "12 months", "1.5y"])
def test_bad_ages(text: str) -> None:
    with pytest.raises(InvalidValueError):
        Age.parse(text)


class KeyRingMachine(RuleBasedStateMachine):
    """Random sequences of add / activate / withdraw keep the invariants, or are refused."""

    def __init__(self) -> None:
        super().__init__()
        self.ring = KeyRing("E1", MeterType.ELECTRICITY, ())
        self.next_id = 1

    @rule(key_type=st.sampled_from(list(KeyType)))
    def add_new(self, key_type: KeyType) -> None:
        candidate = record(self.next_id, key_type, KeyStatus.NEW)
        self.next_id += 1
        if self.ring.pending(key_type) is not None:
            with pytest.raises(KeyLifecycleError):
                self.ring.with_record(candidate)
        else:
            self.ring = self.ring.with_record(candidate)

    @rule(key_type=st.sampled_from(list(KeyType)))
    def activate(self, key_type: KeyType) -> None:
        new, old = self.ring.pending(key_type), self.ring.active(key_type)
        if new is None:
            with pytest.raises(KeyLifecycleError):
                self.ring.activate(key_type, NOW)
            return
        self.ring, changes = self.ring.activate(key_type, NOW)
        assert self.ring.active(key_type) is not None
        assert self.ring.active(key_type).id == new.id  # type: ignore[union-attr]
        assert self.ring.pending(key_type) is None
        if old is not None:
            assert changes[0].id == old.id and changes[0].status is KeyStatus.EXPIRED

    @rule(key_type=st.sampled_from(list(KeyType)))
    def withdraw(self, key_type: KeyType) -> None:
        if self.ring.pending(key_type) is None:
            with pytest.raises(KeyLifecycleError):
                self.ring.withdraw(key_type, NOW)
            return
        active = self.ring.active(key_type)
        self.ring, _ = self.ring.withdraw(key_type, NOW)
        assert self.ring.pending(key_type) is None
        assert self.ring.active(key_type) == active

    @invariant()
    def one_new_and_one_active_per_type(self) -> None:
        for key_type in KeyType:
            for status in (KeyStatus.NEW, KeyStatus.ACTIVE):
                found = [
                    r for r in self.ring.records if r.key_type is key_type and r.status is status
                ]
                assert len(found) <= 1

    @invariant()
    def finished_keys_stay_finished(self) -> None:
        for r in self.ring.records:
            if r.status in (KeyStatus.EXPIRED, KeyStatus.WITHDRAWN):
                assert r.retired_at is not None


TestKeyRingMachine = KeyRingMachine.TestCase
TestKeyRingMachine.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
