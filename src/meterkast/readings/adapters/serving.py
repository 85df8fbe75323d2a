"""The serving layout (format 3): sealed buckets of connections per month, for one-EAN reads.

Each month folder holds ``serving.sqlite`` next to its Parquet files, so a purge still removes
one folder. Per dataset, a connection belongs to bucket ``PRF(month key, dataset, EAN) mod n``
(AES on one block under a key the data-key service derives from the month's data key; ``n``
is chosen when the dataset's buckets are (re)built, about 16 connections each, and kept in the
``buckets`` table). Each intake adds one *segment* per bucket it touches: the rows of that
intake's connections in the bucket, delta-coded together (:mod:`meterkast.readings.bucket_codec`)
and sealed as one AES-GCM unit under a sealing key derived from the same month key, bound to
dataset, month, bucket and segment (a unit moved to another bucket, segment or month does not
open). The ``units`` table is keyed by (dataset, bucket, segment): no EAN in clear, and since
the PRF key is the month's, bucket membership of different months cannot be linked. Nothing
is read back or rewritten at intake; compaction and rebuilds leave one segment per bucket. A
sealed ``summary`` per dataset holds each connection's last row of the month, coded the same
way, for intake checks. Destroying the month key at retention makes units, summary and bucket
numbers of every copy useless, exactly like the Parquet files.

Consistency with the Parquet files: the ``meta`` row ``token`` holds a digest of the manifest
whose files the units reflect, written in the same SQLite transaction as the units, before
the manifest itself is committed. A reader uses the units only when the token equals the digest
of the manifest it sees; otherwise (a crash between the two commits, a month written before
this layout or format existed) it reads the Parquet files, and the next writer rebuilds the
month. The format is part of the token, so serving files of an older format are stale.

A serving file never changes in place: a writer builds the next version as a copy (a draft
without journal), syncs it and renames it over the file. Readers therefore open it immutable
(no locks or journal checks per statement) and read its token and bucket counts once; token
and units of one open file always come from one snapshot. A reader whose cached file's token
matches the manifest uses it without looking at the file system; a mismatch, or a unit that
fails authentication (a repair keeps the token), makes it look for a replaced file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from meterkast.kernel.errors import DomainError
from meterkast.keys.api import ReadKeys, SealedDataRejectedError
from meterkast.readings import _units
from meterkast.readings.adapters.parquet_files import fsync_dir
from meterkast.readings.blobs import SUMMARY, Groups, group, last_rows, merge_last
from meterkast.readings.bucket_codec import decode_summary, encode_buckets, encode_summary
from meterkast.readings.ports import DataKeyService, DataKeyUnavailableError
from meterkast.readings.schema import Dataset

SERVING = "serving.sqlite"
DRAFT = f".{SERVING}.draft"  # the next version of the file while a writer builds it
# About this many connections share a bucket: a read opens ~16 connections' rows per month
# (a few kB), an intake of 100,000 connections seals ~6,250 units instead of 100,000.
CONNECTIONS_PER_BUCKET = 16
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS buckets (dataset TEXT PRIMARY KEY, count INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS units (dataset TEXT NOT NULL, bucket INTEGER NOT NULL,"
    " segment INTEGER NOT NULL, sealed BLOB NOT NULL, PRIMARY KEY (dataset, bucket, segment))",
    "CREATE TABLE IF NOT EXISTS summary (dataset TEXT PRIMARY KEY, sealed BLOB NOT NULL)",
)
# A serving file never changes once in place (see ServingIndex._writer): its token, bucket
# counts and units, read by separate statements, always come from one snapshot.
_READ = "SELECT segment, sealed FROM units WHERE dataset = ? AND bucket = ?"
# Mapped per open serving file (address space only; the page cache holds the pages either way).
MMAP_BYTES = 1 << 30
_READ_SUMMARY = "SELECT sealed FROM summary WHERE dataset = ?"


# The serving format's version is part of the token: serving files of an older format are
# stale (readers use the files, the next writer rebuilds them).
FORMAT = 3
_DATASET_CODE = {Dataset.ELECTRICITY_DAILY: 1, Dataset.GAS_DAILY: 2, Dataset.INTERVAL: 3}


def manifest_token(manifest: Mapping[str, Sequence[str]]) -> str:
    """The digest a month's serving units carry of the manifest they reflect."""
    canonical = json.dumps({k: list(v) for k, v in manifest.items() if v}, sort_keys=True)
    return f"{FORMAT}:{hashlib.sha256(canonical.encode()).hexdigest()}"


