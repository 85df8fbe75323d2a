"""The fleet is driven by one process at a time: a second one is refused at once, clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterkast.fleet.adapters.lock import FleetBusyError, FleetLock
from tests.fleet_world import fleet_held_elsewhere


def test_another_process_holding_the_fleet_is_refused_then_released(tmp_path: Path) -> None:
    path = tmp_path / "fleet" / ".lock"
    with (
        fleet_held_elsewhere(path),
        pytest.raises(FleetBusyError, match="in use by another process"),
        FleetLock(path).held(),
    ):
        pass
    with FleetLock(path).held():  # free again once the other process let go
        assert path.exists()


def test_the_lock_is_reentrant_within_one_process(tmp_path: Path) -> None:
    lock = FleetLock(tmp_path / ".lock")
    with lock.held(), lock.held():
        assert "held=True" in repr(lock)
    assert "held=False" in repr(lock)
    with lock.held():  # released completely: it can be taken again
        pass


def test_two_lock_objects_in_one_process_still_exclude_each_other(tmp_path: Path) -> None:
    # flock is per open file: a second opener (like a second App in the same process) is
    # refused as another process would be.
    first, second = FleetLock(tmp_path / ".lock"), FleetLock(tmp_path / ".lock")
    with first.held(), pytest.raises(FleetBusyError), second.held():
        pass
