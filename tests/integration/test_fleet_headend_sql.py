"""The fleet's sealed device memory and the head-end's state on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from meterkast.acquisition.adapters.memory_sink import InMemoryReadingsSink
from meterkast.acquisition.adapters.sql import SqlHeadEndStore
from meterkast.acquisition.domain import Progress, ProgressUpdate, SecurityEvent
from meterkast.acquisition.ports import NoIntervalGrants
from meterkast.acquisition.service import HeadEnd
from meterkast.dlms import xdlms
from meterkast.dlms.clock import local_midnight
from meterkast.fleet.adapters.device_storage import DeviceStorage, DeviceStorageError
from meterkast.fleet.adapters.sql import SqlFleetStore
from meterkast.fleet.service import FleetService
from meterkast.grid.domain import Connection, GridArea
from meterkast.grid.service import GridService
from meterkast.kernel.codes import FrameRejection, KeyType, ReadOutcome
from tests.fake_crypto import FakeCryptoServer
from tests.fleet_world import AREA, ean, household_connections

DAY = date(2026, 3, 1)


class Clock:
    def __init__(self) -> None:
        self.now = local_midnight(DAY) + timedelta(hours=2)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def grid(engine: Engine) -> GridService:
    service = GridService(engine)
    service.add_grid_area(GridArea(AREA, "Zwolle"))
    for c in household_connections(1, solar=True) + household_connections(2, gas=False):
        service.add_connection(c)
    return service


def _fleet(engine: Engine, folder: Path, crypto: FakeCryptoServer, clock: Clock) -> FleetService:
    return FleetService(SqlFleetStore(engine), lambda: DeviceStorage.in_folder(folder),
                        lambda: crypto, clock)  # fmt: skip


def _connections(grid: GridService) -> Iterator[Connection]:
    return iter(grid.list_connections())


def test_fleet_memory_is_sealed_and_survives_sessions(
    engine: Engine, grid: GridService, tmp_path: Path
) -> None:
    crypto, clock = FakeCryptoServer(), Clock()
    fleet = _fleet(engine, tmp_path / "fleet", crypto, clock)
    built = fleet.build(_connections(grid))
    assert (built.created, built.existing, built.with_gas) == (2, 0, 1)
    assert fleet.build(_connections(grid)).existing == 2
    assert (tmp_path / "fleet" / "device-root.key").stat().st_mode & 0o077 == 0
    state = fleet.state_of("EKFM0000000001")
    assert state.keys.encryption == crypto.meters["EKFM0000000001"].keys[KeyType.ENCRYPTION]
    assert state.gas_serial == "GKFM0000000001" and state.keys.gas_encryption
    sealed = SqlFleetStore(engine).load(["EKFM0000000001"])["EKFM0000000001"]
    assert state.keys.encryption not in sealed and b"EKFM" not in sealed

    session = crypto.session("EKFM0000000001")
    with fleet.open_link() as link:
        request = session.protect(xdlms.encode_get_request(1, [xdlms.GetItem(xdlms.EQUIPMENT_ID)]))
        answer = session.unprotect(link.exchange("EKFM0000000001", request))
    assert xdlms.decode_get_response(answer) == (1, [b"EKFM0000000001"])
    again = fleet.state_of("EKFM0000000001")
    assert again.invocation_counter == 1
    assert again.captured_until == datetime(2026, 3, 1, 1, 0, tzinfo=UTC)

    other = _fleet(engine, tmp_path / "elsewhere", crypto, clock)
    with pytest.raises(DeviceStorageError):
        other.state_of("EKFM0000000001")


def test_head_end_state_round_trips(engine: Engine) -> None:
    store = SqlHeadEndStore(engine)
    at = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    store.record([
        ProgressUpdate("E1", ReadOutcome.STORED, at, Progress(DAY, (10, 20, 3_000_000_000, 4))),
        ProgressUpdate("G1", ReadOutcome.STORED, at, Progress(DAY, (77,))),
        ProgressUpdate("E2", ReadOutcome.NO_RESPONSE, at, None),
    ])  # fmt: skip
    later = at + timedelta(days=1)
    store.record([
        ProgressUpdate("E1", ReadOutcome.REJECTED, later, None),
        ProgressUpdate("G1", ReadOutcome.STORED, later, Progress(DAY + timedelta(1), (80,))),
    ])  # fmt: skip
    assert store.progress() == {
        "E1": Progress(DAY, (10, 20, 3_000_000_000, 4)),
        "G1": Progress(DAY + timedelta(days=1), (80,)),
    }
    assert store.outcomes() == {"E1": ReadOutcome.REJECTED, "G1": ReadOutcome.STORED,
                                "E2": ReadOutcome.NO_RESPONSE}  # fmt: skip
    event = SecurityEvent("E1", later, FrameRejection.REPLAY, "ab" * 32)
    store.add_security_events([event])
    assert store.security_events("E1") == [event]
    assert store.security_events("E2") == []


def test_nightly_cycle_through_the_stores(
    engine: Engine, grid: GridService, tmp_path: Path
) -> None:
    crypto, clock, sink = FakeCryptoServer(), Clock(), InMemoryReadingsSink()
    fleet = _fleet(engine, tmp_path / "fleet", crypto, clock)
    fleet.build(_connections(grid))
    head_end = HeadEnd(lambda: _connections(grid), lambda: crypto, fleet.open_link,
                       lambda: sink, SqlHeadEndStore(engine), NoIntervalGrants(),
                       clock)  # fmt: skip
    first = head_end.run(DAY, DAY)
    assert first.outcomes[ReadOutcome.STORED] == 2
    clock.now += timedelta(days=4)
    report = head_end.run(DAY + timedelta(days=4), DAY + timedelta(days=4))
    assert report.electricity_rows == 8 and report.gas_rows == 4
    assert sorted(d for (e, d) in sink.electricity if e == ean(2)) == [
        DAY + timedelta(days=k) for k in range(5)
    ]
    assert fleet.state_of("EKFM0000000002").invocation_counter == 2
