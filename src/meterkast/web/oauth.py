"""OAuth 2 authorization code flow with PKCE (S256 only) for third-party apps, on authlib.

authlib does the protocol (request validation, client authentication, code and PKCE checks,
error answers); this module supplies storage, the consent result and the token. A code carries
the grant the customer gave on the consent screen; the token is issued for that grant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Payload
from authlib.oauth2.rfc6749.errors import InvalidRequestError, InvalidScopeError
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.responses import JSONResponse, RedirectResponse, Response

from meterkast.access.policy import THIRD_PARTY_SERVICE
from meterkast.access.ports import TokenIssuer
from meterkast.kernel.codes import GrantScope, Role
from meterkast.web.accounts import AuthCode, Client, OAuthClients, sha256

# Scopes an app may ask for, and the grant scope each becomes.
SCOPES: Mapping[str, GrantScope] = {
    "24_maanden_dagstanden": GrantScope.DAILY,
    "interval": GrantScope.INTERVAL,
}
TOKEN_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Owner:
    """The signed-in customer and what they consented to on the consent screen."""

    customer_id: str
    grant_id: str
    connection_ean: str
    scope: str


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, values: Mapping[str, str]) -> None:
        self._data = dict(values)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {k: [v] for k, v in self._data.items()}


class PortalRequest(OAuth2Request):  # type: ignore[misc]
    """A Starlette request after its form was read (authlib works synchronously)."""

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        args: Mapping[str, str],
        form: Mapping[str, str],
    ) -> None:
        super().__init__(method, url, headers=headers)
        self._args, self._form = dict(args), dict(form)
        self.payload = _Payload({**self._args, **self._form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class ClientModel(ClientMixin):  # type: ignore[misc]
    def __init__(self, client: Client) -> None:
        self.client = client

    def get_client_id(self) -> str:
        return self.client.client_id

    def get_default_redirect_uri(self) -> str:
        return self.client.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.client.redirect_uris  # exact match, no prefixes

    def check_client_secret(self, client_secret: str) -> bool:
        import hmac

        return hmac.compare_digest(sha256(client_secret), self.client.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class S256Only(CodeChallenge):  # type: ignore[misc]
    """PKCE is mandatory and only with S256 (plain would let a stolen code be redeemed)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's class attribute
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE is required: code_challenge with method S256")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    @property
    def _store(self) -> OAuthClients:
        server: PortalAuthorizationServer = self.server
        return server.clients

    def save_authorization_code(self, code: str, request: PortalRequest) -> None:
        owner: Owner = request.user
        data = request.payload.data
        self._store.save_code(
            code,
            client_id=request.client.get_client_id(),
            redirect_uri=data["redirect_uri"],
            scope=owner.scope,
            customer_id=owner.customer_id,
            grant_id=owner.grant_id,
            challenge=data["code_challenge"],
            method=data["code_challenge_method"],
        )

    def query_authorization_code(self, code: str, client: ClientModel) -> AuthCode | None:
        return self._store.find_code(code, client.get_client_id())

    def delete_authorization_code(self, authorization_code: AuthCode) -> None:
        self._store.delete_code(authorization_code.code_hash)

    def authenticate_user(self, authorization_code: AuthCode) -> Owner:
        return Owner(
            authorization_code.customer_id,
            authorization_code.grant_id,
            "",
            authorization_code.scope,
        )


class PortalAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, clients: OAuthClients, issuer: TokenIssuer, connection_of: Any) -> None:
        super().__init__(scopes_supported=list(SCOPES))
        self.clients = clients
        self._issuer = issuer
        self._connection_of = connection_of  # grant id -> connection EAN, told to the app
        self.register_token_generator("default", self._token)
        self.register_grant(CodeGrant, [S256Only(required=True)])

    def validate_requested_scope(self, scope: str | None) -> None:
        """A scope is required: consent is always for named data, never "everything"."""
        asked = set((scope or "").split())
        if not asked or not asked <= set(SCOPES):
            raise InvalidScopeError(description=f"ask for one or more of: {' '.join(SCOPES)}")

    def query_client(self, client_id: str) -> ClientModel | None:
        found = self.clients.get(client_id)
        return None if found is None else ClientModel(found)

    def save_token(self, token: dict[str, Any], request: PortalRequest) -> None:
        """The token issuer keeps what it needs to verify; nothing is stored here."""

    def _token(
        self,
        grant_type: str,
        client: ClientModel,
        user: Owner | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        if user is None:
            raise InvalidRequestError("no consent behind this code")
        token = self._issuer.issue(
            Role.THIRD_PARTY, client.client.party_ean, TOKEN_TTL, grant=user.grant_id
        )
        return {
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": int(TOKEN_TTL.total_seconds()),
            "scope": scope or "",
            "connection_ean": self._connection_of(user.grant_id),
            "purpose": THIRD_PARTY_SERVICE,
        }

    def create_oauth2_request(self, request: PortalRequest) -> PortalRequest:
        return request

    def create_json_request(self, request: object) -> None:
        raise NotImplementedError("no JSON endpoints")

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        """No listeners: the grant and the audit log record what matters."""

    def handle_response(
        self, status: int, body: object, headers: list[tuple[str, str]]
    ) -> Response:
        if status in {301, 302, 303}:
            location = dict(headers)["Location"]
            return RedirectResponse(location, status_code=303)
        return JSONResponse(body, status_code=status, headers=dict(headers))
