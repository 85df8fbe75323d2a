"""The request path's one-query facts reader and the token revocation list, on both databases.

The reader must give exactly what the owning services give (the composed path of
``AccessService.facts``), in the same order, and see every change at once: it caches nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.adapters.facts import SqlFacts, facts_statement
from meterkast.access.adapters.revocations import SqlRevocations
from meterkast.access.grant_service import CaseService, GrantService
from meterkast.access.policy import Action, CaseKind, Facts, Principal, Resource, decide
from meterkast.access.service import AccessService
from meterkast.access.tokens import MAX_TTL
from meterkast.db.migrate import upgrade
from meterkast.kernel.codes import (
    CustomerKind,
    GrantScope,
    GrantStatus,
    LegalBasis,
    PartyRole,
    Role,
)
from meterkast.parties.domain import ContactData, Customer, CustomerId, Ean13, Party
from meterkast.register.catalog import default_register
from meterkast.register.service import RegisterService
from tests.fakes import FakeReadings, ListAudit
from tests.integration.test_register_services import EAN, _contract, _seed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
APP = "8719900010010"
UNKNOWN = "871690000000000027"


def _world(engine: Engine) -> tuple[AccessService, GrantService, CaseService]:
    grid, parties = _seed(engine)
    parties.add_party(Party(Ean13(APP), PartyRole.THIRD_PARTY, "WattWijzer"))
    parties.add_customer(Customer(CustomerId("C00000002"), CustomerKind.PERSON, "B. de Vries",
                                  ContactData()))  # fmt: skip
    # The previous occupant until June 2025, then C00000001 (the running contract).
    parties.add_contract(replace(_contract(date(2023, 1, 1), date(2025, 6, 30)),
                                 customer_id=CustomerId("C00000002")))  # fmt: skip
    parties.add_contract(_contract(date(2025, 7, 15), None))
    grants, cases = GrantService(engine, parties), CaseService(engine)
    composed = AccessService(grid=grid, parties=parties, grants=grants, cases=cases,
                             readings=FakeReadings(), audit=ListAudit(),
                             register=RegisterService(default_register()),
                             clock=lambda: NOW)  # fmt: skip
    return composed, grants, cases


def _give(grants: GrantService, valid_days: int, scopes: list[GrantScope], after: int = 0) -> str:
    """A grant given ``after`` seconds past NOW (distinct times: both sides order by them)."""
    given = NOW + timedelta(seconds=after)
    return grants.give(customer_id="C00000001", connection_ean=EAN, grantee=APP, scopes=scopes,
                       purpose="A.3", data_first=date(2026, 1, 1), data_last=date(2026, 12, 31),
                       valid_until=given + timedelta(days=valid_days), now=given).id  # fmt: skip


def test_one_query_gives_what_the_services_give(engine: Engine) -> None:
    composed, grants, cases = _world(engine)
    reader = SqlFacts(engine)
    assert reader.facts_for(EAN, NOW) == composed.facts(EAN)  # no grants or cases yet
    kept = _give(grants, 30, [GrantScope.DAILY])
    _give(grants, 2, [GrantScope.DAILY, GrantScope.INTERVAL], 1)  # expired by the later time
    grants.revoke("C00000001", _give(grants, 30, [GrantScope.INTERVAL], 2), NOW)
    case = cases.open(kind=CaseKind.SERVICE, connection_ean=EAN, customer_id="C00000001",
                      purpose="1.5", subject="bill", opened_by="st1", now=NOW)  # fmt: skip
    cases.open(kind=CaseKind.NETLOSS, connection_ean=EAN, customer_id=None, purpose="7.1",
               subject="vacancy", opened_by="st2", now=NOW + timedelta(minutes=1))  # fmt: skip
    cases.close(case, NOW + timedelta(minutes=2))
    for moment in (NOW, NOW + timedelta(days=5)):
        facts = reader.facts_for(EAN, moment)
        assert facts == replace(composed.facts(EAN), grants=grants.facts_for(EAN, moment))
    facts = reader.facts_for(EAN, NOW + timedelta(days=5))
    assert [c.customer_id for c in facts.contracts] == ["C00000002", "C00000001"]
    assert [g.status for g in facts.grants] == [
        GrantStatus.ACTIVE, GrantStatus.EXPIRED, GrantStatus.REVOKED]  # fmt: skip
    assert facts.grants[0].id == kept and facts.grants[0].valid_until.tzinfo is not None
    assert [(c.kind, c.open, c.handler) for c in facts.cases] == [
        (CaseKind.SERVICE, False, "st1"), (CaseKind.NETLOSS, True, "st2")]  # fmt: skip


def test_unknown_connection_has_no_facts(engine: Engine) -> None:
    _world(engine)
    assert SqlFacts(engine).facts_for(UNKNOWN, NOW) == Facts(connection_known=False)


def test_a_revoked_grant_stops_access_through_the_reader_at_once(engine: Engine) -> None:
    _, grants, _ = _world(engine)
    reader = SqlFacts(engine)
    grant = _give(grants, 30, [GrantScope.DAILY])
    bases = {"A.3": (LegalBasis.CONSENT,)}
    asked = Resource(EAN, date(2026, 1, 1), date(2026, 11, 1))
    app = Principal(Role.THIRD_PARTY, APP, grant_id=grant)

    def allowed() -> bool:
        facts = reader.facts_for(EAN, NOW)
        return decide(app, Action.READ_DAILY, asked, "A.3", NOW, facts, bases).allowed

    assert allowed()
    grants.revoke("C00000001", grant, NOW)
    assert not allowed()


def test_every_branch_of_the_facts_query_uses_an_index(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":  # the plan is read on SQLite; PostgreSQL plans by size
        return
    query = facts_statement().params(ean=EAN)
    sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as db:
        plan = [str(row[-1]) for row in db.execute(sa.text(f"EXPLAIN QUERY PLAN {sql}"))]
    scans = [step for step in plan if step.startswith("SCAN")]
    assert scans == [], plan
    assert sum("USING" in step for step in plan) == 4, plan


def test_revocation_is_seen_at_once_and_pruned_only_when_harmless(engine: Engine) -> None:
    revocations = SqlRevocations(engine)
    assert not revocations.is_revoked("jti-aaaaaaaa")
    assert revocations.revoke("jti-aaaaaaaa", NOW)
    assert revocations.is_revoked("jti-aaaaaaaa")
    assert revocations.revoked_at("jti-aaaaaaaa") == NOW
    assert not revocations.revoke("jti-aaaaaaaa", NOW + timedelta(hours=1))  # listed already
    # Within the longest token lifetime the entry stays; after it, it is dropped.
    revocations.revoke("jti-bbbbbbbb", NOW + MAX_TTL)
    assert revocations.is_revoked("jti-aaaaaaaa")
    revocations.revoke("jti-cccccccc", NOW + MAX_TTL + timedelta(minutes=5))
    assert not revocations.is_revoked("jti-aaaaaaaa")
    assert revocations.is_revoked("jti-bbbbbbbb") and revocations.is_revoked("jti-cccccccc")


def test_a_failed_lookup_leaves_the_pooled_connection_usable(bare_engine: Engine) -> None:
    revocations = SqlRevocations(bare_engine)  # not migrated yet: the lookup fails
    with pytest.raises((sqlite3.Error, psycopg.Error)):  # the driver's own error (bare DB-API)
        revocations.is_revoked("jti-aaaaaaaa")
    raw = bare_engine.raw_connection()  # the connection the lookup used: back in its mode
    try:
        if bare_engine.dialect.name == "postgresql":
            assert raw.dbapi_connection.autocommit is False  # type: ignore[union-attr]
    finally:
        raw.close()
    upgrade(bare_engine)  # a transaction on the same pool
    assert revocations.revoke("jti-aaaaaaaa", NOW) and revocations.is_revoked("jti-aaaaaaaa")
