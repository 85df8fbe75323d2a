"""The privacy officer's pages: the register, the audit log with its verification, requests.

Each page that shows personal data is bound to its register activity (A.4 for the audit log,
A.5 for data-subject requests) and writes an audit entry naming the officer. The officer never
sees readings, except inside an access export made for the requesting person.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterkast.access.adapters.audit_search import PAGE_SIZE, AuditFilter
from meterkast.api.deps import bound
from meterkast.grid.domain import parse_ean18
from meterkast.kernel.clock import AMSTERDAM, local_day
from meterkast.kernel.errors import DomainError, InvalidValueError
from meterkast.rights.desk import AUDIT_LOG, SUBJECT_REQUESTS
from meterkast.rights.domain import RequestKind
from meterkast.rights.service import ErasureLine, export_html
from meterkast.web.portal import CsrfDep, SvcDep, error_page, language, render
from meterkast.web.staff import OfficerDep, StaffDep

router = APIRouter(tags=["portal-staff"], default_response_class=HTMLResponse)
REGISTER = "none: the register describes processing and holds no person"
ACTIONS = ("start", "extend", "refuse", "complete", "rectify", "erase", "object", "withdraw")


@router.get("/portal/officer/register", openapi_extra=bound(REGISTER))
def register_page(request: Request, who: OfficerDep, staff: StaffDep) -> HTMLResponse:
    return render(request, "officer_register.html", activities=staff.register.activities)


def _day(text: str, name: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValueError(f"{name} is a date such as 2026-11-23") from None


def _filter(connection: str, party: str, purpose: str, first: str, last: str) -> AuditFilter:
    ean = parse_ean18(connection.strip()) if connection.strip() else None
    return AuditFilter(
        connection_ean=ean,
        party=party.strip() or None,
        purpose=purpose.strip() or None,
        first_day=_day(first, "from"),
        last_day=_day(last, "to"),
    )


@router.get("/portal/officer/audit", openapi_extra=bound(AUDIT_LOG))
def audit_page(
    request: Request,
    who: OfficerDep,
    staff: StaffDep,
    connection: str = "",
    party: str = "",
    purpose: str = "",
    first: str = "",
    last: str = "",
    page: int = 1,
) -> HTMLResponse:
    try:
        wanted = _filter(connection, party, purpose, first, last)
    except DomainError as error:
        return error_page(request, error)
    staff.desk.viewed(who.party_id, "audit_log", AUDIT_LOG)  # before the walk: it is counted
    status = staff.checks.status()  # entries after the last full run, and every checkpoint
    verdict = status.first_problem
    rows, total = staff.search.page(wanted, page=max(page, 1))
    pages = max(1, -(-total // PAGE_SIZE))
    query = {"connection": connection, "party": party, "purpose": purpose,
             "first": first, "last": last}  # fmt: skip
    return render(request, "officer_audit.html", verdict=verdict, check=status, rows=rows,
                  total=total, page=min(max(page, 1), pages), pages=pages, query=query,
                  local=lambda at: f"{at.astimezone(AMSTERDAM):%Y-%m-%d %H:%M}")  # fmt: skip


@router.post("/portal/officer/audit/verify", openapi_extra=bound(AUDIT_LOG))
def verify_audit_log(request: Request, who: OfficerDep, staff: StaffDep, _: CsrfDep) -> Response:
    """Walk the whole log now and record the result; the page then relies on it."""
    staff.desk.viewed(who.party_id, "audit_full_verify", AUDIT_LOG)  # counted by the walk
    staff.checks.full()
    return RedirectResponse("/portal/officer/audit?verified=1", status_code=303)


@router.get("/portal/officer/requests", openapi_extra=bound(SUBJECT_REQUESTS))
def requests_page(request: Request, who: OfficerDep, staff: StaffDep, svc: SvcDep) -> HTMLResponse:
    today = local_day(svc.clock())
    queue = staff.desk.queue(who.party_id)
    return render(request, "officer_requests.html", requests=queue, today=today,
                  kinds=list(RequestKind))  # fmt: skip


@router.post("/portal/officer/requests", openapi_extra=bound(SUBJECT_REQUESTS))
def register_request(
    request: Request,
    who: OfficerDep,
    staff: StaffDep,
    _: CsrfDep,
    customer_id: Annotated[str, Form()],
    kind: Annotated[str, Form()],
) -> Response:
    try:
        wanted = RequestKind(kind)
        made = staff.desk.register(who.party_id, customer_id.strip().upper(), wanted)
    except ValueError:
        return error_page(request, InvalidValueError("unknown kind of request"))
    except DomainError as error:
        return error_page(request, error)
    return RedirectResponse(f"/portal/officer/requests/{made.id}", status_code=303)


def _detail(request: Request, who: OfficerDep, staff: StaffDep, svc: SvcDep, request_id: str,
            lines: Sequence[ErasureLine] = ()) -> HTMLResponse:  # fmt: skip
    found = staff.desk.get(who.party_id, request_id)
    today = local_day(svc.clock())
    return render(request, "officer_request.html", r=found, today=today, lines=lines)


@router.get("/portal/officer/requests/{request_id}", openapi_extra=bound(SUBJECT_REQUESTS))
def request_page(
    request: Request, request_id: str, who: OfficerDep, staff: StaffDep, svc: SvcDep
) -> HTMLResponse:
    try:
        return _detail(request, who, staff, svc, request_id)
    except DomainError as error:
        return error_page(request, error)


@router.post(
    "/portal/officer/requests/{request_id}/{action}", openapi_extra=bound(SUBJECT_REQUESTS)
)
def act(
    request: Request,
    request_id: str,
    action: str,
    who: OfficerDep,
    staff: StaffDep,
    svc: SvcDep,
    _: CsrfDep,
    reason: Annotated[str, Form()] = "",
    months: Annotated[int, Form(ge=1, le=2)] = 1,
    email: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    activity: Annotated[str, Form()] = "",
) -> Response:
    desk, me = staff.desk, who.party_id
    try:
        if action not in ACTIONS:
            raise InvalidValueError("unknown action")
        if action == "erase":
            lines = desk.erase(me, request_id).lines
            return _detail(request, who, staff, svc, request_id, lines=lines)
        if action == "start":
            desk.start(me, request_id)
        elif action == "extend":
            desk.extend(me, request_id, months, reason)
        elif action == "refuse":
            desk.refuse(me, request_id, reason)
        elif action == "complete":
            desk.complete(me, request_id, reason)
        elif action == "rectify":
            desk.rectify(me, request_id, email=email.strip(), phone=phone.strip())
        elif action == "object":
            desk.object_to(me, request_id, activity.strip())
        else:
            desk.withdraw(me, request_id)
    except DomainError as error:
        return error_page(request, error)
    return RedirectResponse(f"/portal/officer/requests/{request_id}", status_code=303)


def _export(request: Request, who: OfficerDep, staff: StaffDep, request_id: str,
            form: str) -> Response:  # fmt: skip
    try:
        data = staff.desk.export(who.party_id, request_id, form)
    except DomainError as error:
        return error_page(request, error)
    customer = data["customer"]
    name = f"inzage-{customer['id'] if isinstance(customer, dict) else 'export'}.{form}"
    if form == "json":
        body, media = json.dumps(data, indent=2, ensure_ascii=False), "application/json"
    else:
        body, media = export_html(data, language(request)), "text/html; charset=utf-8"
    return Response(body, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})  # fmt: skip


@router.get("/portal/officer/requests/{request_id}/export.json",
            openapi_extra=bound(SUBJECT_REQUESTS))  # fmt: skip
def export_json(request: Request, request_id: str, who: OfficerDep, staff: StaffDep) -> Response:
    return _export(request, who, staff, request_id, "json")


@router.get("/portal/officer/requests/{request_id}/export.html",
            openapi_extra=bound(SUBJECT_REQUESTS))  # fmt: skip
def export_page(request: Request, request_id: str, who: OfficerDep, staff: StaffDep) -> Response:
    return _export(request, who, staff, request_id, "html")
