"""Use cases of the simulated fleet: build it from the grid, and talk to it over the meter link."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from types import TracebackType

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from meterkast.fleet.adapters.device_storage import DeviceStorage
from meterkast.fleet.adapters.lock import FleetLock
from meterkast.fleet.adapters.sql import SqlFleetStore
from meterkast.fleet.household import Household
from meterkast.fleet.memory import MeterKeys, MeterState
from meterkast.fleet.meter import SimulatedMeter, household_seed, system_title_for
from meterkast.grid.domain import Connection, Meter
from meterkast.kernel.clock import Clock
from meterkast.kernel.codes import (
    InstallationKind,
    KeyType,
    MeterEvent,
    MeterKind,
    MeterType,
    Product,
    ProfileCategory,
)
from meterkast.kernel.errors import DomainError, NotFoundError
from meterkast.keys.api import CryptoServer, WrappedKey


class MeterSilentError(DomainError):
    """The meter did not answer (it dropped the request, or is unreachable)."""

    code = "meter-silent"


class ProvisioningError(DomainError):
    """The key bundle for a meter could not be unwrapped with its transport key."""

    code = "provisioning"


@dataclass(frozen=True, slots=True)
class MeterPlan:
    """What the grid says one simulated E meter (and its gas meter) looks like."""

    serial: str
    ean: str
    installed_on: date
    profile: ProfileCategory
    solar_kwp: float = 0.0
    gas_serial: str | None = None
    gas_profile: ProfileCategory | None = None
    gas_ean: str | None = None  # the gas connection the gas meter on M-Bus channel 1 serves


def plan_meters(connections: Iterable[Connection]) -> list[MeterPlan]:
    """One plan per smart electricity meter; a smart gas meter rides on its M-Bus host."""
    electricity: dict[str, tuple[Connection, Meter]] = {}
    gas_on: dict[str, tuple[Connection, Meter]] = {}
    for c in connections:
        meter = c.meter
        if meter is None or meter.kind is not MeterKind.SMART:
            continue
        if c.product is Product.ELECTRICITY:
            electricity[meter.serial] = (c, meter)
        elif meter.mbus_host_serial is not None:
            gas_on[meter.mbus_host_serial] = (c, meter)
    plans = []
    for serial, (c, meter) in sorted(electricity.items()):
        kwp = sum(float(i.kwp) for i in c.installations if i.kind is InstallationKind.SOLAR_PV)
        gas = gas_on.get(serial)
        plans.append(
            MeterPlan(
                serial=serial,
                ean=c.ean,
                installed_on=meter.installed_on,
                profile=c.profile_category,
                solar_kwp=kwp,
                gas_serial=None if gas is None else gas[1].serial,
                gas_profile=None if gas is None else gas[0].profile_category,
                gas_ean=None if gas is None else gas[0].ean,
            )
        )
    return plans


def _unwrap(serial: str, kek: bytes, bundle: list[WrappedKey]) -> dict[KeyType, bytes]:
    try:
        return {w.key_type: aes_key_unwrap(kek, w.wrapped) for w in bundle}
    except InvalidUnwrap:
        raise ProvisioningError(f"key bundle of meter {serial} does not unwrap") from None


def household_of(plan: MeterPlan) -> Household:
    """The household behind a meter: the same seed gives the same registers everywhere."""
    return Household.for_connection(
        household_seed(plan.serial), plan.installed_on, plan.profile, plan.solar_kwp,
        plan.gas_profile,
    )  # fmt: skip


def manufacture(plan: MeterPlan, crypto: CryptoServer) -> MeterState:
    """A new meter: keys come in a bundle wrapped under a fresh factory transport key."""
    title = system_title_for(plan.serial)
    kek = os.urandom(16)
    keys = _unwrap(plan.serial, kek, crypto.provision(plan.serial, MeterType.ELECTRICITY, title,
                                                      kek))  # fmt: skip
    gas_keys: dict[KeyType, bytes] = {}
    if plan.gas_serial is not None:
        gas_kek = os.urandom(16)
        gas_title = system_title_for(plan.gas_serial)
        bundle = crypto.provision(plan.gas_serial, MeterType.GAS, gas_title, gas_kek)
        gas_keys = _unwrap(plan.gas_serial, gas_kek, bundle)
    household = household_of(plan)
    try:
        meter_keys = MeterKeys(
            master=keys[KeyType.MASTER],
            authentication=keys[KeyType.AUTHENTICATION],
            encryption=keys[KeyType.ENCRYPTION],
            gas_master=gas_keys.get(KeyType.MASTER, b""),
            gas_encryption=gas_keys.get(KeyType.ENCRYPTION, b""),
        )
    except KeyError as missing:
        raise ProvisioningError(f"key bundle of meter {plan.serial} lacks {missing}") from None
    return MeterState(plan.serial, plan.ean, title, household, meter_keys, plan.gas_serial)


@dataclass(frozen=True, slots=True)
class FleetBuild:
    created: int
    existing: int
    with_gas: int


class MeterPool:
    """The simulated meter link: frames in, frames out, at the fleet's clock."""

    def __init__(self, meters: dict[str, SimulatedMeter], clock: Clock) -> None:
        self.meters = meters
        self.touched: set[str] = set()
        self._clock = clock

    def exchange(self, meter_id: str, frame: bytes) -> bytes:
        meter = self.meters.get(meter_id)
        if meter is None:
            raise MeterSilentError(f"no meter {meter_id} on the link")
        self.touched.add(meter_id)
        answer = meter.answer(frame, self._clock())
        if answer is None:
            raise MeterSilentError(f"meter {meter_id} did not answer")
        return answer


