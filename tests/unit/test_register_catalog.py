"""The shipped register: complete against the operator's list, consistent with access-rules.md."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from meterkast.kernel.codes import LegalBasis, Role
from meterkast.register.catalog import default_register
from meterkast.register.domain import Register

# The design file: beside the clone (as in CI) or in the shared workspace; else the copy below.
_CANDIDATES = (
    Path(__file__).resolve().parents[3] / "shared" / "design" / "register-activities.tsv",
    Path("/work/shared/design/register-activities.tsv"),
)
TSV = next((p for p in _CANDIDATES if p.is_file()), _CANDIDATES[-1])

# Fallback copy of the design file's ids and legal bases (used where shared/ is absent).
EMBEDDED = """\
1.1 legal_obligation|contract;1.2 legal_obligation;1.3 contract;1.4 legal_obligation;\
1.5 contract;1.6 contract;1.7 consent;2.1 legitimate_interest;2.2 legitimate_interest;\
2.3 legitimate_interest;2.4 legitimate_interest;2.5 legitimate_interest;2.6 consent;\
2.7 consent;2.8 legitimate_interest;3.1 legal_obligation;3.2 legal_obligation|consent;\
3.3 legal_obligation;3.4 legal_obligation;3.5 legal_obligation;3.6 legal_obligation;\
3.7 legal_obligation;3.8 legal_obligation;3.9 legal_obligation;3.10 legal_obligation|consent;\
3.11 legal_obligation;4.1 legitimate_interest;4.2 legitimate_interest;4.3 legal_obligation;\
4.4 legitimate_interest;5.1 legal_obligation|contract;5.2 contract;5.3 legal_obligation;\
5.4 legal_obligation;5.5 legal_obligation;5.6 legal_obligation;6.1 legitimate_interest;\
6.2 consent;7.1 legal_obligation;7.2 legal_obligation;7.3 legal_obligation;8.1 consent;\
9.1 consent;9.2 consent;9.3 consent;9.4 consent;9.5 consent"""


def _expected() -> dict[str, tuple[str | None, str | None, tuple[str, ...]]]:
    """id -> (Dutch group name or None, Dutch label or None, legal bases)."""
    if TSV.is_file():
        with TSV.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        return {
            r["id"]: (r["group"], r["name_nl"], tuple(r["legal_bases"].split("|"))) for r in rows
        }
    pairs = (item.split(" ") for item in EMBEDDED.split(";"))
    return {i: (None, None, tuple(bases.split("|"))) for i, bases in pairs}


@pytest.fixture(scope="module")
def register() -> Register:
    return default_register()


def test_all_47_activities_with_their_group_label_and_legal_bases(register: Register) -> None:
    expected = _expected()
    assert len(expected) == 47
    for activity_id, (group, name_nl, bases) in expected.items():
        activity = register.get(activity_id)
        assert not activity.addition
        assert tuple(b.value for b in activity.legal_bases) == bases, activity_id
        assert activity.group == activity_id.split(".")[0]
        if group is not None:
            assert register.group(activity.group).name_nl == group, activity_id
        if name_nl is not None:
            assert activity.name_nl == name_nl, activity_id
    listed = {a.id for a in register.activities if not a.addition}
    assert listed == set(expected)


def test_descriptions_are_english_and_not_the_dutch_label(register: Register) -> None:
    for activity in register.activities:
        assert activity.name != activity.name_nl or activity.name_nl in {"Open data"}
        assert len(activity.description) > 40, activity.id
        assert "Enexis" not in activity.description


def test_additions_are_marked_and_cover_what_the_platform_needs(register: Register) -> None:
    additions = {a.id: a for a in register.additions}
    assert set(additions) == {"A.1", "A.2", "A.3", "A.4", "A.5"}
    assert all(a.addition and a.group == "A" for a in additions.values())
    assert additions["A.1"].legal_bases == (LegalBasis.LEGAL_OBLIGATION,)
    assert additions["A.3"].legal_bases == (LegalBasis.CONSENT,)
    # Key management is registered under smart meter management, not as an addition.
    assert register.get("5.5").uses("user.device.meter.keys")
    assert register.get("5.5").implemented_by[0] == "meterkast.keys"


def test_every_role_has_a_purpose(register: Register) -> None:
    for role in Role:
        assert register.for_role(role), role


@pytest.mark.parametrize(
    ("role", "purposes"),
    [
        (Role.CUSTOMER, {"A.1"}),
        (Role.SUPPLIER, {"3.1", "3.2", "3.4"}),
        (Role.THIRD_PARTY, {"A.3"}),
        (Role.STAFF_SERVICE, {"1.4", "1.5", "1.6"}),
        (Role.STAFF_NETLOSS, {"7.1", "7.2", "7.3"}),
        (Role.STAFF_MARKET, {"3.5", "3.9", "3.10", "3.11"}),
        (Role.STAFF_GRID, {"5.3", "5.4"}),
    ],
)
def test_access_rules_purposes_may_read_daily_readings(
    register: Register, role: Role, purposes: set[str]
) -> None:
    for purpose in purposes:
        assert register.allows(role, purpose, "user.sensor.energy.daily"), (role, purpose)


def test_who_may_not_read_readings(register: Register) -> None:
    daily = "user.sensor.energy.daily"
    assert not any(a.uses("user.sensor") for a in register.for_role(Role.PRIVACY_OFFICER))
    assert not register.allows(Role.THIRD_PARTY, "3.4", daily)
    assert not register.allows(Role.SUPPLIER, "A.1", daily)
    assert not register.allows(Role.STAFF_SERVICE, "1.1", daily)  # contact data only
    assert not register.allows(Role.CUSTOMER, "9.9")
    interval = "user.sensor.energy.interval"
    readers = {(r, a.id) for r in Role for a in register.for_role(r) if a.uses(interval)}
    assert {r for r, _ in readers} == {
        Role.CUSTOMER,
        Role.SUPPLIER,
        Role.THIRD_PARTY,
        Role.STAFF_MARKET,
    }


def test_privacy_officer_sees_audit_log_and_requests(register: Register) -> None:
    ids = {a.id for a in register.for_role(Role.PRIVACY_OFFICER)}
    assert ids == {"A.4", "A.5"}


def test_outside_activities_give_a_reason_and_no_roles(register: Register) -> None:
    outside = [a for a in register.activities if a.outside]
    assert {"9.2", "9.3", "9.4", "9.5", "5.6"} <= {a.id for a in outside}
    for activity in outside:
        assert activity.outside_reason and not activity.roles


def test_daily_readings_are_kept_24_months(register: Register) -> None:
    for activity_id in ("3.1", "3.4", "A.1"):
        assert register.retention_of(activity_id).period == "P24M"


def test_every_category_and_subject_used_is_declared_once(register: Register) -> None:
    keys = [c.key for c in register.categories]
    assert len(keys) == len(set(keys))
    used = {c for a in register.activities for c in a.data_categories}
    assert used <= set(keys)
    project = {c.key for c in register.categories if not c.standard}
    assert {
        "user.sensor.energy.daily",
        "user.sensor.energy.interval",
        "user.sensor.energy.register",
        "user.device.meter",
    } <= project


def test_default_register_is_read_once_and_versioned(register: Register) -> None:
    assert default_register() is register
    assert register.version.startswith("2026.1+") and len(register.version) == len("2026.1+") + 12
