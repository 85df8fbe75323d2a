"""Tables of the audit log (entries, signed checkpoints, the chain head) and revoked tokens.

The head row is the lock appenders queue on, so the chain never forks under concurrency.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.sql.compiler import SQLCompiler

from meterkast.db.loop import loop_connection
from meterkast.db.metadata import code_column, metadata
from meterkast.kernel.codes import AuditEvent, LegalBasis, Role

HASH = 64  # hex SHA-256
REF = 32  # hex pseudonym

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    code_column("event", AuditEvent, nullable=False),
    code_column("role", Role, nullable=False),
    sa.Column("principal_ref", sa.String(REF), nullable=False, index=True),
    sa.Column("party", sa.String(13), nullable=True),
    sa.Column("organisation", sa.String(100), nullable=True),
    sa.Column("purpose", sa.String(16), nullable=True),
    code_column("legal_basis", LegalBasis, nullable=True),
    sa.Column("action", sa.String(32), nullable=True),
    sa.Column("allowed", sa.Boolean, nullable=False),
    sa.Column("subject_ref", sa.String(REF), nullable=True),
    sa.Column("asked_first", sa.Date, nullable=True),
    sa.Column("asked_last", sa.Date, nullable=True),
    sa.Column("span_first", sa.Date, nullable=True),
    sa.Column("span_last", sa.Date, nullable=True),
    sa.Column("days", sa.Text, nullable=False),  # JSON [[first, last], ...]
    sa.Column("reasons", sa.Text, nullable=False),  # JSON [reason, ...]
    sa.Column("policy_version", sa.String(64), nullable=True),
    sa.Column("grant_id", sa.String(64), nullable=True),
    sa.Column("case_id", sa.String(64), nullable=True),
    sa.Column("prev_hash", sa.String(HASH), nullable=False),
    sa.Column("hash", sa.String(HASH), nullable=False),  # no index: looked up only on failure
    sa.Column("seal", sa.String(HASH), nullable=False),
    sa.Index("ix_audit_entries_subject_seq", "subject_ref", "seq"),
)

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("hash", sa.String(HASH), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("key_id", sa.String(16), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
)

# The result of each full verification (``meterkast audit verify``, the officer's button): the
# audit page walks only the entries after the last clean run, and says when that run was.
audit_verifications = sa.Table(
    "audit_verifications",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("entries", sa.BigInteger, nullable=False),  # verified from entry 1 up to this one
    sa.Column("head_hash", sa.String(HASH), nullable=True),  # hash of entry ``entries``
    sa.Column("last_checkpoint", sa.BigInteger, nullable=True),
    sa.Column("first_bad", sa.BigInteger, nullable=True),  # None: the run found the log intact
    sa.Column("tampering", sa.String(32), nullable=True),
    sa.Column("detail", sa.Text, nullable=False),
)

# Bearer tokens refused before their expiry (``meterkast token revoke``), by their ``jti``.
revoked_tokens = sa.Table(
    "revoked_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(HASH), nullable=False),
    sa.CheckConstraint("id = 1", name="single_row"),
)


class HeadWriter:
    """The append path on the bare DB-API connection, with SQL built once per engine.

    An append is three short statements; through SQLAlchemy's execution machinery each costs
    several times the statement itself, and the API appends once per request. Values go through
    the same bind processors SQLAlchemy would use, so rows read back exactly as Core wrote them.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        one: sa.ColumnElement[int] = sa.literal_column("1")
        head = audit_head.c
        lock = audit_head.update().where(head.id == one).values(seq=head.seq)
        read = sa.select(head.seq, head.hash).where(head.id == one)
        # One statement where UPDATE ... RETURNING exists (PostgreSQL, SQLite >= 3.35).
        returning = engine.dialect.update_returning
        self.lock = _Sql(lock.returning(head.seq, head.hash) if returning else lock, engine)
        self.read_head = None if returning else _Sql(read, engine)
        move = audit_head.update().where(head.id == one)
        self.move = _Sql(move.values(seq=sa.bindparam("seq"), hash=sa.bindparam("hash")), engine)
        seq = audit_checkpoints.c.seq
        self.has_checkpoint = _Sql(sa.select(one).where(seq == sa.bindparam("seq")), engine)
        self.inserts = {
            t.name: _Sql(t.insert(), engine) for t in (audit_entries, audit_checkpoints)
        }

    @contextmanager
    def transaction(self) -> Iterator[HeadWriter.Transaction]:
        kept = loop_connection(self._engine)
        raw = self._engine.raw_connection() if kept is None else kept
        try:
            cursor = raw.cursor()
            yield HeadWriter.Transaction(self, cursor)
            cursor.close()
            raw.commit()
        except BaseException:
            raw.rollback()
            raise
        finally:
            if kept is None:
                raw.close()  # back to the pool

    class Transaction:
        def __init__(self, writer: HeadWriter, cursor: Any) -> None:
            self._writer = writer
            self._cursor = cursor

        def lock_head(self) -> tuple[int, str]:
            """Lock the head row until commit and read it (one statement where RETURNING exists).

            An UPDATE is the lock on both backends: PostgreSQL row-locks the head (a waiter
            reads the committed head), and on SQLite the first write takes the database write
            lock before anything is read (a transaction that read first could not upgrade).
            """
            self._writer.lock.run(self._cursor, {})
            if self._writer.read_head is not None:
                self._writer.read_head.run(self._cursor, {})
            seq, head_hash = self._cursor.fetchone()
            return int(seq), str(head_hash)

        def has_checkpoint(self, seq: int) -> bool:
            self._writer.has_checkpoint.run(self._cursor, {"seq": seq})
            return self._cursor.fetchone() is not None

        def move_head(self, seq: int, head_hash: str) -> None:
            self._writer.move.run(self._cursor, {"seq": seq, "hash": head_hash})

        def insert(self, table: str, rows: Sequence[Mapping[str, object]]) -> None:
            self._writer.inserts[table].run_many(self._cursor, rows)


