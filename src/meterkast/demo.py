"""The demo tour: a real household of the synthetic area, its supplier and an app with consent.

Everything goes through the ordinary services: the grant is a real grant, the tokens are real
tokens (issued and audited like `meterkast token issue`), the sign-in code a real one-time code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from meterkast.access.policy import THIRD_PARTY_SERVICE
from meterkast.bootstrap import App
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import GrantScope, MeterKind, PartyRole, Product, ReadingChoice, Role
from meterkast.kernel.errors import NotFoundError


@dataclass(frozen=True)
class Tour:
    ean: str
    customer: str
    supplier: str
    app: str
    since: str
    today: str
    tokens: dict[str, str]
    sign_in_code: str

    def explain(self, base: str) -> str:
        api = f"{base}/api/v1/connections/{self.ean}/readings/daily"
        rng = f"from={self.since}&to={self.today}"
        lines = [
            f"Household {self.customer} at connection {self.ean} (supplier {self.supplier}).",
            f"App {self.app} holds the household's consent for daily readings.",
            "",
            f"Portal: {base}/portal  — sign in as {self.customer} with code {self.sign_in_code}",
            f"API docs: {base}/docs   Register: {base}/register",
            "",
        ]
        for role, purpose in (("customer", "A.1"), ("supplier", "3.4"),
                              ("third_party", THIRD_PARTY_SERVICE)):  # fmt: skip
            lines += [
                f"# as the {role.replace('_', ' ')}:",
                f"export TOKEN_{role.upper()}={self.tokens[role]}",
                f'curl -s -H "Authorization: Bearer $TOKEN_{role.upper()}" '
                f'"{api}?{rng}&purpose={purpose}"',
                "",
            ]
        lines.append(
            f'curl -s -H "Authorization: Bearer $TOKEN_CUSTOMER" {base}/api/v1/me/access-log'
        )
        return "\n".join(lines)


def prepare_tour(state: App, ttl: timedelta) -> Tour:
    now = state.clock()
    today = local_day(now)
    app_party = next(iter(state.parties.list_parties(PartyRole.THIRD_PARTY)), None)
    if app_party is None:
        raise NotFoundError("no third party in this instance: run `meterkast generate` first")
    offset = 0
    while page := state.grid.list_connections(limit=500, offset=offset):
        offset += len(page)
        for connection in page:
            if (connection.product is not Product.ELECTRICITY or connection.meter is None
                    or connection.meter.kind is not MeterKind.SMART
                    or connection.reading_choice(today) is not ReadingChoice.STANDARD):  # fmt: skip
                continue
            running = state.parties.contract_end_register(connection.ean, today)
            if running is None or (today - running.start).days < 60:
                continue
            since = max(running.start, today - timedelta(days=365))
            grant = state.grants.give(
                customer_id=running.customer_id, connection_ean=connection.ean,
                grantee=app_party.ean, scopes=[GrantScope.DAILY], purpose=THIRD_PARTY_SERVICE,
                data_first=since, data_last=today, valid_until=now + timedelta(days=30), now=now,
            )  # fmt: skip
            tokens = {
                "customer": state.tokens.issue(Role.CUSTOMER, running.customer_id, ttl),
                "supplier": state.tokens.issue(Role.SUPPLIER, running.supplier_ean, ttl),
                "third_party": state.tokens.issue(
                    Role.THIRD_PARTY, app_party.ean, ttl, grant=grant.id
                ),
            }
            for token in tokens.values():
                state.audit.token_issued(state.tokens.verify(token), now)
            return Tour(connection.ean, running.customer_id, running.supplier_ean, app_party.ean,
                        since.isoformat(), today.isoformat(), tokens,
                        state.login_codes.issue(running.customer_id))  # fmt: skip
    raise NotFoundError("no household with a smart meter and a running contract to show")
