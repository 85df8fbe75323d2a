"""The access decision: who may read which days of a connection, for which purpose.

One pure function, :func:`decide`, implements ``access-rules.md``. It reads nothing itself: the
caller passes the facts (contracts, grants, open cases of the connection) and the time. Where the
rules leave room, the reading that discloses less is taken (see docs/decisions/0003).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from meterkast.access.days import DayRange, DaySet
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import GrantScope, GrantStatus, LegalBasis, Role

POLICY_VERSION = "access-rules/2026-11-23"
RETENTION_MONTHS = 24
MIN_AGGREGATE = 10


class Action(StrEnum):
    READ_DAILY = "read_daily"
    READ_INTERVAL = "read_interval"
    READ_AGGREGATE = "read_aggregate"  # statistics over a group of connections
    BATCH_SCAN = "batch_scan"  # a market batch job over whole months
    READ_CHOICE = "read_choice"  # the customer's reading choice (register activity 1.2)
    CHANGE_CHOICE = "change_choice"


class Denial(StrEnum):
    """Why a request was refused, as far as the caller may learn it."""

    BAD_REQUEST = "bad_request"  # the request itself is wrong (range, purpose missing/unknown)
    PURPOSE_NOT_ALLOWED = "purpose_not_allowed"  # the role may not use that purpose
    NO_ACCESS = "no_access"  # unknown connection or no right to it: indistinguishable


class CaseKind(StrEnum):
    SERVICE = "service"  # complaint, question, compensation
    NETLOSS = "netloss"  # vacancy, fraud or administrative-difference investigation
    DISPUTE = "dispute"  # a market dispute about one connection


# Purposes (register activity ids) each role may name, per kind of access.
CUSTOMER_OWN = "A.1"  # the customer's own access and insight (an addition to the register)
READING_CHOICE = "1.2"  # the customer's choice on remote reading
THIRD_PARTY_SERVICE = "A.3"  # a third party's service under the customer's consent
CONSENT_MANAGEMENT = "A.2"  # giving, inspecting and withdrawing grants
SUBJECT_REQUEST = "A.5"  # handling data-subject requests (the privacy officer)
SUPPLIER_STANDARD = frozenset({"3.1", "3.3", "3.4"})  # readings, feed-in, billing/overview
SUPPLIER_HISTORY = "3.2"  # historical readings for an offer or a dispute, with a grant
SERVICE_PURPOSES = frozenset({"1.4", "1.5", "1.6"})
NETLOSS_PURPOSES = frozenset({"7.1", "7.2", "7.3"})
MARKET_PURPOSES = frozenset({"3.5", "3.9", "3.10", "3.11"})
GRID_PURPOSES = frozenset({"5.3", "5.4"})

# The activities a case of each kind can serve: a case is opened for exactly one of them.
CASE_PURPOSES: Mapping[CaseKind, frozenset[str]] = {
    CaseKind.SERVICE: SERVICE_PURPOSES,
    CaseKind.NETLOSS: NETLOSS_PURPOSES,
    CaseKind.DISPUTE: MARKET_PURPOSES,
}

ROLE_PURPOSES: Mapping[Role, frozenset[str]] = {
    Role.CUSTOMER: frozenset({CUSTOMER_OWN, READING_CHOICE}),
    Role.SUPPLIER: SUPPLIER_STANDARD | {SUPPLIER_HISTORY},
    Role.THIRD_PARTY: frozenset({THIRD_PARTY_SERVICE}),
    Role.STAFF_SERVICE: SERVICE_PURPOSES,
    Role.STAFF_NETLOSS: NETLOSS_PURPOSES,
    Role.STAFF_MARKET: MARKET_PURPOSES,
    Role.STAFF_GRID: GRID_PURPOSES,
    Role.PRIVACY_OFFICER: frozenset(),
}


@dataclass(frozen=True, slots=True)
class Principal:
    role: Role
    party_id: str  # customer id, EAN-13 of a supplier or third party, or a staff member's id
    organisation: str | None = None
    grant_id: str | None = None  # an app's token bound to one grant (OAuth) may use only that one


@dataclass(frozen=True, slots=True)
class ContractFact:
    customer_id: str
    supplier_ean: str
    start: date
    end: date | None  # inclusive; None while running


@dataclass(frozen=True, slots=True)
class GrantFact:
    id: str
    customer_id: str
    grantee: str
    scopes: frozenset[GrantScope]
    purpose: str
    data_first: date
    data_last: date
    valid_from: datetime
    valid_until: datetime
    status: GrantStatus


@dataclass(frozen=True, slots=True)
class CaseFact:
    id: str
    kind: CaseKind
    customer_id: str | None
    open: bool
    handler: str | None = None  # staff id the case is assigned to; None = the team
    purpose: str | None = None  # the register activity the case serves; None serves none


@dataclass(frozen=True, slots=True)
class Facts:
    """What is known about the connection at decision time (empty for an unknown one)."""

    connection_known: bool
    contracts: tuple[ContractFact, ...] = ()
    grants: tuple[GrantFact, ...] = ()
    cases: tuple[CaseFact, ...] = ()
    connections_in_group: int = 1  # for aggregates


@dataclass(frozen=True, slots=True)
class Resource:
    connection_ean: str
    first: date | None
    last: date | None


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    purpose: str | None
    legal_basis: LegalBasis | None
    reasons: tuple[str, ...]
    days: DaySet = field(default_factory=DaySet)
    grant_id: str | None = None
    case_id: str | None = None
    policy_version: str = POLICY_VERSION
    denial: Denial | None = None


def retention_window(today: date) -> DaySet:
    """The last 24 months: from the same day 24 months back (clamped to month end) to today.

    Readings at 00:00 of both ends bound exactly 24 months of consumption.
    """
    year, month0 = divmod(today.year * 12 + today.month - 1 - RETENTION_MONTHS, 12)
    day = min(today.day, calendar.monthrange(year, month0 + 1)[1])
    return DaySet.between(date(year, month0 + 1, day), today)


def periods_of(contracts: tuple[ContractFact, ...], *, customer: str | None = None,
               supplier: str | None = None, today: date) -> DaySet:  # fmt: skip
    """Days covered by the contracts of a customer (or of a supplier) at the connection."""
    return DaySet.of(
        DayRange(c.start, min(c.end or today, today))
        for c in contracts
        if (customer is None or c.customer_id == customer)
        and (supplier is None or c.supplier_ean == supplier)
        and c.start <= min(c.end or today, today)
    )


def current_customer(contracts: tuple[ContractFact, ...], today: date) -> str | None:
    for c in contracts:
        if c.start <= today and (c.end is None or today <= c.end):
            return c.customer_id
    return None


def grant_usable(grant: GrantFact, facts: Facts, now: datetime) -> bool:
    """Active, inside its validity, and its customer still holds a running contract."""
    return (
        grant.status is GrantStatus.ACTIVE
        and grant.valid_from <= now < grant.valid_until
        and current_customer(facts.contracts, local_day(now)) == grant.customer_id
    )


@dataclass(frozen=True, slots=True)
class _Ask:
    """One request after validation: what every rule needs."""

    principal: Principal
    action: Action
    purpose: str
    days: DaySet  # requested days inside the retention window
    now: datetime
    facts: Facts
    bases: Mapping[str, tuple[LegalBasis, ...]]

    @property
    def today(self) -> date:
        return local_day(self.now)

    def allow(self, reason: str, days: DaySet, *, consent: bool = False,
              grant_id: str | None = None, case_id: str | None = None) -> Decision:  # fmt: skip
        basis = _basis(self.purpose, self.bases, consent)
        return Decision(True, self.purpose, basis, (reason,), days, grant_id, case_id)

    def deny(self, reason: str) -> Decision:
        return _deny(self.purpose, reason)


def _deny(purpose: str | None, reason: str, denial: Denial = Denial.NO_ACCESS) -> Decision:
    return Decision(False, purpose, None, (reason,), denial=denial)


def _basis(purpose: str, bases: Mapping[str, tuple[LegalBasis, ...]], consent: bool) -> LegalBasis:
    """Consent where the access rests on a grant, else the register's first other basis."""
    own = bases.get(purpose, ())
    if consent:
        return LegalBasis.CONSENT
    fallback = own[0] if own else LegalBasis.LEGAL_OBLIGATION
    return next((b for b in own if b is not LegalBasis.CONSENT), fallback)


