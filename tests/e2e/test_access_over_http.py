"""The access table end to end: real tokens, audit log, readings store and API, over HTTP.

One connection: customer A (supplier S1) until 30 June 2025, a vacancy, then customer B with S1
from 15 July 2025 and with S2 from 1 March 2026. Readings exist for every day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.policy import Action, CaseKind
from meterkast.access.ports import READING_KINDS, READING_REQUIRED, JsonRows
from meterkast.api.schemas import ReadingsOut
from meterkast.bootstrap import App, bootstrap
from meterkast.kernel import gs1
from meterkast.kernel.codes import CustomerKind, GrantScope, PartyRole, Role
from meterkast.parties.domain import ContactData, Customer, CustomerId, Ean13, Party
from meterkast.readings.api import IntervalValue
from meterkast.readings.schema import SCHEMAS, Dataset
from meterkast.settings import CoreSettings
from tests.integration.test_register_services import EAN, SUPPLIER, _contract, _seed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
S2 = gs1.with_check_digit("871990000002")
APP = gs1.with_check_digit("871990001001")
A, B = "C00000001", "C00000002"
URL = f"/api/v1/connections/{EAN}/readings/daily"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[App, TestClient]]:
    app = seeded(tmp_path / "home")
    with TestClient(app.web_app()) as client:
        yield app, client
    app.close()


def seeded(home: Path) -> App:
    """An instance with the one connection, its occupants and suppliers, and 753 days."""
    app = bootstrap(CoreSettings(home=home), clock=lambda: NOW)
    app.init()
    _, parties = _seed(app.engine)  # the connection, supplier S1 and customer A
    parties.add_party(Party(Ean13(S2), PartyRole.SUPPLIER, "Windkracht"))
    parties.add_party(Party(Ean13(APP), PartyRole.THIRD_PARTY, "WattWijzer"))
    parties.add_customer(Customer(CustomerId(B), CustomerKind.PERSON, "B. de Vries", ContactData()))
    for customer, supplier, first, last in (
        (A, SUPPLIER, date(2020, 1, 1), date(2025, 6, 30)),
        (B, SUPPLIER, date(2025, 7, 15), date(2026, 2, 28)),
        (B, S2, date(2026, 3, 1), None),
    ):
        parties.add_contract(
            replace(_contract(first, last, supplier), customer_id=CustomerId(customer))
        )
    days = [date(2024, 11, 1) + timedelta(days=i) for i in range(753)]
    n = len(days)
    app.readings.write_history([pa.table({
        "ean": [EAN] * n, "day": days, "series": [1] * n, "version": [1] * n,
        "import_t1_wh": [1000 * i for i in range(n)], "import_t2_wh": [0] * n,
        "export_t1_wh": [0] * n, "export_t2_wh": [0] * n, "source": ["remote"] * n,
        "quality": ["measured"] * n, "recorded_at": [NOW] * n,
    }, schema=SCHEMAS[Dataset.ELECTRICITY_DAILY])])  # fmt: skip
    return app


def _get(app: App, client: TestClient, role: Role, party: str, purpose: str,
         grant: str | None = None) -> tuple[int, list[tuple[str, str]], int]:  # fmt: skip
    token = app.tokens.issue(role, party, timedelta(hours=1), grant=grant)
    answer = client.get(URL, params={"from": "2024-01-01", "to": "2026-12-31", "purpose": purpose},
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    body = answer.json()
    days = [(d["first"], d["last"]) for d in body.get("days_disclosed", [])]
    return answer.status_code, days, len(body.get("readings", []))


def test_occupants_and_suppliers_see_only_their_own_periods(world: tuple[App, TestClient]) -> None:
    app, client = world
    assert _get(app, client, Role.CUSTOMER, A, "A.1")[:2] == (200, [("2024-11-23", "2025-06-30")])
    status, days, rows = _get(app, client, Role.CUSTOMER, B, "A.1")
    assert (status, days) == (200, [("2025-07-15", "2026-11-23")]) and rows == 497
    assert _get(app, client, Role.SUPPLIER, SUPPLIER, "3.4")[:2] == (
        200, [("2024-11-23", "2025-06-30"), ("2025-07-15", "2026-02-28")])  # fmt: skip
    assert _get(app, client, Role.SUPPLIER, S2, "3.4")[:2] == (200, [("2026-03-01", "2026-11-23")])
    assert _get(app, client, Role.SUPPLIER, S2, "3.2")[0] == 404  # no history grant yet
    history = app.grants.give(customer_id=B, connection_ean=EAN, grantee=S2,
                              scopes=[GrantScope.HISTORY], purpose="3.2",
                              data_first=date(2025, 1, 1), data_last=date(2026, 2, 28),
                              valid_until=NOW + timedelta(days=30), now=NOW)  # fmt: skip
    assert _get(app, client, Role.SUPPLIER, S2, "3.2")[:2] == (200, [("2025-07-15", "2026-02-28")])
    assert history.purpose == "3.2"


def test_app_reads_under_consent_until_revoked(world: tuple[App, TestClient]) -> None:
    app, client = world
    assert _get(app, client, Role.THIRD_PARTY, APP, "A.3")[0] == 404
    grant = app.grants.give(customer_id=B, connection_ean=EAN, grantee=APP,
                            scopes=[GrantScope.DAILY], purpose="A.3",
                            data_first=date(2026, 1, 1), data_last=date(2026, 12, 31),
                            valid_until=NOW + timedelta(days=30), now=NOW)  # fmt: skip
    ok = _get(app, client, Role.THIRD_PARTY, APP, "A.3", grant=grant.id)
    assert ok[:2] == (200, [("2026-01-01", "2026-11-23")])
    assert _get(app, client, Role.THIRD_PARTY, APP, "A.3", grant="another")[0] == 404
    app.grants.revoke(B, grant.id, NOW)
    assert _get(app, client, Role.THIRD_PARTY, APP, "A.3", grant=grant.id)[0] == 404


def test_staff_need_cases_and_some_never_read(world: tuple[App, TestClient]) -> None:
    app, client = world
    assert _get(app, client, Role.STAFF_SERVICE, "st1", "1.5")[0] == 404
    app.cases.open(kind=CaseKind.SERVICE, connection_ean=EAN, customer_id=A, purpose="1.5",
                   subject="complaint about a final bill", opened_by="st1", now=NOW)  # fmt: skip
    assert _get(app, client, Role.STAFF_SERVICE, "st1", "1.5")[:2] == (
        200, [("2024-11-23", "2025-06-30")])  # fmt: skip
    assert _get(app, client, Role.STAFF_NETLOSS, "st2", "7.1")[0] == 404
    app.cases.open(kind=CaseKind.NETLOSS, connection_ean=EAN, customer_id=None, purpose="7.1",
                   subject="consumption during vacancy", opened_by="st2", now=NOW)  # fmt: skip
    assert _get(app, client, Role.STAFF_NETLOSS, "st2", "7.1")[:2] == (
        200, [("2024-11-23", "2026-11-23")])  # fmt: skip
    assert _get(app, client, Role.STAFF_GRID, "st3", "5.3")[0] == 404
    assert _get(app, client, Role.PRIVACY_OFFICER, "po", "A.1")[0] == 403


def test_every_request_is_audited_and_the_log_verifies(world: tuple[App, TestClient]) -> None:
    app, client = world
    before = app.audit.count()
    _get(app, client, Role.CUSTOMER, A, "A.1")
    _get(app, client, Role.CUSTOMER, B, "9.9")  # unknown purpose: 400, still audited
    assert client.get(URL, headers={"Authorization": "Bearer forged"}).status_code == 401
    stranger = gs1.with_check_digit("87169000000999999")
    token = app.tokens.issue(Role.CUSTOMER, A, timedelta(hours=1))
    unknown = client.get(f"/api/v1/connections/{stranger}/readings/daily",
                         params={"from": "2026-01-01", "to": "2026-01-31", "purpose": "A.1"},
                         headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    others = _get(app, client, Role.CUSTOMER, "C00000009", "A.1")
    assert unknown.status_code == others[0] == 404
    assert app.audit.count() - before >= 4
    assert app.audit.verify().ok


def test_a_revoked_token_gets_401_at_once(world: tuple[App, TestClient]) -> None:
    app, client = world
    token = app.tokens.issue(Role.CUSTOMER, B, timedelta(hours=1))
    spare = app.tokens.issue(Role.CUSTOMER, B, timedelta(hours=1))
    params = {"from": "2026-01-01", "to": "2026-01-31", "purpose": "A.1"}

    def status(bearer: str) -> int:
        headers = {"Authorization": f"Bearer {bearer}"}
        return client.get(URL, params=params, headers=headers).status_code

    assert status(token) == 200 and status(token) == 200  # verified once, then remembered
    app.revocations.revoke(app.tokens.verify(token).token_id, NOW)
    before = app.audit.count()
    answer = client.get(URL, params=params, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"] == "token revoked" and token not in answer.text
    assert app.audit.count() == before  # no decision was made for an unknown caller
    assert status(spare) == 200  # the customer's other token still reads


def test_the_api_audits_through_group_commit(tmp_path: Path) -> None:
    """The API's access service appends through the shared-commit port, not the bare log."""
    app = bootstrap(CoreSettings(home=tmp_path / "home"), clock=lambda: NOW)
    app.init()
    shared = app.audit_trail
    assert isinstance(shared, GroupCommitAudit)
    seen: list[bool] = []

    class Watching:
        def record(self, **entry: Any) -> None:
            seen.append(entry["decision"].allowed)
            shared.record(**entry)

    app.__dict__["audit_trail"] = Watching()  # before the access service is built
    token = app.tokens.issue(Role.CUSTOMER, A, timedelta(hours=1))
    with TestClient(app.web_app()) as client:
        answer = client.get(URL, params={"from": "2026-01-01", "to": "2026-01-31",
                                         "purpose": "A.1"},
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert answer.status_code == 404 and seen == [False]  # unknown here, and still audited
    assert app.audit.count() == 1 and app.audit.verify().ok
    app.close()


def test_the_store_rows_are_written_from_their_columns(world: tuple[App, TestClient]) -> None:
    """The real store's rows fit the schema column by column: the answer skips row validation."""
    app, _ = world
    who = app.tokens.verify(app.tokens.issue(Role.CUSTOMER, B, timedelta(hours=1)))
    disclosure = app.access.read(who, Action.READ_DAILY, EAN, date(2026, 1, 1),
                                 date(2026, 1, 31), "A.1")  # fmt: skip
    assert isinstance(disclosure.rows, JsonRows)
    written = disclosure.rows.json_array(READING_KINDS, READING_REQUIRED)
    assert written is not None and len(json.loads(written)) == 31


def test_the_customer_reads_own_interval_data(world: tuple[App, TestClient]) -> None:
    app, client = world
    first = datetime(2026, 11, 19, 23, 0, tzinfo=UTC)  # 20 November, 00:00 in Amsterdam
    values = [IntervalValue(EAN, first + timedelta(minutes=15 * i), 100 + i) for i in range(192)]
    assert app.readings.add_interval(values).stored == 192
    token = app.tokens.issue(Role.CUSTOMER, B, timedelta(hours=1))
    answer = client.get(f"/api/v1/connections/{EAN}/readings/interval",
                        params={"from": "2026-11-20", "to": "2026-11-21", "purpose": "A.1"},
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = ReadingsOut.model_validate_json(answer.content)
    assert [r.value for r in body.readings] == [100 + i for i in range(192)]
    assert body.readings[0].start == first and answer.json()["readings"][0]["start"].endswith("Z")