@functools.lru_cache(maxsize=1024)
def _key_id(month: date) -> str:
    return f"readings-{month:%Y-%m}"


def prf_message(dataset: Dataset, ean: str) -> bytes:
    """The 16-byte PRF input that places ``ean`` in a bucket: dataset, then the EAN as a
    number (an 18-digit EAN) or a hash of its text (anything else)."""
    if len(ean) == 18 and ean.isascii() and ean.isdigit():
        return bytes([_DATASET_CODE[dataset], 0]) + int(ean).to_bytes(8, "little") + bytes(6)
    digest = hashlib.blake2b(ean.encode(), digest_size=14).digest()
    return bytes([_DATASET_CODE[dataset], 1]) + digest


def prf_messages(dataset: Dataset, eans: pa.StringArray) -> list[bytes]:
    """:func:`prf_message` of many EANs (vectorised for the usual 18-digit EANs)."""
    n = len(eans)
    if n == 0:
        return []
    digits = pc.and_(pc.equal(pc.utf8_length(eans), 18), pc.utf8_is_digit(eans))
    if not pc.all(digits).as_py():
        return [prf_message(dataset, e) for e in eans.to_pylist()]
    blocks = np.zeros((n, 16), dtype=np.uint8)
    blocks[:, 0] = _DATASET_CODE[dataset]
    codes = pc.cast(eans, pa.int64()).to_numpy(zero_copy_only=False).astype("<i8")
    blocks[:, 2:10] = codes.view(np.uint8).reshape(n, 8)
    raw = blocks.tobytes()
    return [raw[i : i + 16] for i in range(0, 16 * n, 16)]


def _associated(dataset: Dataset, month: date, bucket: int, segment: int) -> bytes:
    """What a unit is bound to: format, dataset, month, bucket and segment."""
    return _unit_place(dataset, month) + f"{bucket}\0{segment}".encode()


@functools.lru_cache(maxsize=1024)
def _unit_place(dataset: Dataset, month: date) -> bytes:
    """The start of a unit's associated data (formatting a month costs microseconds)."""
    return f"meterkast-serving-v3\0{dataset.value}\0{month:%Y-%m}\0".encode()


def _summary_associated(dataset: Dataset, month: date) -> bytes:
    return f"meterkast-summary-v3\0{dataset.value}\0{month:%Y-%m}".encode()