def decide(
    principal: Principal,
    action: Action,
    resource: Resource,
    purpose: str | None,
    now: datetime,
    facts: Facts,
    bases: Mapping[str, tuple[LegalBasis, ...]],
) -> Decision:
    """Decide one request. ``bases`` maps register activity ids to their legal bases."""
    if not purpose:
        return _deny(None, "no purpose named", Denial.BAD_REQUEST)
    if purpose not in bases:
        return _deny(purpose, f"unknown purpose {purpose}", Denial.BAD_REQUEST)
    if purpose not in ROLE_PURPOSES.get(principal.role, frozenset()):
        reason = f"role {principal.role.value} may not use purpose {purpose}"
        return _deny(purpose, reason, Denial.PURPOSE_NOT_ALLOWED)
    if resource.first is None or resource.last is None:
        return _deny(purpose, "the date range must have a start and an end", Denial.BAD_REQUEST)
    if resource.last < resource.first:
        return _deny(purpose, "the date range is inverted", Denial.BAD_REQUEST)
    asked = DaySet.between(resource.first, resource.last) & retention_window(local_day(now))
    ask = _Ask(principal, action, purpose, asked, now, facts, bases)
    if action is Action.READ_AGGREGATE:
        return _aggregate(ask)
    if not facts.connection_known:
        return ask.deny("unknown connection")
    rule = _RULES.get(principal.role)
    if rule is None:
        return ask.deny(f"role {principal.role.value} never reads readings individually")
    decision = rule(ask)
    if decision.allowed and not decision.days:
        reasons = (*decision.reasons, "no days left after clipping")
        return Decision(False, purpose, None, reasons, denial=Denial.NO_ACCESS)
    return decision


