"""Data-subject requests on a real instance: export holds the person's data and nobody else's."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from meterkast.access.days import DaySet
from meterkast.access.policy import Principal
from meterkast.bootstrap import App
from meterkast.kernel.codes import GrantScope, GrantStatus, Role
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


def test_officer_export_reads_the_former_occupants_own_days_as_the_officer(
    world: tuple[App, TestClient],  # noqa: F811
) -> None:
    app, _ = world
    request = app.request_desk.register("PO01", A, RequestKind.ACCESS)
    data = app.request_desk.export("PO01", request.id, "json")
    days = [r["day"] for r in data["connections"][0]["daily_readings"]]  # type: ignore[index]
    assert days and days[-1] == "2025-06-30"  # A moved out: never B's days
    window = app.audit.entries_for(EAN, DaySet.between(date(2024, 1, 1), date(2026, 12, 31)))
    exports = [e for e in window if e["purpose"] == "A.5"]
    assert [(e["role"], e["party"]) for e in exports] == [
        ("privacy_officer", "privacy officer, privacy office")]  # fmt: skip
    b_view = app.audit.entries_for(EAN, DaySet.between(date(2025, 7, 15), date(2026, 11, 23)), B)
    assert not any(e["purpose"] == "A.5" for e in b_view)  # A's request discloses none of B's
    with pytest.raises(ValueError):
        app.access.read_for_subject_request(
            subject=Principal(Role.CUSTOMER, A), officer=Principal(Role.STAFF_SERVICE, "KS07"),
            request_id=request.id, ean=EAN, first=date(2025, 1, 1), last=date(2025, 6, 30),
        )  # fmt: skip


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
