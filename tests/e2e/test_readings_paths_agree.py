"""The readings fast path (answered in the event loop) and the FastAPI routes answer alike.

The same requests — answers, malformed dates and EANs, missing and forged tokens, denials,
grants and consent — go through the real application twice: with the fast path, and with it
switched off so the FastAPI routes answer. Status, the headers that matter, the body bytes and
the number of audit entries written must be the same. Which requests the fast path takes itself
is checked too, so the comparison is not between two copies of the same path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from meterkast.access.audit import AuditRecord
from meterkast.access.group_commit import GroupCommitAudit
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.access.service import AccessService
from meterkast.api.app import create_app
from meterkast.api.readings_path import parsed
from meterkast.bootstrap import App
from meterkast.kernel.codes import GrantScope, Role
from tests.e2e.test_access_over_http import APP, NOW, S2, A, B, seeded
from tests.integration.test_register_services import EAN, SUPPLIER

DAILY = f"/api/v1/connections/{EAN}/readings/daily"
INTERVAL = f"/api/v1/connections/{EAN}/readings/interval"
RANGE = "from=2024-01-01&to=2026-12-31"
HEADERS = ("content-type", "content-length", "www-authenticate", "set-cookie")


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    authorization: str | None
    fast: bool  # whether the fast path answers it itself (else FastAPI's routes do)


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = seeded(tmp_path_factory.mktemp("paths") / "home")
    yield app
    app.close()


def _bearer(app: App, role: Role, party: str, grant: str | None = None) -> str:
    return f"Bearer {app.tokens.issue(role, party, timedelta(hours=1), grant=grant)}"


def _cases(app: App) -> list[Case]:
    b = _bearer(app, Role.CUSTOMER, B)
    history = app.grants.give(customer_id=B, connection_ean=EAN, grantee=S2,
                              scopes=[GrantScope.HISTORY], purpose="3.2",
                              data_first=date(2025, 1, 1), data_last=date(2026, 2, 28),
                              valid_until=NOW + timedelta(days=30), now=NOW)  # fmt: skip
    consent = app.grants.give(customer_id=B, connection_ean=EAN, grantee=APP,
                              scopes=[GrantScope.DAILY], purpose="A.3",
                              data_first=date(2026, 1, 1), data_last=date(2026, 12, 31),
                              valid_until=NOW + timedelta(days=30), now=NOW)  # fmt: skip
    expired = app.tokens.issue(Role.CUSTOMER, B, timedelta(seconds=1))
    assert history.purpose == "3.2"
    good = f"{DAILY}?{RANGE}&purpose=A.1"
    wrong_check = EAN[:-1] + str((int(EAN[-1]) + 1) % 10)
    return [
        Case("customer B, own periods", good, b, True),
        Case("customer A, own period", good, _bearer(app, Role.CUSTOMER, A), True),
        Case("no dates: the default span", f"{DAILY}?purpose=A.1", b, True),
        Case("only from", f"{DAILY}?from=2026-11-01&purpose=A.1", b, True),
        Case("to before from", f"{DAILY}?from=2026-11-01&to=2026-10-01&purpose=A.1", b, True),
        Case("purpose escaped", f"{DAILY}?{RANGE}&purpose=A%2E1", b, True),
        Case("unknown parameter ignored", f"{good}&extra=1", b, True),
        Case("scheme in lower case", good, b.replace("Bearer", "bearer"), True),
        Case(
            "supplier S1, two ranges",
            f"{DAILY}?{RANGE}&purpose=3.4",
            _bearer(app, Role.SUPPLIER, SUPPLIER),
            True,
        ),
        Case(
            "supplier S2 with a history grant",
            f"{DAILY}?{RANGE}&purpose=3.2",
            _bearer(app, Role.SUPPLIER, S2),
            True,
        ),
        Case(
            "app under consent",
            f"{DAILY}?{RANGE}&purpose=A.3",
            _bearer(app, Role.THIRD_PARTY, APP, consent.id),
            True,
        ),
        Case(
            "app with another grant's token",
            f"{DAILY}?{RANGE}&purpose=A.3",
            _bearer(app, Role.THIRD_PARTY, APP, "another"),
            True,
        ),
        Case(
            "staff without a case",
            f"{DAILY}?{RANGE}&purpose=1.5",
            _bearer(app, Role.STAFF_SERVICE, "st1"),
            True,
        ),
        Case("purpose not for customers", f"{DAILY}?{RANGE}&purpose=7.1", b, True),
        Case("unknown purpose", f"{DAILY}?{RANGE}&purpose=Z.9", b, True),
        Case("no purpose", f"{DAILY}?{RANGE}", b, True),
        Case("empty purpose", f"{DAILY}?{RANGE}&purpose=", b, True),
        Case("interval without a grant", f"{INTERVAL}?{RANGE}&purpose=A.1", b, True),
        Case(
            "someone else's connection",
            f"{DAILY}?{RANGE}&purpose=A.1".replace(EAN, "871687140000000028"),
            b,
            True,
        ),
        Case("EAN with a wrong check digit", good.replace(EAN, wrong_check), b, True),
        Case("EAN too short", good.replace(EAN, "8716"), b, True),
        Case("EAN not digits", good.replace(EAN, "abc"), b, True),
        Case("no token", good, None, True),
        Case("not a bearer token", good, "Basic dXNlcjpwYXNz", True),
        Case("bearer without a token", good, "Bearer ", True),
        Case("forged token", good, "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln", True),
        Case("expired token", good, f"Bearer {expired}", True),
        Case("malformed from", f"{DAILY}?from=2026-13-01&to=2026-12-31&purpose=A.1", b, False),
        Case("from without zero padding", f"{DAILY}?from=2026-1-1&purpose=A.1", b, False),
        Case("from empty", f"{DAILY}?from=&purpose=A.1", b, False),
        Case("from as a moment", f"{DAILY}?from=2026-01-01T00:00:00&purpose=A.1", b, False),
        Case("malformed to, no token", f"{DAILY}?to=garbage&purpose=A.1", None, False),
        Case("purpose repeated", f"{good}&purpose=3.4", b, False),
        Case("trailing slash", f"{good.replace('daily?', 'daily/?')}", b, False),
    ]


def _answers(app: App, web: FastAPI, cases: Sequence[Case]) -> list[tuple[object, ...]]:
    out = []
    with TestClient(web) as client:
        for case in cases:
            headers = {} if case.authorization is None else {"Authorization": case.authorization}
            before = app.audit.count()
            answer = client.get(case.url, headers=headers, follow_redirects=False)
            written = app.audit.count() - before
            kept = tuple(answer.headers.get(h) for h in HEADERS)
            out.append((case.name, answer.status_code, kept, answer.content, written))
    return out


def test_both_paths_answer_every_case_alike(instance: App) -> None:
    cases = _cases(instance)
    services, portal = instance.api_services(), instance.portal_settings(instance.tokens)
    fast = _answers(instance, create_app(services, portal), cases)
    reference = _answers(instance, create_app(services, portal, readings_in_loop=False), cases)
    for mine, theirs in zip(fast, reference, strict=True):
        assert mine == theirs
    statuses = {name: status for name, status, *_ in fast}
    assert statuses["customer B, own periods"] == 200 and statuses["no token"] == 401
    assert statuses["EAN with a wrong check digit"] == 400 and statuses["malformed from"] == 400
    assert statuses["purpose not for customers"] == 403 and statuses["staff without a case"] == 404
    assert statuses["supplier S2 with a history grant"] == 200
    assert statuses["app under consent"] == 200 and statuses["trailing slash"] == 307
    audited = {name: written for name, *_, written in fast}
    assert audited["customer B, own periods"] == 1 and audited["EAN too short"] == 1
    assert audited["no token"] == 0 and audited["malformed from"] == 0  # no decision was made


def test_the_fast_path_takes_exactly_the_requests_it_can_read(instance: App) -> None:
    for case in _cases(instance):
        path, _, query = case.url.partition("?")
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "",
                 "query_string": query.encode(), "headers": []}  # fmt: skip
        assert (parsed(scope) is not None) is case.fast, case.name
    scope = {"type": "http", "method": "HEAD", "path": DAILY, "query_string": b"", "headers": []}
    assert parsed(scope) is None


class _BrokenLog:
    """Commits fail with an error whose text carries the record (as a driver's error may)."""

    def __init__(self, app: App) -> None:
        self._app = app

    def record_of(self, principal: Principal, action: Action, resource: Resource,
                  decision: Decision, at: datetime) -> AuditRecord:  # fmt: skip
        return self._app.audit.record_of(principal, action, resource, decision, at)

    def append_many(self, records: Sequence[AuditRecord]) -> int:
        raise RuntimeError(f"insert failed for {records[0].subject_ref} {EAN} {B}")


@pytest.mark.parametrize("in_loop", [True, False])
def test_a_failed_audit_commit_answers_500_and_discloses_nothing(
    instance: App, in_loop: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = instance
    access = AccessService(grid=app.grid, parties=app.parties, grants=app.grants,
                           cases=app.cases, readings=_NoReads(), register=app.register_service,
                           audit=GroupCommitAudit(_BrokenLog(app)), clock=app.clock)  # fmt: skip
    services = replace(instance.api_services(), access=access)
    web = create_app(services, readings_in_loop=in_loop)
    with caplog.at_level(logging.DEBUG), TestClient(web) as client:
        token = _bearer(instance, Role.CUSTOMER, B)
        answer = client.get(f"{DAILY}?{RANGE}&purpose=A.1", headers={"Authorization": token})
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json() == {  # the problem only: nothing read, not the commit error's text
        "type": "https://meterkast.invalid/problems/audit-unavailable",
        "title": "Audit log unavailable", "status": 500,
        "detail": "the request could not be recorded, so nothing was disclosed",
        "instance": DAILY,
    }  # fmt: skip
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("meterkast")]
    assert ours == ["readings request refused: audit log unavailable (RuntimeError)"]


class _NoReads:
    """The store must not be read when the decision could not be recorded."""

    def daily(self, ean: str, days: object) -> list[dict[str, object]]:
        raise AssertionError("read before the decision was recorded")

    interval = daily
