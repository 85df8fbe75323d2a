"""The composition root: the one place that wires settings, stores, services and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from meterkast.access.ports import TokenIssuer
from meterkast.db.engine import create_engine
from meterkast.db.migrate import upgrade
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock, system_clock
from meterkast.kernel.errors import DomainError
from meterkast.keys.adapters.master_key import LocalKeyEncryptionProvider, load_provider
from meterkast.keys.api import MeterKeyPort
from meterkast.keys.datakeys import DataKeys
from meterkast.keys.rotation import KeyRotation
from meterkast.keys.service import KeyService
from meterkast.parties.service import PartiesService
from meterkast.settings import CoreSettings, KeySettings, PortalEnvSettings, load_settings
from meterkast.synth.service import AreaGenerator
from meterkast.web.accounts import LoginCodes, OAuthClients, portal_secret

if TYPE_CHECKING:
    from meterkast.web.portal import PortalSettings


@dataclass
class App:
    """Services of one meterkast instance, built on first use."""

    settings: CoreSettings
    clock: Clock = field(default=system_clock)
    # The link to meters for key changes; the fleet (simulated meters) plugs in here.
    meter_link: MeterKeyPort | None = None

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
    def area_generator(self) -> AreaGenerator:
        return AreaGenerator(self.engine, self.grid, self.parties)

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
            meter_link=self.meter_link,
            lock_seconds=self.key_settings.lock_seconds,
        )

    @cached_property
    def data_keys(self) -> DataKeys:
        return DataKeys(self.engine, self.master_key, self.clock)

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
            secret, self.login_codes, self.oauth_clients, issuer, oidc, env.https_only
        )

    def key_rotation(self) -> KeyRotation:
        if self.meter_link is None:
            raise DomainError("no meter link configured: key renewal needs the fleet or head-end")
        return KeyRotation(self.keys, self.meter_link, self.clock)

    def init(self) -> None:
        """Create the instance folder (private to this user) and migrate the database."""
        self.settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        upgrade(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def bootstrap(settings: CoreSettings | None = None, clock: Clock | None = None) -> App:
    return App(settings=settings or load_settings(), clock=clock or system_clock)
