"""Sign-in through the operator's own identity provider with OpenID Connect (an adapter).

Not active by default: the demo signs customers in with one-time codes from the CLI. A
deployment sets ``METERKAST_PORTAL_OIDC_METADATA_URL`` (and client id and secret); then
``/portal/oidc/login`` sends the customer to the provider and ``/portal/oidc/callback`` takes
the customer number from the ID token claim named by ``customer_claim``. authlib's Starlette
client does the protocol (state, nonce, code exchange, ID token validation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from meterkast.api.deps import bound

SIGN_IN = "none: authentication, no personal data until signed in"


@dataclass(frozen=True, slots=True)
class OidcSettings:
    metadata_url: str
    client_id: str
    client_secret: str
    customer_claim: str = "customer_number"
    scope: str = "openid"


def router(settings: OidcSettings, sign_in: Any) -> APIRouter:
    """Routes of the adapter; ``sign_in(request, customer_id)`` starts the portal session."""
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
        claims = token.get("userinfo") or {}
        customer = claims.get(settings.customer_claim)
        if not customer:
            return RedirectResponse("/portal/login?error=1", status_code=303)
        sign_in(request, str(customer))
        return RedirectResponse("/portal/connections", status_code=303)

    return routes