def _customer(ask: _Ask) -> Decision:
    if ask.action in {Action.READ_CHOICE, Action.CHANGE_CHOICE}:
        return _choice(ask)
    if ask.purpose != CUSTOMER_OWN:
        return ask.deny(f"purpose {ask.purpose} does not read readings")
    if ask.action not in {Action.READ_DAILY, Action.READ_INTERVAL}:
        return ask.deny(f"customers may not {ask.action.value}")
    own = periods_of(ask.facts.contracts, customer=ask.principal.party_id, today=ask.today)
    if not own:
        return ask.deny("the customer has no contract period at this connection")
    return ask.allow("own contract periods", ask.days & own)


def _choice(ask: _Ask) -> Decision:
    """Only the customer supplied at the connection today sees or changes its reading choice."""
    if ask.purpose != READING_CHOICE:
        return ask.deny(f"purpose {ask.purpose} is not about the reading choice")
    if current_customer(ask.facts.contracts, ask.today) != ask.principal.party_id:
        return ask.deny("only the current customer decides on remote reading")
    return ask.allow("current customer", DaySet.between(ask.today, ask.today))


def _supplier(ask: _Ask) -> Decision:
    contracts, supplier = ask.facts.contracts, ask.principal.party_id
    own = periods_of(contracts, supplier=supplier, today=ask.today)
    customer = current_customer(contracts, ask.today)
    if ask.action is Action.READ_DAILY and ask.purpose in SUPPLIER_STANDARD:
        if not own:
            return ask.deny("the supplier has no contract period at this connection")
        return ask.allow("supplier's own contract periods", ask.days & own)
    if ask.action is Action.READ_DAILY and ask.purpose == SUPPLIER_HISTORY:
        grant = _usable_grant(ask, GrantScope.HISTORY, customer)
        if customer is None or grant is None:
            return ask.deny("no usable history grant from the current customer")
        days = ask.days & periods_of(contracts, customer=customer, today=ask.today)
        days &= DaySet.between(grant.data_first, grant.data_last)
        return ask.allow("history grant of the current customer", days, consent=True,
                         grant_id=grant.id)  # fmt: skip
    if ask.action is Action.READ_INTERVAL and ask.purpose in SUPPLIER_STANDARD:
        grant = _usable_grant(ask, GrantScope.INTERVAL, customer)
        if customer is None or grant is None:
            return ask.deny("no usable interval grant from the current customer")
        days = ask.days & own & periods_of(contracts, customer=customer, today=ask.today)
        days &= DaySet.between(grant.data_first, grant.data_last)
        return ask.allow("interval grant of the current customer", days, consent=True,
                         grant_id=grant.id)  # fmt: skip
    return ask.deny(f"suppliers may not {ask.action.value} for purpose {ask.purpose}")