@contextmanager
def read_cursor(engine: Engine) -> Iterator[Any]:
    """A DB-API cursor for one read outside any transaction, on a pooled connection (or the
    loop thread's kept one, see :func:`meterkast.db.loop.loop_connection`).

    On PostgreSQL the connection is put in autocommit for the read: inside a transaction the
    driver adds BEGIN and ROLLBACK round trips (the facts query took 0.20 ms so, 0.04 ms without).
    SQLite's driver starts no transaction for a SELECT; the rollback there is a no-op.
    """
    kept = loop_connection(engine)
    if kept is not None:
        cursor = kept.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            kept.rollback()
        return
    raw = engine.raw_connection()
    try:
        driver = raw.dbapi_connection
        autocommit = engine.dialect.name == "postgresql"
        if autocommit:
            driver.autocommit = True  # type: ignore[union-attr]
        try:
            cursor = raw.cursor()
            yield cursor
            cursor.close()
        finally:
            if autocommit:
                driver.autocommit = False  # type: ignore[union-attr]
            else:
                raw.rollback()
    finally:
        raw.close()  # back to the pool


class _Sql:
    """A Core statement compiled once for the engine's dialect, run on a DB-API cursor."""

    def __init__(self, statement: sa.ClauseElement, engine: Engine) -> None:
        dialect = engine.dialect
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.text = compiled.string
        keys = compiled.positiontup if compiled.positional else list(compiled.binds)
        self._positional = bool(compiled.positional)
        types = {b.key: b.type.dialect_impl(dialect) for b in compiled.binds.values()}
        # Dates and times repeat across a batch: remember their rendering.
        self._plan = [(k, _cached(types[k].bind_processor(dialect))) for k in keys or ()]

    def params(self, values: Mapping[str, object]) -> Any:
        done = [(k, values[k] if p is None else p(values[k])) for k, p in self._plan]
        return tuple(v for _, v in done) if self._positional else dict(done)

    def run(self, cursor: Any, values: Mapping[str, object]) -> None:
        cursor.execute(self.text, self.params(values))

    def run_many(self, cursor: Any, rows: Sequence[Mapping[str, object]]) -> None:
        if len(rows) == 1:
            self.run(cursor, rows[0])
        else:
            cursor.executemany(self.text, [self.params(r) for r in rows])


class CompiledQuery(_Sql):
    """A Core SELECT compiled once, its rows decoded by the same result processors Core uses."""

    def __init__(self, statement: sa.Select[Any] | sa.CompoundSelect[Any], engine: Engine) -> None:
        super().__init__(statement, engine)
        dialect = engine.dialect
        columns = statement.selected_columns
        self._decode = [c.type.dialect_impl(dialect).result_processor(dialect, None)
                        for c in columns]  # fmt: skip

    def rows(self, cursor: Any, values: Mapping[str, object]) -> list[tuple[Any, ...]]:
        self.run(cursor, values)
        decode = self._decode
        return [
            tuple(v if p is None or v is None else p(v) for p, v in zip(decode, row, strict=True))
            for row in cursor.fetchall()
        ]


def _cached(processor: Callable[[Any], Any] | None) -> Callable[[Any], Any] | None:
    return None if processor is None else functools.lru_cache(maxsize=4096)(processor)
