"""The composition root: the one place that wires settings, stores, services and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from meterkast.db.engine import create_engine
from meterkast.db.migrate import upgrade
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock, system_clock
from meterkast.parties.service import PartiesService
from meterkast.readings.adapters.facts import GridConnectionFacts
from meterkast.readings.adapters.fake_keys import FakeDataKeyService
from meterkast.readings.adapters.parquet import EncryptedMonthStore
from meterkast.readings.ports import DataKeyService
from meterkast.readings.service import ReadingsService
from meterkast.settings import CoreSettings, ReadingsSettings, load_settings


@dataclass
class App:
    """Services of one meterkast instance, built on first use."""

    settings: CoreSettings
    clock: Clock = field(default=system_clock)
    readings_settings: ReadingsSettings = field(default_factory=ReadingsSettings)

    @cached_property
    def engine(self) -> Engine:
        return create_engine(self.settings.resolved_database_url)

    @cached_property
    def grid(self) -> GridService:
        return GridService(self.engine)

    @cached_property
    def parties(self) -> PartiesService:
        return PartiesService(self.engine)

    @cached_property
    def data_keys(self) -> DataKeyService:
        # Stand-in until the crypto-server's data-key service (meterkast.keys) is wired here.
        return FakeDataKeyService(self.settings.home / "keys" / "data-keys.json")

    @cached_property
    def readings(self) -> ReadingsService:
        settings = self.readings_settings
        store = EncryptedMonthStore(
            settings.resolved_dir(self.settings.home),
            self.data_keys,
            row_group_rows=settings.readings_row_group_rows,
        )
        return ReadingsService(
            store,
            GridConnectionFacts(self.grid),
            self.clock,
            retention_months=settings.readings_retention_months,
        )

    def init(self) -> None:
        """Create the instance folder (private to this user) and migrate the database."""
        self.settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        upgrade(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def bootstrap(settings: CoreSettings | None = None, clock: Clock | None = None) -> App:
    return App(settings=settings or load_settings(), clock=clock or system_clock)
