"""A small grid, its simulated fleet and a head-end wired with fakes (shared by tests)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.acquisition.adapters.memory_sink import InMemoryReadingsSink
from meterkast.acquisition.adapters.sql import SqlHeadEndStore
from meterkast.acquisition.ports import IntervalGrantLookup, MeterLink, NoIntervalGrants
from meterkast.acquisition.service import HeadEnd
from meterkast.dlms.clock import local_midnight
from meterkast.fleet.meter import SimulatedMeter
from meterkast.fleet.service import MeterPool, manufacture, plan_meters
from meterkast.grid.domain import (
    Address,
    Capacity,
    Connection,
    Ean18,
    Meter,
    Postcode,
    ProductionInstallation,
    ReadingChoiceChange,
)
from meterkast.kernel import gs1
from meterkast.kernel.codes import (
    DeliveryDirection,
    InstallationKind,
    MeterKind,
    PhysicalStatus,
    Product,
    ProfileCategory,
    ReadingChoice,
)
from tests.fake_crypto import FakeCryptoServer

AREA = "8719900020019"


def ean(n: int, gas: bool = False) -> Ean18:
    return Ean18(gs1.with_check_digit(f"87169{2 if gas else 1}{n:011d}"))


def household_connections(
    n: int, *, solar: bool = False, gas: bool = True, choice: ReadingChoice | None = None,
    choice_from: date = date(2020, 1, 1), smart: bool = True,
) -> list[Connection]:  # fmt: skip
    """Connection ``n``: an E connection with a meter, and a gas connection on its M-Bus."""
    kind = MeterKind.SMART if smart else MeterKind.CONVENTIONAL
    serial = f"EKFM{n:010d}"
    choices = [] if choice is None else [ReadingChoiceChange(choice, choice_from)]
    address = Address(Postcode("8011AB"), n, "Kerkstraat", "Zwolle")
    e = Connection(
        ean=ean(n), product=Product.ELECTRICITY, address=address, grid_area=AREA,
        capacity=Capacity.parse("3x25"), profile_category=ProfileCategory.E1A,
        physical_status=PhysicalStatus.IN_SERVICE,
        delivery_direction=DeliveryDirection.BIDIRECTIONAL if solar else DeliveryDirection.OFFTAKE,
        meter=Meter(serial, kind, date(2023, 5, 1)),
        installations=[ProductionInstallation(InstallationKind.SOLAR_PV, Decimal("4.20"),
                                              date(2023, 1, 1))] if solar else [],
        reading_choices=list(choices),
    )  # fmt: skip
    out = [e]
    if gas:
        out.append(
            Connection(
                ean=ean(n, gas=True),
                product=Product.GAS,
                address=address,
                grid_area=AREA,
                capacity=Capacity.parse("G4"),
                profile_category=ProfileCategory.G1A,
                physical_status=PhysicalStatus.IN_SERVICE,
                delivery_direction=DeliveryDirection.OFFTAKE,
                meter=Meter(
                    f"GKFM{n:010d}",
                    kind,
                    date(2023, 5, 1),
                    serial if smart else None,
                    1 if smart else None,
                ),
                reading_choices=list(choices),
            )
        )
    return out


class Grants:
    def __init__(self, eans: set[str]) -> None:
        self.eans = frozenset(eans)

    def eans_with_interval_grant(self, day: date) -> frozenset[str]:
        return self.eans


@dataclass
class World:
    """Grid + fleet + head-end; ``now`` is the shared clock (moved by tests)."""

    engine: Engine
    connections: list[Connection]
    grants: IntervalGrantLookup = field(default_factory=NoIntervalGrants)
    now: datetime = datetime(2026, 3, 10, 1, 30, tzinfo=UTC)

    def __post_init__(self) -> None:
        self.crypto = FakeCryptoServer()
        self.sink = InMemoryReadingsSink()
        self.store = SqlHeadEndStore(self.engine)
        self.meters = {
            p.serial: SimulatedMeter(manufacture(p, self.crypto))
            for p in plan_meters(self.connections)
        }
        self.pool = MeterPool(self.meters, lambda: self.now)
        self.link: MeterLink = self.pool

    def night_of(self, day: date) -> None:
        """Set the clock to 01:30 on ``day``, when its nightly cycle runs."""
        self.now = local_midnight(day) + timedelta(hours=1, minutes=30)

    def head_end(self) -> HeadEnd:
        return HeadEnd(
            connections=lambda: iter(self.connections),
            crypto=lambda: self.crypto,
            link=lambda: nullcontext(self.link),
            sink=lambda: self.sink,
            store=self.store,
            grants=self.grants,
            clock=lambda: self.now,
        )

    def read(self, day: date, last: date | None = None) -> None:
        self.night_of(last or day)
        self.head_end().run(day, last or day)

    def electricity_days(self, ean_code: str) -> list[date]:
        return sorted(d for (e, d) in self.sink.electricity if e == ean_code)  # type: ignore[misc]

    def gas_days(self, ean_code: str) -> list[date]:
        return sorted(d for (e, d) in self.sink.gas if e == ean_code)  # type: ignore[misc]


def count_rows(engine: Engine, table: sa.Table) -> int:
    with engine.connect() as db:
        return int(db.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


_HOLDER = """
import sys
from pathlib import Path
from meterkast.fleet.adapters.lock import FleetLock
with FleetLock(Path(sys.argv[1])).held():
    print("held", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def fleet_held_elsewhere(lock_path: Path) -> Iterator[None]:
    """Another process holds the fleet lock at ``lock_path`` until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(lock_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        yield
    finally:
        holder.communicate("\n", timeout=30)
