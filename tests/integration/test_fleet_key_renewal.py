"""Yearly key renewal against the simulated fleet itself (no fakes), on SQLite and PostgreSQL.

The real crypto-server renews the keys of real simulated meters through ``FleetKeyPort``; the
head-end then reads every meter with the new keys. Changes broken half-way - the meter took the
key but the crypto-server did not switch, or the reverse - recover on the next session.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.acquisition.adapters.memory_sink import InMemoryReadingsSink
from meterkast.acquisition.adapters.sql import SqlHeadEndStore
from meterkast.acquisition.ports import NoIntervalGrants
from meterkast.acquisition.service import HeadEnd
from meterkast.dlms import wrap_key
from meterkast.dlms.clock import local_midnight
from meterkast.fleet.adapters.device_storage import DeviceStorage
from meterkast.fleet.adapters.sql import SqlFleetStore
from meterkast.fleet.keyport import FleetKeyPort, KeyTransferRefusedError
from meterkast.fleet.service import FleetService
from meterkast.grid.domain import GridArea
from meterkast.grid.service import GridService
from meterkast.kernel.codes import KeyStatus, KeyType, ReadOutcome
from meterkast.keys.adapters.master_key import LocalKeyEncryptionProvider
from meterkast.keys.adapters.sql import meter_keys
from meterkast.keys.api import MeterSession
from meterkast.keys.domain import Age
from meterkast.keys.rotation import KeyRotation
from meterkast.keys.service import KeyService
from tests.fleet_world import AREA, ean, household_connections

DAY = date(2026, 3, 1)
YEAR = Age.parse("12m")
E1, G1, E2 = "EKFM0000000001", "GKFM0000000001", "EKFM0000000002"


class Clock:
    def __init__(self) -> None:
        self.now = local_midnight(DAY) + timedelta(hours=2)

    def __call__(self) -> datetime:
        return self.now


class LinkDroppedError(ConnectionError):
    pass


@dataclass
class Breaking:
    """The fleet's port, with the link dropping around chosen transfers."""

    port: FleetKeyPort
    crash: dict[tuple[str, KeyType], str] = field(default_factory=dict)

    def transfer_key(self, meter_id: str, key_type: KeyType, wrapped: bytes) -> None:
        mode = self.crash.pop((meter_id, key_type), None)
        if mode == "before":
            raise LinkDroppedError("the meter never got the key")
        self.port.transfer_key(meter_id, key_type, wrapped)
        if mode == "after":
            raise LinkDroppedError("the meter took the key; the crypto-server never heard")

    def probe(self, meter_id: str, session: MeterSession) -> bool:
        return self.port.probe(meter_id, session)


@dataclass
class Site:
    keys: KeyService
    fleet: FleetService
    head_end: HeadEnd
    sink: InMemoryReadingsSink
    link: Breaking
    clock: Clock
    engine: Engine

    def read(self, day: date) -> dict[ReadOutcome, int]:
        return dict(self.head_end.run(day, day).outcomes)

    def statuses(self, meter_id: str) -> dict[tuple[KeyType, KeyStatus], int]:
        query = (
            sa.select(meter_keys.c.key_type, meter_keys.c.status, sa.func.count())
            .where(meter_keys.c.meter_id == meter_id)
            .group_by(meter_keys.c.key_type, meter_keys.c.status)
        )
        with self.engine.connect() as conn:
            return {(KeyType(k), KeyStatus(s)): n for k, s, n in conn.execute(query)}

    def rotate(self) -> tuple[int, int, int]:
        report = KeyRotation(self.keys, self.link, self.clock).rotate(YEAR)
        self.keys.flush()
        return report.due, report.renewed, report.failed

    def next_day(self, day: date) -> date:
        self.clock.now += timedelta(days=1)
        return day + timedelta(days=1)

    def a_year_later(self) -> date:
        self.clock.now += timedelta(days=400)
        return DAY + timedelta(days=400)


@pytest.fixture
def site(engine: Engine, tmp_path: Path) -> Site:
    grid = GridService(engine)
    grid.add_grid_area(GridArea(AREA, "Zwolle"))
    for c in household_connections(1) + household_connections(2, gas=False):
        grid.add_connection(c)
    clock, sink = Clock(), InMemoryReadingsSink()
    kek = LocalKeyEncryptionProvider(os.urandom(32), "test")
    holder: list[KeyService] = []
    fleet = FleetService(SqlFleetStore(engine), lambda: DeviceStorage.in_folder(tmp_path),
                         lambda: holder[0], clock)  # fmt: skip
    link = Breaking(FleetKeyPort(fleet))
    keys = KeyService(engine, kek, clock, b"MKS\x00\x00\x00\x00\x01", meter_link=link)
    holder.append(keys)
    head_end = HeadEnd(lambda: iter(grid.list_connections()), lambda: keys, fleet.open_link,
                       lambda: sink, SqlHeadEndStore(engine), NoIntervalGrants(),
                       clock)  # fmt: skip
    fleet.build(grid.list_connections())
    site = Site(keys, fleet, head_end, sink, link, clock, engine)
    assert site.read(DAY) == {ReadOutcome.STORED: 2}
    return site


