"""The portal assembled for tests and the benchmark: real grid, parties and grants on a
database, fakes for readings, audit and tokens (like tests/integration/test_api_frame.py)."""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from meterkast.access.days import DaySet
from meterkast.access.grant_service import CaseService, GrantService
from meterkast.access.policy import Principal
from meterkast.access.service import AccessService
from meterkast.api.app import create_app
from meterkast.api.deps import Services
from meterkast.kernel.codes import PartyRole, Role
from meterkast.parties.domain import Ean13, Party
from meterkast.register.catalog import default_register
from meterkast.register.service import RegisterService
from meterkast.web.accounts import LoginCodes, OAuthClients
from meterkast.web.portal import PortalSettings
from tests.fakes import FakeTokens, ListAudit
from tests.integration.test_register_services import EAN, _contract, _seed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
APP_EAN = "8719900010010"
CUSTOMER = "C00000001"


class IssuingTokens(FakeTokens):
    """Random opaque tokens remembered with their grant; ``role|party`` still verifies."""

    def __init__(self) -> None:
        self.issued: dict[str, tuple[Principal, str | None, timedelta]] = {}

    def issue(
        self,
        role: Role,
        party: str,
        ttl: timedelta = timedelta(hours=1),
        *,
        grant: str | None = None,
    ) -> str:
        token = secrets.token_urlsafe(24)
        self.issued[token] = (Principal(role, party), grant, ttl)
        return token

    def verify(self, token: str) -> Principal:
        if token in self.issued:
            return self.issued[token][0]
        return super().verify(token)


class SeasonalReadings:
    """Registers that rise more in winter and feed in more in summer (T1 day, T2 night)."""

    def daily(self, ean: str, days: DaySet) -> list[dict[str, object]]:
        rows = []
        for r in days.ranges:
            day = r.first
            while day <= r.last:
                n = day.toordinal() - 738000
                season = math.cos(2 * math.pi * (day.timetuple().tm_yday - 15) / 365)
                imp = int(n * 9000 + 400_000 * season)
                exp = int(n * 4000 - 200_000 * season)
                rows.append(
                    {
                        "day": day,
                        "import_t1_wh": imp // 2 + n * 10,
                        "import_t2_wh": imp - imp // 2,
                        "export_t1_wh": exp // 2,
                        "export_t2_wh": exp - exp // 2,
                        "source": "remote",
                        "quality": "measured",
                        "version": 1,
                    }
                )
                day += timedelta(days=1)
        return rows

    def interval(self, ean: str, days: DaySet) -> list[dict[str, object]]:
        return []


@dataclass
class Portal:
    app: FastAPI
    services: Services
    audit: ListAudit
    tokens: IssuingTokens
    codes: LoginCodes
    clients: OAuthClients
    now: list[datetime] = field(default_factory=lambda: [NOW])


def build_portal(engine: Engine, *, contract_start: date = date(2025, 1, 1)) -> Portal:
    grid, parties = _seed(engine)
    parties.add_party(Party(Ean13(APP_EAN), PartyRole.THIRD_PARTY, "WattWijzer"))
    parties.add_contract(_contract(contract_start, None))
    moment = [NOW]

    def clock() -> datetime:
        return moment[0]

    audit, tokens = ListAudit(), IssuingTokens()
    grants, cases = GrantService(engine, parties), CaseService(engine)
    access = AccessService(
        grid=grid,
        parties=parties,
        grants=grants,
        cases=cases,
        readings=SeasonalReadings(),
        audit=audit,
        register=RegisterService(default_register()),
        clock=clock,
    )
    services = Services(
        access=access,
        grants=grants,
        grid=grid,
        parties=parties,
        tokens=tokens,
        access_log=audit,
        register=RegisterService(default_register()),
        clock=clock,
        database=engine.dialect.name,
    )
    codes, clients = LoginCodes(engine, clock), OAuthClients(engine, clock)
    settings = PortalSettings(
        secret_key="test-" + secrets.token_hex(16),
        login_codes=codes,
        clients=clients,
        https_only=False,
    )
    app = create_app(services, settings)
    return Portal(app, services, audit, tokens, codes, clients, moment)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


__all__ = ["APP_EAN", "CUSTOMER", "EAN", "NOW", "Portal", "build_portal", "pkce_pair"]
