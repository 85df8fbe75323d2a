"""The access decision, rule by rule (access-rules.md), including moves and switches."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from meterkast.access.days import DaySet
from meterkast.access.policy import (
    Action,
    CaseFact,
    CaseKind,
    ContractFact,
    Denial,
    Facts,
    GrantFact,
    Principal,
    Resource,
    decide,
    retention_window,
)
from meterkast.kernel.codes import GrantScope, GrantStatus, LegalBasis, Role

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
EAN = "871690000000000010"
OLD, NEW = "C00000001", "C00000002"  # previous and current occupant
S1, S2 = "8719900000011", "8719900000028"  # old supplier, new supplier
APP = "8719900010010"
BASES = {
    "A.1": (LegalBasis.LEGAL_OBLIGATION,),
    "A.3": (LegalBasis.CONSENT,),
    "3.1": (LegalBasis.LEGAL_OBLIGATION,),
    "3.2": (LegalBasis.LEGAL_OBLIGATION, LegalBasis.CONSENT),
    "3.4": (LegalBasis.LEGAL_OBLIGATION,),
    "3.9": (LegalBasis.LEGAL_OBLIGATION,),
    "3.10": (LegalBasis.LEGAL_OBLIGATION, LegalBasis.CONSENT),
    "1.4": (LegalBasis.CONTRACT,),
    "1.5": (LegalBasis.CONTRACT,),
    "1.6": (LegalBasis.CONTRACT,),
    "7.1": (LegalBasis.LEGAL_OBLIGATION,),
    "7.2": (LegalBasis.LEGAL_OBLIGATION,),
    "5.3": (LegalBasis.LEGAL_OBLIGATION,),
}
# OLD lived here until 2025-06-30 with S1; NEW moved in 2025-07-15 with S1 and switched to S2.
CONTRACTS = (
    ContractFact(OLD, S1, date(2020, 1, 1), date(2025, 6, 30)),
    ContractFact(NEW, S1, date(2025, 7, 15), date(2026, 2, 28)),
    ContractFact(NEW, S2, date(2026, 3, 1), None),
)
ALL = Resource(EAN, date(2020, 1, 1), date(2026, 12, 31))


def _grant(
    grantee: str,
    *scopes: GrantScope,
    purpose: str = "A.3",
    customer: str = NEW,
    status: GrantStatus = GrantStatus.ACTIVE,
    first: date = date(2024, 1, 1),
) -> GrantFact:
    return GrantFact("g1", customer, grantee, frozenset(scopes), purpose, first,
                     date(2026, 12, 31), NOW - timedelta(days=30), NOW + timedelta(days=300),
                     status)  # fmt: skip


def _decide(
    role: Role,
    party: str,
    purpose: str | None,
    *,
    action: Action = Action.READ_DAILY,
    resource: Resource = ALL,
    **facts: object,
) -> tuple[bool, list[tuple[str, str]]]:
    given = Facts(connection_known=True, contracts=CONTRACTS, **facts)  # type: ignore[arg-type]
    d = decide(Principal(role, party), action, resource, purpose, NOW, given, BASES)
    return d.allowed, d.days.as_pairs()


def test_retention_window_is_the_last_24_months() -> None:
    window = retention_window(date(2026, 11, 23))
    assert window.as_pairs() == [("2024-11-23", "2026-11-23")]
    assert retention_window(date(2026, 2, 28)).as_pairs()[0][0] == "2024-02-28"
    assert retention_window(date(2028, 2, 29)).as_pairs()[0][0] == "2026-02-28"


def test_customer_sees_only_own_periods_never_the_previous_occupant() -> None:
    assert _decide(Role.CUSTOMER, NEW, "A.1") == (True, [("2025-07-15", "2026-11-23")])
    # The previous occupant sees its own days, clipped to the retention window.
    assert _decide(Role.CUSTOMER, OLD, "A.1") == (True, [("2024-11-23", "2025-06-30")])
    assert _decide(Role.CUSTOMER, "C00000009", "A.1")[0] is False


def test_supplier_sees_its_own_contract_periods() -> None:
    assert _decide(Role.SUPPLIER, S2, "3.4") == (True, [("2026-03-01", "2026-11-23")])
    # S1 supplied both occupants: its own periods, nothing from the vacancy in between.
    assert _decide(Role.SUPPLIER, S1, "3.1") == (
        True, [("2024-11-23", "2025-06-30"), ("2025-07-15", "2026-02-28")])  # fmt: skip
    assert _decide(Role.SUPPLIER, "8719900000035", "3.4")[0] is False


def test_supplier_history_needs_a_history_grant_of_the_current_customer() -> None:
    assert _decide(Role.SUPPLIER, S2, "3.2")[0] is False
    grant = _grant(S2, GrantScope.HISTORY, purpose="3.2")
    allowed, days = _decide(Role.SUPPLIER, S2, "3.2", grants=(grant,))
    assert allowed and days == [("2025-07-15", "2026-11-23")]  # never OLD's days
    old_grant = _grant(S2, GrantScope.HISTORY, purpose="3.2", customer=OLD)
    assert _decide(Role.SUPPLIER, S2, "3.2", grants=(old_grant,))[0] is False


def test_third_party_needs_a_usable_daily_grant_for_that_purpose() -> None:
    assert _decide(Role.THIRD_PARTY, APP, "A.3")[0] is False
    grant = _grant(APP, GrantScope.DAILY, first=date(2026, 1, 1))
    assert _decide(Role.THIRD_PARTY, APP, "A.3", grants=(grant,)) == (
        True, [("2026-01-01", "2026-11-23")])  # fmt: skip
    for status in (GrantStatus.REVOKED, GrantStatus.EXPIRED, GrantStatus.ENDED):
        revoked = _grant(APP, GrantScope.DAILY, status=status)
        assert _decide(Role.THIRD_PARTY, APP, "A.3", grants=(revoked,))[0] is False
    interval_only = _grant(APP, GrantScope.INTERVAL)
    assert _decide(Role.THIRD_PARTY, APP, "A.3", grants=(interval_only,))[0] is False


def test_grant_of_a_customer_who_moved_out_is_unusable() -> None:
    grant = _grant(APP, GrantScope.DAILY, customer=OLD)
    assert _decide(Role.THIRD_PARTY, APP, "A.3", grants=(grant,))[0] is False


def test_interval_data_only_for_the_customer_and_the_grantee() -> None:
    assert _decide(Role.CUSTOMER, NEW, "A.1", action=Action.READ_INTERVAL)[0] is True
    assert _decide(Role.SUPPLIER, S2, "3.4", action=Action.READ_INTERVAL)[0] is False
    grant = _grant(S2, GrantScope.INTERVAL, purpose="3.4")
    assert _decide(Role.SUPPLIER, S2, "3.4", action=Action.READ_INTERVAL, grants=(grant,)) == (
        True, [("2026-03-01", "2026-11-23")])  # fmt: skip
    case = CaseFact("k1", CaseKind.SERVICE, NEW, True, purpose="1.5")
    assert _decide(Role.STAFF_SERVICE, "st1", "1.5", action=Action.READ_INTERVAL,
                   cases=(case,))[0] is False  # fmt: skip


def test_staff_need_an_open_case_and_see_what_the_case_allows() -> None:
    service = CaseFact("k1", CaseKind.SERVICE, NEW, True, purpose="1.5")
    assert _decide(Role.STAFF_SERVICE, "st1", "1.5")[0] is False
    assert _decide(Role.STAFF_SERVICE, "st1", "1.5", cases=(service,)) == (
        True, [("2025-07-15", "2026-11-23")])  # fmt: skip
    closed = CaseFact("k1", CaseKind.SERVICE, NEW, False, purpose="1.5")
    assert _decide(Role.STAFF_SERVICE, "st1", "1.5", cases=(closed,))[0] is False
    netloss = CaseFact("n1", CaseKind.NETLOSS, None, True, purpose="7.2")
    assert _decide(Role.STAFF_NETLOSS, "st2", "7.2", cases=(netloss,)) == (
        True, [("2024-11-23", "2026-11-23")])  # fmt: skip
    assert _decide(Role.STAFF_MARKET, "st3", "3.10")[0] is False
    dispute = CaseFact("d1", CaseKind.DISPUTE, None, True, purpose="3.10")
    assert _decide(Role.STAFF_MARKET, "st3", "3.10", cases=(dispute,))[0] is True
    assert _decide(Role.STAFF_MARKET, "st3", "3.10", action=Action.BATCH_SCAN)[0] is True


def test_service_staff_may_use_only_the_purpose_their_case_serves() -> None:
    complaint = CaseFact("k1", CaseKind.SERVICE, NEW, True, purpose="1.5")
    assert _decide(Role.STAFF_SERVICE, "st1", "1.5", cases=(complaint,))[0] is True
    assert _decide(Role.STAFF_SERVICE, "st1", "1.4", cases=(complaint,))[0] is False
    assert _decide(Role.STAFF_SERVICE, "st1", "1.6", cases=(complaint,))[0] is False
    untagged = CaseFact("k2", CaseKind.SERVICE, NEW, True)  # a case serving no activity
    assert _decide(Role.STAFF_SERVICE, "st1", "1.5", cases=(untagged,))[0] is False
    question = CaseFact("k3", CaseKind.SERVICE, NEW, True, purpose="1.6")
    facts = Facts(connection_known=True, contracts=CONTRACTS, cases=(complaint, question))
    decision = decide(Principal(Role.STAFF_SERVICE, "st1"), Action.READ_DAILY, ALL, "1.6", NOW,
                      facts, BASES)  # fmt: skip
    assert decision.allowed and decision.case_id == "k3"


def test_netloss_and_dispute_cases_serve_only_their_own_activity() -> None:
    fraud = CaseFact("n1", CaseKind.NETLOSS, None, True, purpose="7.2")
    assert _decide(Role.STAFF_NETLOSS, "st2", "7.2", cases=(fraud,))[0] is True
    assert _decide(Role.STAFF_NETLOSS, "st2", "7.1", cases=(fraud,))[0] is False
    dispute = CaseFact("d1", CaseKind.DISPUTE, None, True, purpose="3.10")
    assert _decide(Role.STAFF_MARKET, "st3", "3.10", cases=(dispute,))[0] is True
    assert _decide(Role.STAFF_MARKET, "st3", "3.9", cases=(dispute,))[0] is False


def test_grid_staff_and_privacy_officer_never_read_individually() -> None:
    assert _decide(Role.STAFF_GRID, "st4", "5.3")[0] is False
    assert _decide(Role.STAFF_GRID, "st4", "5.3", action=Action.READ_AGGREGATE,
                   connections_in_group=9)[0] is False  # fmt: skip
    assert _decide(Role.STAFF_GRID, "st4", "5.3", action=Action.READ_AGGREGATE,
                   connections_in_group=10)[0] is True  # fmt: skip
    assert _decide(Role.PRIVACY_OFFICER, "po", "A.1")[0] is False


@pytest.mark.parametrize(
    ("purpose", "resource", "reason", "denial"),
    [
        (None, ALL, "no purpose", Denial.BAD_REQUEST),
        ("9.9", ALL, "unknown purpose", Denial.BAD_REQUEST),
        ("3.4", ALL, "may not use purpose", Denial.PURPOSE_NOT_ALLOWED),
        ("A.1", Resource(EAN, date(2026, 2, 1), date(2026, 1, 1)), "inverted", Denial.BAD_REQUEST),
        ("A.1", Resource(EAN, None, date(2026, 1, 1)), "start and an end", Denial.BAD_REQUEST),
        ("A.1", Resource(EAN, date(2019, 1, 1), date(2019, 2, 1)), "clipping", Denial.NO_ACCESS),
    ],
)
def test_bad_requests_are_denied_with_a_reason(
    purpose: str | None, resource: Resource, reason: str, denial: Denial
) -> None:
    facts = Facts(connection_known=True, contracts=CONTRACTS)
    d = decide(Principal(Role.CUSTOMER, NEW), Action.READ_DAILY, resource, purpose, NOW, facts,
               BASES)  # fmt: skip
    assert not d.allowed and reason in " ".join(d.reasons) and d.days == DaySet()
    assert d.denial is denial


def test_decision_carries_activity_basis_and_policy_version() -> None:
    facts = Facts(connection_known=True, contracts=CONTRACTS,
                  grants=(_grant(APP, GrantScope.DAILY),))  # fmt: skip
    d = decide(Principal(Role.THIRD_PARTY, APP), Action.READ_DAILY, ALL, "A.3", NOW, facts, BASES)
    assert (d.purpose, d.legal_basis, d.grant_id) == ("A.3", LegalBasis.CONSENT, "g1")
    assert d.policy_version.startswith("access-rules/")
    unknown = decide(Principal(Role.CUSTOMER, NEW), Action.READ_DAILY, ALL, "A.1", NOW,
                     Facts(connection_known=False), BASES)  # fmt: skip
    assert not unknown.allowed and unknown.denial is Denial.NO_ACCESS
    others = decide(Principal(Role.CUSTOMER, "C00000009"), Action.READ_DAILY, ALL, "A.1", NOW,
                    Facts(connection_known=True, contracts=CONTRACTS), BASES)  # fmt: skip
    assert others.denial is unknown.denial  # someone else's looks the same as unknown


def test_a_token_bound_to_one_grant_cannot_use_another() -> None:
    grant = _grant(APP, GrantScope.DAILY)  # id g1
    facts = Facts(connection_known=True, contracts=CONTRACTS, grants=(grant,))
    bound = decide(Principal(Role.THIRD_PARTY, APP, grant_id="g1"), Action.READ_DAILY, ALL,
                   "A.3", NOW, facts, BASES)  # fmt: skip
    other = decide(Principal(Role.THIRD_PARTY, APP, grant_id="g2"), Action.READ_DAILY, ALL,
                   "A.3", NOW, facts, BASES)  # fmt: skip
    assert bound.allowed and not other.allowed
