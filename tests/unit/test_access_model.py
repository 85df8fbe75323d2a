"""The decision function against a deliberately simple, day-by-day model of the access table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.access.policy import (
    Action,
    CaseFact,
    CaseKind,
    ContractFact,
    Facts,
    GrantFact,
    Principal,
    Resource,
    decide,
)
from meterkast.kernel.codes import GrantScope, GrantStatus, LegalBasis, Role

CUSTOMERS = ("C00000001", "C00000002", "C00000003")
SUPPLIERS = ("8719900000011", "8719900000028")
APPS = ("8719900010010",)
PURPOSES = ("A.1", "A.3", "3.1", "3.2", "3.4", "1.4", "1.5", "7.1", "7.2", "3.9", "3.10", "5.3")
CASE_PURPOSE = {CaseKind.SERVICE: ("1.4", "1.5"), CaseKind.NETLOSS: ("7.1", "7.2"),
                CaseKind.DISPUTE: ("3.9", "3.10")}  # fmt: skip
BASES = dict.fromkeys(PURPOSES, (LegalBasis.LEGAL_OBLIGATION, LegalBasis.CONSENT))
EPOCH = date(2024, 1, 1)

# -- the model: plain sets of days and a literal reading of the table -------------------------


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _in_window(d: date, today: date) -> bool:
    months = (today.year - d.year) * 12 + today.month - d.month
    return d <= today and (months < 24 or (months == 24 and d.day >= today.day))


def _periods(contracts: list[ContractFact], today: date, who: str | None,
             column: str = "customer_id") -> set[date]:  # fmt: skip
    out: set[date] = set()
    for c in contracts:
        if getattr(c, column) == who:
            out |= _days(c.start, min(c.end or today, today)) if c.start <= today else set()
    return out


def _runner(contracts: list[ContractFact], today: date) -> str | None:
    running = [c for c in contracts if c.start <= today and (c.end is None or today <= c.end)]
    return running[0].customer_id if running else None


def _grant_days(facts: Facts, now: datetime, grantee: str, scope: GrantScope,
                purpose: str | None) -> set[date] | None:  # fmt: skip
    today = now.date()
    current = _runner(list(facts.contracts), today)
    for g in facts.grants:
        if (g.grantee == grantee and scope in g.scopes and g.status is GrantStatus.ACTIVE
                and g.valid_from <= now < g.valid_until and g.customer_id == current
                and (purpose is None or g.purpose == purpose)):  # fmt: skip
            return _days(g.data_first, g.data_last) & _periods(
                list(facts.contracts), today, current
            )
    return None


def model(role: Role, party: str, action: Action, first: date, last: date, purpose: str,
          now: datetime, facts: Facts) -> set[date]:  # fmt: skip
    today = now.date()
    asked = {d for d in _days(first, last) if _in_window(d, today)} if first <= last else set()
    contracts = list(facts.contracts)
    daily, interval = action is Action.READ_DAILY, action is Action.READ_INTERVAL
    if role is Role.CUSTOMER and purpose == "A.1" and (daily or interval):
        return asked & _periods(contracts, today, party)
    own_supply = _periods(contracts, today, party, "supplier_ean")
    if role is Role.SUPPLIER and purpose in {"3.1", "3.4"} and daily:
        return asked & own_supply
    if role is Role.SUPPLIER and purpose == "3.2" and daily:
        days = _grant_days(facts, now, party, GrantScope.HISTORY, None)
        return asked & days if days is not None else set()
    if role is Role.SUPPLIER and purpose in {"3.1", "3.4"} and interval:
        days = _grant_days(facts, now, party, GrantScope.INTERVAL, None)
        return asked & days & own_supply if days is not None else set()
    if role is Role.THIRD_PARTY and purpose == "A.3" and (daily or interval):
        scope = GrantScope.DAILY if daily else GrantScope.INTERVAL
        days = _grant_days(facts, now, party, scope, purpose)
        return asked & days if days is not None else set()
    # A case serves the one activity it was opened for: (kind, purpose) pairs of open cases.
    serving = {(c.kind, c.purpose) for c in facts.cases if c.open}
    if role is Role.STAFF_SERVICE and purpose in {"1.4", "1.5"} and daily:
        case = next((c for c in facts.cases if c.open and c.kind is CaseKind.SERVICE
                     and c.purpose == purpose), None)  # fmt: skip
        if case is not None and case.customer_id is not None:
            return asked & _periods(contracts, today, case.customer_id)
    netloss = (CaseKind.NETLOSS, purpose) in serving
    if role is Role.STAFF_NETLOSS and purpose in {"7.1", "7.2"} and daily and netloss:
        return asked
    dispute = daily and (CaseKind.DISPUTE, purpose) in serving
    if role is Role.STAFF_MARKET and purpose in {"3.9", "3.10"}:
        return asked if action is Action.BATCH_SCAN or dispute else set()
    return set()


# -- strategies --------------------------------------------------------------------------------


@st.composite
def contracts(draw: st.DrawFn) -> tuple[ContractFact, ...]:
    out, day = [], EPOCH + timedelta(days=draw(st.integers(0, 60)))
    for _ in range(draw(st.integers(0, 4))):
        length = draw(st.one_of(st.none(), st.integers(0, 400)))
        who, supplier = draw(st.sampled_from(CUSTOMERS)), draw(st.sampled_from(SUPPLIERS))
        end = None if length is None else day + timedelta(days=length)
        out.append(ContractFact(who, supplier, day, end))
        if end is None:
            break
        day = end + timedelta(days=draw(st.integers(1, 90)))
    return tuple(out)


@st.composite
def grants(draw: st.DrawFn, now: datetime) -> tuple[GrantFact, ...]:
    out = []
    for i in range(draw(st.integers(0, 3))):
        start = EPOCH + timedelta(days=draw(st.integers(0, 900)))
        out.append(GrantFact(
            f"g{i}", draw(st.sampled_from(CUSTOMERS)),
            draw(st.sampled_from(SUPPLIERS + APPS)),
            frozenset(draw(st.sets(st.sampled_from(list(GrantScope)), min_size=1))),
            draw(st.sampled_from(("A.3", "3.2", "3.4"))),
            start, start + timedelta(days=draw(st.integers(0, 500))),
            now - timedelta(days=draw(st.integers(-10, 100))),
            now + timedelta(days=draw(st.integers(-10, 100))),
            draw(st.sampled_from(list(GrantStatus))),
        ))  # fmt: skip
    return tuple(out)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[Role, str, Action, date, date, str, datetime, Facts]:
    now = datetime(2025, 1, 1, 12, tzinfo=UTC) + timedelta(days=draw(st.integers(0, 700)))
    facts = Facts(
        connection_known=True,
        contracts=draw(contracts()),
        grants=draw(grants(now)),
        cases=tuple(CaseFact(f"k{i}", kind, draw(st.sampled_from((*CUSTOMERS, None))),
                             draw(st.booleans()), "staff-1",
                             draw(st.sampled_from((*CASE_PURPOSE[kind], None))))
                    for i, kind in enumerate(draw(st.lists(st.sampled_from(list(CaseKind)),
                                                           max_size=3)))),
    )  # fmt: skip
    role = draw(st.sampled_from(list(Role)))
    party = draw(st.sampled_from(CUSTOMERS + SUPPLIERS + APPS + ("staff-1",)))
    first = EPOCH + timedelta(days=draw(st.integers(0, 1100)))
    last = first + timedelta(days=draw(st.integers(-5, 900)))
    action = draw(st.sampled_from([Action.READ_DAILY, Action.READ_INTERVAL, Action.BATCH_SCAN]))
    return role, party, action, first, last, draw(st.sampled_from(PURPOSES)), now, facts


@settings(max_examples=400, deadline=None)
@given(scenario())
def test_decide_agrees_with_the_simple_model(
    case: tuple[Role, str, Action, date, date, str, datetime, Facts],
) -> None:
    role, party, action, first, last, purpose, now, facts = case
    expected = model(role, party, action, first, last, purpose, now, facts)
    decision = decide(Principal(role, party), action, Resource("871690000000000010", first, last),
                      purpose, now, facts, BASES)  # fmt: skip
    got: set[date] = set()
    for r in decision.days.ranges:
        got |= _days(r.first, r.last)
    assert got == expected
    assert decision.allowed == bool(expected)