class FleetLink(MeterPool):
    """A pool backed by the fleet store: every meter's state is sealed back on close."""

    def __init__(self, service: FleetService) -> None:
        self._service = service
        super().__init__(service.load_meters(), service.clock)

    def __enter__(self) -> FleetLink:
        self._held = self._service.held()
        self._held.__enter__()
        self._service.active = self
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._service.active is self:
                self._service.active = None
            self._service.save_meters(self.meters[serial] for serial in sorted(self.touched))
        finally:
            self._held.__exit__(kind, error, tb)


class FleetService:
    def __init__(
        self,
        store: SqlFleetStore,
        storage: Callable[[], DeviceStorage],
        crypto: Callable[[], CryptoServer],
        clock: Clock,
        lock: FleetLock | None = None,
    ) -> None:
        self._store = store
        self._lock = lock
        self._storage = storage
        self._crypto = crypto
        self.clock = clock
        # The link a head-end run holds open; key changes during it go through the same meters.
        self.active: FleetLink | None = None
        self._hosts: dict[str, str] | None = None  # device serial -> E meter serial

    def held(self) -> AbstractContextManager[None]:
        """Hold the fleet for this process (re-entrant); another process gets FleetBusyError.

        Without a lock (tests with one process) this holds nothing.
        """
        return nullcontext() if self._lock is None else self._lock.held()

    def build(self, connections: Iterable[Connection]) -> FleetBuild:
        """Manufacture and install a meter for every smart connection that has none yet."""
        with self.held():
            return self._build(connections)

    def _build(self, connections: Iterable[Connection]) -> FleetBuild:
        plans = plan_meters(connections)
        known = set(self._store.serials())
        new = [p for p in plans if p.serial not in known]
        crypto, storage, now = self._crypto(), self._storage(), self.clock()
        rows = []
        for plan in new:
            state = manufacture(plan, crypto)
            state.log(now, MeterEvent.KEYS_INSTALLED)
            rows.append((plan.serial, plan.ean, state.system_title,
                         storage.seal(plan.serial, state.to_bytes())))  # fmt: skip
            if len(rows) >= 2_000:
                self._store.add(rows)
                rows = []
        self._store.add(rows)
        return FleetBuild(
            len(new), len(plans) - len(new), sum(p.gas_serial is not None for p in new)
        )

    def state_of(self, serial: str) -> MeterState:
        sealed = self._store.load([serial]).get(serial)
        if sealed is None:
            raise NotFoundError(f"no simulated meter {serial}")
        return MeterState.from_bytes(self._storage().open(serial, sealed))

    def host_of(self, serial: str) -> str | None:
        """The E meter that is ``serial`` or carries it on its M-Bus; None if there is none."""
        found = None if self._hosts is None else self._hosts.get(serial)
        if found is None:  # first use, or a meter built since: index the fleet (again)
            self._hosts = self._index()
            found = self._hosts.get(serial)
        return found

    def _index(self) -> dict[str, str]:
        if self.active is not None:
            states = [m.state for m in self.active.meters.values()]
        else:
            storage, sealed = self._storage(), self._store.load(self._store.serials())
            states = [MeterState.from_bytes(storage.open(k, v)) for k, v in sealed.items()]
        hosts = {state.serial: state.serial for state in states}
        hosts.update({s.gas_serial: s.serial for s in states if s.gas_serial is not None})
        return hosts

    def load_meters(self) -> dict[str, SimulatedMeter]:
        storage = self._storage()
        return {
            serial: SimulatedMeter(MeterState.from_bytes(storage.open(serial, sealed)))
            for serial, sealed in self._store.load(self._store.serials()).items()
        }

    def save_meters(self, meters: Iterable[SimulatedMeter]) -> None:
        storage = self._storage()
        self._store.save([(m.state.serial, storage.seal(m.state.serial, m.state.to_bytes()))
                          for m in meters])  # fmt: skip

    def open_link(self) -> FleetLink:
        """The link to every meter; use as a context manager so the meters' memory is kept."""
        return FleetLink(self)
