"""The revocation list of bearer tokens, in the instance database.

Every token check asks it (one primary-key lookup on the bare DB-API connection, ≈ 15 µs on
SQLite), so a revoked token is refused by every worker from the next request on; nothing is
cached. Entries can be dropped once the token they name has certainly expired: a token is
revoked after it was issued and lives at most ``MAX_TTL``, so after ``MAX_TTL`` plus the clock
skew no token with that id can still verify.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import CompiledQuery, read_cursor, revoked_tokens
from meterkast.access.tokens import CLOCK_SKEW, MAX_TTL


class SqlRevocations:
    """The ``RevocationList`` port."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        jti = revoked_tokens.c.jti
        self._lookup = CompiledQuery(
            sa.select(revoked_tokens.c.revoked_at).where(jti == sa.bindparam("jti")), engine
        )

    def revoked_at(self, token_id: str) -> datetime | None:
        with read_cursor(self._engine) as cursor:
            rows = self._lookup.rows(cursor, {"jti": token_id})
        if not rows:
            return None
        moment: datetime = rows[0][0]
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def is_revoked(self, token_id: str) -> bool:
        return self.revoked_at(token_id) is not None

    def revoke(self, token_id: str, at: datetime) -> bool:
        """Add the id (False if it was listed already); drop entries that can no longer matter."""
        c = revoked_tokens.c
        with self._engine.begin() as db:
            db.execute(revoked_tokens.delete().where(c.revoked_at < at - MAX_TTL - CLOCK_SKEW))
            if db.execute(sa.select(c.jti).where(c.jti == token_id)).first() is not None:
                return False
            db.execute(revoked_tokens.insert().values(jti=token_id, revoked_at=at))
        return True
