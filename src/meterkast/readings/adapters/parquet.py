"""Month-partitioned, encrypted, append-only Parquet files with a crash-safe manifest.

Layout: ``<root>/<YYYY-MM>/manifest.json`` lists the committed files of each dataset in that
month; files are written under a temporary name, fsynced and renamed before the manifest (also
written to a temporary name, fsynced, renamed) names them. A file not in the manifest is an
orphan of an interrupted write: readers ignore it and the next writer removes it.

Each month is encrypted with its own data key (``readings-YYYY-MM`` in the data-key service);
footers are encrypted too, so even the EAN statistics are unreadable without the key. Beside the
files, each month's serving index (:mod:`.serving`) holds the rows again in sealed buckets of
about 16 connections for one-EAN reads; it is updated before the manifest names the new file
and carries the manifest's digest, so a reader can always tell whether the serving units
reflect the files it would read.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pqe

from meterkast.readings.adapters.parquet_files import (
    KmsClient,
    OpenFile,
    fsync_dir,
    month_dir_name,
    month_key_id,
    open_file,
    sort_keys,
)
from meterkast.readings.adapters.serving import SERVING, ServingIndex, manifest_token
from meterkast.readings.bucket_codec import Decoded, decode, decode_rows
from meterkast.readings.frames import one_connection
from meterkast.readings.ports import DataKeyService
from meterkast.readings.schema import SCHEMAS, TIME_COLUMN, Dataset

MANIFEST = "manifest.json"
GENERATION = ".generation"  # replaced by every commit and purge (see _mark_change)
# Files of a month folder that no manifest lists by design (the serving index and its journal).
_KEPT = {MANIFEST, SERVING, f"{SERVING}-journal"}


@dataclass(frozen=True, slots=True)
class _View:
    """What reads need of the store at one generation mark: its months and each month's
    manifest token, read once per commit instead of checked per month and read."""

    mark: bytes
    months: list[date]
    tokens: dict[date, str]


@dataclass(frozen=True, eq=False)
class WrittenAhead:
    """A file being written (or written) ahead of the decision to commit it."""

    dataset: Dataset
    month: date
    name: str
    built: Future[tuple[pa.Table, pa.Table]]  # the table as built, and as written
    future: Future[None]  # the file written

    @property
    def table(self) -> pa.Table:
        """The table as built: append commits the file only for this very table."""
        return self.built.result()[0]

    @property
    def stored(self) -> pa.Table:
        """The table as written (the store's schema and order)."""
        return self.built.result()[1]

    def holds(self, dataset: Dataset, month: date, table: pa.Table) -> bool:
        return (
            self.dataset is dataset
            and self.month == month
            and self.built.exception() is None
            and self.table is table
        )


class EncryptedMonthStore:
    def __init__(
        self,
        root: Path,
        keys: DataKeyService,
        row_group_rows: int | None = None,
    ) -> None:
        self.root = root
        self._keys = keys
        self._row_group_rows = row_group_rows
        self.serving = ServingIndex(root, keys)
        self._tokens: dict[date, tuple[object, str]] = {}
        self._folders: dict[date, str] = {}
        self._new_factory()
        self._open: dict[Path, OpenFile] = {}
        self._manifests: dict[date, tuple[int, dict[str, list[str]]]] = {}
        self._months: tuple[int, list[date]] | None = None
        self._file_lists: dict[tuple[Dataset, date], tuple[object, list[OpenFile]]] = {}
        self._generation = str(root / GENERATION)
        self._view: _View | None = None

    def _new_factory(self) -> None:
        keys = self._keys
        self._factory = pqe.CryptoFactory(lambda _config: KmsClient(keys))
        self._kms = pqe.KmsConnectionConfig()
        self._decryption = self._factory.file_decryption_properties(
            self._kms, pqe.DecryptionConfiguration(cache_lifetime=timedelta(minutes=10))
        )

    # -- manifest ---------------------------------------------------------------------------

    def view(self) -> _View | None:
        """The months and manifest tokens at the store's current generation mark (one small
        file read when nothing was committed since the last call); None for a store no
        writer of this version has marked yet (callers then check month by month).

        A writer renames the manifest in before it replaces the mark, so a view built after
        reading a mark is never older than that mark (at worst newer, and rebuilt once more
        when the mark is seen to change).
        """
        try:
            descriptor = os.open(self._generation, os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            mark = os.read(descriptor, 64)
        finally:
            os.close(descriptor)
        view = self._view
        if view is not None and view.mark == mark:
            return view
        months = self._listed_months()
        tokens = {}
        for month in months:
            path = Path(self._folder(month)) / MANIFEST
            try:
                tokens[month] = manifest_token(json.loads(path.read_text()))
            except FileNotFoundError:  # purged meanwhile: the next mark says so
                tokens[month] = manifest_token({})
        if self._view is not None:  # months purged meanwhile: their readers (and keys) go
            for gone in set(self._view.months) - set(months):
                self.serving.forget(gone)
        view = self._view = _View(mark, months, tokens)
        return view

    def months(self) -> list[date]:
        """Committed months, oldest first (from the view: re-listed only after a commit or a
        purge; for an unmarked store, cached until the store folder changes)."""
        view = self.view()
        if view is not None:
            return view.months
        return self._stamped_months()

    def _listed_months(self) -> list[date]:
        found: list[date] = []
        if not self.root.exists():
            return found
        for child in self.root.iterdir():
            if not child.name.startswith(".") and (child / MANIFEST).exists():
                year, month = child.name.split("-")
                found.append(date(int(year), int(month), 1))
        return sorted(found)

    def _stamped_months(self) -> list[date]:
        try:
            stamp = self.root.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if self._months is not None and self._months[0] == stamp:
            return self._months[1]
        self._months = (stamp, self._listed_months())
        return self._months[1]

    def _folder(self, month: date) -> str:
        """The month folder's path as text (kept: a read checks 24 of them)."""
        folder = self._folders.get(month)
        if folder is None:
            folder = self._folders[month] = str(self.root / month_dir_name(month))
        return folder

    def _manifest(self, month: date) -> dict[str, list[str]]:
        """A month's manifest, cached until its folder changes (another writer committed)."""
        folder = self._folder(month)
        try:
            stamp = os.stat(folder).st_mtime_ns  # noqa: PTH116  # a str: no Path parsing per read
        except FileNotFoundError:
            return {}
        cached = self._manifests.get(month)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        path = Path(folder) / MANIFEST
        manifest: dict[str, list[str]] = json.loads(path.read_text()) if path.exists() else {}
        self._manifests[month] = (stamp, manifest)
        return manifest

    def token(self, month: date) -> str:
        """The digest of the month's manifest (cached with the manifest)."""
        manifest = self._manifest(month)
        cached = self._tokens.get(month)
        if cached is not None and cached[0] is manifest:
            return cached[1]
        token = manifest_token(manifest)
        self._tokens[month] = (manifest, token)
        return token

    def files(self, dataset: Dataset, month: date) -> list[Path]:
        folder = self.root / month_dir_name(month)
        return [folder / name for name in self._manifest(month).get(dataset.value, [])]

    def _commit(self, month: date, manifest: dict[str, list[str]]) -> None:
        folder = self.root / month_dir_name(month)
        tmp = folder / f".{MANIFEST}.tmp"
        new_month = not (folder / MANIFEST).exists()
        with tmp.open("w") as handle:
            json.dump(manifest, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(folder / MANIFEST)
        fsync_dir(folder)
        self._manifests.pop(month, None)
        self._mark_change()
        if new_month:
            self._months = None

    def _mark_change(self) -> None:
        """Give the store a new generation mark (after a commit or purge, under the writer lock).

        Readers compare this one small file with the mark their :class:`_View` was built at,
        instead of a manifest freshness check per month (25 per history read). Its content is
        random, so it cannot repeat, and renaming it in also changes the store folder's stamp,
        which :meth:`months` relies on.
        """
        tmp = self.root / f"{GENERATION}.tmp"
        tmp.write_bytes(secrets.token_bytes(16))
        tmp.replace(self.root / GENERATION)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """One writer at a time (an exclusive lock on the store folder)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._manifests.clear()  # another process may have committed meanwhile
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # -- writing ------------------------------------------------------------------------------

    def encryption_properties(self, month: date) -> pqe.FileEncryptionProperties:
        """Encrypt columns and footer with a fresh file key wrapped under the month's key."""
        return self._factory.file_encryption_properties(
            self._kms,
            pqe.EncryptionConfiguration(
                footer_key=month_key_id(month),
                uniform_encryption=True,
                double_wrapping=False,
                cache_lifetime=timedelta(minutes=10),
            ),
        )

    def _prepare(self, month: date) -> None:
        """The month's key and folder, before anything is written there."""
        key_id = month_key_id(month)
        if not self._keys.has_data_key(key_id):
            self._keys.create_data_key(key_id)  # refused for a month whose key was destroyed
        (self.root / month_dir_name(month)).mkdir(mode=0o700, parents=True, exist_ok=True)

    def _write_file(self, month: date, table: pa.Table, name: str) -> None:
        self._prepare(month)
        folder = self.root / month_dir_name(month)
        properties = self.encryption_properties(month)
        tmp = folder / f".tmp-{name}"
        pq.write_table(
            table,
            tmp,
            compression="zstd",
            row_group_size=self._row_group_rows,  # None: PyArrow's default
            encryption_properties=properties,
            write_page_index=False,
        )
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(folder / name)

    def write_ahead(
        self,
        dataset: Dataset,
        month: date,
        rows: Callable[[], pa.Table],
        *,
        presorted: bool = False,
    ) -> WrittenAhead:
        """Start building (``rows``) and writing a file of ``month`` on a background thread,
        before it is known whether it will be committed (call inside writing()).
        :meth:`append` with the handle and the handle's table commits it; :meth:`discard`
        removes it. Until the manifest names it, the file is an orphan like any other:
        invisible, removed by the next purge.
        """
        name = f"{dataset.value}-{secrets.token_hex(8)}.parquet"
        self._prepare(month)
        built: Future[tuple[pa.Table, pa.Table]] = Future()

        def build_and_write() -> None:
            try:
                table = rows()
                stored = self._stored_form(dataset, table, presorted=presorted)
            except BaseException as error:
                built.set_exception(error)
                raise
            built.set_result((table, stored))
            self._write_file(month, stored, name)

        pool = ThreadPoolExecutor(1, thread_name_prefix="parquet-ahead")
        try:
            future = pool.submit(build_and_write)
        finally:
            pool.shutdown(wait=False)
        return WrittenAhead(dataset, month, name, built, future)

    def discard(self, ahead: WrittenAhead) -> None:
        """Wait for a written-ahead file and remove it, unless the manifest names it."""
        ahead.future.exception()  # the outcome no longer matters, only that it is over
        if ahead.name in self._manifest(ahead.month).get(ahead.dataset.value, []):
            return  # committed: part of the store now
        folder = self.root / month_dir_name(ahead.month)
        for path in (folder / ahead.name, folder / f".tmp-{ahead.name}"):
            path.unlink(missing_ok=True)

    def _stored_form(self, dataset: Dataset, table: pa.Table, *, presorted: bool) -> pa.Table:
        table = table.cast(SCHEMAS[dataset])
        return table if presorted else table.sort_by(sort_keys(dataset))

    def append(
        self,
        dataset: Dataset,
        month: date,
        table: pa.Table,
        *,
        presorted: bool = False,
        ahead: WrittenAhead | None = None,
    ) -> None:
        """Write ``table`` (rows of this month) as a new committed file; call inside writing().

        Rows are stored sorted by EAN so row-group statistics prune one connection's reads;
        ``presorted`` skips the sort for writers that already produce that order. A file
        written ahead (:meth:`write_ahead`) of exactly this table is committed instead of
        writing it again; any other written-ahead file is discarded.
        """
        if ahead is not None and not ahead.holds(dataset, month, table):
            self.discard(ahead)
            ahead = None
        if ahead is not None:
            table, name = ahead.stored, ahead.name
        else:
            table = self._stored_form(dataset, table, presorted=presorted)
            name = f"{dataset.value}-{secrets.token_hex(8)}.parquet"
        old = self._manifest(month)
        manifest = {k: list(v) for k, v in old.items()}
        manifest.setdefault(dataset.value, []).append(name)
        # The Parquet file (PyArrow releases the GIL) is written on a second thread while this
        # one builds and commits the serving units; the manifest is committed only after both.
        # Units committed for a file that then failed name a manifest that never comes: the
        # month is stale and rebuilt from its files, as after a crash between the commits.
        self._prepare(month)
        with ThreadPoolExecutor(1, thread_name_prefix="parquet-write") as pool:
            if ahead is not None:
                written = ahead.future
            else:
                written = pool.submit(self._write_file, month, table, name)
            try:
                fresh = self.serving.apply(
                    dataset, month, table, manifest_token(old), manifest_token(manifest)
                )
            finally:
                written.result()
        self._commit(month, manifest)
        if not fresh:
            self.rebuild_serving(month)

    def compact(self, dataset: Dataset, month: date) -> None:
        """Merge a month's files into one EAN-sorted file (same rows, every version kept)."""
        old = self.files(dataset, month)
        if len(old) <= 1:
            return
        table = self.read_month(dataset, month)
        table = table.sort_by(sort_keys(dataset))
        name = f"{dataset.value}-{secrets.token_hex(8)}.parquet"
        self._write_file(month, table, name)
        before = self._manifest(month)
        manifest = {k: list(v) for k, v in before.items()}
        manifest[dataset.value] = [name]
        fresh = self.serving.replace(
            dataset, month, table, manifest_token(before), manifest_token(manifest)
        )
        self._commit(month, manifest)
        if not fresh:
            self.rebuild_serving(month)
        for path in old:
            self._open.pop(path, None)
            path.unlink(missing_ok=True)

    def rebuild_serving(self, month: date) -> None:
        """Rewrite the month's serving units from its committed Parquet files (inside writing())."""
        tables = {dataset: self.read_month(dataset, month) for dataset in Dataset}
        self.serving.rebuild(month, tables, self.token(month))

    def last_rows(self, dataset: Dataset, month: date) -> np.ndarray | None:
        """Each connection's last row in ``month`` from the serving summary (None: unknown)."""
        return self.serving.last_rows(dataset, month, self.token(month))

    def serving_is_current(self, month: date) -> bool:
        return self.serving.token(month) == self.token(month)

    def repair_serving(self, months: Sequence[date]) -> list[date]:
        """Rebuild the serving units of those stored ``months`` that do not reflect their
        manifest (a crash between the two commits; a month older than the serving layout)."""
        stored = set(self.months())
        stale = [m for m in months if m in stored and not self.serving_is_current(m)]
        for month in stale:
            self.rebuild_serving(month)
        return stale

    def remove_orphans(self) -> int:
        """Delete files left by interrupted writes (not named by their month's manifest)."""
        removed = 0
        for month in self.months():
            folder = self.root / month_dir_name(month)
            committed = {n for names in self._manifest(month).values() for n in names}
            for child in folder.iterdir():
                if child.name not in _KEPT and child.name not in committed:
                    child.unlink(missing_ok=True)
                    removed += 1
        return removed

    # -- reading ------------------------------------------------------------------------------

    def _month_files(self, dataset: Dataset, month: date) -> list[OpenFile]:
        """The opened files of a month, cached for as long as its manifest is unchanged."""
        manifest = self._manifest(month)
        cached = self._file_lists.get((dataset, month))
        if cached is not None and cached[0] is manifest:
            return cached[1]
        opened = [self._opened(path) for path in self.files(dataset, month)]
        self._file_lists[(dataset, month)] = (manifest, opened)
        return opened

    def _opened(self, path: Path) -> OpenFile:
        cached = self._open.get(path)
        if cached is not None:
            return cached
        opened = open_file(path, self._decryption, self._keys)
        self._open[path] = opened
        return opened

    def read_month(
        self, dataset: Dataset, month: date, columns: Sequence[str] | None = None
    ) -> pa.Table:
        schema = SCHEMAS[dataset]
        parts = []
        for path in self.files(dataset, month):
            opened = self._opened(path)
            with opened.lock:
                parts.append(opened.parquet.read(columns=list(columns) if columns else None))
        if not parts:
            fields = [schema.field(c) for c in columns] if columns else list(schema)
            return pa.schema(fields).empty_table()
        return pa.concat_tables(parts)

    @staticmethod
    def _indices(dataset: Dataset, columns: Sequence[str] | None) -> list[int]:
        names = SCHEMAS[dataset].names
        return list(range(len(names))) if columns is None else [names.index(c) for c in columns]

    def read_ean(
        self,
        dataset: Dataset,
        span: tuple[date, date],
        ean: str,
        columns: Sequence[str] | None = None,
        *,
        serving: bool = True,
        window: tuple[int, int] | None = None,
        latest: bool = False,
    ) -> pa.Table:
        """One connection's rows in the stored months from ``span[0]`` (a month's first day) to
        ``span[1]``, ordered by (time, version).

        ``window`` keeps the rows whose time lies in ``[low, high)`` (days since 1970 for the
        daily datasets, microseconds for intervals); ``latest`` keeps only the highest version
        per time (otherwise every version). Months whose serving units are current cost one
        statement each and one decode for all of them; otherwise (or with ``serving=False``)
        the Parquet files are read: sorted by EAN, so the row groups holding ``ean`` are found
        by binary search over the cached per-row-group bounds.
        """
        indices = self._indices(dataset, columns)
        names = [SCHEMAS[dataset].names[i] for i in indices]
        if serving:
            served, stale = self._served(dataset, span, ean)
        else:
            served, stale = [], [m for m in self.months() if span[0] <= m <= span[1]]
        table = decode_rows(dataset, served, ean, names, window=window, latest=latest)
        parts = []
        for month in stale:
            for opened in self._month_files(dataset, month):
                first = int(np.searchsorted(opened.ean_max, ean, side="left"))
                end = int(np.searchsorted(opened.ean_min, ean, side="right"))
                if end <= first:
                    continue
                # The low-level reader skips per-call Python overhead (half the cost of a small
                # row group); threads cost more than they save on a few small row groups.
                with opened.lock:
                    parts.append(
                        opened.parquet.reader.read_row_groups(
                            list(range(first, end)), column_indices=indices, use_threads=False
                        )
                    )
        if not parts:
            return table
        files = pa.concat_tables(parts)
        files = files.filter(pc.equal(files["ean"], ean))
        time = TIME_COLUMN[dataset]
        if window is not None:
            values = files[time].to_numpy().astype(np.int64)
            files = files.filter(pa.array((values >= window[0]) & (values < window[1])))
        both = pa.concat_tables([table, files.select(names)])
        return one_connection(both, time, latest_only=latest)

    def read_latest(
        self, dataset: Dataset, span: tuple[date, date], ean: str, window: tuple[int, int]
    ) -> Decoded | None:
        """:meth:`read_ean` of the latest versions in ``window``, left as the codec decoded
        them (no Arrow); None unless every month's serving units are current (the caller then
        reads the table, which may come from the Parquet files)."""
        served, stale = self._served(dataset, span, ean)
        if stale:
            return None
        return decode(dataset, served, ean, window=window, latest=True)

    def _served(
        self, dataset: Dataset, span: tuple[date, date], ean: str
    ) -> tuple[list[bytes], list[date]]:
        """The opened serving payloads of ``ean`` in the stored months of ``span`` and the
        months whose units do not reflect their manifest (see :meth:`ServingIndex.find`):
        months and tokens from one view, or month by month in a store no writer of this
        version has marked."""
        low, high = span
        view = self.view()
        if view is None:
            months = [m for m in self._stamped_months() if low <= m <= high]
            found = [(month, self.token(month)) for month in months]
        else:  # the view's months, oldest first, with their tokens
            found = [(m, token) for m, token in view.tokens.items() if low <= m <= high]
        return self.serving.find(dataset, ean, found)

    def read_eans(
        self,
        dataset: Dataset,
        month: date,
        eans: Sequence[str],
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """The rows of several connections: each file's matching row groups read in one call."""
        wanted = np.array(sorted(eans), dtype="U32")
        schema = SCHEMAS[dataset]
        parts = []
        for path in self.files(dataset, month):
            opened = self._opened(path)
            low = np.searchsorted(wanted, opened.ean_min, side="left")
            high = np.searchsorted(wanted, opened.ean_max, side="right")
            groups = np.flatnonzero(high > low)
            if groups.size == 0:
                continue
            table = opened.parquet.reader.read_row_groups(
                groups.tolist(), column_indices=self._indices(dataset, columns), use_threads=True
            )
            parts.append(table.filter(pc.is_in(table["ean"], pa.array(wanted.tolist()))))
        if not parts:
            fields = [schema.field(c) for c in columns] if columns else list(schema)
            return pa.schema(fields).empty_table()
        return pa.concat_tables(parts)

    # -- retention ----------------------------------------------------------------------------

    def drop_month(self, month: date) -> None:
        """Take the month out of the store, destroy its data key, then delete its files.

        The folder is first renamed to ``.purging-YYYY-MM`` (atomic: readers stop seeing the
        month), then the key is destroyed (every copy anywhere becomes unreadable), then the
        folder is deleted. :meth:`finish_purges` completes a purge a crash interrupted.
        """
        folder = self.root / month_dir_name(month)
        purging = self.root / f".purging-{month_dir_name(month)}"
        self.serving.forget(month)
        if folder.exists():
            folder.replace(purging)
            fsync_dir(self.root)
        self._finish(purging)
        self._manifests.pop(month, None)
        self._months = None
        self._mark_change()
        for path in [p for p in self._open if p.parent == folder]:
            del self._open[path]
        self._file_lists.clear()
        # PyArrow caches unwrapped keys per factory: start afresh so nothing outlives the key.
        self._factory.remove_cache_entries_for_all_tokens()
        self._new_factory()

    def _finish(self, purging: Path) -> None:
        year, number = purging.name.removeprefix(".purging-").split("-")
        key_id = month_key_id(date(int(year), int(number), 1))
        if self._keys.has_data_key(key_id):  # a resumed purge may have destroyed it already
            self._keys.destroy_data_key(key_id)
        shutil.rmtree(purging, ignore_errors=True)

    def finish_purges(self) -> int:
        """Complete purges a crash interrupted (key destroyed, folder gone); how many."""
        if not self.root.exists():
            return 0
        leftovers = sorted(self.root.glob(".purging-*"))
        for purging in leftovers:
            self._finish(purging)
        return len(leftovers)
