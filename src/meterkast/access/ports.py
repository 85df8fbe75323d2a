"""What the access service needs from elsewhere: readings to disclose, an audit trail, tokens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from meterkast.access.days import DaySet
from meterkast.access.policy import Action, Decision, Facts, Principal, Resource
from meterkast.kernel.codes import LegalBasis, Role

# The fields a disclosed reading may carry (the API's ``ReadingRow``). Rows with only these
# keys, holding plain values (int, str, date, aware datetime), go to JSON without a copy.
READING_FIELDS = frozenset({
    "day", "start", "import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh",
    "volume_dm3", "captured_at", "value", "source", "quality", "version",
})  # fmt: skip


class ReadingsQuery(Protocol):
    """Reads the readings store for exactly the days a decision disclosed.

    Each row is a mapping of :data:`READING_FIELDS` (a few more keys are tolerated and dropped on
    the slower path), oldest first.
    """

    def daily(self, ean: str, days: DaySet) -> Sequence[Mapping[str, object]]: ...

    def interval(self, ean: str, days: DaySet) -> Sequence[Mapping[str, object]]: ...


@runtime_checkable
class JsonRows(Protocol):
    """Rows that can write themselves as a JSON array of objects (None: not these rows)."""

    def json_array(self) -> bytes | None: ...


class FactsReader(Protocol):
    """Everything a decision needs to know about one connection, as of ``now``."""

    def facts_for(self, ean: str, now: datetime) -> Facts: ...


class AuditTrail(Protocol):
    def record(
        self,
        *,
        principal: Principal,
        action: Action,
        resource: Resource,
        decision: Decision,
        at: datetime,
    ) -> None: ...


class PurposeCatalog(Protocol):
    """The processing register as the decision needs it: activity id -> legal bases."""

    def legal_bases(self) -> Mapping[str, tuple[LegalBasis, ...]]: ...


class TokenVerifier(Protocol):
    """Turns a bearer token into a principal; raises UnauthenticatedError otherwise."""

    def verify(self, token: str) -> Principal: ...


@runtime_checkable
class TokenIssuer(Protocol):
    """Issues a bearer token; ``grant`` binds a third party's token to the consent behind it."""

    def issue(self, role: Role, party: str, ttl: timedelta, *, grant: str | None = None) -> str: ...


class AccessLogReader(Protocol):
    """The audit log as a customer may read it: accesses to days of their own periods."""

    def entries_for(self, ean: str, periods: DaySet) -> Sequence[Mapping[str, object]]: ...


class RegisterDocument(Protocol):
    """The processing register rendered for people and machines."""

    def as_json(self) -> Mapping[str, object]: ...

    def as_html(self) -> str: ...
