"""Use cases of parties, customers and supply contracts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.engine import Engine

from meterkast.kernel.codes import CustomerKind, PartyRole
from meterkast.kernel.errors import NotFoundError
from meterkast.parties.adapters.sql import contracts, customers, parties
from meterkast.parties.domain import (
    ContactData,
    Contract,
    Customer,
    CustomerId,
    Ean13,
    Party,
    check_no_overlap,
    contract_on,
    parse_customer_id,
    parse_ean13,
)


def _contract(row: sa.Row[tuple[object, ...]]) -> Contract:
    m = row._mapping
    return Contract(
        id=m["id"],
        connection_ean=m["connection_ean"],
        customer_id=CustomerId(m["customer_id"]),
        supplier_ean=Ean13(m["supplier_ean"]),
        start=m["start"],
        end=m["end"],
        term_end=m["term_end"],
        notice_days=m["notice_days"],
    )


class PartiesService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # -- parties ---------------------------------------------------------------------------
    def add_party(self, party: Party) -> None:
        with self._engine.begin() as db:
            db.execute(
                parties.insert().values(ean=party.ean, role=party.role.value, name=party.name)
            )

    def list_parties(self, role: PartyRole | None = None) -> list[Party]:
        query = sa.select(parties).order_by(parties.c.name)
        if role is not None:
            query = query.where(parties.c.role == role.value)
        with self._engine.connect() as db:
            return [Party(Ean13(r.ean), PartyRole(r.role), r.name) for r in db.execute(query)]

    def get_party(self, ean: str) -> Party:
        code = parse_ean13(ean)
        with self._engine.connect() as db:
            row = db.execute(sa.select(parties).where(parties.c.ean == code)).first()
        if row is None:
            raise NotFoundError(f"no market party with EAN {code}")
        return Party(Ean13(row.ean), PartyRole(row.role), row.name)

    def bulk_load(
        self, db: DbConnection, rows_by_table: Mapping[str, Sequence[Mapping[str, object]]]
    ) -> None:
        """Insert pre-validated rows (the synthetic area) inside the caller's transaction."""
        for table in (parties, customers, contracts):
            rows = rows_by_table.get(table.name, ())
            for start in range(0, len(rows), 20_000):
                db.execute(table.insert(), list(rows[start : start + 20_000]))

    # -- customers -------------------------------------------------------------------------
    def add_customer(self, customer: Customer) -> None:
        with self._engine.begin() as db:
            db.execute(customers.insert().values(**_customer_row(customer)))

    def update_contact(self, customer_id: str, contact: ContactData) -> None:
        """Replace a customer's contact data (validated by ContactData); blanks allowed."""
        cid = parse_customer_id(customer_id)
        with self._engine.begin() as db:
            change = customers.update().where(customers.c.id == cid)
            done = db.execute(change.values(email=contact.email, phone=contact.phone)).rowcount
        if not done:
            raise NotFoundError(f"no customer {cid}")

    def get_customer(self, customer_id: str) -> Customer:
        cid = parse_customer_id(customer_id)
        with self._engine.connect() as db:
            row = db.execute(sa.select(customers).where(customers.c.id == cid)).first()
        if row is None:
            raise NotFoundError(f"no customer {cid}")
        return Customer(
            id=CustomerId(row.id),
            kind=CustomerKind(row.kind),
            name=row.name,
            contact=ContactData(email=row.email, phone=row.phone),
            kvk_number=row.kvk_number,
        )

    # -- contracts -------------------------------------------------------------------------
    def add_contract(self, contract: Contract) -> Contract:
        """Register a supply contract; refuses unknown parties and overlapping periods."""
        with self._engine.begin() as db:
            self._require_supplier(db, contract.supplier_ean)
            if (
                db.execute(
                    sa.select(customers.c.id).where(customers.c.id == contract.customer_id)
                ).first()
                is None
            ):
                raise NotFoundError(f"no customer {contract.customer_id}")
            existing = self._contracts(db, [contract.connection_ean])
            check_no_overlap(existing, contract)
            values = _contract_row(contract)
            del values["id"]
            new_id = db.execute(
                contracts.insert().values(**values).returning(contracts.c.id)
            ).scalar_one()
        return replace(contract, id=int(new_id))

    def contracts_of(self, connection_ean: str) -> list[Contract]:
        with self._engine.connect() as db:
            return self._contracts(db, [connection_ean])

    def contracts_of_customer(self, customer_id: str) -> list[Contract]:
        """Every contract a customer holds or held, at any connection."""
        with self._engine.connect() as db:
            rows = db.execute(
                sa.select(contracts)
                .where(contracts.c.customer_id == customer_id)
                .order_by(contracts.c.connection_ean, contracts.c.start)
            )
            return [_contract(r) for r in rows]

    def contracts_of_many(self, eans: Sequence[str]) -> dict[str, list[Contract]]:
        grouped: dict[str, list[Contract]] = {ean: [] for ean in eans}
        with self._engine.connect() as db:
            for contract in self._contracts(db, eans):
                grouped[contract.connection_ean].append(contract)
        return grouped

    def contract_end_register(self, connection_ean: str, day: date) -> Contract | None:
        """The running contract with its fixed-term end and notice period (the CER entry)."""
        return contract_on(self.contracts_of(connection_ean), day)

    @staticmethod
    def _contracts(db: DbConnection, eans: Sequence[str]) -> list[Contract]:
        rows = db.execute(
            sa.select(contracts)
            .where(contracts.c.connection_ean.in_(list(eans)))
            .order_by(contracts.c.connection_ean, contracts.c.start)
        )
        return [_contract(r) for r in rows]

    @staticmethod
    def _require_supplier(db: DbConnection, ean: str) -> None:
        row = db.execute(sa.select(parties.c.role).where(parties.c.ean == ean)).first()
        if row is None or row.role != PartyRole.SUPPLIER.value:
            raise NotFoundError(f"no supplier with EAN {ean}")


def _customer_row(customer: Customer) -> dict[str, object]:
    return {
        "id": customer.id,
        "kind": customer.kind.value,
        "name": customer.name,
        "email": customer.contact.email,
        "phone": customer.contact.phone,
        "kvk_number": customer.kvk_number,
    }


def _contract_row(contract: Contract) -> dict[str, object]:
    return {
        "id": contract.id,
        "connection_ean": contract.connection_ean,
        "customer_id": contract.customer_id,
        "supplier_ean": contract.supplier_ean,
        "start": contract.start,
        "end": contract.end,
        "term_end": contract.term_end,
        "notice_days": contract.notice_days,
    }
