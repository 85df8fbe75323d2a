"""The composition root: the one place that wires settings, stores, services and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy.engine import Engine

from meterkast.access.audit_service import AuditLog
from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.instance_keys import InstanceKeys
from meterkast.access.tokens import BearerTokens
from meterkast.db.engine import create_engine
from meterkast.db.migrate import upgrade
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock, system_clock
from meterkast.kernel.errors import DomainError
from meterkast.parties.service import PartiesService
from meterkast.settings import AccessSettings, CoreSettings, load_settings
from meterkast.synth.service import AreaGenerator


@dataclass
class App:
    """Services of one meterkast instance, built on first use."""

    settings: CoreSettings
    clock: Clock = field(default=system_clock)
    access_settings: AccessSettings = field(default_factory=AccessSettings)

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
    def audit_trail(self) -> GroupCommitAudit:
        """The audit port for servers: concurrent requests share commits."""
        return GroupCommitAudit(self.audit)

    @cached_property
    def tokens(self) -> BearerTokens:
        return BearerTokens(
            self.instance_keys.token_signing_key,
            issuer=self.access_settings.token_issuer,
            default_ttl=self.access_settings.token_default_ttl,
            clock=self.clock,
        )

    def _party_name(self, ean: str) -> str | None:
        try:
            return self.parties.get_party(ean).name
        except DomainError:
            return None

    def init(self) -> None:
        """Create the instance folder (private to this user) and migrate the database."""
        self.settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
        upgrade(self.engine)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def bootstrap(settings: CoreSettings | None = None, clock: Clock | None = None) -> App:
    return App(settings=settings or load_settings(), clock=clock or system_clock)
