"""Routes of the OAuth flow: the consent screen (authorize) and the token endpoint."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from authlib.oauth2 import OAuth2Error
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from meterkast.access.policy import THIRD_PARTY_SERVICE, retention_window
from meterkast.access.ports import TokenIssuer
from meterkast.api.deps import Services, bound
from meterkast.kernel.clock import local_day
from meterkast.kernel.errors import DomainError
from meterkast.web.accounts import OAuthClients
from meterkast.web.oauth import SCOPES, Owner, PortalAuthorizationServer, PortalRequest
from meterkast.web.portal import CsrfDep, CustomerDep, error_page, render

GRANT_VALIDITY = timedelta(days=365)


def _oauth_request(request: Request, form: dict[str, str] | None = None) -> PortalRequest:
    return PortalRequest(
        request.method, str(request.url), request.headers, dict(request.query_params), form or {}
    )


def router(clients: OAuthClients, issuer: TokenIssuer, svc: Services) -> APIRouter:
    server = PortalAuthorizationServer(
        clients, issuer, lambda grant_id: svc.grants.get(grant_id).connection_ean
    )
    routes = APIRouter(prefix="/oauth", tags=["oauth"])

    def refuse(request: Request, oauth: PortalRequest, failure: OAuth2Error) -> Response:
        """Back to the app once its client and redirect URI are known (RFC 6749, 4.1.2.1);
        before that only the customer hears of it: never redirect to an unchecked URI."""
        if failure.redirect_uri:
            answer: Response = server.handle_error_response(oauth, failure)
            return answer
        detail = failure.description or failure.error
        return render(request, "error.html", status=400, title="OAuth", detail=detail)

    def consent(request: Request, who_id: str, error: str | None = None) -> Response:
        oauth = _oauth_request(request)
        try:
            grant = server.get_consent_grant(oauth, end_user=who_id)
        except OAuth2Error as failure:
            return refuse(request, oauth, failure)
        client = grant.client.client
        try:
            app_name = svc.parties.get_party(client.party_ean).name
        except DomainError:
            app_name = client.party_ean
        today = local_day(svc.clock())
        eans = [
            c.connection_ean
            for c in svc.parties.contracts_of_customer(who_id)
            if c.start <= today and (c.end is None or today <= c.end)
        ]
        return render(
            request,
            "consent.html",
            app=app_name,
            connections=eans,
            scopes=oauth.scope.split(),
            first=retention_window(today).ranges[0].first,
            today=today,
            error=error,
            action=str(request.url),
        )

    @routes.get("/authorize", response_class=HTMLResponse, openapi_extra=bound(THIRD_PARTY_SERVICE))
    def authorize_page(request: Request, who: CustomerDep) -> Response:
        """The consent screen: which connection, which data, which period."""
        return consent(request, who.party_id)

    @routes.post("/authorize", openapi_extra=bound(THIRD_PARTY_SERVICE))
    def authorize(
        request: Request,
        who: CustomerDep,
        _: CsrfDep,
        decision: Annotated[str, Form()],
        connection_ean: Annotated[str, Form()] = "",
        scopes: Annotated[list[str] | None, Form()] = None,
        data_first: Annotated[date | None, Form()] = None,
        data_last: Annotated[date | None, Form()] = None,
    ) -> Response:
        """Allow (a grant with purpose A.2, then a code to the app) or deny (access_denied)."""
        oauth = _oauth_request(request)
        try:
            grant = server.get_consent_grant(oauth, end_user=who.party_id)
        except OAuth2Error as failure:
            return refuse(request, oauth, failure)
        if decision != "allow":
            response: Response = server.create_authorization_response(oauth, None, grant)
            return response
        chosen = [s for s in scopes or [] if s in SCOPES and s in oauth.scope.split()]
        if not chosen or not connection_ean or data_first is None or data_last is None:
            return consent(request, who.party_id, error="consent_incomplete")
        now = svc.clock()
        try:
            given = svc.grants.give(
                customer_id=who.party_id,
                connection_ean=connection_ean,
                grantee=grant.client.client.party_ean,
                scopes={SCOPES[s] for s in chosen},
                purpose=THIRD_PARTY_SERVICE,
                data_first=data_first,
                data_last=data_last,
                valid_until=now + GRANT_VALIDITY,
                now=now,
            )
        except DomainError as failure:
            return error_page(request, failure)
        owner = Owner(who.party_id, given.id, connection_ean, " ".join(chosen))
        response = server.create_authorization_response(oauth, owner, grant)
        return response

    @routes.post("/token", openapi_extra=bound(THIRD_PARTY_SERVICE))
    async def token(request: Request) -> Response:
        """Code + PKCE verifier + client credentials for a bearer token bound to the grant."""
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        oauth = _oauth_request(request, form)
        response: Response = await run_in_threadpool(server.create_token_response, oauth)
        return response

    return routes
