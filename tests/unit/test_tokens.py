"""Bearer tokens: what verifies, and every way a token is refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from meterkast.access.instance_keys import key_id
from meterkast.access.policy import Principal
from meterkast.access.tokens import BearerTokens, InvalidTokenError, parse_duration
from meterkast.kernel.codes import Role
from meterkast.kernel.errors import InvalidValueError, UnauthenticatedError

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> BearerTokens:
    return BearerTokens(KEY, issuer="meterkast-test", default_ttl=timedelta(hours=1), clock=clock)


def _refused(tokens: BearerTokens, token: str) -> str:
    with pytest.raises(InvalidTokenError) as caught:
        tokens.verify(token)
    return str(caught.value)


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**extra: object) -> dict[str, object]:
    now = int(T0.timestamp())
    base: dict[str, object] = {"sub": "C00000042", "role": "customer", "iat": now,
                               "exp": now + 600, "iss": "meterkast-test", "jti": "x1"}  # fmt: skip
    return {**base, **extra}


def test_round_trip_gives_a_principal(tokens: BearerTokens) -> None:
    token = tokens.issue(Role.THIRD_PARTY, "8712345678937", timedelta(minutes=15), grant="g-17")
    claims = tokens.verify(token)
    assert isinstance(claims, Principal)
    assert (claims.role, claims.party_id, claims.grant_id) == (
        Role.THIRD_PARTY,
        "8712345678937",
        "g-17",
    )
    assert claims.expires_at - claims.issued_at == timedelta(minutes=15)
    assert claims.issuer == "meterkast-test" and claims.token_id
    assert tokens.verify(tokens.issue(Role.CUSTOMER, "C1")).token_id != claims.token_id
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "EdDSA" and header["kid"] == key_id(KEY.public_key())


def test_staff_token_carries_organisation_and_hides_the_party_in_repr(
    tokens: BearerTokens,
) -> None:
    claims = tokens.verify(tokens.issue(Role.STAFF_NETLOSS, "emp-4711", organisation="Zuid"))
    assert claims.organisation == "Zuid"
    assert "emp-4711" not in repr(claims) and "staff_netloss" in repr(claims)


def test_expiry_follows_the_clock(tokens: BearerTokens, clock: Clock) -> None:
    token = tokens.issue(Role.CUSTOMER, "C00000042", timedelta(minutes=10))
    clock.now = T0 + timedelta(minutes=9, seconds=59)
    assert tokens.verify(token).party_id == "C00000042"
    clock.now = T0 + timedelta(minutes=10)
    assert _refused(tokens, token) == "token expired"


def test_token_from_the_future_is_refused(tokens: BearerTokens, clock: Clock) -> None:
    token = tokens.issue(Role.CUSTOMER, "C00000042")
    clock.now = T0 - timedelta(minutes=5)
    assert _refused(tokens, token) == "token issued in the future"


def test_forged_signature_is_refused(tokens: BearerTokens) -> None:
    head, body, signature = _segments(tokens.issue(Role.SUPPLIER, "8712345678920"))
    flipped = _b64(bytes(b ^ 1 for b in base64.urlsafe_b64decode(signature + "==")))
    assert _refused(tokens, f"{head}.{body}.{flipped}") == "token signature does not verify"


def test_tampered_claim_is_refused(tokens: BearerTokens) -> None:
    head, body, signature = _segments(tokens.issue(Role.CUSTOMER, "C00000042"))
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims["role"] = "staff_netloss"
    forged = f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert _refused(tokens, forged) == "token signature does not verify"


def test_wrong_key_is_refused(tokens: BearerTokens, clock: Clock) -> None:
    other = BearerTokens(Ed25519PrivateKey.generate(), issuer="meterkast-test",
                         default_ttl=timedelta(hours=1), clock=clock)  # fmt: skip
    assert _refused(tokens, other.issue(Role.CUSTOMER, "C1")) == "token signature does not verify"


def test_wrong_issuer_is_refused(tokens: BearerTokens) -> None:
    token = jwt.encode(_claims(iss="someone-else"), KEY, algorithm="EdDSA")
    assert "wrong issuer" in _refused(tokens, token)


def test_unknown_role_is_refused(tokens: BearerTokens) -> None:
    token = jwt.encode(_claims(role="admin"), KEY, algorithm="EdDSA")
    assert _refused(tokens, token) == "token names an unknown role"


@pytest.mark.parametrize("missing", ["sub", "role", "exp", "jti"])
def test_missing_claim_is_refused(tokens: BearerTokens, missing: str) -> None:
    claims = _claims()
    del claims[missing]
    token = jwt.encode(claims, KEY, algorithm="EdDSA")
    assert f"missing claim {missing}" in _refused(tokens, token)


@pytest.mark.parametrize("bad", [{"exp": "tomorrow"}, {"org": 5}, {"exp": 10**20}])
def test_malformed_claims_are_refused(tokens: BearerTokens, bad: dict[str, object]) -> None:
    token = jwt.encode(_claims(**bad), KEY, algorithm="EdDSA")
    assert _refused(tokens, token) in {"token malformed", "token claims are malformed"}


def test_overlong_lifetime_in_a_signed_token_is_refused(tokens: BearerTokens) -> None:
    token = jwt.encode(_claims(exp=int(T0.timestamp()) + 31 * 86400), KEY, algorithm="EdDSA")
    assert _refused(tokens, token) == "token lifetime exceeds the maximum"


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "🙂.🙂.🙂"])
def test_malformed_tokens_are_refused(tokens: BearerTokens, token: str) -> None:
    assert _refused(tokens, token) == "token malformed"


def test_other_algorithms_are_refused(tokens: BearerTokens) -> None:
    public = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    unsigned = jwt.encode(_claims(), None, algorithm="none")
    assert _refused(tokens, unsigned) == "token algorithm not accepted"
    hmac_with_public = jwt.encode(_claims(), public * 2, algorithm="HS256")
    assert _refused(tokens, hmac_with_public) == "token algorithm not accepted"


def test_errors_are_unauthenticated_and_never_echo_the_token(tokens: BearerTokens) -> None:
    token = tokens.issue(Role.CUSTOMER, "C00000042") + "x"
    with pytest.raises(UnauthenticatedError) as caught:
        tokens.verify(token)
    assert token not in str(caught.value) and "C00000042" not in str(caught.value)


def test_issue_refuses_bad_requests(tokens: BearerTokens) -> None:
    with pytest.raises(InvalidValueError):
        tokens.issue(Role.CUSTOMER, "C1", timedelta(days=31))
    with pytest.raises(InvalidValueError):
        tokens.issue(Role.CUSTOMER, "  ")
    with pytest.raises(InvalidValueError):
        tokens.issue(Role.SUPPLIER, "8712345678920", grant="g-1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("15m", timedelta(minutes=15)), ("1h", timedelta(hours=1)), ("7d", timedelta(days=7)),
     ("30d", timedelta(days=30)), ("90s", timedelta(seconds=90))],
)  # fmt: skip
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["31d", "721h", "0m", "1w", "h", "-1h", "1.5h"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(InvalidValueError):
        parse_duration(text)


class SetRevocations:
    """The revocation list as a set (the SQL one is tested on both databases)."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.asked = 0

    def is_revoked(self, token_id: str) -> bool:
        self.asked += 1
        return token_id in self.ids


