"""Pure domain of parties and supply contracts."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NewType

from meterkast.kernel import gs1
from meterkast.kernel.codes import CustomerKind, PartyRole
from meterkast.kernel.errors import ConflictError, InvalidCodeError, InvalidValueError

Ean13 = NewType("Ean13", str)
CustomerId = NewType("CustomerId", str)

_CUSTOMER_ID = re.compile(r"^C[0-9]{8}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{8,20}$")
_KVK = re.compile(r"^[0-9]{8}$")


def parse_ean13(code: str) -> Ean13:
    """A market party code (EAN-13 / GLN) with a valid GS1 check digit."""
    return Ean13(gs1.validate(code, 13, "party EAN"))


def parse_customer_id(text: str) -> CustomerId:
    cleaned = text.strip()
    if not _CUSTOMER_ID.match(cleaned):
        raise InvalidCodeError(f"customer id must look like C00000001, got {text!r}")
    return CustomerId(cleaned)


@dataclass(frozen=True, slots=True)
class Party:
    ean: Ean13
    role: PartyRole
    name: str

    def __post_init__(self) -> None:
        parse_ean13(self.ean)
        if not self.name.strip():
            raise InvalidValueError("a party needs a name")


@dataclass(frozen=True, slots=True)
class ContactData:
    email: str | None = None
    phone: str | None = None

    def __post_init__(self) -> None:
        if self.email is not None and not _EMAIL.match(self.email):
            raise InvalidValueError("that e-mail address is not valid")
        if self.phone is not None and not _PHONE.match(self.phone):
            raise InvalidValueError("that phone number is not valid")


@dataclass(frozen=True, slots=True)
class Customer:
    id: CustomerId
    kind: CustomerKind
    name: str
    contact: ContactData
    kvk_number: str | None = None  # Chamber of Commerce number, businesses only

    def __post_init__(self) -> None:
        parse_customer_id(self.id)
        if not self.name.strip():
            raise InvalidValueError("a customer needs a name")
        if self.kind is CustomerKind.BUSINESS:
            if self.kvk_number is None or not _KVK.match(self.kvk_number):
                raise InvalidValueError("a business customer needs an 8-digit KvK number")
        elif self.kvk_number is not None:
            raise InvalidValueError("a KvK number belongs to a business customer")


@dataclass(frozen=True, slots=True)
class Contract:
    """A supply contract of a customer with a supplier at one connection.

    ``end`` is the last supply day (inclusive; its 00:00 reading is the final reading) and is
    ``None`` while the contract runs. ``term_end`` and ``notice_days`` are what the Contract End
    Register holds: the end of a fixed term and the notice period to leave.
    """

    id: int
    connection_ean: str
    customer_id: CustomerId
    supplier_ean: Ean13
    start: date
    end: date | None
    term_end: date | None = None
    notice_days: int = 30

    def __post_init__(self) -> None:
        if self.end is not None and self.end < self.start:
            raise InvalidValueError(f"contract ends ({self.end}) before it starts ({self.start})")
        if self.term_end is not None and self.term_end < self.start:
            raise InvalidValueError("a fixed term cannot end before the contract starts")
        if not 0 <= self.notice_days <= 365:
            raise InvalidValueError("notice period must be 0 to 365 days")

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def overlaps(self, other: Contract) -> bool:
        far = date.max
        return self.start <= (other.end or far) and other.start <= (self.end or far)

    def earliest_end(self, notice_given: date) -> date:
        """The first day supply may end after notice given on ``notice_given``."""
        by_notice = notice_given + timedelta(days=self.notice_days)
        if self.term_end is not None and self.term_end > by_notice:
            return self.term_end
        return by_notice


def check_no_overlap(existing: Iterable[Contract], new: Contract) -> None:
    """Contracts of one connection never overlap."""
    for contract in existing:
        if contract.connection_ean == new.connection_ean and contract.overlaps(new):
            raise ConflictError(
                f"contract from {new.start} overlaps contract {contract.id} "
                f"({contract.start} to {contract.end or 'open'}) at {new.connection_ean}"
            )


def contract_on(contracts: Iterable[Contract], day: date) -> Contract | None:
    """The contract supplying the connection on ``day``, if any."""
    return next((c for c in contracts if c.covers(day)), None)
