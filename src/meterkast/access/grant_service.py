"""Use cases of grants and of staff cases: give, approve, revoke, list; open and close cases."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.adapters.grants import cases, grants
from meterkast.access.grants import Grant, validate_request
from meterkast.access.policy import (
    CASE_PURPOSES,
    CaseFact,
    CaseKind,
    ContractFact,
    GrantFact,
    current_customer,
)
from meterkast.kernel.clock import AMSTERDAM, local_day
from meterkast.kernel.codes import GrantScope, GrantStatus
from meterkast.kernel.errors import InvalidValueError, NotFoundError
from meterkast.parties.domain import Contract
from meterkast.parties.service import PartiesService


def utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored here is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _grant(row: sa.Row[tuple[object, ...]]) -> Grant:
    m = row._mapping
    return Grant(
        id=m["id"],
        customer_id=m["customer_id"],
        connection_ean=m["connection_ean"],
        grantee=m["grantee"],
        scopes=frozenset(GrantScope(s) for s in str(m["scopes"]).split(",")),
        purpose=m["purpose"],
        data_first=m["data_first"],
        data_last=m["data_last"],
        valid_from=utc(m["valid_from"]),
        valid_until=utc(m["valid_until"]),
        status=GrantStatus(m["status"]),
        created_at=utc(m["created_at"]),
        closed_at=None if m["closed_at"] is None else utc(m["closed_at"]),
    )


class GrantService:
    def __init__(self, engine: Engine, parties: PartiesService) -> None:
        self._engine = engine
        self._parties = parties

    def give(self, *, customer_id: str, connection_ean: str, grantee: str,
             scopes: Iterable[GrantScope], purpose: str, data_first: date, data_last: date,
             valid_until: datetime, now: datetime,
             status: GrantStatus = GrantStatus.ACTIVE) -> Grant:  # fmt: skip
        """A customer gives (ACTIVE) or an app requests (REQUESTED) access to a connection."""
        if status not in {GrantStatus.ACTIVE, GrantStatus.REQUESTED}:
            raise InvalidValueError("a new grant is requested or active")
        party = self._parties.get_party(grantee)
        contracts = self._parties.contracts_of(connection_ean)
        runner = next((c for c in contracts if c.covers(local_day(now))), None)
        scope_set = frozenset(scopes)
        validate_request(
            grantee_role=party.role, scopes=scope_set, purpose=purpose, data_first=data_first,
            data_last=data_last, valid_from=now, valid_until=valid_until,
            customer_supplied=runner is not None and runner.customer_id == customer_id,
        )  # fmt: skip
        grant = Grant(
            id=str(uuid.uuid4()), customer_id=customer_id, connection_ean=connection_ean,
            grantee=party.ean, scopes=scope_set, purpose=purpose, data_first=data_first,
            data_last=data_last, valid_from=now, valid_until=valid_until, status=status,
            created_at=now,
        )  # fmt: skip
        with self._engine.begin() as db:
            db.execute(grants.insert().values(**self._row(grant)))
        return grant

    def approve(self, customer_id: str, grant_id: str, now: datetime) -> Grant:
        return self._change(customer_id, grant_id, lambda g: g.activate(now))

    def revoke(self, customer_id: str, grant_id: str, now: datetime) -> Grant:
        """Revoking stops access at once: the next decision reads the new status."""
        return self._change(customer_id, grant_id, lambda g: g.revoke(now))

    def get(self, grant_id: str) -> Grant:
        with self._engine.connect() as db:
            row = db.execute(sa.select(grants).where(grants.c.id == grant_id)).first()
        if row is None:
            raise NotFoundError("no such grant")
        return _grant(row)

    def of_customer(self, customer_id: str, now: datetime) -> list[Grant]:
        return self._current(grants.c.customer_id == customer_id, now)

    def of_grantee(self, grantee: str, now: datetime) -> list[Grant]:
        return self._current(grants.c.grantee == grantee, now)

    def facts_for(self, connection_ean: str, now: datetime) -> tuple[GrantFact, ...]:
        return tuple(g.as_fact() for g in self._current(
            grants.c.connection_ean == connection_ean, now))  # fmt: skip

    def eans_with_interval_grant(self, day: date) -> frozenset[str]:
        """Connections whose customer has a usable interval grant during ``day`` (head-end hook).

        Only for these does the head-end read 15-minute and hourly profiles at all.
        """
        start = datetime.combine(day, time(), AMSTERDAM)
        with self._engine.connect() as db:
            rows = db.execute(sa.select(grants).where(
                grants.c.status == GrantStatus.ACTIVE.value,
                grants.c.scopes.contains(GrantScope.INTERVAL.value),
                grants.c.valid_from < start + timedelta(days=1),
                grants.c.valid_until > start,
            )).all()  # fmt: skip
        seen: dict[str, tuple[ContractFact, ...]] = {}
        return frozenset(
            g.connection_ean
            for g in map(_grant, rows)
            if self._effective(g, start, seen) is GrantStatus.ACTIVE
        )

    def sweep(self, now: datetime) -> int:
        """Record expiries and contract ends that took effect (a nightly job). Returns count."""
        changed = 0
        with self._engine.begin() as db:
            rows = db.execute(sa.select(grants).where(grants.c.status.in_(
                [GrantStatus.ACTIVE.value, GrantStatus.REQUESTED.value]))).all()  # fmt: skip
        seen: dict[str, tuple[ContractFact, ...]] = {}
        for row in rows:
            grant = _grant(row)
            status = self._effective(grant, now, seen)
            if status is not grant.status:
                self._store(grant.close(status, now))
                changed += 1
        return changed

    # -- internals --------------------------------------------------------------------------
    def _effective(
        self, grant: Grant, now: datetime, seen: dict[str, tuple[ContractFact, ...]]
    ) -> GrantStatus:
        """The grant's status now; ``seen`` keeps each connection's contracts for one call,
        so several grants on one connection cost one contract query, not one each."""
        if grant.connection_ean not in seen:
            seen[grant.connection_ean] = contract_facts(
                self._parties.contracts_of(grant.connection_ean)
            )
        supplied = current_customer(seen[grant.connection_ean], local_day(now))
        return grant.effective_status(now, supplied == grant.customer_id)

    def _current(self, where: sa.ColumnElement[bool], now: datetime) -> list[Grant]:
        with self._engine.connect() as db:
            rows = db.execute(sa.select(grants).where(where).order_by(grants.c.created_at)).all()
        out = []
        seen: dict[str, tuple[ContractFact, ...]] = {}
        for row in rows:
            grant = _grant(row)
            status = self._effective(grant, now, seen)
            out.append(grant if status is grant.status else replace(grant, status=status))
        return out

    def _change(self, customer_id: str, grant_id: str, change: Callable[[Grant], Grant]) -> Grant:
        grant = self.get(grant_id)
        if grant.customer_id != customer_id:
            raise NotFoundError("no such grant")  # someone else's grant looks unknown
        updated = change(grant)
        self._store(updated)
        return updated

    def _store(self, grant: Grant) -> None:
        with self._engine.begin() as db:
            db.execute(grants.update().where(grants.c.id == grant.id).values(
                status=grant.status.value, closed_at=grant.closed_at))  # fmt: skip

    @staticmethod
    def _row(grant: Grant) -> dict[str, object]:
        return {
            "id": grant.id, "customer_id": grant.customer_id,
            "connection_ean": grant.connection_ean, "grantee": grant.grantee,
            "scopes": ",".join(sorted(s.value for s in grant.scopes)), "purpose": grant.purpose,
            "data_first": grant.data_first, "data_last": grant.data_last,
            "valid_from": grant.valid_from, "valid_until": grant.valid_until,
            "status": grant.status.value, "created_at": grant.created_at,
            "closed_at": grant.closed_at,
        }  # fmt: skip


def contract_facts(contracts: Iterable[Contract]) -> tuple[ContractFact, ...]:
    return tuple(ContractFact(c.customer_id, c.supplier_ean, c.start, c.end) for c in contracts)


@dataclass(frozen=True, slots=True)
class OpenCase:
    """A handler's open case as a work list shows it: no subject, no customer."""

    id: str
    kind: CaseKind
    purpose: str  # the register activity the case serves
    opened_on: date  # Dutch calendar day
    connection_ean: str  # for the case-bound look-up; not shown in the list
    team: bool  # assigned to the whole team rather than to one staff member


