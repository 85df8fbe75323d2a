"""The staff pages on a real instance (audit log, readings store, rights, cases) on both
databases: sign-in, the officer's register, audit log and requests, and service look-ups."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import audit_entries
from meterkast.access.policy import CaseKind
from meterkast.api.deps import ACTIVITY
from meterkast.bootstrap import App
from meterkast.kernel.codes import AuditEvent, GrantScope, GrantStatus, Role
from meterkast.kernel.errors import InvalidValueError
from meterkast.rights.domain import RequestKind
from tests.staff_support import (
    CLERK,
    CUSTOMER,
    EAN,
    GAS_EAN,
    NOW,
    OFFICER,
    build_world,
    csrf_of,
    customer_sign_in,
    staff_sign_in,
    web_app,
)

BASE = "http://localhost"
World = tuple[TestClient, App, list[datetime]]


@pytest.fixture
def world(engine: Engine, tmp_path: Path) -> Iterator[World]:
    moment = [NOW]
    app = build_world(engine, tmp_path / "home", moment)
    with TestClient(web_app(app), base_url=BASE, follow_redirects=False) as client:
        yield client, app, moment
    app.close()


def _audit_rows(app: App) -> list[sa.Row[tuple[object, ...]]]:
    with app.engine.connect() as db:
        return list(db.execute(sa.select(audit_entries).order_by(audit_entries.c.seq)))


def test_every_staff_route_declares_its_activity(world: World) -> None:
    client, _, _ = world
    paths = client.get("/openapi.json").json()["paths"]
    staff = [
        (p, m, op)
        for p, ms in paths.items()
        for m, op in ms.items()
        if p.startswith(("/portal/officer", "/portal/service", "/portal/staff"))
    ]
    assert len(staff) >= 12
    for path, method, op in staff:
        assert op.get(ACTIVITY), f"{method} {path} is not bound to a register activity"
    assert paths["/portal/officer/audit"]["get"][ACTIVITY] == "A.4"
    assert paths["/portal/officer/requests"]["get"][ACTIVITY] == "A.5"


def test_staff_sign_in_is_audited_and_roles_stay_apart(world: World) -> None:
    client, app, _ = world
    assert client.get("/portal/officer/audit").headers["location"] == "/portal/staff/login"
    page = client.get("/portal/staff/login")
    wrong = client.post(
        "/portal/staff/login",
        data={"csrf": csrf_of(page.text), "staff_id": OFFICER, "code": "AAAAA-AAAAA"},
    )
    assert wrong.status_code == 401 and 'role="alert"' in wrong.text
    customer_code = app.login_codes.issue(CUSTOMER)  # a customer's code is no staff code
    assert (
        client.post(
            "/portal/staff/login",
            data={"csrf": csrf_of(page.text), "staff_id": CUSTOMER, "code": customer_code},
        ).status_code
        == 401
    )
    staff_sign_in(client, app, Role.PRIVACY_OFFICER, OFFICER)
    issued = [r for r in _audit_rows(app) if r.event == AuditEvent.TOKEN_ISSUED.value]
    assert issued and issued[-1].action == "issue_sign_in_code"
    assert issued[-1].role == "privacy_officer" and issued[-1].principal_ref != OFFICER
    assert client.get("/portal/officer/audit").status_code == 200
    assert client.get("/portal/service").status_code == 403  # not their role
    assert client.get("/portal/connections").status_code == 303  # no customer session
    customer_sign_in(client, app)
    assert client.get("/portal/officer/requests").status_code == 303  # the session was replaced
    staff_sign_in(client, app, Role.STAFF_SERVICE, CLERK)
    assert client.get("/portal/officer/register").status_code == 403
    assert client.get("/portal/service").status_code == 200


def test_register_page(world: World) -> None:
    client, app, _ = world
    staff_sign_in(client, app, Role.PRIVACY_OFFICER, OFFICER)
    page = client.get("/portal/officer/register?lang=en")
    assert page.status_code == 200
    assert 'id="activity-A.5"' in page.text and "Data-subject requests" in page.text
    assert page.text.count('<tr id="activity-') == len(app.register.activities)


def test_audit_log_verifies_filters_pages_and_names_the_first_bad_entry(world: World) -> None:
    client, app, _ = world
    customer_sign_in(client, app)
    assert client.get(f"/portal/connections/{EAN}").status_code == 200  # an audited read
    staff_sign_in(client, app, Role.PRIVACY_OFFICER, OFFICER)
    page = client.get("/portal/officer/audit?lang=en")  # no full run yet: the view runs one
    assert 'data-ok="true"' in page.text and "were checked now and verify" in page.text
    total = app.audit.count()
    assert f"entries 1 to {total} verified" in page.text and 'id="full-run"' in page.text
    assert EAN not in page.text and app.audit.pseudonyms.connection(EAN) in page.text
    mine = client.get("/portal/officer/audit", params={"connection": EAN, "lang": "en"})
    rows = [r for r in _audit_rows(app) if r.subject_ref == app.audit.pseudonyms.connection(EAN)]
    seqs = [r.seq for r in rows]
    assert mine.text.count("data-seq=") == len(seqs) == 2  # the chart's read and reading choice
    assert f"{len(seqs)} entries found" in mine.text
    by_party = client.get("/portal/officer/audit", params={"party": CUSTOMER, "purpose": "A.1"})
    assert by_party.text.count("data-seq=") == 1
    none = client.get("/portal/officer/audit", params={"first": "2027-01-01"})
    assert none.text.count("data-seq=") == 0
    today = client.get(
        "/portal/officer/audit", params={"first": "2026-11-23", "last": "2026-11-23"}
    )
    assert today.text.count("data-seq=") >= 3
    assert client.get("/portal/officer/audit", params={"first": "yesterday"}).status_code == 400
    assert client.get("/portal/officer/audit", params={"connection": "123"}).status_code == 400
    views = [r for r in _audit_rows(app) if r.action == "view_audit_log"]
    assert views and all(r.purpose == "A.4" and r.role == "privacy_officer" for r in views)
    victim = seqs[0]
    with app.engine.begin() as db:  # someone edits the log behind the application's back
        db.execute(
            audit_entries.update().where(audit_entries.c.seq == victim).values(purpose="3.1")
        )
    view = client.get("/portal/officer/audit?lang=en")  # the view relies on the last full run
    assert 'id="full-run" data-ok="true"' in view.text and "Last full verification" in view.text
    assert "Older entries have since been checked only through the checkpoints" in view.text
    ran = client.post("/portal/officer/audit/verify", data={"csrf": csrf_of(view.text)})
    assert ran.status_code == 303
    bad = client.get("/portal/officer/audit?lang=en")
    assert 'data-ok="false"' in bad.text and f'data-first-bad="{victim}"' in bad.text
    assert f"first bad entry {victim} (modified)" in bad.text
    assert 'id="full-run" data-ok="false"' in bad.text and f"bad entry at {victim}" in bad.text
    assert not app.audit_checks.status().ok  # and it stays so until a clean full run


def test_audit_log_pages(world: World) -> None:
    client, app, _ = world
    staff_sign_in(client, app, Role.PRIVACY_OFFICER, OFFICER)
    for _ in range(60):  # each view adds an entry
        client.get("/portal/officer/requests")
    first = client.get("/portal/officer/audit?lang=en")
    assert first.text.count("data-seq=") == 50 and 'rel="next"' in first.text
    second = client.get("/portal/officer/audit?page=2&lang=en")
    assert 'rel="prev"' in second.text and second.text.count("data-seq=") >= 10


def _new_request(client: TestClient, csrf: str, kind: RequestKind) -> str:
    made = client.post(
        "/portal/officer/requests",
        data={"csrf": csrf, "customer_id": CUSTOMER.lower(), "kind": kind.value},
    )
    assert made.status_code == 303, made.text
    return str(made.headers["location"]).rsplit("/", 1)[1]


def test_request_queue_deadlines_and_access_export(world: World) -> None:
    client, app, moment = world
    csrf = staff_sign_in(client, app, Role.PRIVACY_OFFICER, OFFICER)
    request_id = _new_request(client, csrf, RequestKind.ACCESS)
    queue = client.get("/portal/officer/requests?lang=en")
    assert request_id in queue.text and "2026-12-23" in queue.text and "overdue" not in queue.text
    assert "two further months at most" in queue.text
    exported = client.get(f"/portal/officer/requests/{request_id}/export.json")
    assert exported.status_code == 200 and "attachment" in exported.headers["content-disposition"]
    data = json.loads(exported.text)
    assert data["customer"]["id"] == CUSTOMER
    assert {c["ean"] for c in data["connections"]} == {EAN, GAS_EAN}
    page = client.get(f"/portal/officer/requests/{request_id}/export.html")
    assert page.text.startswith("<!doctype html>") and CUSTOMER in page.text
    assert "What we hold about you" in page.text
    dutch = client.get(f"/portal/officer/requests/{request_id}/export.html?lang=nl")
    assert '<html lang="nl">' in dutch.text and "Wat wij over u bewaren" in dutch.text
    steps = [r.action for r in _audit_rows(app) if r.role == "privacy_officer"]
    assert {"dsr_register", "dsr_export_json", "dsr_export_html", "view_requests"} <= set(steps)
    assert client.get("/portal/officer/requests/nope").text.count('href="/portal/officer/audit"')
    assert all(
        r.principal_ref == app.audit.pseudonyms.party(OFFICER)
        for r in _audit_rows(app)
        if str(r.action).startswith("dsr_export")
    )
    exports = [r for r in _audit_rows(app) if r.role == "privacy_officer" and r.purpose == "A.5"
               and r.action == "read_daily"]  # fmt: skip
    assert exports and all(r.case_id == request_id and r.allowed for r in exports)
    assert all(r.principal_ref == app.audit.pseudonyms.party(OFFICER) for r in exports)
    customer = TestClient(client.app, base_url=BASE, follow_redirects=False)
    customer_sign_in(customer, app)
    log = customer.get("/portal/access-log?lang=en").text
    rows = [r for r in log.split("<tr")[2:] if "privacy officer, privacy office" in r]
    assert rows and all("A.5" in r and "your data-subject request" in r for r in rows)
    assert not any("A.5" in r and "you</td>" in r for r in log.split("<tr")[2:])
    moment[0] = NOW + timedelta(days=40)
    late = client.get("/portal/officer/requests?lang=en")
    assert 'class="overdue"' in late.text and "(overdue)" in late.text
    extended = client.post(
        f"/portal/officer/requests/{request_id}/extend",
        data={"csrf": csrf, "months": "2", "reason": "many connections"},
    )
    assert extended.status_code == 303
    assert "2027-02-23" in client.get(f"/portal/officer/requests/{request_id}").text
    too_far = client.post(
        f"/portal/officer/requests/{request_id}/extend",
        data={"csrf": csrf, "months": "1", "reason": "more"},
    )
    assert too_far.status_code == 400
    done = client.post(
        f"/portal/officer/requests/{request_id}/complete",
        data={"csrf": csrf, "reason": "export sent"},
    )
    assert done.status_code == 303 and app.rights.get(request_id).closed_on is not None
    again = client.get(f"/portal/officer/requests/{request_id}/export.json")
    assert again.status_code == 409  # closed: nothing more is run
    assert app.audit.verify().ok


def test_rectification_erasure_objection_and_withdrawal(world: World) -> None:
    client, app, _ = world
    csrf = staff_sign_in(client, app, Role.PRIVACY_OFFICER, OFFICER)
    rectify = _new_request(client, csrf, RequestKind.RECTIFICATION)
    bad = client.post(
        f"/portal/officer/requests/{rectify}/rectify",
        data={"csrf": csrf, "email": "not an address"},
    )
    assert bad.status_code == 400 and app.rights.get(rectify).closed_on is None
    assert (
        client.post(
            f"/portal/officer/requests/{rectify}/rectify",
            data={"csrf": csrf, "email": "a@mail.example"},
        ).status_code
        == 303
    )
    assert app.parties.get_customer(CUSTOMER).contact.email == "a@mail.example"
    assert app.rights.get(rectify).status.value == "done"
    erase = _new_request(client, csrf, RequestKind.ERASURE)
    erased = client.post(f"/portal/officer/requests/{erase}/erase", data={"csrf": csrf})
    assert erased.status_code == 200 and "P24M" in erased.text  # readings kept, and why
    assert app.rights.get(erase).status.value == "done"
    objection = _new_request(client, csrf, RequestKind.OBJECTION)
    assert (
        client.post(
            f"/portal/officer/requests/{objection}/object", data={"csrf": csrf, "activity": "3.1"}
        ).status_code
        == 303
    )
    assert app.rights.get(objection).status.value == "refused"
    app.grants.give(
        customer_id=CUSTOMER,
        connection_ean=EAN,
        grantee="8719900000011",
        scopes=[GrantScope.HISTORY],
        purpose="3.2",
        data_first=date(2025, 1, 1),
        data_last=date(2025, 12, 31),
        valid_until=NOW + timedelta(days=30),
        now=NOW,
    )
    withdraw = _new_request(client, csrf, RequestKind.CONSENT_WITHDRAWAL)
    wrong_kind = client.post(f"/portal/officer/requests/{withdraw}/erase", data={"csrf": csrf})
    assert wrong_kind.status_code == 409
    assert (
        client.post(
            f"/portal/officer/requests/{withdraw}/withdraw", data={"csrf": csrf}
        ).status_code
        == 303
    )
    assert {g.status for g in app.grants.of_customer(CUSTOMER, NOW)} == {GrantStatus.REVOKED}
    assert "1 grant(s) revoked" in client.get(f"/portal/officer/requests/{withdraw}").text
    assert (
        client.post(
            f"/portal/officer/requests/{withdraw}/nonsense", data={"csrf": csrf}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/portal/officer/requests/{withdraw}/start", data={"csrf": "forged"}
        ).status_code
        == 400
    )
    assert client.get("/portal/officer/requests/no-such-id").status_code == 404
    unknown = client.post(
        "/portal/officer/requests",
        data={"csrf": csrf, "customer_id": "C99999999", "kind": "access"},
    )
    assert unknown.status_code == 404
    steps = {r.action for r in _audit_rows(app) if r.role == "privacy_officer"}
    assert {"dsr_rectify", "dsr_erase", "dsr_object", "dsr_withdraw"} <= steps
    assert app.audit.verify().ok


def test_service_staff_need_an_open_case(world: World) -> None:
    client, app, _ = world
    staff_sign_in(client, app, Role.STAFF_SERVICE, CLERK)
    url = "/portal/service/connection"
    no_case = client.get(url, params={"ean": EAN, "purpose": "1.5"})
    unknown = client.get(url, params={"ean": "871690000000000034", "purpose": "1.5"})
    assert no_case.status_code == unknown.status_code == 404
    assert no_case.text.split("<main")[1] == unknown.text.split("<main")[1]  # nothing told
    assert client.get(url, params={"ean": EAN, "purpose": "A.1"}).status_code == 400
    case_id = app.cases.open(
        kind=CaseKind.SERVICE,
        connection_ean=EAN,
        customer_id=CUSTOMER,
        purpose="1.5",
        subject="complaint about a bill",
        opened_by=CLERK,
        now=NOW,
    )
    seen = client.get(url, params={"ean": EAN, "purpose": "1.5", "lang": "en"})
    assert seen.status_code == 200 and "Kerkstraat 3" in seen.text and case_id in seen.text
    assert 'rect class="bar"' in seen.text
    csrf = csrf_of(seen.text)
    customer = TestClient(client.app, base_url=BASE, follow_redirects=False)
    customer_sign_in(customer, app)
    log = customer.get("/portal/access-log?lang=en").text
    assert "<td>staff service, customer service" in log
    assert (
        client.post(
            "/portal/service/cases/not-this/close", data={"csrf": csrf, "ean": EAN}
        ).status_code
        == 404
    )
    closed = client.post(f"/portal/service/cases/{case_id}/close", data={"csrf": csrf, "ean": EAN})
    assert closed.status_code == 303
    assert client.get(url, params={"ean": EAN, "purpose": "1.5"}).status_code == 404
    denied = [r for r in _audit_rows(app) if r.role == "staff_service" and not r.allowed]
    assert len(denied) >= 3  # every refusal is audited too


def test_a_case_opens_only_the_activity_it_serves(world: World) -> None:
    client, app, _ = world
    staff_sign_in(client, app, Role.STAFF_SERVICE, CLERK)
    app.cases.open(kind=CaseKind.SERVICE, connection_ean=EAN, customer_id=CUSTOMER,
                   purpose="1.5", subject="complaint", opened_by=CLERK, now=NOW)  # fmt: skip
    url = "/portal/service/connection"
    assert client.get(url, params={"ean": EAN, "purpose": "1.5"}).status_code == 200
    other = client.get(url, params={"ean": EAN, "purpose": "1.4"})  # a compensation look-up
    none = client.get(url, params={"ean": "871690000000000034", "purpose": "1.4"})
    assert other.status_code == 404 and other.text.split("<main")[1] == none.text.split("<main")[1]
    refused = [r for r in _audit_rows(app) if r.role == "staff_service" and r.purpose == "1.4"]
    assert refused and not any(r.allowed for r in refused)
    with pytest.raises(InvalidValueError):  # a case is opened for one of its kind's activities
        app.cases.open(kind=CaseKind.SERVICE, connection_ean=EAN, customer_id=CUSTOMER,
                       purpose="7.1", subject="x", opened_by=CLERK, now=NOW)  # fmt: skip


def test_service_staff_see_their_open_cases_and_open_them(world: World) -> None:
    client, app, moment = world
    staff_sign_in(client, app, Role.STAFF_SERVICE, CLERK)
    assert 'id="no-open-cases"' in client.get("/portal/service").text
    mine = app.cases.open(kind=CaseKind.SERVICE, connection_ean=EAN, customer_id=CUSTOMER,
                          purpose="1.6", subject="question about the meter", opened_by=CLERK,
                          now=NOW)  # fmt: skip
    theirs = app.cases.open(kind=CaseKind.SERVICE, connection_ean=GAS_EAN, customer_id=CUSTOMER,
                            purpose="1.5", subject="complaint", opened_by="ST99",
                            now=NOW)  # fmt: skip
    team = app.cases.open(kind=CaseKind.SERVICE, connection_ean=GAS_EAN, customer_id=CUSTOMER,
                          purpose="1.4", subject="damage", opened_by="ST99", now=NOW,
                          team=True)  # fmt: skip
    before = len(_audit_rows(app))
    home = client.get("/portal/service?lang=en").text
    assert f'href="/portal/service/cases/{mine}"' in home and "1.6 customer question" in home
    assert f'href="/portal/service/cases/{team}"' in home and "(for the team)" in home
    assert {c.id for c in app.cases.open_cases(CaseKind.SERVICE, "ST99")} == {theirs, team}
    assert theirs not in home and EAN not in home and "Kerkstraat" not in home
    assert "question about the meter" not in home  # the subject stays in the ticketing system
    assert len(_audit_rows(app)) == before  # the list shows nobody, so it reads nothing
    page = client.get(f"/portal/service/cases/{mine}?lang=en")
    assert page.status_code == 200 and "Kerkstraat 3" in page.text and "1.6" in page.text
    read = _audit_rows(app)[-1]
    assert (read.role, read.purpose, read.case_id, read.allowed) == (
        "staff_service", "1.6", mine, True)  # fmt: skip
    unknown = client.get("/portal/service/connection", params={"ean": EAN, "purpose": "1.5"})
    for other in (theirs, "no-such-case"):
        answer = client.get(f"/portal/service/cases/{other}")
        assert answer.status_code == 404
        assert answer.text.split("<main")[1] == unknown.text.split("<main")[1]
    app.cases.close(mine, moment[0])
    assert client.get(f"/portal/service/cases/{mine}").status_code == 404
    assert client.get(f"/portal/service/cases/{team}").status_code == 200  # the team's case
    app.cases.close(team, moment[0])
    assert 'id="no-open-cases"' in client.get("/portal/service").text


def test_gas_connection_in_m3(world: World) -> None:
    client, app, _ = world
    customer_sign_in(client, app)
    page = client.get(f"/portal/connections/{GAS_EAN}?lang=en")
    assert page.status_code == 200 and "m³" in page.text and "kWh" not in page.text
    assert "Gas use" in page.text and "chart-feed_in" not in page.text
    csv = client.get(f"/portal/connections/{GAS_EAN}/readings.csv")
    frame = pd.read_csv(io.StringIO(csv.text), dtype={"ean": str}, parse_dates=["day"])
    assert list(frame.columns) == ["ean", "day", "volume_m3", "source", "quality"]
    assert frame["volume_m3"].diff().dropna().round(3).eq(2.5).all()
    xml = client.get(f"/portal/connections/{GAS_EAN}/readings.xml").text
    assert "<uom>42</uom>" in xml and "<commodity>7</commodity>" in xml


OFFICER_PAGES = ["/portal/officer/register", "/portal/officer/audit", "/portal/officer/requests",
                 "/portal/officer/requests/x", "/portal/officer/requests/x/export.json",
                 "/portal/officer/requests/x/export.html"]  # fmt: skip
SERVICE_PAGES = ["/portal/service", f"/portal/service/connection?ean={EAN}&purpose=1.5"]


def test_every_staff_page_is_denied_to_everyone_else(world: World) -> None:
    client, app, _ = world
    for path in OFFICER_PAGES + SERVICE_PAGES:  # nobody signed in: to the staff sign-in
        assert client.get(path).headers.get("location") == "/portal/staff/login", path
    csrf = customer_sign_in(client, app)
    for path in OFFICER_PAGES + SERVICE_PAGES:  # a customer is no staff member
        assert client.get(path).headers.get("location") == "/portal/staff/login", path
    posts = ["/portal/officer/requests", "/portal/officer/requests/x/start",
             "/portal/service/cases/x/close"]  # fmt: skip
    for path in posts:
        answer = client.post(path, data={"csrf": csrf, "ean": EAN, "customer_id": CUSTOMER,
                                          "kind": "access"})  # fmt: skip
        assert answer.headers.get("location") == "/portal/staff/login", path
    staff_sign_in(client, app, Role.STAFF_SERVICE, CLERK)
    for path in OFFICER_PAGES:
        assert client.get(path).status_code == 403, path
    staff_sign_in(client, app, Role.PRIVACY_OFFICER, OFFICER)
    for path in SERVICE_PAGES:
        assert client.get(path).status_code == 403, path
    assert app.rights.requests() == []  # nothing was registered by anyone on the way
