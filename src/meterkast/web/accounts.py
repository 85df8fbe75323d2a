"""Sign-in material of the portal: one-time login codes and registered OAuth clients.

Codes and secrets are stored only as hashes. A login code is short enough to type, so it is
hashed with scrypt and a salt, is valid for 10 minutes, works once, and dies after
:data:`MAX_ATTEMPTS` wrong guesses for the customer. Client secrets and authorization codes are
long random values: a SHA-256 is enough for them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.grant_service import utc
from meterkast.kernel.clock import Clock
from meterkast.kernel.errors import InvalidValueError
from meterkast.web.adapters.sql import login_codes, oauth_clients, oauth_codes

CODE_TTL = timedelta(minutes=10)
MAX_ATTEMPTS = 5
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and typed by people


def _scrypt(code: str, salt: str) -> str:
    return hashlib.scrypt(
        code.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1, dklen=32
    ).hex()


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch in _ALPHABET)


class LoginCodes:
    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def issue(self, customer_id: str) -> str:
        """A new code for the customer, shown once (as XXXXX-XXXXX)."""
        raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
        salt = secrets.token_hex(16)
        now = self._clock()
        with self._engine.begin() as db:
            db.execute(
                login_codes.insert().values(
                    id=str(uuid.uuid4()),
                    customer_id=customer_id,
                    salt=salt,
                    code_hash=_scrypt(raw, salt),
                    created_at=now,
                    expires_at=now + CODE_TTL,
                    attempts=0,
                    used_at=None,
                )
            )
        return f"{raw[:5]}-{raw[5:]}"

    def redeem(self, customer_id: str, code: str) -> bool:
        """True once for a live code of the customer; every wrong guess counts."""
        now = self._clock()
        typed = normalise(code)
        with self._engine.begin() as db:
            rows = db.execute(
                sa.select(login_codes).where(
                    login_codes.c.customer_id == customer_id,
                    login_codes.c.used_at.is_(None),
                    login_codes.c.attempts < MAX_ATTEMPTS,
                )
            ).all()
            live = [r for r in rows if utc(r.expires_at) > now]
            for row in live:
                if hmac.compare_digest(_scrypt(typed, row.salt), row.code_hash):
                    db.execute(
                        login_codes.update().where(login_codes.c.id == row.id).values(used_at=now)
                    )
                    return True
            if live:
                db.execute(
                    login_codes.update()
                    .where(login_codes.c.id.in_([r.id for r in live]))
                    .values(attempts=login_codes.c.attempts + 1)
                )
        return False


@dataclass(frozen=True, slots=True)
class Client:
    client_id: str
    party_ean: str
    secret_hash: str
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthCode:
    client_id: str
    redirect_uri: str
    scope: str
    customer_id: str
    grant_id: str
    code_challenge: str
    code_challenge_method: str
    expires_at: datetime
    code_hash: str

    # What authlib asks of an authorization code.
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


class OAuthClients:
    """Registered third-party apps and their short-lived authorization codes."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def add(self, party_ean: str, redirect_uris: list[str]) -> tuple[str, str]:
        """Register an app; returns (client id, secret). The secret is not kept."""
        for uri in redirect_uris:
            if not (
                uri.startswith("https://")
                or uri.startswith("http://127.0.0.1")
                or uri.startswith("http://localhost")
            ):
                raise InvalidValueError("a redirect URI uses https (or http on loopback)")
        if not redirect_uris:
            raise InvalidValueError("a client needs at least one redirect URI")
        client_id, secret = f"mk-{secrets.token_hex(8)}", secrets.token_urlsafe(32)
        with self._engine.begin() as db:
            db.execute(
                oauth_clients.insert().values(
                    client_id=client_id,
                    party_ean=party_ean,
                    secret_hash=sha256(secret),
                    redirect_uris="\n".join(redirect_uris),
                    created_at=self._clock(),
                )
            )
        return client_id, secret

    def get(self, client_id: str) -> Client | None:
        with self._engine.connect() as db:
            row = db.execute(
                sa.select(oauth_clients).where(oauth_clients.c.client_id == client_id)
            ).first()
        if row is None:
            return None
        return Client(
            row.client_id, row.party_ean, row.secret_hash, tuple(row.redirect_uris.split("\n"))
        )

    def save_code(
        self,
        code: str,
        *,
        client_id: str,
        redirect_uri: str,
        scope: str,
        customer_id: str,
        grant_id: str,
        challenge: str,
        method: str,
    ) -> None:
        with self._engine.begin() as db:
            db.execute(
                oauth_codes.insert().values(
                    code_hash=sha256(code),
                    client_id=client_id,
                    redirect_uri=redirect_uri,
                    scope=scope,
                    customer_id=customer_id,
                    grant_id=grant_id,
                    code_challenge=challenge,
                    code_challenge_method=method,
                    expires_at=self._clock() + CODE_TTL,
                )
            )

    def find_code(self, code: str, client_id: str) -> AuthCode | None:
        with self._engine.connect() as db:
            row = db.execute(
                sa.select(oauth_codes).where(
                    oauth_codes.c.code_hash == sha256(code), oauth_codes.c.client_id == client_id
                )
            ).first()
        if row is None or utc(row.expires_at) <= self._clock():
            return None
        return AuthCode(
            row.client_id,
            row.redirect_uri,
            row.scope,
            row.customer_id,
            row.grant_id,
            row.code_challenge,
            row.code_challenge_method,
            utc(row.expires_at),
            row.code_hash,
        )

    def delete_code(self, code_hash: str) -> None:
        with self._engine.begin() as db:
            db.execute(oauth_codes.delete().where(oauth_codes.c.code_hash == code_hash))


def portal_secret(home: Path) -> str:
    """The session-signing key in ``home/portal.key`` (0600), made on first use."""
    path = home / "portal.key"
    if not path.exists():
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: use theirs
        else:
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
