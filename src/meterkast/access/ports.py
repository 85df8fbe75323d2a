"""What the access service needs from elsewhere: readings to disclose, an audit trail, tokens."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from meterkast.access.days import DaySet
from meterkast.access.policy import Action, Decision, Facts, Principal, Resource
from meterkast.kernel.codes import LegalBasis, Role

# The fields a disclosed reading may carry (the API's ``ReadingRow``) and the kind of value each
# holds; ``source`` and ``quality`` are always there.
READING_KINDS: Mapping[str, str] = {
    "day": "date", "start": "timestamp", "import_t1_wh": "integer", "import_t2_wh": "integer",
    "export_t1_wh": "integer", "export_t2_wh": "integer", "volume_dm3": "integer",
    "captured_at": "timestamp", "value": "integer", "source": "string", "quality": "string",
    "version": "integer",
}  # fmt: skip
READING_FIELDS = frozenset(READING_KINDS)
READING_REQUIRED = ("source", "quality")


class ReadingsQuery(Protocol):
    """Reads the readings store for exactly the days a decision disclosed.

    Each row is a mapping of :data:`READING_FIELDS` (other keys are dropped), oldest first.
    """

    def daily(self, ean: str, days: DaySet) -> Sequence[Mapping[str, object]]: ...

    def interval(self, ean: str, days: DaySet) -> Sequence[Mapping[str, object]]: ...


@runtime_checkable
class JsonRows(Protocol):
    """Rows that can write themselves as a JSON array of objects.

    ``kinds`` names the fields allowed and the kind of value each must hold ("integer", "date",
    "timestamp", "string"); every name in ``required`` must be there. None: these rows do not
    fit, or cannot be written this way (the caller then validates them row by row).
    """

    def json_array(self, kinds: Mapping[str, str], required: Sequence[str]) -> bytes | None: ...


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


@runtime_checkable
class AwaitedAuditTrail(Protocol):
    """An audit trail a request in an event loop can wait on without blocking the loop."""

    def record_soon(
        self,
        *,
        principal: Principal,
        action: Action,
        resource: Resource,
        decision: Decision,
        at: datetime,
    ) -> Awaitable[int]: ...


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
