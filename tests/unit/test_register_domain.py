"""Register values: retention arithmetic, look-ups, role checks, and the loader's refusals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.kernel.codes import LegalBasis, Role
from meterkast.register import domain
from meterkast.register.catalog import (
    RegisterFileError,
    default_register,
    load_register,
    parse_register,
)
from meterkast.register.domain import (
    MissingConsentError,
    Retention,
    UnknownActivityError,
    activity_sort_key,
)

MINIMAL = """\
version = "t1"
[groups.1]
name_nl = "Groep"
name = "Group"
data_use = "essential.service"
[groups.A]
name_nl = "Aanvullingen"
name = "Additions"
data_use = "essential.service"
[subjects.customer]
standard = true
description = "A customer."
[categories."user.name"]
standard = true
description = "A name."
[categories."user.sensor.energy"]
description = "Energy."
[categories."user.sensor.energy.daily"]
description = "Daily values."

[[activity]]
id = "1.1"
group = "1"
name_nl = "Iets"
name = "Something"
description = "Something done for a reason."
legal_bases = ["legal_obligation"]
data_categories = ["user.name", "user.sensor.energy.daily"]
data_subjects = ["customer"]
retention = { period = "P24M", after = "reading day" }
recipients = []
roles = ["supplier"]
implemented_by = ["meterkast.readings"]
addition = false

[[activity]]
id = "A.1"
group = "A"
name_nl = "Extra"
name = "Extra"
description = "An addition of the platform."
legal_bases = ["consent"]
data_categories = ["user.name"]
data_subjects = ["customer"]
retention = { period = "P1Y", after = "end" }
recipients = ["someone"]
roles = []
implemented_by = "outside this system"
outside_reason = "Elsewhere."
addition = true
"""


def test_minimal_register_parses_and_answers() -> None:
    register = parse_register(MINIMAL)
    assert [a.id for a in register.activities] == ["1.1", "A.1"]
    assert register.allows(Role.SUPPLIER, "1.1", "user.sensor.energy")
    assert register.allows(Role.SUPPLIER, "1.1", "user.sensor.energy.daily")
    assert not register.allows(Role.SUPPLIER, "1.1", "user.sensor.energy.interval")
    assert not register.allows(Role.CUSTOMER, "1.1")
    assert register.get("A.1").outside and register.get("A.1").outside_reason == "Elsewhere."
    with pytest.raises(UnknownActivityError):
        register.get("2.1")


def test_version_changes_with_any_edit() -> None:
    first = parse_register(MINIMAL).version
    second = parse_register(MINIMAL.replace("for a reason", "for another reason")).version
    assert first != second and first.startswith("t1+")


BROKEN = [
    ('legal_bases = ["consent"]', 'legal_bases = ["vital_interest"]', "unknown legal_base"),
    ('id = "A.1"', 'id = "1.1"', "1.1"),
    ('roles = ["supplier"]', 'roles = ["janitor"]', "unknown role 'janitor'"),
    ('data_categories = ["user.name"]', 'data_categories = ["user.dna"]', "unknown data category"),
    ('description = "An addition of the platform."\n', "", "missing description"),
    ('period = "P1Y"', 'period = "1 year"', "ISO-8601"),
    ('outside_reason = "Elsewhere."\n', "", "missing outside_reason"),
    ('implemented_by = ["meterkast.readings"]', 'implemented_by = ["os.path"]', "context module"),
    ("addition = true", "addition = false", "group A"),
    (
        'data_subjects = ["customer"]\nretention = { period = "P1Y"',
        'data_subjects = ["alien"]\nretention = { period = "P1Y"',
        "unknown data subject",
    ),
    ("roles = []", 'roles = ["customer"]', "outside this system"),
    ('version = "t1"', 'version = "t1', "not valid TOML"),
    ('[categories."user.sensor.energy"]\ndescription = "Energy."\n', "", "parent not declared"),
]


@pytest.mark.parametrize(("old", "new", "message"), BROKEN)
def test_loader_rejects_broken_files(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in MINIMAL
    path = tmp_path / "activities.toml"
    path.write_text(MINIMAL.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RegisterFileError, match=message) as caught:
        load_register(path)
    assert "\n" not in str(caught.value)


def test_loader_reports_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegisterFileError, match="cannot read"):
        load_register(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("period", "day", "earliest"),
    [
        ("P24M", date(2026, 11, 23), date(2024, 11, 23)),
        ("P1M", date(2026, 3, 31), date(2026, 2, 28)),
        ("P1Y", date(2024, 2, 29), date(2023, 2, 28)),
        ("P4W", date(2026, 1, 29), date(2026, 1, 1)),
        ("P1Y2M3D", date(2026, 5, 10), date(2025, 3, 7)),
    ],
)
def test_retention_earliest_kept(period: str, day: date, earliest: date) -> None:
    assert Retention(period, "reading day").earliest_kept(day) == earliest


@settings(max_examples=60)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), st.integers(0, 60))
def test_retention_window_is_monotonic(day: date, months: int) -> None:
    retention = Retention(f"P{months}M", "reading day")
    earliest = retention.earliest_kept(day)
    assert earliest <= day
    assert (day.year - earliest.year) * 12 + day.month - earliest.month == months


@pytest.mark.parametrize("period", ["P", "24M", "PT1H", "P1.5Y", ""])
def test_retention_rejects_non_date_durations(period: str) -> None:
    with pytest.raises(ValueError, match="ISO-8601"):
        Retention(period, "x")


def test_sort_key_orders_numerically_and_additions_last() -> None:
    ids = ["A.1", "3.10", "3.2", "10.1", "1.1", "A.10", "A.2"]
    assert sorted(ids, key=activity_sort_key) == [
        "1.1",
        "3.2",
        "3.10",
        "10.1",
        "A.1",
        "A.2",
        "A.10",
    ]


def test_basis_follows_the_grant() -> None:

    register = default_register()
    history = register.get("3.2")
    assert history.basis(under_grant=True) is LegalBasis.CONSENT
    assert history.basis(under_grant=False) is LegalBasis.LEGAL_OBLIGATION
    assert register.get("3.4").basis(under_grant=True) is LegalBasis.LEGAL_OBLIGATION
    assert register.get("A.3").basis(under_grant=True) is LegalBasis.CONSENT
    with pytest.raises(MissingConsentError, match=r"A\.3 rests"):
        register.get("A.3").basis(under_grant=False)


def test_category_constants_are_declared() -> None:

    register = default_register()
    for key in (
        domain.DAILY_READINGS,
        domain.INTERVAL_READINGS,
        domain.EVENT_READINGS,
        domain.DERIVED_VOLUMES,
        domain.METER_KEYS,
    ):
        assert not register.category(key).standard