def bucket_count(connections: int) -> int:
    """Buckets for about CONNECTIONS_PER_BUCKET connections each (PRF values are uniform, so
    any count spreads them evenly)."""
    return max(1, -(-connections // CONNECTIONS_PER_BUCKET))


class _StaleError(Exception):
    """The serving file's token is not the one the writer expected: nothing is written."""


def _reader_uri(path: Path) -> str:
    """A serving file that never changes (see ``_writer``) is opened immutable: a statement
    takes no locks and checks for no journal (8 system calls fewer each)."""
    return f"{path.absolute().as_uri()}?immutable=1"  # a URI needs an absolute path


def _connect_reader(uri: str) -> sqlite3.Connection:
    connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    # Pages straight from the file's mapping instead of a read() per page not yet cached: a
    # history read touches a different bucket in each of 25 files, so nearly every page is new.
    connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    return connection


@dataclass(slots=True)
class _Reader:
    """An open serving file (immutable, see ``ServingIndex._writer``) and what it holds that a
    read needs first: its token and each dataset's bucket count, read once when opened (the
    file cannot change, so they stay its snapshot's values). ``units`` and ``read_keys`` are
    the compiled read path's handles, made on its first read."""

    inode: int
    connection: sqlite3.Connection
    lock: threading.Lock
    token: str | None
    buckets: dict[str, int]
    uri: str
    units: _units.Units | None = None
    read_keys: ReadKeys | None = None

    @classmethod
    def open(cls, path: Path, inode: int) -> _Reader:
        uri = _reader_uri(path)
        connection = _connect_reader(uri)
        try:
            row = connection.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
            counts = dict(connection.execute("SELECT dataset, count FROM buckets").fetchall())
        except sqlite3.OperationalError:  # a file of an older format (or no file yet)
            row, counts = None, {}
        token = None if row is None else str(row[0])
        return cls(inode, connection, threading.Lock(), token, counts, uri)

    def close(self) -> None:
        with self.lock:
            self.connection.close()
            self.units = None  # its connection closes when the last read using it returns


class ServingIndex:
    """Per-month serving units; writes happen inside the store's single-writer lock."""

    def __init__(self, root: Path, keys: DataKeyService) -> None:
        self.root = root
        self._keys = keys
        self._readers: dict[date, _Reader] = {}
        self._paths: dict[date, str] = {}
        self._guard = threading.Lock()

    def path(self, month: date) -> Path:
        return self.root / f"{month:%Y-%m}" / SERVING

    def _path_text(self, month: date) -> str:
        """:meth:`path` as text, kept (a read checks 24 of them)."""
        text = self._paths.get(month)
        if text is None:
            text = self._paths[month] = str(self.path(month))
        return text

    # -- reading ----------------------------------------------------------------------------

    def _reader(self, month: date) -> _Reader | None:
        """The month's cached reader, reopened when the file was replaced."""
        path = self._path_text(month)
        try:
            inode = os.stat(path).st_ino  # noqa: PTH116  # a str: no Path parsing per read
        except FileNotFoundError:
            self.forget(month)
            return None
        with self._guard:
            cached = self._readers.get(month)
            if cached is not None and cached.inode == inode:
                return cached
            if cached is not None:
                cached.close()
            reader = self._readers[month] = _Reader.open(Path(path), inode)
            return reader

    def _failed(self, months: Sequence[date], error: DomainError) -> DomainError:
        """Name the real cause when a month key is gone (destroyed by retention)."""
        for month in months:
            if not self._keys.has_data_key(_key_id(month)):
                return DataKeyUnavailableError(_key_id(month))
        return error

    def find(
        self, dataset: Dataset, ean: str, months: Sequence[tuple[date, str]]
    ) -> tuple[list[bytes], list[date]]:
        """The opened payloads of the buckets holding ``ean`` in the given (month, token)
        pairs, every segment (decode with :func:`meterkast.readings.bucket_codec.decode_rows`),
        and the months whose units do not reflect the manifest whose digest is the token
        (the caller reads their files)."""
        try:
            return self._find(dataset, ean, months)
        except SealedDataRejectedError:
            # A file this process still holds may have been replaced since (a repair after
            # damage keeps the token): ask the current files once more.
            if not self._refresh([month for month, _ in months]):
                raise
            return self._find(dataset, ean, months)

    def _refresh(self, months: Sequence[date]) -> bool:
        """Reopen the months' files that were replaced; whether any was."""
        replaced = False
        for month in months:
            cached = self._readers.get(month)
            reader = self._reader(month)
            replaced |= cached is not None and reader is not cached
        return replaced

    def _find(
        self, dataset: Dataset, ean: str, months: Sequence[tuple[date, str]]
    ) -> tuple[list[bytes], list[date]]:
        value = dataset.value
        stale: list[date] = []
        chosen: list[tuple[date, _Reader, int]] = []
        for month, token in months:
            reader = self._current(month, token)
            if reader is None:
                stale.append(month)
                continue
            count = reader.buckets.get(value)
            if count is not None:  # else no rows of this dataset in the month
                chosen.append((month, reader, count))
        if not chosen:
            return [], stale
        message = prf_message(dataset, ean)
        handles = self._compiled(chosen)
        if handles is None:
            return self._opened_each(dataset, message, chosen), stale
        try:
            payloads = _units.read(
                handles[0],
                handles[1],
                [count for _, _, count in chosen],
                [_unit_place(dataset, month) for month, _, _ in chosen],
                value,
                message,
            )
        except _units.RejectedError:
            raise SealedDataRejectedError() from None
        return payloads, stale

    def _compiled(
        self, chosen: Sequence[tuple[date, _Reader, int]]
    ) -> tuple[list[_units.Units], list[ReadKeys]] | None:
        """The compiled read's file and key handles for the chosen months (made once per open
        file), or None where the data-key service hands out no read keys."""
        units, keys = [], []
        for month, reader, _ in chosen:
            if reader.read_keys is None:
                try:
                    reader.read_keys = self._keys.data_key_reader(_key_id(month))
                except DomainError as error:
                    raise self._failed([month], error) from None
                if reader.read_keys is None:
                    return None
            if reader.units is None:
                reader.units = _units.Units(reader.uri, MMAP_BYTES)
            units.append(reader.units)
            keys.append(reader.read_keys)
        return units, keys

    def _opened_each(
        self, dataset: Dataset, message: bytes, chosen: Sequence[tuple[date, _Reader, int]]
    ) -> list[bytes]:
        """The chosen months' units through the data-key service's batched calls (a service
        that hands out no read keys): a statement per month, then one call to open all."""
        key_ids = [_key_id(month) for month, _, _ in chosen]
        try:
            numbers = self._keys.data_key_prf_each(key_ids, [message] * len(key_ids))
        except DomainError as error:
            raise self._failed([month for month, _, _ in chosen], error) from None
        ids: list[str] = []
        sealed: list[bytes] = []
        associated: list[bytes] = []
        for (month, reader, count), key_id, number in zip(chosen, key_ids, numbers, strict=True):
            bucket = number % count
            with reader.lock:
                rows = reader.connection.execute(_READ, (dataset.value, bucket)).fetchall()
            for segment, unit in rows:
                ids.append(key_id)
                sealed.append(unit)
                associated.append(_associated(dataset, month, bucket, segment))
        if not sealed:
            return []
        try:
            return self._keys.data_key_open_each(ids, sealed, associated)
        except DomainError as error:
            raise self._failed([month for month, _, _ in chosen], error) from None

    def _current(self, month: date, token: str) -> _Reader | None:
        """The month's reader when its file reflects ``token``, else None.

        The cached reader is asked first, without looking at the file system: a serving file
        never changes in place, so a reader whose token matches holds the state of that
        manifest whether or not the file was replaced since. Only a mismatch (or no reader
        yet) checks for a newer file.
        """
        cached = self._readers.get(month)
        if cached is not None and cached.token == token:
            return cached
        reader = self._reader(month)
        return reader if reader is not None and reader.token == token else None

    def last_rows(self, dataset: Dataset, month: date, token: str) -> np.ndarray | None:
        """The month's last row per connection (:data:`meterkast.readings.blobs.SUMMARY`), or
        None when the units do not reflect ``token`` or the month has no usable summary."""
        reader = self._reader(month)
        if reader is None or dataset not in SUMMARY or reader.token != token:
            return None
        with reader.lock:
            row = reader.connection.execute(_READ_SUMMARY, (dataset.value,)).fetchone()
        if row is None:  # no rows of this dataset in the month
            return np.empty(0, dtype=SUMMARY[dataset])
        if row[0] == b"":  # unknown (see _summarise)
            return None
        try:
            (plain,) = self._keys.data_key_open(
                _key_id(month), [row[0]], [_summary_associated(dataset, month)]
            )
        except DomainError as error:
            raise self._failed([month], error) from None
        return decode_summary(dataset, plain)

    def token(self, month: date) -> str | None:
        reader = self._reader(month)
        return None if reader is None else reader.token

    # -- writing ----------------------------------------------------------------------------

    @contextmanager
    def _writer(self, month: date) -> Iterator[sqlite3.Connection]:
        """A transaction on a copy of the month's serving file (created when missing) that
        replaces the file when it commits: a serving file never changes once in place, so
        readers open it immutable (no locks, no change checks per statement)."""
        path = self.path(month)
        draft = path.with_name(DRAFT)
        draft.unlink(missing_ok=True)  # left by a crash
        if path.exists():
            shutil.copyfile(path, draft)
        connection = sqlite3.connect(draft, isolation_level=None)
        try:
            # No journal and no syncs while writing: a crash leaves only the draft, which the
            # next writer discards; the finished draft is synced once before it replaces the file.
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            # Larger pages for units of a few kB (takes effect when the file is created).
            connection.execute("PRAGMA page_size = 16384")
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute("BEGIN")
            yield connection
            connection.execute("COMMIT")
        except BaseException:
            connection.close()
            draft.unlink(missing_ok=True)
            raise
        connection.close()
        descriptor = os.open(draft, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        draft.replace(path)
        fsync_dir(path.parent)

    def apply(
        self, dataset: Dataset, month: date, table: pa.Table, before: str, after: str
    ) -> bool:
        """Add ``table``'s rows (sorted by EAN, time, version) as one new segment per bucket
        they touch and move the token from ``before`` to ``after``, in one transaction (no
        unit is read or rewritten). False, with nothing written, when the stored token is not
        ``before``: the caller rebuilds."""
        try:
            with self._writer(month) as connection:
                if _stored_token(connection) != before:
                    raise _StaleError
                if table.num_rows:
                    groups = group(dataset, table, ordered=True)  # the store sorted it
                    self._write(connection, dataset, month, groups, _next_segment(connection))
                    self._summarise(connection, dataset, month, groups, fold=True)
                _set_token(connection, after)
        except _StaleError:
            return False
        return True

    def replace(
        self, dataset: Dataset, month: date, table: pa.Table, before: str, after: str
    ) -> bool:
        """Replace the dataset's units with ``table`` (all its rows; compaction): one segment
        per bucket again. False, with nothing written, when the units are stale."""
        try:
            with self._writer(month) as connection:
                if _stored_token(connection) != before:
                    raise _StaleError
                self._replace(connection, dataset, month, table)
                _set_token(connection, after)
        except _StaleError:
            return False
        return True

    def rebuild(self, month: date, tables: Mapping[Dataset, pa.Table], token: str) -> None:
        """Replace every unit of the month with the given rows (all versions) and ``token``."""
        with self._writer(month) as connection:
            connection.execute("DROP TABLE IF EXISTS blobs")  # format 2's table
            connection.execute("DELETE FROM units")
            connection.execute("DELETE FROM buckets")
            connection.execute("DELETE FROM summary")
            for dataset, table in tables.items():
                self._replace(connection, dataset, month, table)
            _set_token(connection, token)

    def _replace(
        self, connection: sqlite3.Connection, dataset: Dataset, month: date, table: pa.Table
    ) -> None:
        connection.execute("DELETE FROM units WHERE dataset = ?", (dataset.value,))
        connection.execute("DELETE FROM buckets WHERE dataset = ?", (dataset.value,))
        connection.execute("DELETE FROM summary WHERE dataset = ?", (dataset.value,))
        if table.num_rows:
            groups = group(dataset, table)
            self._write(connection, dataset, month, groups, _next_segment(connection))
            self._summarise(connection, dataset, month, groups, fold=False)

    def _write(
        self,
        connection: sqlite3.Connection,
        dataset: Dataset,
        month: date,
        groups: Groups,
        segment: int,
    ) -> None:
        key_id = _key_id(month)
        row = connection.execute(
            "SELECT count FROM buckets WHERE dataset = ?", (dataset.value,)
        ).fetchone()
        count = int(row[0]) if row else bucket_count(len(groups.eans))
        if row is None:
            connection.execute(
                "INSERT INTO buckets (dataset, count) VALUES (?, ?)", (dataset.value, count)
            )
        messages = prf_messages(dataset, groups.eans)
        numbers = np.array(
            self._keys.data_key_prf_each([key_id] * len(messages), messages), dtype=np.int64
        )
        buckets = numbers % count
        payloads = encode_buckets(groups, buckets, count)
        used = [b for b, payload in enumerate(payloads) if payload]
        sealed = self._keys.data_key_seal_each(
            [key_id] * len(used),
            [payloads[b] for b in used],
            [_associated(dataset, month, b, segment) for b in used],
        )
        connection.executemany(
            "INSERT INTO units (dataset, bucket, segment, sealed) VALUES (?, ?, ?, ?)",
            zip([dataset.value] * len(used), used, [segment] * len(used), sealed, strict=True),
        )
        connection.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('segment', ?)", (str(segment),)
        )

    def _summarise(
        self,
        connection: sqlite3.Connection,
        dataset: Dataset,
        month: date,
        groups: Groups,
        *,
        fold: bool,
    ) -> None:
        """Fold the groups' last rows into the month's sealed summary (or start it afresh).

        Every write leaves a summary row; an empty one means "unknown" (an EAN that is not a
        number was written) and stays so until the dataset is replaced.
        """
        if dataset not in SUMMARY:
            return
        key_id, associated = _key_id(month), _summary_associated(dataset, month)
        row = connection.execute(
            "SELECT sealed FROM summary WHERE dataset = ?", (dataset.value,)
        ).fetchone()
        sealed = b""
        if not (fold and row is not None and row[0] == b""):
            try:
                merged = last_rows(dataset, groups)
            except ValueError:  # an EAN that is not a number: intake reads the rows instead
                merged = None
            if merged is not None:
                if fold and row is not None:
                    (plain,) = self._keys.data_key_open(key_id, [row[0]], [associated])
                    merged = merge_last(dataset, [decode_summary(dataset, plain), merged])
                payload = encode_summary(dataset, merged)
                (sealed,) = self._keys.data_key_seal(key_id, [payload], [associated])
        connection.execute(
            "INSERT OR REPLACE INTO summary (dataset, sealed) VALUES (?, ?)",
            (dataset.value, sealed),
        )

    def forget(self, month: date) -> None:
        """Close the month's reader (its folder is being purged)."""
        with self._guard:
            cached = self._readers.pop(month, None)
        if cached is not None:
            cached.close()


def _next_segment(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT value FROM meta WHERE key = 'segment'").fetchone()
    return 1 + (int(row[0]) if row else 0)


def _stored_token(connection: sqlite3.Connection) -> str:
    """The stored token; a serving file without one reflects the empty manifest."""
    row = connection.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
    return manifest_token({}) if row is None else str(row[0])


def _set_token(connection: sqlite3.Connection, token: str) -> None:
    connection.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('token', ?)", (token,))
