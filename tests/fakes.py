"""Small, honest fakes for ports whose real adapters are tested on their own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from meterkast.access.days import DayRange, DaySet
from meterkast.access.policy import Action, Decision, Principal, Resource
from meterkast.kernel.codes import Role
from meterkast.kernel.errors import UnauthenticatedError


class FakeTokens:
    """Tokens of the form ``role|party``; anything else is refused like a forged token."""

    def issue(self, role: Role, party: str) -> str:
        return f"{role.value}|{party}"

    def verify(self, token: str) -> Principal:
        role, _, party = token.partition("|")
        try:
            return Principal(Role(role), party)
        except ValueError:
            raise UnauthenticatedError("invalid token") from None


@dataclass
class ListAudit:
    """Keeps every decision in a list, like the real append-only log does in a table."""

    entries: list[dict[str, object]] = field(default_factory=list)

    def record(self, *, principal: Principal, action: Action, resource: Resource,
               decision: Decision, at: datetime) -> None:  # fmt: skip
        self.entries.append({
            "at": at, "party": principal.party_id, "role": principal.role.value,
            "purpose": decision.purpose, "action": action.value, "allowed": decision.allowed,
            "days": [{"first": r.first, "last": r.last} for r in decision.days.ranges],
            "connection_ean": resource.connection_ean,
        })  # fmt: skip

    def entries_for(self, ean: str, periods: DaySet) -> Sequence[Mapping[str, object]]:
        out = []
        for e in self.entries:
            ranges: list[dict[str, date]] = e["days"]  # type: ignore[assignment]
            days = DaySet.of(DayRange(d["first"], d["last"]) for d in ranges)
            if e["connection_ean"] == ean and (days & periods):
                out.append(e)
        return out


class FakeReadings:
    """A register that rises 10 kWh a day: enough to see which days were disclosed."""

    def daily(self, ean: str, days: DaySet) -> list[dict[str, object]]:
        rows = []
        for r in days.ranges:
            day = r.first
            while day <= r.last:
                n = day.toordinal() - 738000
                rows.append({"day": day, "import_t1_wh": 10_000 * n, "import_t2_wh": 0,
                             "export_t1_wh": 0, "export_t2_wh": 0, "source": "remote",
                             "quality": "measured", "version": 1})  # fmt: skip
                day += timedelta(days=1)
        return rows

    def interval(self, ean: str, days: DaySet) -> list[dict[str, object]]:
        return []