_GRANT_SCOPE = {Action.READ_DAILY: GrantScope.DAILY, Action.READ_INTERVAL: GrantScope.INTERVAL}


def _third_party(ask: _Ask) -> Decision:
    scope = _GRANT_SCOPE.get(ask.action)
    if scope is None:
        return ask.deny(f"third parties may not {ask.action.value}")
    customer = current_customer(ask.facts.contracts, ask.today)
    grant = _usable_grant(ask, scope, customer, ask.purpose)
    if customer is None or grant is None:
        return ask.deny(f"no usable {scope.value} grant for this purpose")
    days = ask.days & periods_of(ask.facts.contracts, customer=grant.customer_id, today=ask.today)
    days &= DaySet.between(grant.data_first, grant.data_last)
    return ask.allow("grant of the customer", days, consent=True, grant_id=grant.id)


_CASE_KIND = {
    Role.STAFF_SERVICE: CaseKind.SERVICE,
    Role.STAFF_NETLOSS: CaseKind.NETLOSS,
    Role.STAFF_MARKET: CaseKind.DISPUTE,
}


def _staff(ask: _Ask) -> Decision:
    role = ask.principal.role
    if ask.action is Action.BATCH_SCAN:
        if role is Role.STAFF_MARKET:
            return ask.allow("market batch job", ask.days)
        return ask.deny("only market batch jobs scan whole months")
    if ask.action is not Action.READ_DAILY:
        return ask.deny("staff never read interval data individually")
    kind = _CASE_KIND[role]
    case = next((c for c in ask.facts.cases
                 if c.kind is kind and c.open and c.purpose == ask.purpose), None)  # fmt: skip
    if case is None:
        return ask.deny(f"no open {kind.value} case for purpose {ask.purpose} at this connection")
    days = ask.days
    if kind is CaseKind.SERVICE:
        if case.customer_id is None:
            return ask.deny("the service case names no customer")
        days &= periods_of(ask.facts.contracts, customer=case.customer_id, today=ask.today)
    return ask.allow(f"open {kind.value} case for {case.purpose}", days, case_id=case.id)


def _aggregate(ask: _Ask) -> Decision:
    if ask.principal.role not in {Role.STAFF_GRID, Role.STAFF_MARKET}:
        return ask.deny("aggregates are for grid planning, quality and market staff")
    if ask.facts.connections_in_group < MIN_AGGREGATE:
        return ask.deny(f"an aggregate needs at least {MIN_AGGREGATE} connections")
    return ask.allow(f"aggregate of {ask.facts.connections_in_group} connections", ask.days)


def _usable_grant(
    ask: _Ask, scope: GrantScope, customer: str | None, purpose: str | None = None
) -> GrantFact | None:
    """A usable grant to the caller with ``scope`` from ``customer`` (for ``purpose``)."""
    for grant in ask.facts.grants:
        if (
            grant.grantee == ask.principal.party_id
            and ask.principal.grant_id in {None, grant.id}
            and scope in grant.scopes
            and grant.customer_id == customer
            and (purpose is None or grant.purpose == purpose)
            and grant_usable(grant, ask.facts, ask.now)
        ):
            return grant
    return None


_RULES = {
    Role.CUSTOMER: _customer,
    Role.SUPPLIER: _supplier,
    Role.THIRD_PARTY: _third_party,
    Role.STAFF_SERVICE: _staff,
    Role.STAFF_NETLOSS: _staff,
    Role.STAFF_MARKET: _staff,
}
