"""Bearer tokens: JWTs signed with the instance's Ed25519 key (EdDSA).

Claims: ``sub`` (party id), ``role``, optional ``org``, ``iat``, ``exp``, ``iss``, ``jti`` and an
optional ``grant`` binding a third party's token to one grant. Only EdDSA is accepted, so neither
``none`` nor an HMAC made with the public key passes. Time comes from the clock passed in; errors
say what is wrong with a token, never what it contains.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from meterkast.access.instance_keys import key_id
from meterkast.access.policy import Principal
from meterkast.kernel.clock import Clock
from meterkast.kernel.codes import Role
from meterkast.kernel.errors import InvalidValueError, UnauthenticatedError

ALGORITHM = "EdDSA"
MAX_TTL = timedelta(days=30)
CLOCK_SKEW = timedelta(seconds=30)  # tolerated for iat from another host's clock
REQUIRED = ("sub", "role", "iat", "exp", "iss", "jti")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d{1,7})([smhd])")


class RevocationList(Protocol):
    """Token ids refused before their expiry; asked on every use, so revocation is immediate."""

    def is_revoked(self, token_id: str) -> bool: ...


class InvalidTokenError(UnauthenticatedError):
    """A bearer token that is expired, forged, malformed or not for this instance (HTTP 401)."""


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class TokenClaims(Principal):
    """A verified token: usable wherever a :class:`Principal` is expected."""

    issued_at: datetime
    expires_at: datetime
    issuer: str
    token_id: str

    def __repr__(self) -> str:  # the party id may identify a person: keep it out of logs
        return f"TokenClaims(role={self.role.value}, jti={self.token_id}, exp={self.expires_at})"


def parse_duration(text: str) -> timedelta:
    """``15m``, ``1h``, ``7d``: a token lifetime, at most 30 days."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise InvalidValueError(f"not a duration: {text!r} (use e.g. 15m, 1h, 7d)")
    duration = timedelta(seconds=int(match[1]) * _UNITS[match[2]])
    check_ttl(duration)
    return duration


def check_ttl(ttl: timedelta) -> None:
    if ttl <= timedelta(0):
        raise InvalidValueError("a token lifetime must be positive")
    if ttl > MAX_TTL:
        raise InvalidValueError(f"a token lifetime may be at most {MAX_TTL.days} days")


class BearerTokens:
    """Issues and verifies the instance's tokens (the API's ``TokenVerifier``)."""

    def __init__(
        self,
        key: Ed25519PrivateKey,
        *,
        issuer: str,
        default_ttl: timedelta,
        clock: Clock,
        cache_size: int = 4096,
        revocations: RevocationList | None = None,
    ) -> None:
        check_ttl(default_ttl)
        # A signature check costs ~100 µs; clients reuse a token for many requests, so what
        # depends only on the token is remembered. Time and revocation are checked on every
        # use; failures are never remembered.
        self._checked = functools.lru_cache(maxsize=cache_size)(self._check)
        self._key = key
        self._public = key.public_key()
        self._kid = key_id(self._public)  # names the key, for verifiers and a later rotation
        self._issuer = issuer
        self._default_ttl = default_ttl
        self._clock = clock
        self._revocations = revocations

    def __repr__(self) -> str:
        return f"BearerTokens(issuer={self._issuer!r}, {ALGORITHM})"

    def issue(
        self,
        role: Role,
        party: str,
        ttl: timedelta | None = None,
        grant: str | None = None,
        organisation: str | None = None,
    ) -> str:
        lifetime = self._default_ttl if ttl is None else ttl
        check_ttl(lifetime)
        if not party.strip():
            raise InvalidValueError("a token needs a party id")
        if grant is not None and role is not Role.THIRD_PARTY:
            raise InvalidValueError("only third-party tokens are bound to a grant")
        now = int(self._clock().timestamp())
        claims: dict[str, object] = {
            "sub": party,
            "role": Role(role).value,
            "iat": now,
            "exp": now + int(lifetime.total_seconds()),
            "iss": self._issuer,
            "jti": secrets.token_urlsafe(16),
        }
        if organisation is not None:
            claims["org"] = organisation
        if grant is not None:
            claims["grant"] = grant
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str) -> TokenClaims:
        claims = self._checked(token)
        now = self._clock()
        if now >= claims.expires_at:
            raise InvalidTokenError("token expired")
        if claims.issued_at > now + CLOCK_SKEW:
            raise InvalidTokenError("token issued in the future")
        if self._revocations is not None and self._revocations.is_revoked(claims.token_id):
            raise InvalidTokenError("token revoked")
        return claims

    def _check(self, token: str) -> TokenClaims:
        """Signature, issuer and claim shapes: everything that does not depend on the time."""
        claims = self._decode(token)
        try:
            role = Role(str(claims["role"]))
        except ValueError:
            raise InvalidTokenError("token names an unknown role") from None
        sub, iat, exp, jti = claims["sub"], claims["iat"], claims["exp"], claims["jti"]
        org, grant = claims.get("org"), claims.get("grant")
        if not (isinstance(sub, str) and sub and isinstance(jti, str)):
            raise InvalidTokenError("token claims are malformed")
        if not (isinstance(org, str | None) and isinstance(grant, str | None)):
            raise InvalidTokenError("token claims are malformed")
        issued, expires = _moment(iat), _moment(exp)
        if expires - issued > MAX_TTL:
            raise InvalidTokenError("token lifetime exceeds the maximum")
        return TokenClaims(
            role=role,
            party_id=sub,
            organisation=org,
            issued_at=issued,
            expires_at=expires,
            issuer=self._issuer,
            token_id=jti,
            grant_id=grant,
        )

    def _decode(self, token: str) -> dict[str, object]:
        try:
            decoded: dict[str, object] = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                # Time is checked against our own clock below, not the system's.
                options={
                    "require": list(REQUIRED),
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                },
            )
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("token signature does not verify") from None
        except jwt.InvalidAlgorithmError:
            raise InvalidTokenError("token algorithm not accepted") from None
        except (jwt.InvalidIssuerError, jwt.MissingRequiredClaimError) as error:
            raise InvalidTokenError(f"token not accepted: {_claim_problem(error)}") from None
        except jwt.InvalidTokenError:  # DecodeError and the rest: not a well-formed JWT
            raise InvalidTokenError("token malformed") from None
        return decoded


def _moment(seconds: object) -> datetime:
    """A NumericDate claim as a UTC moment (whole seconds only)."""
    if not isinstance(seconds, int) or isinstance(seconds, bool):
        raise InvalidTokenError("token claims are malformed")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise InvalidTokenError("token claims are malformed") from None


def _claim_problem(error: jwt.InvalidTokenError) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"missing claim {error.claim}"
    return "wrong issuer"
