"""Grants and cases on SQLite and PostgreSQL, and their effect on decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from meterkast.access.grant_service import CaseService, GrantService, contract_facts
from meterkast.access.grants import Grant
from meterkast.access.policy import Action, CaseKind, Facts, Principal, Resource, decide
from meterkast.kernel.codes import GrantScope, GrantStatus, LegalBasis, PartyRole, Role
from meterkast.kernel.errors import ConflictError, InvalidValueError, NotFoundError
from meterkast.parties.domain import Ean13, Party
from meterkast.parties.service import PartiesService
from tests.integration.test_register_services import EAN, SUPPLIER, _contract, _seed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
APP = "8719900010010"
BASES = {"A.3": (LegalBasis.CONSENT,), "1.5": (LegalBasis.CONTRACT,)}


def _setup(engine: Engine) -> tuple[GrantService, PartiesService]:
    _, parties = _seed(engine)
    parties.add_party(Party(Ean13(APP), PartyRole.THIRD_PARTY, "WattWijzer"))
    parties.add_contract(_contract(date(2025, 1, 1), None))
    return GrantService(engine, parties), parties


def _give(service: GrantService, **overrides: object) -> Grant:
    args: dict[str, object] = {
        "customer_id": "C00000001", "connection_ean": EAN, "grantee": APP,
        "scopes": [GrantScope.DAILY], "purpose": "A.3", "data_first": date(2026, 1, 1),
        "data_last": date(2026, 12, 31), "valid_until": NOW + timedelta(days=365), "now": NOW,
    }  # fmt: skip
    args.update(overrides)
    return service.give(**args)  # type: ignore[arg-type]


def _allowed(service: GrantService, parties: PartiesService, now: datetime) -> bool:
    facts = Facts(True, contract_facts(parties.contracts_of(EAN)), service.facts_for(EAN, now))
    asked = Resource(EAN, date(2026, 1, 1), date(2026, 11, 1))
    d = decide(Principal(Role.THIRD_PARTY, APP), Action.READ_DAILY, asked, "A.3", now, facts, BASES)
    return d.allowed


def test_give_read_revoke_stops_access_at_once(engine: Engine) -> None:
    service, parties = _setup(engine)
    assert not _allowed(service, parties, NOW)
    grant = _give(service)
    assert _allowed(service, parties, NOW + timedelta(minutes=1))
    with pytest.raises(NotFoundError):
        service.revoke("C00000009", grant.id, NOW)
    revoked = service.revoke("C00000001", grant.id, NOW + timedelta(minutes=2))
    assert revoked.status is GrantStatus.REVOKED
    assert not _allowed(service, parties, NOW + timedelta(minutes=3))
    with pytest.raises(ConflictError):
        service.revoke("C00000001", grant.id, NOW)


def test_requested_grant_is_unusable_until_approved(engine: Engine) -> None:
    service, parties = _setup(engine)
    grant = _give(service, status=GrantStatus.REQUESTED)
    assert not _allowed(service, parties, NOW)
    service.approve("C00000001", grant.id, NOW)
    assert _allowed(service, parties, NOW)


def test_grant_expires_and_ends_with_the_contract(engine: Engine) -> None:
    service, parties = _setup(engine)
    grant = _give(service, valid_until=NOW + timedelta(days=10))
    later = NOW + timedelta(days=11)
    assert [g.status for g in service.of_customer("C00000001", later)] == [GrantStatus.EXPIRED]
    assert not _allowed(service, parties, later)
    assert service.sweep(later) == 1 and service.get(grant.id).status is GrantStatus.EXPIRED


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"customer_id": "C00000009"}, ConflictError),
        ({"scopes": []}, InvalidValueError),
        ({"scopes": [GrantScope.HISTORY]}, InvalidValueError),
        ({"grantee": SUPPLIER}, InvalidValueError),  # suppliers read daily by law, no grant
        ({"data_first": date(2027, 1, 1)}, InvalidValueError),
        ({"valid_until": NOW + timedelta(days=4000)}, InvalidValueError),
        ({"grantee": "8716892000005"}, NotFoundError),
    ],
)
def test_bad_grants_are_refused(engine: Engine, overrides: dict[str, object], error: type) -> None:
    service, _ = _setup(engine)
    with pytest.raises(error):
        _give(service, **overrides)
    assert service.of_customer("C00000001", NOW) == []


def test_cases_open_and_close(engine: Engine) -> None:
    _setup(engine)
    cases = CaseService(engine)
    case_id = cases.open(kind=CaseKind.SERVICE, connection_ean=EAN, customer_id="C00000001",
                         purpose="1.5", subject="Complaint about the bill", opened_by="st1",
                         now=NOW)  # fmt: skip
    assert [c.open for c in cases.facts_for(EAN)] == [True]
    cases.close(case_id, NOW + timedelta(hours=1))
    assert [c.open for c in cases.facts_for(EAN)] == [False]
    with pytest.raises(NotFoundError):
        cases.close(case_id, NOW)
