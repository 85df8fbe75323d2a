"""The serving layout: one sealed blob per connection, month and dataset, for one-EAN reads.

Each month folder holds ``serving.sqlite`` next to its Parquet files, so a purge still removes
one folder. Its ``blobs`` table is keyed by a tag: HMAC of dataset and EAN under a tagging key
the data-key service derives from the month's data key (the index lists no EAN in clear, and
tags of different months cannot be linked). A blob is the connection's rows of the month, every
version (:mod:`meterkast.readings.blobs`), sealed with AES-GCM under a sealing key derived
from the same month key, bound to dataset, month and tag. Destroying the month key at
retention makes blobs and tags of every copy useless, exactly like the Parquet files.

Consistency with the Parquet files: the ``meta`` row ``token`` holds a digest of the manifest
whose files the blobs reflect, written in the same SQLite transaction as the blobs, before
the manifest itself is committed. A reader uses the blobs only when the token equals the digest
of the manifest it sees; otherwise (a crash between the two commits, a month written before
this layout existed) it reads the Parquet files, and the next writer rebuilds the month.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa

from meterkast.kernel.errors import DomainError
from meterkast.readings.blobs import Groups, group
from meterkast.readings.ports import DataKeyService, DataKeyUnavailableError
from meterkast.readings.schema import Dataset

SERVING = "serving.sqlite"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS blobs ("
    " tag BLOB PRIMARY KEY, dataset TEXT NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID",
)
_READ = (
    "SELECT (SELECT value FROM meta WHERE key = 'token'), (SELECT sealed FROM blobs WHERE tag = ?)"
)
_CHUNK = 900  # SQLite's default limit on bound parameters is 999


def manifest_token(manifest: Mapping[str, Sequence[str]]) -> str:
    """The digest a month's serving blobs carry of the manifest they reflect."""
    canonical = json.dumps({k: list(v) for k, v in manifest.items() if v}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _key_id(month: date) -> str:
    return f"readings-{month:%Y-%m}"


def _message(dataset: Dataset, ean: str) -> bytes:
    return f"{dataset.value}\0{ean}".encode()


def _associated(dataset: Dataset, month: date, tag: bytes) -> bytes:
    return f"meterkast-serving-v1\0{dataset.value}\0{month:%Y-%m}\0".encode() + tag


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA synchronous = FULL")
    return connection


class ServingIndex:
    """Per-month serving blobs; writes happen inside the store's single-writer lock."""

    def __init__(self, root: Path, keys: DataKeyService) -> None:
        self.root = root
        self._keys = keys
        self._readers: dict[date, tuple[int, sqlite3.Connection, threading.Lock]] = {}
        self._guard = threading.Lock()

    def path(self, month: date) -> Path:
        return self.root / f"{month:%Y-%m}" / SERVING

    # -- reading ----------------------------------------------------------------------------

    def _reader(self, month: date) -> tuple[sqlite3.Connection, threading.Lock] | None:
        """The month's cached read connection, reopened when the file was replaced."""
        path = self.path(month)
        try:
            inode = path.stat().st_ino
        except FileNotFoundError:
            self.forget(month)
            return None
        with self._guard:
            cached = self._readers.get(month)
            if cached is not None and cached[0] == inode:
                return cached[1], cached[2]
            if cached is not None:
                with cached[2]:
                    cached[1].close()
            connection, lock = _connect(path), threading.Lock()
            self._readers[month] = (inode, connection, lock)
            return connection, lock

    def _failed(self, month: date, error: DomainError) -> DomainError:
        """Name the real cause when the month key is gone (destroyed by retention)."""
        if not self._keys.has_data_key(_key_id(month)):
            return DataKeyUnavailableError(_key_id(month))
        return error

    def payload(self, dataset: Dataset, month: date, ean: str, token: str) -> bytes | None:
        """One connection's records of ``month`` (every version; empty when it has none), or
        None when the blobs do not reflect the manifest whose digest is ``token`` (the caller
        then reads the files). Decode with :func:`meterkast.readings.blobs.to_table`."""
        reader = self._reader(month)
        if reader is None:
            return None
        key_id = _key_id(month)
        try:
            tag = self._keys.data_key_tags(key_id, [_message(dataset, ean)])[0]
        except DomainError as error:
            raise self._failed(month, error) from None
        connection, lock = reader
        with lock:
            stored_token, sealed = connection.execute(_READ, (tag,)).fetchone()
        if stored_token != token:
            return None
        if sealed is None:
            return b""
        try:
            return self._keys.data_key_open(key_id, [sealed], [_associated(dataset, month, tag)])[0]
        except DomainError as error:
            raise self._failed(month, error) from None

    def token(self, month: date) -> str | None:
        reader = self._reader(month)
        if reader is None:
            return None
        connection, lock = reader
        with lock:
            row = connection.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
        return None if row is None else str(row[0])

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def _writer(self, month: date) -> Iterator[sqlite3.Connection]:
        """A write transaction on the month's serving file (created when missing)."""
        connection = _connect(self.path(month))
        try:
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise
        finally:
            connection.close()

    def apply(
        self, dataset: Dataset, month: date, table: pa.Table, before: str, after: str
    ) -> bool:
        """Add ``table``'s rows to their connections' blobs and move the token from ``before``
        to ``after``, in one transaction. False (nothing written) when the stored token is not
        ``before``: the blobs are stale and the caller rebuilds the month."""
        with self._writer(month) as connection:
            if _stored_token(connection) != before:
                return False
            if table.num_rows:
                self._merge(connection, dataset, month, table)
            _set_token(connection, after)
        return True

    def retoken(self, month: date, before: str, after: str) -> bool:
        """Same rows, new manifest (compaction): move the token only."""
        with self._writer(month) as connection:
            if _stored_token(connection) != before:
                return False
            _set_token(connection, after)
        return True

    def rebuild(self, month: date, tables: Mapping[Dataset, pa.Table], token: str) -> None:
        """Replace every blob of the month with the given rows (all versions) and ``token``."""
        with self._writer(month) as connection:
            connection.execute("DELETE FROM blobs")
            for dataset, table in tables.items():
                if table.num_rows:
                    self._write(connection, dataset, month, group(dataset, table))
            _set_token(connection, token)

    def _merge(
        self, connection: sqlite3.Connection, dataset: Dataset, month: date, table: pa.Table
    ) -> None:
        key_id = _key_id(month)
        eans = sorted(set(table["ean"].to_pylist()))
        tags = self._keys.data_key_tags(key_id, [_message(dataset, e) for e in eans])
        by_tag = dict(zip(tags, eans, strict=True))
        found: list[tuple[bytes, bytes]] = []
        for i in range(0, len(tags), _CHUNK):
            chunk = tags[i : i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found += connection.execute(
                f"SELECT tag, sealed FROM blobs WHERE tag IN ({marks})",  # noqa: S608  # marks only
                chunk,
            ).fetchall()
        extra: list[tuple[str, bytes]] = []
        if found:
            opened = self._keys.data_key_open(
                key_id, [s for _, s in found], [_associated(dataset, month, t) for t, _ in found]
            )
            extra = [(by_tag[t], p) for (t, _), p in zip(found, opened, strict=True)]
        known = dict(zip(eans, tags, strict=True))
        self._write(connection, dataset, month, group(dataset, table, extra), known)

    def _write(
        self,
        connection: sqlite3.Connection,
        dataset: Dataset,
        month: date,
        groups: Groups,
        known: Mapping[str, bytes] | None = None,
    ) -> None:
        key_id = _key_id(month)
        if known is None:
            tags = self._keys.data_key_tags(key_id, [_message(dataset, e) for e in groups.eans])
        else:
            tags = [known[e] for e in groups.eans]
        sealed = self._keys.data_key_seal(
            key_id, groups.payloads(), [_associated(dataset, month, t) for t in tags]
        )
        connection.executemany(
            "INSERT OR REPLACE INTO blobs (tag, dataset, sealed) VALUES (?, ?, ?)",
            zip(tags, [dataset.value] * len(tags), sealed, strict=True),
        )

    def forget(self, month: date) -> None:
        """Close the month's reader (its folder is being purged)."""
        with self._guard:
            cached = self._readers.pop(month, None)
        if cached is not None:
            with cached[2]:
                cached[1].close()


def _stored_token(connection: sqlite3.Connection) -> str:
    """The stored token; a serving file without one reflects the empty manifest."""
    row = connection.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
    return manifest_token({}) if row is None else str(row[0])


def _set_token(connection: sqlite3.Connection, token: str) -> None:
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('token', ?)", (token,))