class CaseService:
    """Cases that justify a staff member's individual access (service, net-loss, dispute)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def open(self, *, kind: CaseKind, connection_ean: str, customer_id: str | None,
             purpose: str, subject: str, opened_by: str, now: datetime,
             team: bool = False) -> str:  # fmt: skip
        """Open a case for one activity of its kind; it goes to ``opened_by`` or the team."""
        if not subject.strip():
            raise InvalidValueError("a case needs a subject")
        if purpose not in CASE_PURPOSES[kind]:
            allowed = ", ".join(sorted(CASE_PURPOSES[kind]))
            raise InvalidValueError(f"a {kind.value} case serves one of {allowed}")
        if kind is CaseKind.SERVICE and customer_id is None:
            raise InvalidValueError("a service case is opened for a customer")
        case_id = str(uuid.uuid4())
        with self._engine.begin() as db:
            db.execute(cases.insert().values(
                id=case_id, kind=kind.value, connection_ean=connection_ean,
                customer_id=customer_id, purpose=purpose, subject=subject.strip()[:200],
                opened_by=opened_by, handler=None if team else opened_by, opened_at=now,
                closed_at=None,
            ))  # fmt: skip
        return case_id

    def close(self, case_id: str, now: datetime) -> None:
        with self._engine.begin() as db:
            done = db.execute(cases.update().where(cases.c.id == case_id,
                                                   cases.c.closed_at.is_(None))
                              .values(closed_at=now)).rowcount  # fmt: skip
        if not done:
            raise NotFoundError("no open case with that id")

    def open_cases(self, kind: CaseKind, handler: str) -> list[OpenCase]:
        """The open cases of one kind assigned to ``handler`` or to the team, oldest first."""
        c = cases.c
        mine = sa.or_(c.handler == handler, c.handler.is_(None))
        query = (sa.select(c.id, c.kind, c.purpose, c.opened_at, c.connection_ean, c.handler)
                 .where(c.kind == kind.value, mine, c.closed_at.is_(None))
                 .order_by(c.opened_at, c.id))  # fmt: skip
        with self._engine.connect() as db:
            rows = db.execute(query).all()
        return [OpenCase(r.id, CaseKind(r.kind), r.purpose, local_day(utc(r.opened_at)),
                         r.connection_ean, r.handler is None) for r in rows]  # fmt: skip

    def open_case(self, case_id: str, kind: CaseKind, handler: str) -> OpenCase:
        """One of :meth:`open_cases`, or NotFoundError (closed, another's, or no such case)."""
        found = next((k for k in self.open_cases(kind, handler) if k.id == case_id), None)
        if found is None:
            raise NotFoundError("no open case with that id")
        return found

    def facts_for(self, connection_ean: str) -> tuple[CaseFact, ...]:
        with self._engine.connect() as db:
            rows = db.execute(sa.select(cases).where(cases.c.connection_ean == connection_ean)
                              .order_by(cases.c.opened_at)).all()  # fmt: skip
        return tuple(
            CaseFact(
                r.id, CaseKind(r.kind), r.customer_id, r.closed_at is None, r.handler, r.purpose
            )
            for r in rows
        )
