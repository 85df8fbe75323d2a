"""The API frame with real services on both databases and fakes for tokens, audit, readings.

The full end-to-end suite with the real readings store, tokens and audit log is in
tests/e2e; here: routing, problem answers, authentication, binding and indistinguishability.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from meterkast.access.grant_service import CaseService, GrantService
from meterkast.access.service import AccessService
from meterkast.api.app import create_app
from meterkast.api.deps import ACTIVITY, Services
from meterkast.kernel.codes import PartyRole, Role
from meterkast.parties.domain import Ean13, Party
from meterkast.register.catalog import default_register
from meterkast.register.service import RegisterService
from tests.fakes import FakeReadings, FakeTokens, ListAudit
from tests.integration.test_register_services import EAN, SUPPLIER, _contract, _seed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
APP_EAN = "8719900010010"
TOKENS = FakeTokens()
CUSTOMER = {"Authorization": f"Bearer {TOKENS.issue(Role.CUSTOMER, 'C00000001')}"}
OTHER = {"Authorization": f"Bearer {TOKENS.issue(Role.CUSTOMER, 'C00000002')}"}
SUPPLIER_H = {"Authorization": f"Bearer {TOKENS.issue(Role.SUPPLIER, SUPPLIER)}"}
APP_H = {"Authorization": f"Bearer {TOKENS.issue(Role.THIRD_PARTY, APP_EAN)}"}


@pytest.fixture
def api(engine: Engine) -> Iterator[tuple[TestClient, ListAudit]]:
    grid, parties = _seed(engine)
    parties.add_party(Party(Ean13(APP_EAN), PartyRole.THIRD_PARTY, "WattWijzer"))
    parties.add_contract(_contract(date(2025, 1, 1), None))
    audit = ListAudit()
    register = RegisterService(default_register())
    grants, cases = GrantService(engine, parties), CaseService(engine)
    clock = lambda: NOW  # noqa: E731 - a fixed clock
    access = AccessService(grid=grid, parties=parties, grants=grants, cases=cases,
                           readings=FakeReadings(), audit=audit, register=register,
                           clock=clock)  # fmt: skip
    services = Services(access=access, grants=grants, grid=grid, parties=parties, tokens=TOKENS,
                        access_log=audit, register=register, clock=clock,
                        database=engine.dialect.name)  # fmt: skip
    with TestClient(create_app(services)) as client:
        yield client, audit


def _daily(client: TestClient, headers: dict[str, str], ean: str = EAN, **params: str) -> object:
    query = {"from": "2026-11-01", "to": "2026-11-30", "purpose": "A.1", **params}
    return client.get(f"/api/v1/connections/{ean}/readings/daily", params=query, headers=headers)


def test_every_route_is_bound_to_an_activity(api: tuple[TestClient, ListAudit]) -> None:
    client, _ = api
    operations = [
        (path, method, operation)
        for path, methods in client.get("/openapi.json").json()["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) >= 10
    for path, method, operation in operations:
        assert operation.get(ACTIVITY), f"{method} {path} is not bound to a register activity"


def test_customer_reads_own_days_and_the_decision_is_audited(
    api: tuple[TestClient, ListAudit],
) -> None:
    client, audit = api
    response = _daily(client, CUSTOMER)
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["days_disclosed"] == [{"first": "2026-11-01", "last": "2026-11-23"}]
    assert len(body["readings"]) == 23 and body["legal_basis"] == "legal_obligation"
    assert audit.entries[-1]["allowed"] is True and audit.entries[-1]["party"] == "C00000001"


def test_unknown_and_someone_elses_connection_look_the_same(
    api: tuple[TestClient, ListAudit],
) -> None:
    client, audit = api
    from meterkast.kernel import gs1

    unknown = _daily(client, CUSTOMER, ean=gs1.with_check_digit("87169000000999999"))
    others = _daily(client, OTHER)
    assert unknown.status_code == others.status_code == 404  # type: ignore[attr-defined]
    a, b = unknown.json(), others.json()  # type: ignore[attr-defined]
    assert (a["title"], a["detail"], a["type"]) == (b["title"], b["detail"], b["type"])
    assert [e["allowed"] for e in audit.entries] == [False, False]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"purpose": ""}, 400), ({"purpose": "9.9"}, 400), ({"purpose": "3.4"}, 403),
     ({"from": "2026-12-01", "to": "2026-11-01"}, 400), ({"from": "yesterday"}, 400)],
)  # fmt: skip
def test_bad_requests_are_problems(api: tuple[TestClient, ListAudit], params: dict[str, str],
                                   status: int) -> None:  # fmt: skip
    client, _ = api
    response = _daily(client, CUSTOMER, **params)
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert response.json()["status"] == status  # type: ignore[attr-defined]


def test_missing_or_forged_token_is_401(api: tuple[TestClient, ListAudit]) -> None:
    client, audit = api
    assert _daily(client, {}).status_code == 401  # type: ignore[attr-defined]
    forged = _daily(client, {"Authorization": "Bearer admin|root"})
    assert forged.status_code == 401 and "WWW-Authenticate" in forged.headers  # type: ignore[attr-defined]
    assert audit.entries == []


def test_reading_choice_and_grants_round_trip(api: tuple[TestClient, ListAudit]) -> None:
    client, _ = api
    url = f"/api/v1/connections/{EAN}/reading-choice"
    assert client.get(url, headers=CUSTOMER).json()["choice"] == "standard"
    assert client.get(url, headers=SUPPLIER_H).status_code == 403
    changed = client.put(url, json={"choice": "administratively_off"}, headers=CUSTOMER)
    assert changed.json()["choice"] == "administratively_off"
    assert client.put(url, json={"choice": "no_smart_meter"}, headers=CUSTOMER).status_code == 400
    grant = {"connection_ean": EAN, "grantee": APP_EAN, "scopes": ["daily"], "purpose": "A.3",
             "data_first": "2026-01-01", "data_last": "2026-12-31",
             "valid_until": "2027-11-23T00:00:00Z"}  # fmt: skip
    made = client.post("/api/v1/grants", json=grant, headers=CUSTOMER)
    assert made.status_code == 201, made.text
    read = _daily(client, APP_H, purpose="A.3")
    assert read.status_code == 200  # type: ignore[attr-defined]
    assert [g["id"] for g in client.get("/api/v1/grants", headers=APP_H).json()] == [
        made.json()["id"]
    ]
    assert client.delete(f"/api/v1/grants/{made.json()['id']}", headers=CUSTOMER).status_code == 204
    assert _daily(client, APP_H, purpose="A.3").status_code == 404  # type: ignore[attr-defined]
    log = client.get("/api/v1/me/access-log", headers=CUSTOMER).json()
    assert any(e["party"] == APP_EAN and e["allowed"] for e in log)


def test_health_register_and_openapi(api: tuple[TestClient, ListAudit]) -> None:
    client, _ = api
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/register").headers["content-type"].startswith("text/html")
    activities = client.get("/api/v1/register").json()["activities"]
    assert len([a for a in activities if not a["addition"]]) == 47
    assert client.get("/openapi.json").json()["info"]["title"] == "meterkast"
