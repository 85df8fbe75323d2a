"""The composition root: the one place that wires settings, stores, services and the clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from meterkast.access.adapters.audit_search import AuditSearch
from meterkast.access.adapters.facts import SqlFacts
from meterkast.access.adapters.readings import StoreReadings
from meterkast.access.adapters.revocations import SqlRevocations
from meterkast.access.audit_checks import AuditChecks
from meterkast.access.audit_service import AuditLog
from meterkast.access.grant_service import CaseService, GrantService
from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.instance_keys import InstanceKeys
from meterkast.access.ports import TokenIssuer
from meterkast.access.service import AccessService
from meterkast.access.tokens import BearerTokens
from meterkast.acquisition.adapters.sql import SqlHeadEndStore
from meterkast.acquisition.ports import IntervalGrantLookup
from meterkast.acquisition.service import HeadEnd
from meterkast.api.app import create_app
from meterkast.api.deps import Services
from meterkast.db.engine import create_engine
from meterkast.db.migrate import upgrade
from meterkast.fleet.adapters.device_storage import DeviceStorage
from meterkast.fleet.adapters.lock import FleetLock
from meterkast.fleet.adapters.sql import SqlFleetStore
from meterkast.fleet.keyport import FleetKeyPort
from meterkast.fleet.service import FleetService
from meterkast.grid.domain import Connection
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock, system_clock
from meterkast.kernel.codes import Product
from meterkast.kernel.errors import DomainError
from meterkast.keys.adapters.master_key import LocalKeyEncryptionProvider, load_provider
from meterkast.keys.api import CryptoServer, MeterKeyPort
from meterkast.keys.datakeys import DataKeys
from meterkast.keys.rotation import KeyRotation
from meterkast.keys.service import KeyService
from meterkast.parties.service import PartiesService
from meterkast.readings.adapters.facts import GridConnectionFacts
from meterkast.readings.adapters.parquet import EncryptedMonthStore
from meterkast.readings.api import ReadingsSink
from meterkast.readings.service import ReadingsService
from meterkast.register.catalog import default_register
from meterkast.register.domain import Register
from meterkast.register.service import RegisterService
from meterkast.rights.desk import RequestDesk
from meterkast.rights.service import RightsService
from meterkast.settings import (
    AccessSettings,
    CoreSettings,
    KeySettings,
    PortalEnvSettings,
    ReadingsSettings,
    load_settings,
)
from meterkast.synth.service import AreaGenerator, HistoryWriter
from meterkast.web.accounts import LoginCodes, OAuthClients, portal_secret

if TYPE_CHECKING:
    from meterkast.web.portal import PortalSettings
    from meterkast.web.staff import StaffServices


@dataclass
class App:
    """Services of one meterkast instance, built on first use."""

    settings: CoreSettings
    clock: Clock = field(default=system_clock)
    # The link to meters for key changes; the fleet (simulated meters) plugs in here.
    meter_link: MeterKeyPort | None = None
    access_settings: AccessSettings = field(default_factory=AccessSettings)
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

    @property
    def register(self) -> Register:
        """The processing register shipped with the package (read once per process)."""
        return default_register()

    @cached_property
    def area_generator(self) -> AreaGenerator:
        return AreaGenerator(self.engine, self.grid, self.parties)

    @cached_property
    def history_writer(self) -> HistoryWriter:
        return HistoryWriter(self.all_connections, self.readings, self.clock)

    @cached_property
    def key_settings(self) -> KeySettings:
        return KeySettings()

    @cached_property
    def master_key(self) -> LocalKeyEncryptionProvider:
        return load_provider(self.key_settings, self.settings.home)

    @cached_property
    def keys(self) -> KeyService:
        return KeyService(
            self.engine,
            self.master_key,
            self.clock,
            bytes.fromhex(self.key_settings.client_system_title),
            meter_link=self.meter_key_port,
            lock_seconds=self.key_settings.lock_seconds,
        )

    @cached_property
    def data_keys(self) -> DataKeys:
        return DataKeys(self.engine, self.master_key, self.clock)

    @cached_property
    def grants(self) -> GrantService:
        return GrantService(self.engine, self.parties)

    @cached_property
    def cases(self) -> CaseService:
        return CaseService(self.engine)

    @cached_property
    def register_service(self) -> RegisterService:
        return RegisterService(self.register)

    @cached_property
    def access(self) -> AccessService:
        def product_of(ean: str) -> Product:
            return self.grid.get_connection(ean).product

        return AccessService(
            grid=self.grid,
            parties=self.parties,
            grants=self.grants,
            cases=self.cases,
            readings=StoreReadings(self.readings, lru_cache(maxsize=65_536)(product_of)),
            audit=self.audit_trail,
            register=self.register_service,
            clock=self.clock,
            facts=SqlFacts(self.engine),
        )

    @cached_property
    def rights(self) -> RightsService:
        return RightsService(engine=self.engine, parties=self.parties, grid=self.grid,
                             grants=self.grants, cases=self.cases, access=self.access,
                             register=self.register, audit=self.audit,
                             clock=self.clock)  # fmt: skip

    def api_services(self) -> Services:
        """Everything the API and the portal call, wired to the real stores."""
        return Services(
            access=self.access,
            grants=self.grants,
            grid=self.grid,
            parties=self.parties,
            tokens=self.tokens,
            access_log=self.audit,
            register=self.register_service,
            clock=self.clock,
            database=self.engine.dialect.name,
        )

    def web_app(self) -> FastAPI:
        """The API with the portal mounted: what ``meterkast serve`` runs."""
        return create_app(self.api_services(), self.portal_settings(self.tokens))

    @cached_property
    def login_codes(self) -> LoginCodes:
        return LoginCodes(self.engine, self.clock)

    @cached_property
    def oauth_clients(self) -> OAuthClients:
        return OAuthClients(self.engine, self.clock)

    def portal_settings(self, issuer: TokenIssuer | None = None) -> PortalSettings:
        """Settings for ``create_app(services, portal)``: key, cookie policy, optional OIDC."""
        from meterkast.web.oidc import OidcSettings
        from meterkast.web.portal import PortalSettings

        env = PortalEnvSettings()
        secret = env.secret.get_secret_value() if env.secret else portal_secret(self.settings.home)
        oidc = None
        if env.oidc_metadata_url:
            oidc = OidcSettings(
                env.oidc_metadata_url,
                env.oidc_client_id,
                env.oidc_client_secret.get_secret_value(),
                env.oidc_customer_claim,
            )
        return PortalSettings(
            secret,
            self.login_codes,
            self.oauth_clients,
            issuer,
            oidc,
            env.https_only,
            staff=self.staff_services(),
        )

    @cached_property
    def request_desk(self) -> RequestDesk:
        return RequestDesk(self.rights, self.audit, self.clock)

    def staff_services(self) -> StaffServices:
        """The privacy officer's and service staff's pages: desk, audit log, cases, register."""
        from meterkast.web.staff import StaffServices

        search = AuditSearch(self.engine, self.audit.pseudonyms)
        return StaffServices(self.request_desk, self.audit, search, self.cases, self.register,
                             self.audit_checks)  # fmt: skip

    @cached_property
    def meter_key_port(self) -> MeterKeyPort:
        """Key changes reach the meters through ``meter_link`` if set, else the simulated fleet."""
        return self.meter_link if self.meter_link is not None else FleetKeyPort(self.fleet)

    def key_rotation(self) -> KeyRotation:
        return KeyRotation(self.keys, self.meter_key_port, self.clock)

    @cached_property
    def crypto_server(self) -> CryptoServer:
        return self.keys

    @cached_property
    def readings_sink(self) -> ReadingsSink:
        return self.readings

    @cached_property
    def interval_grants(self) -> IntervalGrantLookup:
        return self.grants

    @cached_property
    def fleet(self) -> FleetService:
        return FleetService(
            SqlFleetStore(self.engine),
            storage=lambda: DeviceStorage.in_folder(self.settings.home / "fleet"),
            crypto=lambda: self.crypto_server,
            clock=self.clock,
            lock=FleetLock(self.settings.home / "fleet" / ".lock"),
        )

    def meter_link_held(self) -> AbstractContextManager[None]:
        """Hold the meters for a whole key renewal: the fleet's lock, unless a real link is set."""
        return nullcontext() if self.meter_link is not None else self.fleet.held()

    @cached_property
    def acquisition(self) -> HeadEnd:
        return HeadEnd(
            connections=self.all_connections,
            crypto=lambda: self.crypto_server,
            link=self.fleet.open_link,
            sink=lambda: self.readings_sink,
            store=SqlHeadEndStore(self.engine),
            grants=self.interval_grants,
            clock=self.clock,
        )

    def all_connections(self) -> Iterator[Connection]:
        """Every connection of the register, loaded a page at a time."""
        offset = 0
        while page := self.grid.list_connections(limit=5_000, offset=offset):
            yield from page
            offset += len(page)

    @cached_property
    def instance_keys(self) -> InstanceKeys:
        return InstanceKeys(self.settings.home / "keys")

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(
            self.engine,
            self.instance_keys,
            self.clock,
            checkpoint_every=self.access_settings.audit_checkpoint_interval,
            party_name=self._party_name,
            anchor=self.settings.home / "audit-anchor.json",
        )

    @cached_property
    def audit_checks(self) -> AuditChecks:
        """Full verifications with their recorded results, and the cheap check per view."""
        return AuditChecks(self.engine, self.audit, self.clock)

    @cached_property
    def audit_trail(self) -> GroupCommitAudit:
        """The audit port for servers: concurrent requests share commits. On SQLite (WAL,
        synchronous=NORMAL: a commit is CPU, not a wait) awaited records are committed in the
        event loop's own thread; on PostgreSQL by a drain job in a thread (decision 0016)."""
        return GroupCommitAudit(self.audit, commit_in_loop=self.engine.dialect.name == "sqlite")

    @cached_property
    def revocations(self) -> SqlRevocations:
        return SqlRevocations(self.engine)

    @cached_property
    def tokens(self) -> BearerTokens:
        return BearerTokens(
            self.instance_keys.token_signing_key,
            issuer=self.access_settings.token_issuer,
            default_ttl=self.access_settings.token_default_ttl,
            clock=self.clock,
            revocations=self.revocations,
        )

    def _party_name(self, ean: str) -> str | None:
        try:
            return self.parties.get_party(ean).name
        except DomainError:
            return None

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