def test_renewal_switches_the_real_meters_and_reading_goes_on(site: Site) -> None:
    before = site.fleet.state_of(E1)
    old = (before.keys.authentication, before.keys.encryption, before.keys.gas_encryption)
    day = site.a_year_later()
    assert site.rotate() == (3, 3, 0)  # two E meters and the gas meter
    after = site.fleet.state_of(E1)
    assert after.keys.master == before.keys.master
    assert after.keys.authentication != old[0] and after.keys.encryption != old[1]
    assert after.keys.gas_encryption != old[2]
    assert after.invocation_counter > before.invocation_counter  # counters carried across
    for meter_id in (E1, E2):
        assert site.statuses(meter_id) == {
            (KeyType.MASTER, KeyStatus.ACTIVE): 1,
            (KeyType.AUTHENTICATION, KeyStatus.ACTIVE): 1,
            (KeyType.AUTHENTICATION, KeyStatus.EXPIRED): 1,
            (KeyType.ENCRYPTION, KeyStatus.ACTIVE): 1,
            (KeyType.ENCRYPTION, KeyStatus.EXPIRED): 1,
        }
    assert site.statuses(G1)[(KeyType.ENCRYPTION, KeyStatus.EXPIRED)] == 1
    assert site.read(day) == {ReadOutcome.STORED: 2}
    assert {(ean(1), day), (ean(2), day)} <= set(site.sink.electricity)
    assert (ean(1, gas=True), day) in site.sink.gas
    assert site.rotate() == (0, 0, 0)  # nothing due any more


def test_meter_took_the_key_but_the_server_did_not_switch(site: Site) -> None:
    day = site.a_year_later()
    site.link.crash[(E1, KeyType.AUTHENTICATION)] = "after"
    site.link.crash[(G1, KeyType.ENCRYPTION)] = "after"
    assert site.rotate() == (3, 1, 2)
    assert site.statuses(E1)[(KeyType.AUTHENTICATION, KeyStatus.NEW)] == 1
    # The head-end's next session tries NEW first: the meter answers on it, so it is activated.
    assert site.read(day) == {ReadOutcome.STORED: 2}
    found = site.statuses(E1)
    assert (KeyType.AUTHENTICATION, KeyStatus.NEW) not in found
    assert found[(KeyType.AUTHENTICATION, KeyStatus.EXPIRED)] == 1
    # The next renewal recovers the gas meter the same way and finishes E1's encryption key.
    assert site.rotate() == (2, 2, 0)
    assert site.statuses(G1)[(KeyType.ENCRYPTION, KeyStatus.EXPIRED)] == 1
    assert site.statuses(E1)[(KeyType.ENCRYPTION, KeyStatus.EXPIRED)] == 1
    assert site.read(site.next_day(day)) == {ReadOutcome.STORED: 2}


def test_server_has_the_new_key_but_the_meter_never_got_it(site: Site) -> None:
    day = site.a_year_later()
    site.link.crash[(E2, KeyType.ENCRYPTION)] = "before"
    assert site.rotate() == (3, 2, 1)
    assert site.statuses(E2)[(KeyType.ENCRYPTION, KeyStatus.NEW)] == 1
    # NEW is tried and fails, ACTIVE answers: nothing is activated and reading goes on.
    assert site.read(day) == {ReadOutcome.STORED: 2}
    assert site.statuses(E2)[(KeyType.ENCRYPTION, KeyStatus.NEW)] == 1
    assert site.rotate() == (1, 1, 0)  # the same NEW key is sent again
    assert site.statuses(E2)[(KeyType.ENCRYPTION, KeyStatus.EXPIRED)] == 1
    assert site.read(site.next_day(day)) == {ReadOutcome.STORED: 2}


def test_a_key_wrapped_under_another_master_key_is_refused(site: Site) -> None:
    before = site.fleet.state_of(E1).keys.encryption
    with pytest.raises(KeyTransferRefusedError):
        site.link.port.transfer_key(E1, KeyType.ENCRYPTION, wrap_key(os.urandom(16), bytes(16)))
    assert site.fleet.state_of(E1).keys.encryption == before
    assert site.read(site.next_day(DAY)) == {ReadOutcome.STORED: 2}
