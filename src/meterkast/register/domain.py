"""The processing register (GDPR art. 30) as plain, immutable values.

Every processing of personal data in meterkast names one :class:`Activity`; the ``access``
context refuses a purpose that is unknown or that the caller's role may not use. The register
itself is data (``activities.toml``); this module only holds it and answers questions about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from meterkast.kernel.codes import LegalBasis, Role
from meterkast.kernel.errors import DomainError, NotFoundError

# The literal that marks an activity the operator performs with other tools than meterkast.
OUTSIDE = "outside this system"

# Bounded contexts (architecture.md) an activity may be implemented by.
CONTEXTS = frozenset(
    {
        "register",
        "grid",
        "parties",
        "keys",
        "fleet",
        "acquisition",
        "readings",
        "access",
        "market",
        "opendata",
        "service",
        "rights",
    }
)

# Project data-category keys other contexts ask about (declared in activities.toml).
DAILY_READINGS = "user.sensor.energy.daily"
INTERVAL_READINGS = "user.sensor.energy.interval"
EVENT_READINGS = "user.sensor.energy.register"  # switch, move, meter exchange, customer-given
DERIVED_VOLUMES = "user.sensor.energy.annual"
METER_KEYS = "user.device.meter.keys"

_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


class UnknownActivityError(NotFoundError):
    """A purpose that is not an activity of the register."""

    code = "unknown-activity"


class MissingConsentError(DomainError):
    """A consent-only purpose named without a grant."""

    code = "missing-consent"


@dataclass(frozen=True, slots=True)
class Retention:
    """How long data of an activity is kept: an ISO-8601 period counted from an event."""

    period: str  # ISO-8601 duration: years, months, weeks, days (no time part)
    after: str  # the event the period counts from, e.g. "reading day", "case closed"
    note: str = ""

    def __post_init__(self) -> None:
        _parts(self.period)  # raises on a malformed period

    @property
    def parts(self) -> tuple[int, int, int]:
        """(years, months, days) with weeks folded into days."""
        return _parts(self.period)

    def earliest_kept(self, event_day: date) -> date:
        """The first event day whose data is still kept on ``event_day``'s date.

        Data whose period started before the returned day has expired; months are clipped to
        the last day of a shorter month (31 March minus one month is 28/29 February).
        """
        years, months, days = self.parts
        total = event_day.year * 12 + (event_day.month - 1) - years * 12 - months
        year, month = divmod(total, 12)
        month += 1
        day = min(event_day.day, _month_length(year, month))
        return date.fromordinal(date(year, month, day).toordinal() - days)


def _parts(period: str) -> tuple[int, int, int]:
    match = _DURATION.match(period)
    if match is None or period == "P":
        raise ValueError(f"retention period {period!r} is not an ISO-8601 date duration")
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
    return years, months, weeks * 7 + days


def _month_length(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


@dataclass(frozen=True, slots=True)
class DataCategory:
    """A data category key in fideslang style (``user.contact.email``)."""

    key: str
    description: str
    standard: bool  # True: a key of fideslang's default taxonomy; False: defined by meterkast

    @property
    def parent(self) -> str | None:
        head, _, _ = self.key.rpartition(".")
        return head or None


@dataclass(frozen=True, slots=True)
class DataSubject:
    key: str
    description: str
    standard: bool


@dataclass(frozen=True, slots=True)
class Group:
    key: str  # "1" ... "9", "A" for the platform's additions
    name_nl: str
    name: str
    data_use: str  # fideslang data use the group's activities default to


@dataclass(frozen=True, slots=True)
class Activity:
    id: str  # "1.1" ... "9.5"; additions "A.1" ...
    group: str
    name_nl: str  # the operator's Dutch label, kept for recognition
    name: str
    description: str
    legal_bases: tuple[LegalBasis, ...]
    data_categories: tuple[str, ...]
    data_subjects: tuple[str, ...]
    retention: Retention
    recipients: tuple[str, ...]
    roles: tuple[Role, ...]
    implemented_by: tuple[str, ...]  # meterkast module paths; empty when outside this system
    outside_reason: str | None
    addition: bool
    data_use: str | None = None  # overrides the group's fideslang data use
    notes: str = ""

    @property
    def outside(self) -> bool:
        return not self.implemented_by

    def basis(self, *, under_grant: bool) -> LegalBasis:
        """The legal basis a decision states: consent when a customer's grant carries the
        request and the activity allows consent, otherwise the first non-consent basis.

        An activity that rests on consent alone cannot be used without a grant.
        """
        if under_grant and LegalBasis.CONSENT in self.legal_bases:
            return LegalBasis.CONSENT
        for basis in self.legal_bases:
            if basis is not LegalBasis.CONSENT:
                return basis
        raise MissingConsentError(f"activity {self.id} rests on consent and needs a grant")

    def uses(self, category: str) -> bool:
        """Whether the activity covers ``category`` or one of its sub-categories."""
        return any(c == category or c.startswith(category + ".") for c in self.data_categories)


def activity_sort_key(activity_id: str) -> tuple[int, str, int]:
    """Numeric order: 1.2 before 1.10; additions (A.x) after the operator's list."""
    head, _, tail = activity_id.partition(".")
    number = int(tail) if tail.isdigit() else 0
    return (0, f"{int(head):04d}", number) if head.isdigit() else (1, head, number)


@dataclass(frozen=True, slots=True)
class Register:
    """The whole register: activities in order, with the vocabularies they use."""

    declared_version: str
    digest: str  # sha256 of the source file, so any edit changes the version
    groups: tuple[Group, ...]
    categories: tuple[DataCategory, ...]
    subjects: tuple[DataSubject, ...]
    activities: tuple[Activity, ...]

    @property
    def version(self) -> str:
        """The policy version carried by every access decision, e.g. ``2026.1+3f2a…``."""
        return f"{self.declared_version}+{self.digest[:12]}"

    def get(self, activity_id: str) -> Activity:
        for activity in self.activities:
            if activity.id == activity_id:
                return activity
        raise UnknownActivityError(f"unknown register activity {activity_id!r}")

    def __contains__(self, activity_id: object) -> bool:
        return any(a.id == activity_id for a in self.activities)

    def group(self, key: str) -> Group:
        for group in self.groups:
            if group.key == key:
                return group
        raise NotFoundError(f"unknown register group {key!r}")

    def category(self, key: str) -> DataCategory:
        for category in self.categories:
            if category.key == key:
                return category
        raise NotFoundError(f"unknown data category {key!r}")

    def for_role(self, role: Role) -> tuple[Activity, ...]:
        """The activities (purposes) a principal in ``role`` may name."""
        return tuple(a for a in self.activities if role in a.roles)

    def allows(self, role: Role, activity_id: str, category: str | None = None) -> bool:
        """Whether ``role`` may name ``activity_id`` (for data of ``category``, if given).

        Only the register's part of a decision: relationships, grants, choices and retention
        are for the ``access`` context. Unknown purposes are simply not allowed.
        """
        if activity_id not in self:
            return False
        activity = self.get(activity_id)
        return role in activity.roles and (category is None or activity.uses(category))

    def retention_of(self, activity_id: str) -> Retention:
        return self.get(activity_id).retention

    def data_use_of(self, activity: Activity) -> str:
        return activity.data_use or self.group(activity.group).data_use

    @property
    def additions(self) -> tuple[Activity, ...]:
        return tuple(a for a in self.activities if a.addition)
