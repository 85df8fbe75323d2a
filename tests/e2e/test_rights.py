"""Data-subject requests on a real instance: export holds the person's data and nobody else's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from meterkast.bootstrap import App
from meterkast.kernel.codes import GrantScope, GrantStatus
from meterkast.kernel.errors import InvalidValueError
from meterkast.parties.domain import ContactData
from meterkast.rights.domain import RequestKind, RequestStatus
from meterkast.rights.service import export_html
from tests.e2e.test_access_over_http import APP, EAN, NOW, A, B, world  # noqa: F401


def test_export_is_the_persons_own_data_only(world: tuple[App, TestClient]) -> None:  # noqa: F811
    app, _ = world
    data = app.rights.export(B)
    assert data["customer"]["id"] == B  # type: ignore[index]
    [connection] = data["connections"]  # type: ignore[misc]
    days = [r["day"] for r in connection["daily_readings"]]
    assert days[0] == "2025-07-15" and days[-1] == "2026-11-23"  # never A's days
    assert {c["connection_ean"] for c in data["contracts"]} == {EAN}  # type: ignore[attr-defined]
    page = export_html(data)
    assert page.startswith("<!doctype html>") and "2025-07-15" in page and "2025-06-30" not in page
    old = app.rights.export(A)
    old_days = [r["day"] for r in old["connections"][0]["daily_readings"]]  # type: ignore[index]
    assert old_days[-1] == "2025-06-30"


def test_requests_are_tracked_and_consent_withdrawn_at_once(world: tuple[App, TestClient]) -> None:  # noqa: F811
    app, _ = world
    request = app.rights.submit(B, RequestKind.CONSENT_WITHDRAWAL)
    assert request.deadline == date(2026, 12, 23)
    for scope in (GrantScope.DAILY, GrantScope.INTERVAL):
        app.grants.give(customer_id=B, connection_ean=EAN, grantee=APP, scopes=[scope],
                        purpose="A.3", data_first=date(2026, 1, 1), data_last=date(2026, 12, 31),
                        valid_until=NOW + timedelta(days=30), now=NOW)  # fmt: skip
    assert app.rights.withdraw_all_consent(B) == 2
    assert {g.status for g in app.grants.of_customer(B, NOW)} == {GrantStatus.REVOKED}
    before = app.audit.count()
    app.rights.save(request.start().complete(date(2026, 11, 23)))
    assert app.rights.requests(open_only=True) == []
    assert app.audit.count() == before + 1 and app.audit.verify().ok  # each step is audited
    assert [r.id for r in app.rights.requests()] == [request.id]


def test_rectify_and_erase_with_legal_holds(world: tuple[App, TestClient]) -> None:  # noqa: F811
    app, _ = world
    app.rights.rectify(A, email="a.jansen@mail.example", phone="06-12345678")
    assert app.parties.get_customer(A).contact.email == "a.jansen@mail.example"
    with pytest.raises(InvalidValueError):
        app.rights.rectify(A, email="not an address", phone=None)
    moved_out = {x.category: x for x in app.rights.erase(A)}
    assert moved_out["contact data"].outcome == "erased"
    assert app.parties.get_customer(A).contact == ContactData()
    assert moved_out["daily readings"].outcome == "kept"
    assert "P24M" in moved_out["daily readings"].reason
    assert moved_out["access log"].outcome == "kept"
    still_supplied = {x.category: x for x in app.rights.erase(B)}
    assert still_supplied["contact data"].outcome == "kept"
    assert app.rights.export(A)["connections"]  # readings stay inside retention


def test_objection_only_against_legitimate_interest(world: tuple[App, TestClient]) -> None:  # noqa: F811
    app, _ = world
    honoured = app.rights.object_to(A, "4.4")  # open small-consumer data: legitimate interest
    refused = app.rights.object_to(A, "3.1")  # meter readings register: legal obligation
    assert honoured.status is RequestStatus.DONE and refused.status is RequestStatus.REFUSED
    assert "legal_obligation" in refused.note
    assert app.rights.objections_of(A) == {"4.4"} and app.rights.objections_of(B) == set()
