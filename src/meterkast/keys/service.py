"""The crypto-server's use cases: provisioning, head-end sessions, counters, recovery.

Plaintext keys exist only inside this package, briefly, between unwrap and use. Sessions are
built from keys unwrapped once; invocation counters live in memory and are flushed in batches.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.dlms.keywrap import wrap_key
from meterkast.kernel.clock import Clock
from meterkast.kernel.codes import FrameRejection, KeyStatus, KeyType, MeterType
from meterkast.kernel.errors import ConflictError, InvalidValueError
from meterkast.keys.adapters import store
from meterkast.keys.api import (
    CryptoServer,
    FrameRejectedError,
    KeyEncryptionProvider,
    MeterKeyPort,
    WrappedKey,
)
from meterkast.keys.domain import (
    KEY_SET,
    ROTATED,
    KeyLifecycleError,
    KeyRecord,
    KeyRing,
    MeterKeysLockedError,
)
from meterkast.keys.session import CounterState, Suite0Session

log = logging.getLogger(__name__)
KEY_BYTES = 16  # suite 0: AES-128


@dataclass(frozen=True, slots=True)
class ProvisionRequest:
    meter_id: str
    meter_type: MeterType
    system_title: bytes


@dataclass(frozen=True, slots=True)
class KeyStatusLine:
    meter_type: MeterType
    key_type: KeyType
    status: KeyStatus
    count: int
    oldest_active_days: int | None  # on ACTIVE lines only


class KeyService:
    """Implements :class:`meterkast.keys.api.CryptoServer`."""

    def __init__(
        self,
        engine: Engine,
        kek: KeyEncryptionProvider,
        clock: Clock,
        client_system_title: bytes,
        *,
        meter_link: MeterKeyPort | None = None,
        lock_seconds: int = 300,
        counter_block: int = 1024,
    ) -> None:
        if len(client_system_title) != 8:
            raise InvalidValueError("the head-end system title is 8 bytes")
        self._engine = engine
        self._kek = kek
        self._clock = clock
        self.client_system_title = client_system_title
        self.meter_link = meter_link
        self._lock_seconds = lock_seconds
        self._block = counter_block
        self._counters: dict[str, CounterState] = {}
        self._dirty: set[str] = set()
        self._guard = threading.Lock()
        self.owner = f"keys-{uuid.uuid4().hex[:12]}"

    def __repr__(self) -> str:
        return f"KeyService(meters_in_memory={len(self._counters)})"

    # -- provisioning ---------------------------------------------------------------------

    def provision(
        self, meter_id: str, meter_type: MeterType, system_title: bytes, transport_kek: bytes
    ) -> list[WrappedKey]:
        return self.provision_many(
            [ProvisionRequest(meter_id, meter_type, system_title)], transport_kek
        )[0]

    def provision_many(
        self, requests: Sequence[ProvisionRequest], transport_kek: bytes
    ) -> list[list[WrappedKey]]:
        """Provision many meters in one transaction (fleet generation)."""
        if len(transport_kek) not in (16, 24, 32):
            raise InvalidValueError("the transport key is 128, 192 or 256 bits")
        now = self._clock()
        result: list[list[WrappedKey]] = []
        meters: list[tuple[str, MeterType, bytes]] = []
        stored: list[tuple[str, KeyType, bytes]] = []
        for request in requests:
            if len(request.system_title) != 8:
                raise InvalidValueError("a system title is 8 bytes")
            meters.append((request.meter_id, request.meter_type, request.system_title))
            shipped: list[WrappedKey] = []
            for key_type in KEY_SET[request.meter_type]:
                key = secrets.token_bytes(KEY_BYTES)
                stored.append((request.meter_id, key_type, self._kek.wrap(key)))
                shipped.append(WrappedKey(key_type, wrap_key(transport_kek, key)))
            result.append(shipped)
        if not meters:
            return result
        try:
            with self._engine.begin() as conn:
                store.insert_key_sets(conn, meters, stored, now)
        except sa.exc.IntegrityError:
            raise ConflictError("a meter or system title in this batch already has keys") from None
        log.info("provisioned key sets for %d meters", len(requests))
        return result

    # -- sessions and counters ------------------------------------------------------------

    def session(self, meter_id: str) -> Suite0Session:
        row = self._load(meter_id)
        if row.ring.pending_types() and self.meter_link is not None:
            try:
                with self.locked(meter_id):
                    row = self._load(meter_id)
                    ring = self.settle(row, self.meter_link)
                    row = replace(row, ring=ring)
            except MeterKeysLockedError:
                log.debug("meter %s is mid key change elsewhere; using its active keys", meter_id)
        return self.session_with(row, {})

    def sessions(self, meter_ids: Sequence[str]) -> dict[str, Suite0Session]:
        """Sessions for many meters at once (batched reads); unknown meters are left out."""
        with self._engine.connect() as conn:
            rows = store.load_meters(conn, list(meter_ids))
        found: dict[str, Suite0Session] = {}
        for meter_id, row in rows.items():
            if row.ring.pending_types() and self.meter_link is not None:
                found[meter_id] = self.session(meter_id)  # rare: recovery path
            else:
                found[meter_id] = self.session_with(row, {})
        return found

    def session_with(
        self, row: store.MeterRow, chosen: Mapping[KeyType, KeyRecord]
    ) -> Suite0Session:
        """A session on the active keys, with ``chosen`` records (NEW ones) in their place."""
        ring = row.ring

        def pick(key_type: KeyType) -> KeyRecord | None:
            return chosen.get(key_type) or ring.active(key_type)

        encryption = pick(KeyType.ENCRYPTION)
        if encryption is None:
            raise KeyLifecycleError(f"meter {ring.meter_id} has no active encryption key")
        authentication = pick(KeyType.AUTHENTICATION)
        ak = b"" if authentication is None else self._kek.unwrap(authentication.wrapped)
        return Suite0Session(
            ring.meter_id,
            self.client_system_title,
            row.system_title,
            self._kek.unwrap(encryption.wrapped),
            ak,
            self._state(ring.meter_id, row),
            self._dirty,
            self._reserve,
        )

    def _load(self, meter_id: str) -> store.MeterRow:
        with self._engine.connect() as conn:
            row = store.load_meter(conn, meter_id)
        if row is None:
            raise FrameRejectedError(meter_id, FrameRejection.UNKNOWN_METER)
        return row

    def load(self, meter_id: str) -> store.MeterRow:
        return self._load(meter_id)

    def _state(self, meter_id: str, row: store.MeterRow) -> CounterState:
        with self._guard:
            state = self._counters.get(meter_id)
            if state is None:
                state = self._counters[meter_id] = CounterState(row.rx_counter, row.tx_reserved)
            else:
                # Another process may have flushed a higher counter since we cached ours.
                state.rx = max(state.rx, row.rx_counter)
            return state

    def _reserve(self, meter_id: str, state: CounterState) -> None:
        with self._engine.begin() as conn:
            limit = store.reserve_counters(conn, meter_id, self._block)
        state.tx_next = max(state.tx_next, limit - self._block)
        state.tx_limit = limit

    def flush(self) -> None:
        # list() of a set runs in C without releasing the GIL: a consistent snapshot even while
        # other threads' sessions keep adding to the set.
        dirty = list(self._dirty)
        self._dirty.difference_update(dirty)
        counters = [(m, self._counters[m].rx) for m in dirty]
        try:
            with self._engine.begin() as conn:
                store.save_rx_counters(conn, counters)
        except Exception:
            self._dirty.update(dirty)  # try again at the next flush
            raise
        log.debug("flushed invocation counters of %d meters", len(counters))

    # -- reporting ------------------------------------------------------------------------

    def meters_due(self, cutoff: datetime) -> list[str]:
        with self._engine.connect() as conn:
            return store.meters_due(conn, ROTATED, cutoff)

    def status(self) -> list[KeyStatusLine]:
        """Counts per meter type, key type and status; age of the oldest active key."""
        now = self._clock()
        with self._engine.connect() as conn:
            counts = store.status_counts(conn)
            oldest = store.oldest_active(conn)
        lines = []
        for meter_type, key_type, status, count in counts:
            since = oldest.get((meter_type, key_type)) if status is KeyStatus.ACTIVE else None
            age = None if since is None else (now - since).days
            lines.append(KeyStatusLine(meter_type, key_type, status, count, age))
        return lines

    # -- key changes ----------------------------------------------------------------------

    @contextmanager
    def locked(self, meter_id: str) -> Iterator[None]:
        """Hold the meter's key-change lock (a row with owner and expiry) for the block."""
        now = self._clock()
        until = now + timedelta(seconds=self._lock_seconds)
        try:
            with self._engine.begin() as conn:
                taken = store.try_lock(conn, meter_id, self.owner, now, until)
        except sa.exc.IntegrityError:
            taken = False  # another process inserted the lock row between our read and write
        if not taken:
            raise MeterKeysLockedError(f"meter {meter_id} keys are being changed elsewhere")
        try:
            yield
        finally:
            with self._engine.begin() as conn:
                store.unlock(conn, meter_id, self.owner)

    def store_new(self, ring: KeyRing, key_type: KeyType) -> tuple[KeyRing, KeyRecord]:
        key = secrets.token_bytes(KEY_BYTES)
        with self._engine.begin() as conn:
            record = store.insert_key(
                conn, ring.meter_id, key_type, KeyStatus.NEW, self._kek.wrap(key), self._clock()
            )
        return ring.with_record(record), record

    def activate(self, ring: KeyRing, key_types: Sequence[KeyType]) -> KeyRing:
        changes: list[KeyRecord] = []
        now = self._clock()
        for key_type in key_types:
            ring, changed = ring.activate(key_type, now)
            changes.extend(changed)
        with self._engine.begin() as conn:
            store.update_keys(conn, changes)
        log.info("meter %s: activated new %s key(s)", ring.meter_id, ", ".join(key_types))
        return ring

    def withdraw(self, ring: KeyRing, key_type: KeyType) -> KeyRing:
        ring, changes = ring.withdraw(key_type, self._clock())
        with self._engine.begin() as conn:
            store.update_keys(conn, changes)
        log.info("meter %s: withdrew the new %s key", ring.meter_id, key_type)
        return ring

    def transfer_wrapped(self, ring: KeyRing, record: KeyRecord) -> bytes:
        """``record``'s key wrapped under the meter's active master key, for transfer."""
        master = ring.active(KeyType.MASTER)
        if master is None:
            raise KeyLifecycleError(f"meter {ring.meter_id} has no active master key")
        return wrap_key(self._kek.unwrap(master.wrapped), self._kek.unwrap(record.wrapped))

    def settle(self, row: store.MeterRow, link: MeterKeyPort) -> KeyRing:
        """Recovery after an interrupted change: try NEW keys first, then ACTIVE ones, and
        activate whatever the meter proves it has. Leaves the ring alone if nothing works."""
        ring = row.ring
        pending = ring.pending_types()
        # Every mix of NEW and ACTIVE per pending type, most NEW keys first.
        options = sorted(
            (
                combo
                for r in range(len(pending), -1, -1)
                for combo in itertools.combinations(pending, r)
            ),
            key=len,
            reverse=True,
        )
        for combo in options:
            chosen = {k: rec for k in combo if (rec := ring.pending(k)) is not None}
            if any(k not in chosen and ring.active(k) is None for k in pending):
                continue
            if link.probe(ring.meter_id, self.session_with(row, chosen)):
                if combo:
                    ring = self.activate(ring, combo)
                    log.info("meter %s: recovered an interrupted key change", ring.meter_id)
                return ring
        log.warning("meter %s answers on neither its new nor its active keys", ring.meter_id)
        return ring


def _conforms(server: KeyService) -> CryptoServer:
    """Lets mypy prove that KeyService fulfils the published contract."""
    return server
