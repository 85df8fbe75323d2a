"""Staff in the portal: the privacy officer and customer-service staff.

Staff sign in like customers, with a one-time code the CLI issues (audited) for a staff
principal, or through the OIDC adapter. A staff session holds the role and the staff id; it
never opens a customer page, and customer sessions never open staff pages.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from meterkast.access.adapters.audit_search import AuditSearch
from meterkast.access.audit import AuditRecord
from meterkast.access.audit_checks import AuditChecks
from meterkast.access.days import DaySet
from meterkast.access.grant_service import CaseService
from meterkast.access.policy import POLICY_VERSION, Principal
from meterkast.api.deps import bound
from meterkast.kernel.clock import Clock
from meterkast.kernel.codes import AuditEvent, LegalBasis, Role
from meterkast.kernel.errors import InvalidValueError
from meterkast.register.domain import Register
from meterkast.rights.desk import RequestDesk, StaffAudit
from meterkast.web.accounts import LoginCodes
from meterkast.web.portal import (
    CsrfDep,
    PortalDep,
    SignInRequiredError,
    StaffForbiddenError,
    render,
)

STAFF_ROLES = (Role.PRIVACY_OFFICER, Role.STAFF_SERVICE)
HOME = {Role.PRIVACY_OFFICER: "/portal/officer/audit", Role.STAFF_SERVICE: "/portal/service"}
# Staff appear to customers by role and organisation, never by name (access-rules.md).
ORGANISATION = {Role.PRIVACY_OFFICER: "privacy office", Role.STAFF_SERVICE: "customer service"}
_STAFF_ID = re.compile(r"^[A-Za-z0-9._-]{1,16}$")
SIGN_IN = "none: authentication, no personal data until signed in"


@dataclass(frozen=True)
class StaffServices:
    """What the staff pages call: set on ``PortalSettings.staff`` by the composition root."""

    desk: RequestDesk
    audit: StaffAudit
    search: AuditSearch
    cases: CaseService
    register: Register
    checks: AuditChecks


def staff_key(role: Role, staff_id: str) -> str:
    """The login-code subject of a staff member (customer ids never hold a colon)."""
    if role not in STAFF_ROLES:
        raise InvalidValueError("portal sign-in is for the privacy officer and service staff")
    if not _STAFF_ID.match(staff_id):
        raise InvalidValueError("a staff id is 1-16 letters, digits, '.', '_' or '-'")
    return f"{role.value}:{staff_id}"


def issue_staff_code(
    codes: LoginCodes, audit: StaffAudit, clock: Clock, role: Role, staff_id: str
) -> str:
    """A one-time sign-in code for a staff member; its issuance is in the audit log."""
    key = staff_key(role, staff_id)
    code = codes.issue(key)
    audit.append(AuditRecord(
        at=clock().astimezone(UTC), event=AuditEvent.TOKEN_ISSUED, role=role,
        principal_ref=audit.pseudonyms.party(staff_id), party=None,
        organisation=ORGANISATION[role], purpose="A.4", legal_basis=LegalBasis.LEGAL_OBLIGATION,
        action="issue_sign_in_code", allowed=True, subject_ref=None, asked_first=None,
        asked_last=None, days=DaySet(), reasons=("portal sign-in code, valid 10 minutes",),
        policy_version=POLICY_VERSION, grant_id=None, case_id=None,
    ))  # fmt: skip
    return code


def sign_in_staff(request: Request, role: Role, staff_id: str) -> None:
    request.session.clear()
    request.session["staff"] = {"role": role.value, "id": staff_id}
    request.session["csrf"] = secrets.token_urlsafe(24)


def oidc_staff_sign_in(request: Request, role: str, staff_id: str) -> str:
    """A staff session from the identity provider's claims; returns the role's first page."""
    staff_role = Role(role)
    staff_key(staff_role, staff_id)  # the same checks as for a code
    sign_in_staff(request, staff_role, staff_id)
    return HOME[staff_role]


def _staff(request: Request, role: Role) -> Principal:
    found = request.session.get("staff")
    if not isinstance(found, dict) or not isinstance(found.get("id"), str):
        raise SignInRequiredError("sign in first")
    if found.get("role") != role.value:
        raise StaffForbiddenError("this page is not for your role")
    return Principal(role, found["id"], organisation=ORGANISATION[role])


def officer(request: Request) -> Principal:
    return _staff(request, Role.PRIVACY_OFFICER)


def service_staff(request: Request) -> Principal:
    return _staff(request, Role.STAFF_SERVICE)


def staff_of(request: Request) -> StaffServices:
    found: StaffServices | None = request.app.state.portal.staff
    if found is None:
        raise StaffForbiddenError("staff pages are not configured")
    return found


OfficerDep = Annotated[Principal, Depends(officer)]
ServiceStaffDep = Annotated[Principal, Depends(service_staff)]
StaffDep = Annotated[StaffServices, Depends(staff_of)]

router = APIRouter(tags=["portal-staff"], default_response_class=HTMLResponse)


@router.get("/portal/staff/login", openapi_extra=bound(SIGN_IN))
def staff_login_page(request: Request, error: int = 0) -> HTMLResponse:
    oidc = request.app.state.portal.oidc is not None
    return render(request, "staff_login.html", error=bool(error), oidc=oidc)


@router.post("/portal/staff/login", openapi_extra=bound(SIGN_IN))
def staff_login(
    request: Request,
    _: CsrfDep,
    portal: PortalDep,
    staff_id: Annotated[str, Form()],
    code: Annotated[str, Form()],
) -> Response:
    who = staff_id.strip()
    if _STAFF_ID.match(who):
        for role in STAFF_ROLES:
            if portal.login_codes.redeem(staff_key(role, who), code):
                sign_in_staff(request, role, who)
                return RedirectResponse(HOME[role], status_code=303)
    oidc = portal.oidc is not None
    return render(request, "staff_login.html", status=401, error=True, oidc=oidc)
