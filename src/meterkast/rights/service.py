"""Use cases of data-subject requests: track them, export what is held, withdraw consent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.audit_service import AuditLog
from meterkast.access.grant_service import CaseService, GrantService
from meterkast.access.policy import CUSTOMER_OWN, Action, Principal
from meterkast.access.service import AccessService
from meterkast.grid.service import GridService
from meterkast.kernel.clock import Clock, local_day
from meterkast.kernel.codes import GrantStatus, LegalBasis, Role
from meterkast.kernel.errors import NotFoundError
from meterkast.parties.domain import ContactData
from meterkast.parties.service import PartiesService
from meterkast.register.domain import Register
from meterkast.rights.adapters.sql import subject_requests
from meterkast.rights.domain import RequestKind, RequestStatus, SubjectRequest

Export = dict[str, object]


@dataclass(frozen=True, slots=True)
class ErasureLine:
    category: str
    outcome: str  # erased, withdrawn or kept
    reason: str


def _request(row: sa.Row[tuple[object, ...]]) -> SubjectRequest:
    m = row._mapping
    return SubjectRequest(m["id"], m["customer_id"], RequestKind(m["kind"]),
                          RequestStatus(m["status"]), m["received_on"], m["deadline"],
                          m["note"], m["closed_on"])  # fmt: skip


class RightsService:
    def __init__(self, *, engine: Engine, parties: PartiesService, grid: GridService,
                 grants: GrantService, cases: CaseService, access: AccessService,
                 register: Register, audit: AuditLog, clock: Clock) -> None:  # fmt: skip
        self._engine = engine
        self._parties = parties
        self._grid = grid
        self._grants = grants
        self._cases = cases
        self._access = access
        self._register = register
        self._audit = audit
        self._clock = clock

    # -- tracking ---------------------------------------------------------------------------
    def submit(self, customer_id: str, kind: RequestKind) -> SubjectRequest:
        self._parties.get_customer(customer_id)  # unknown customers are refused
        request = SubjectRequest.receive(str(uuid.uuid4()), customer_id, kind, self._today())
        with self._engine.begin() as db:
            db.execute(subject_requests.insert().values(**self._row(request)))
        self._step(request)
        return request

    def requests(self, *, open_only: bool = False) -> list[SubjectRequest]:
        query = sa.select(subject_requests).order_by(subject_requests.c.deadline)
        if open_only:
            query = query.where(subject_requests.c.closed_on.is_(None))
        with self._engine.connect() as db:
            return [_request(r) for r in db.execute(query)]

    def get(self, request_id: str) -> SubjectRequest:
        with self._engine.connect() as db:
            row = db.execute(
                sa.select(subject_requests).where(subject_requests.c.id == request_id)
            ).first()
        if row is None:
            raise NotFoundError("no such request")
        return _request(row)

    def save(self, request: SubjectRequest) -> None:
        with self._engine.begin() as db:
            db.execute(subject_requests.update().where(subject_requests.c.id == request.id)
                       .values(**self._row(request)))  # fmt: skip
        self._step(request)

    def _step(self, request: SubjectRequest) -> None:
        self._audit.subject_request(request_id=request.id, customer_id=request.customer_id,
                                    kind=request.kind.value, status=request.status.value,
                                    at=self._clock())  # fmt: skip

    # -- rights -----------------------------------------------------------------------------
    def export(self, customer_id: str, *, officer: Principal | None = None,
               request_id: str | None = None) -> Export:  # fmt: skip
        """Everything held about one customer (art. 15), readings of their own periods only.

        With ``officer`` and ``request_id`` the reads are recorded as the officer's export for
        that request (A.5); without, as the customer's own access (A.1).
        """
        customer = self._parties.get_customer(customer_id)
        contracts = self._parties.contracts_of_customer(customer_id)
        today = self._today()
        connections: list[dict[str, object]] = []
        for ean in sorted({c.connection_ean for c in contracts}):
            connection = self._grid.get_connection(ean)
            mine = [c for c in contracts if c.connection_ean == ean]
            first = max(min(c.start for c in mine), today - timedelta(days=731))
            rows: list[dict[str, object]] = []
            if connection.meter is not None:
                subject = Principal(Role.CUSTOMER, customer_id)
                if officer is not None and request_id is not None:
                    disclosure = self._access.read_for_subject_request(
                        subject=subject, officer=officer, request_id=request_id, ean=ean,
                        first=first, last=today)  # fmt: skip
                else:
                    disclosure = self._access.read(subject, Action.READ_DAILY, ean, first,
                                                   today, CUSTOMER_OWN)  # fmt: skip
                rows = [{k: _plain(v) for k, v in r.items() if k != "recorded_at"}
                        for r in disclosure.rows]  # fmt: skip
            connections.append({
                "ean": ean, "product": connection.product.value,
                "address": connection.address.label,
                "meter": None if connection.meter is None else connection.meter.serial,
                "reading_choices": [{"choice": c.choice.value,
                                     "effective_from": c.effective_from.isoformat()}
                                    for c in connection.reading_choices],
                "cases": [{"id": k.id, "kind": k.kind.value, "open": k.open}
                          for k in self._cases.facts_for(ean) if k.customer_id == customer_id],
                "daily_readings": rows,
            })  # fmt: skip
        return {
            "customer": {"id": customer.id, "kind": customer.kind.value, "name": customer.name,
                         "email": customer.contact.email, "phone": customer.contact.phone,
                         "kvk_number": customer.kvk_number},
            "contracts": [{"connection_ean": c.connection_ean, "supplier_ean": c.supplier_ean,
                           "start": c.start.isoformat(),
                           "end": None if c.end is None else c.end.isoformat()}
                          for c in contracts],
            "grants": [{"id": g.id, "connection_ean": g.connection_ean, "grantee": g.grantee,
                        "purpose": g.purpose, "status": g.status.value}
                       for g in self._grants.of_customer(customer_id, self._clock())],
            "connections": connections,
            "generated_on": today.isoformat(),
        }  # fmt: skip

    def rectify(self, customer_id: str, *, email: str | None, phone: str | None) -> None:
        """Correct contact data (art. 16); values are validated, blanks clear a field."""
        self._parties.update_contact(customer_id, ContactData(email or None, phone or None))

    def erase(self, customer_id: str) -> list[ErasureLine]:
        """Erase what no duty keeps (art. 17); say, per category, why the rest stays."""
        customer = self._parties.get_customer(customer_id)
        today = self._today()
        supplied = any(c.covers(today) for c in self._parties.contracts_of_customer(customer_id))
        lines: list[ErasureLine] = []
        if supplied:
            lines.append(self._kept("contact data", "1.1", "a contract still runs: needed to "
                                    "reach you about work and outages"))  # fmt: skip
        else:
            self._parties.update_contact(customer.id, ContactData())
            lines.append(ErasureLine("contact data", "erased", "no running contract"))
        withdrawn = self.withdraw_all_consent(customer_id)
        lines.append(ErasureLine("grants (consents)", "withdrawn",
                                 f"{withdrawn} revoked; " + self._why("A.2")))  # fmt: skip
        lines.append(self._kept("daily readings", "3.1", "within the statutory window"))
        lines.append(self._kept("contracts", "3.2", "market records the law requires"))
        lines.append(self._kept("access log", "A.4", "accountability for every access"))
        return lines

    def object_to(self, customer_id: str, activity: str) -> SubjectRequest:
        """Objection (art. 21): honoured for legitimate-interest activities, else refused.

        Recorded as a closed request naming the activity, for the batch jobs of those
        activities to leave the person out (`objections_of`); the open-data jobs that will
        read it are not built yet.
        """
        self._register.get(activity)  # an unknown activity is refused before anything is kept
        return self.decide_objection(self.submit(customer_id, RequestKind.OBJECTION), activity)

    def decide_objection(self, request: SubjectRequest, activity: str) -> SubjectRequest:
        """Close an objection request: honoured for legitimate interest, refused otherwise."""
        entry = self._register.get(activity)
        today = self._today()
        if LegalBasis.LEGITIMATE_INTEREST in entry.legal_bases:
            done = request.complete(today, f"objection to activity {activity} honoured")
        else:
            bases = ", ".join(b.value for b in entry.legal_bases)
            reason = f"activity {activity} rests on {bases}, not on legitimate interest"
            done = request.refuse(today, f"{reason}: an objection does not apply")
        self.save(done)
        return done

    def objections_of(self, customer_id: str) -> set[str]:
        """Activities the person successfully objected to."""
        prefix = "objection to activity "
        return {r.note.removeprefix(prefix).split()[0] for r in self.requests()
                if r.customer_id == customer_id and r.kind is RequestKind.OBJECTION
                and r.status is RequestStatus.DONE and r.note.startswith(prefix)}  # fmt: skip

    def _kept(self, category: str, activity: str, reason: str) -> ErasureLine:
        return ErasureLine(category, "kept", f"{reason}; {self._why(activity)}")

    def _why(self, activity: str) -> str:
        entry = self._register.get(activity)
        retention = entry.retention
        basis = ", ".join(b.value for b in entry.legal_bases)
        return (
            f"activity {activity} ({entry.name}; {basis}): kept {retention.period} after "
            f"{retention.after}. {retention.note}"
        ).strip()

    def withdraw_all_consent(self, customer_id: str) -> int:
        """Revokes every grant still in force (art. 7(3)); returns how many."""
        now = self._clock()
        live = [g for g in self._grants.of_customer(customer_id, now)
                if g.status in {GrantStatus.ACTIVE, GrantStatus.REQUESTED}]  # fmt: skip
        for grant in live:
            self._grants.revoke(customer_id, grant.id, now)
        return len(live)

    def _today(self) -> date:
        return local_day(self._clock())

    @staticmethod
    def _row(request: SubjectRequest) -> dict[str, object]:
        return {"id": request.id, "customer_id": request.customer_id, "kind": request.kind.value,
                "status": request.status.value, "received_on": request.received_on,
                "deadline": request.deadline, "note": request.note,
                "closed_on": request.closed_on}  # fmt: skip


def _plain(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


_WORDS = {  # the export page's words: (Dutch, English)
    "title": ("Uw gegevens bij meterkast", "Your data at meterkast"),
    "heading": ("Wat wij over u bewaren", "What we hold about you"),
    "generated": ("Gemaakt op", "Generated on"),
    "you": ("U", "You"),
    "contracts": ("Contracten", "Contracts"),
    "grants": ("Toestemmingen", "Grants"),
    "connection": ("Aansluiting", "Connection"),
    "meter": ("meter", "meter"),
    "readings": ("Dagstanden van uw eigen perioden", "Daily readings of your periods"),
}


def export_html(export: Export, lang: str = "en") -> str:
    """A readable, self-contained page of an access export (no outside assets), nl or en."""
    index = 0 if lang == "nl" else 1

    def w(key: str) -> str:
        return _WORDS[key][index]

    customer = export["customer"]
    assert isinstance(customer, dict)  # noqa: S101 - shape built above
    parts = [f'<!doctype html><html lang="{"nl" if index == 0 else "en"}"><meta charset="utf-8">',
             f"<title>{w('title')} — {escape(str(customer['id']))}</title>",
             f"<h1>{w('heading')}</h1>",
             f"<p>{w('generated')} {escape(str(export['generated_on']))}.</p>",
             f"<h2>{w('you')}</h2><dl>"]  # fmt: skip
    for key, value in customer.items():
        parts.append(f"<dt>{escape(key)}</dt><dd>{escape(str(value or '—'))}</dd>")
    parts.append("</dl>")
    for key in ("contracts", "grants"):
        rows = export[key]
        assert isinstance(rows, list)  # noqa: S101
        parts.append(f"<h2>{w(key)}</h2>" + _table(rows))
    connections = export["connections"]
    assert isinstance(connections, list)  # noqa: S101
    for c in connections:
        parts.append(f"<h2>{w('connection')} {escape(str(c['ean']))}</h2>")
        parts.append(f"<p>{escape(str(c['address']))}; {w('meter')} {escape(str(c['meter']))}</p>")
        parts.append(f"<h3>{w('readings')}</h3>{_table(c['daily_readings'])}")
    parts.append("</html>")
    return "\n".join(parts)


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "<p>—</p>"
    head = "".join(f"<th scope=col>{escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in r.values()) + "</tr>"
                   for r in rows)  # fmt: skip
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
