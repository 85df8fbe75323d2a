"""Grants: a customer's explicit consent for a party to read a connection's data (pure domain).

Lifecycle: requested -> active -> revoked | expired | ended. A grant ends by itself when the
granting customer's contract at the connection ends; it expires at ``valid_until``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from meterkast.access.policy import GrantFact
from meterkast.kernel.codes import GrantScope, GrantStatus, PartyRole
from meterkast.kernel.errors import ConflictError, InvalidValueError

MAX_VALIDITY = timedelta(days=3 * 365)
_FINAL = frozenset({GrantStatus.REVOKED, GrantStatus.EXPIRED, GrantStatus.ENDED})


@dataclass(frozen=True, slots=True)
class Grant:
    id: str
    customer_id: str
    connection_ean: str
    grantee: str  # EAN-13 of the supplier or third party
    scopes: frozenset[GrantScope]
    purpose: str
    data_first: date
    data_last: date
    valid_from: datetime
    valid_until: datetime
    status: GrantStatus
    created_at: datetime
    closed_at: datetime | None = None

    def as_fact(self) -> GrantFact:
        return GrantFact(
            self.id, self.customer_id, self.grantee, self.scopes, self.purpose,
            self.data_first, self.data_last, self.valid_from, self.valid_until, self.status,
        )  # fmt: skip

    def effective_status(self, now: datetime, customer_still_supplied: bool) -> GrantStatus:
        """The status as of ``now``: expiry and contract end take effect by themselves."""
        return effective_status(self.status, self.valid_until, now, customer_still_supplied)

    def activate(self, now: datetime) -> Grant:
        if self.status is not GrantStatus.REQUESTED:
            raise ConflictError(f"grant {self.id} is {self.status.value}, not requested")
        return replace(self, status=GrantStatus.ACTIVE)

    def revoke(self, now: datetime) -> Grant:
        if self.status in _FINAL:
            raise ConflictError(f"grant {self.id} is already {self.status.value}")
        return replace(self, status=GrantStatus.REVOKED, closed_at=now)

    def close(self, status: GrantStatus, now: datetime) -> Grant:
        """Record an expiry or contract end that has taken effect."""
        if status not in {GrantStatus.EXPIRED, GrantStatus.ENDED} or self.status in _FINAL:
            raise ConflictError(f"grant {self.id} cannot become {status.value}")
        return replace(self, status=status, closed_at=now)


def effective_status(
    status: GrantStatus, valid_until: datetime, now: datetime, customer_still_supplied: bool
) -> GrantStatus:
    """A stored status as of ``now``: expiry and contract end take effect by themselves."""
    if status in _FINAL:
        return status
    if not customer_still_supplied:
        return GrantStatus.ENDED
    if now >= valid_until:
        return GrantStatus.EXPIRED
    return status


def validate_request(
    *,
    grantee_role: PartyRole,
    scopes: frozenset[GrantScope],
    purpose: str,
    data_first: date,
    data_last: date,
    valid_from: datetime,
    valid_until: datetime,
    customer_supplied: bool,
) -> None:
    """Rules for a new grant; raises with a clear reason."""
    if not customer_supplied:
        raise ConflictError("only the customer with a running contract here can grant access")
    if not scopes:
        raise InvalidValueError("a grant needs at least one scope: daily, interval or history")
    if grantee_role is PartyRole.GRID_OPERATOR:
        raise InvalidValueError("the grid operator needs no grant")
    if GrantScope.HISTORY in scopes and grantee_role is not PartyRole.SUPPLIER:
        raise InvalidValueError("history grants are for suppliers (an offer or a dispute)")
    if GrantScope.DAILY in scopes and grantee_role is PartyRole.SUPPLIER:
        raise InvalidValueError("a supplier reads daily readings of its own contract by law")
    if data_last < data_first:
        raise InvalidValueError("the data period ends before it starts")
    if valid_until <= valid_from:
        raise InvalidValueError("the grant must be valid for some time")
    if valid_until - valid_from > MAX_VALIDITY:
        raise InvalidValueError("a grant is valid for at most three years; renew it after")
    if not purpose.strip():
        raise InvalidValueError("a grant names the purpose it is given for")