def test_a_revoked_token_is_refused_at_once_even_when_remembered(clock: Clock) -> None:
    revocations = SetRevocations()
    tokens = BearerTokens(KEY, issuer="meterkast-test", default_ttl=timedelta(hours=1),
                          clock=clock, revocations=revocations)  # fmt: skip
    token = tokens.issue(Role.CUSTOMER, "C00000001")
    other = tokens.issue(Role.CUSTOMER, "C00000001")
    claims = tokens.verify(token)  # verified and remembered
    assert tokens.verify(token) == claims and revocations.asked == 2  # asked on every use
    revocations.ids.add(claims.token_id)
    with pytest.raises(InvalidTokenError, match="token revoked"):
        tokens.verify(token)
    assert tokens.verify(other).party_id == "C00000001"  # only that token, not the party


def test_expiry_is_checked_before_revocation_and_on_every_use(clock: Clock) -> None:
    revocations = SetRevocations()
    tokens = BearerTokens(KEY, issuer="meterkast-test", default_ttl=timedelta(hours=1),
                          clock=clock, revocations=revocations)  # fmt: skip
    token = tokens.issue(Role.CUSTOMER, "C00000001", timedelta(minutes=5))
    tokens.verify(token)
    clock.now = T0 + timedelta(minutes=5)
    with pytest.raises(InvalidTokenError, match="token expired"):
        tokens.verify(token)  # the remembered verification does not outlive the token
    assert revocations.asked == 1
