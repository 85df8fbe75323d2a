"""Sign-in through the operator's own identity provider with OpenID Connect (an adapter).

Not active by default: the demo signs customers in with one-time codes from the CLI. A
deployment sets ``METERKAST_PORTAL_OIDC_METADATA_URL`` (and client id and secret); then
``/portal/oidc/login`` sends the customer to the provider and ``/portal/oidc/callback`` takes
the customer number from the ID token claim named by ``customer_claim``. Staff sign in through
the same provider: an ID token whose ``staff_role_claim`` names ``privacy_officer`` or
``staff_service`` and whose ``staff_id_claim`` holds the staff id starts a staff session
instead. authlib's Starlette client does the protocol (state, nonce, code exchange, ID token
validation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from meterkast.api.deps import bound
from meterkast.kernel.errors import DomainError

SIGN_IN = "none: authentication, no personal data until signed in"


@dataclass(frozen=True, slots=True)
class OidcSettings:
    metadata_url: str
    client_id: str
    client_secret: str
    customer_claim: str = "customer_number"
    scope: str = "openid"
    staff_role_claim: str = "meterkast_role"
    staff_id_claim: str = "meterkast_staff_id"


STAFF_ROLE_VALUES = ("privacy_officer", "staff_service")


def session_from_claims(claims: Mapping[str, Any], settings: OidcSettings) -> tuple[str, str, str]:
    """("staff", role, id), ("customer", "", number) or ("none", "", "") for the claims."""
    role, staff_id = claims.get(settings.staff_role_claim), claims.get(settings.staff_id_claim)
    if role is not None or staff_id is not None:  # a staff token never falls back to a customer
        if role in STAFF_ROLE_VALUES and isinstance(staff_id, str) and staff_id:
            return "staff", str(role), staff_id
        return "none", "", ""
    customer = claims.get(settings.customer_claim)
    if isinstance(customer, str) and customer:
        return "customer", "", customer
    return "none", "", ""


def router(settings: OidcSettings, sign_in: Any, sign_in_staff: Any = None) -> APIRouter:
    """Routes of the adapter; ``sign_in(request, customer_id)`` starts the portal session,
    ``sign_in_staff(request, role, staff_id)`` a staff session (None: no staff pages)."""
    from authlib.integrations.starlette_client import OAuth  # only loaded when configured

    oauth = OAuth()
    oauth.register(
        name="idp",
        server_metadata_url=settings.metadata_url,
        client_id=settings.client_id,
        client_secret=settings.client_secret,
        client_kwargs={"scope": settings.scope},
    )
    routes = APIRouter(prefix="/portal/oidc", tags=["portal"])

    @routes.get("/login", openapi_extra=bound(SIGN_IN))
    async def oidc_login(request: Request) -> Response:
        redirect_uri = str(request.url_for("oidc_callback"))
        response: Response = await oauth.idp.authorize_redirect(request, redirect_uri)
        return response

    @routes.get("/callback", openapi_extra=bound(SIGN_IN))
    async def oidc_callback(request: Request) -> Response:
        token = await oauth.idp.authorize_access_token(request)
        kind, role, subject = session_from_claims(token.get("userinfo") or {}, settings)
        if kind == "staff" and sign_in_staff is not None:
            try:
                home = sign_in_staff(request, role, subject)
            except DomainError:  # a malformed staff id from the provider
                return RedirectResponse("/portal/staff/login?error=1", status_code=303)
            return RedirectResponse(home, status_code=303)
        if kind != "customer":
            return RedirectResponse("/portal/login?error=1", status_code=303)
        sign_in(request, subject)
        return RedirectResponse("/portal/connections", status_code=303)

    return routes
