"""Data keys of the readings store (one per month), destroyed when the month is purged.

The Parquet writer's KMS client wraps each file's data-encryption key under one of these.
The readings store's serving units are sealed (AES-GCM) and placed in buckets (an AES-based
PRF; keyed BLAKE2b tags for older callers) with keys derived from the same data key, inside
this package. Destroying a data key removes its wrapped
copy from the database (SQLite: secure_delete) and, with its derived keys, from this process's
cache, so nothing encrypted or tagged under it can be read or recomputed again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Engine

from meterkast.dlms.keywrap import unwrap_key, wrap_key
from meterkast.kernel.clock import Clock
from meterkast.kernel.errors import ConflictError, InvalidValueError, NotFoundError
from meterkast.keys import _aes
from meterkast.keys.adapters import store
from meterkast.keys.api import DataKeyService, KeyEncryptionProvider, SealedDataRejectedError

log = logging.getLogger(__name__)
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


NONCE_BYTES = 12
TAG_BYTES = 16
_SEAL_INFO = b"meterkast data-key seal v1"
_TAG_INFO = b"meterkast data-key tag v1"
_PRF_INFO = b"meterkast data-key prf v1"
PRF_BLOCK = 16


class DataKeyDestroyedError(ConflictError):
    code = "data-key-destroyed"


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(key)


class DerivedKeys:
    """The sealing and tagging keys derived from one data key (held in memory only)."""

    __slots__ = ("_aead", "_aead_key", "_prf", "_prf_key", "_prf_lock", "_reader", "_tagger")

    def __init__(self, data_key: bytes) -> None:
        # The raw derived keys too: reads across month keys pass them to the compiled kernel
        # (``_aes``), one call for every month instead of one binding call per month.
        self._aead_key = _derive(data_key, _SEAL_INFO)
        self._aead = AESGCM(self._aead_key)
        # AES-256 on single blocks is a PRF; ECB over a batch of blocks evaluates it for many
        # messages in one OpenSSL call (0.1 us per message instead of a Python loop). It is
        # never used to encrypt data. The encryptor holds no state between blocks: kept, and
        # used under a lock.
        self._prf_key = _derive(data_key, _PRF_INFO)
        self._reader = _aes.ReadKeys(self._prf_key, self._aead_key)
        prf_key = algorithms.AES(self._prf_key)
        self._prf = Cipher(prf_key, modes.ECB()).encryptor()  # noqa: S305  # a PRF, see above
        self._prf_lock = threading.Lock()
        # Keyed BLAKE2b is a MAC by design (RFC 7693) and five times cheaper per short
        # message than HMAC-SHA256 here; a tag is computed for every connection at intake.
        self._tagger = hashlib.blake2b(key=_derive(data_key, _TAG_INFO), digest_size=TAG_BYTES)

    def __repr__(self) -> str:
        return "DerivedKeys()"

    def seal(self, plaintexts: Sequence[bytes], associated: Sequence[bytes]) -> list[bytes]:
        if len(plaintexts) != len(associated):
            raise InvalidValueError("one associated data item per plaintext")
        aead, nonces = self._aead, secrets.token_bytes(NONCE_BYTES * len(plaintexts))
        out = []
        for i, (data, aad) in enumerate(zip(plaintexts, associated, strict=True)):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            out.append(nonce + aead.encrypt(nonce, data, aad))
        return out

    def open(self, sealed: Sequence[bytes], associated: Sequence[bytes]) -> list[bytes]:
        if len(sealed) != len(associated):
            raise InvalidValueError("one associated data item per sealed item")
        aead = self._aead
        try:
            return [
                aead.decrypt(item[:NONCE_BYTES], item[NONCE_BYTES:], aad)
                for item, aad in zip(sealed, associated, strict=True)
            ]
        except InvalidTag:
            raise SealedDataRejectedError() from None

    def prf(self, messages: Sequence[bytes]) -> list[int]:
        """A 62-bit pseudo-random number per message (messages of one length, at most 16
        bytes: zero padding is then unambiguous)."""
        if not messages:
            return []
        size = len(messages[0])
        if size > PRF_BLOCK or (len(messages) > 1 and set(map(len, messages)) != {size}):
            raise InvalidValueError("PRF messages must share one length of at most 16 bytes")
        pad = bytes(PRF_BLOCK - size)
        blocks = pad.join(messages) + pad
        with self._prf_lock:
            out = self._prf.update(blocks)
        # The first 8 bytes of each block, as a non-negative number SQLite stores as it is.
        if len(messages) < 32:  # a read: one message per month, numpy would cost more
            return [int.from_bytes(out[i : i + 8], "little") >> 2 for i in range(0, len(out), 16)]
        words: list[int] = (np.frombuffer(out, dtype="<u8")[::2] >> np.uint64(2)).tolist()
        return words

    def reader(self) -> _aes.ReadKeys:
        """Both keys as the compiled read path's opaque object (see ``DataKeyService``)."""
        return self._reader

    def prf_one(self, message: bytes) -> int:
        """:meth:`prf` of a single message (a read: one per month key), without the batch's
        list handling."""
        if len(message) > PRF_BLOCK:
            raise InvalidValueError("PRF messages must share one length of at most 16 bytes")
        with self._prf_lock:
            out = self._prf.update(message + bytes(PRF_BLOCK - len(message)))
        return int.from_bytes(out[:8], "little") >> 2

    def tags(self, messages: Sequence[bytes]) -> list[bytes]:
        tagger, out = self._tagger, []
        for message in messages:
            one = tagger.copy()
            one.update(message)
            out.append(one.digest())
        return out


T = TypeVar("T")


def by_key(
    derived: Callable[[str], DerivedKeys],
    key_ids: Sequence[str],
    items: Sequence[Sequence[bytes]],
    operation: Callable[..., list[T]],
) -> list[T]:
    """Apply ``operation`` (a :class:`DerivedKeys` batch method) per key: all items in one
    batch when they share one key id (an intake: 100,000 items), otherwise item by item (a
    read across 24 months: one item per month key)."""
    n = len(key_ids)
    for column in items:
        if len(column) != n:
            raise InvalidValueError("one key id per item")
    if n == 0:
        return []
    if key_ids.count(key_ids[0]) == n:  # the usual intake: one key (counted in C)
        return operation(derived(key_ids[0]), *items)
    out: list[T] = []
    for i, key_id in enumerate(key_ids):  # a read across months: one item per key
        out += operation(derived(key_id), *[column[i : i + 1] for column in items])
    return out


def _one_each(key_ids: Sequence[str], *columns: Sequence[bytes]) -> bool:
    """Whether a batch is small and spans several keys (a read across months), where going
    item by item directly is cheaper than grouping; the lengths are checked here too."""
    n = len(key_ids)
    if any(len(column) != n for column in columns):
        raise InvalidValueError("one key id per item")
    return 1 < n <= 256 and key_ids[0] != key_ids[-1]


class DerivedKeyOperations(ABC):
    """The data-key operations that need only a key's derived keys, in one place for every
    service that derives them the same way (:class:`DataKeys` and the tests' in-memory one),
    so they all batch, and take the compiled path across month keys, alike."""

    @abstractmethod
    def _derived_keys(self, key_id: str) -> DerivedKeys:
        """The derived keys of ``key_id``; raises once the key is destroyed."""

    def data_key_seal(
        self, key_id: str, plaintexts: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        return self._derived_keys(key_id).seal(plaintexts, associated)

    def data_key_open(
        self, key_id: str, sealed: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        return self._derived_keys(key_id).open(sealed, associated)

    def data_key_tags(self, key_id: str, messages: Sequence[bytes]) -> list[bytes]:
        return self._derived_keys(key_id).tags(messages)

    def data_key_prf_each(self, key_ids: Sequence[str], messages: Sequence[bytes]) -> list[int]:
        if _one_each(key_ids, messages):  # a read across months: one message per month key
            derived = self._derived_keys
            if len(messages[0]) > PRF_BLOCK:
                raise InvalidValueError("PRF messages must share one length of at most 16 bytes")
            if messages.count(messages[0]) == len(messages):  # one EAN: one compiled call
                return _aes.prf_each([derived(k)._prf_key for k in key_ids], messages[0])
            return [derived(k).prf_one(m) for k, m in zip(key_ids, messages, strict=True)]
        return by_key(self._derived_keys, key_ids, [messages], DerivedKeys.prf)

    def data_key_seal_each(
        self, key_ids: Sequence[str], plaintexts: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        return by_key(self._derived_keys, key_ids, [plaintexts, associated], DerivedKeys.seal)

    def data_key_open_each(
        self, key_ids: Sequence[str], sealed: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        if _one_each(key_ids, sealed, associated):  # a read: a few units per month key
            derived = self._derived_keys
            try:
                return _aes.open_each([derived(k)._aead_key for k in key_ids], sealed, associated)
            except _aes.RejectedError:
                raise SealedDataRejectedError() from None
        return by_key(self._derived_keys, key_ids, [sealed, associated], DerivedKeys.open)

    def data_key_reader(self, key_id: str) -> _aes.ReadKeys | None:
        return self._derived_keys(key_id).reader()


class DataKeys(DerivedKeyOperations):
    """Implements :class:`meterkast.keys.api.DataKeyService`."""

    def __init__(self, engine: Engine, kek: KeyEncryptionProvider, clock: Clock) -> None:
        self._engine = engine
        self._kek = kek
        self._clock = clock
        self._cache: dict[str, bytes] = {}
        self._derived: dict[str, DerivedKeys] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "DataKeys()"

    def create_data_key(self, key_id: str) -> None:
        if not _KEY_ID.match(key_id):
            raise InvalidValueError("a data key id is 1-128 letters, digits or . _ : -")
        wrapped = self._kek.wrap(secrets.token_bytes(32))
        try:
            with self._engine.begin() as conn:
                store.insert_data_key(conn, key_id, wrapped, self._clock())
        except sa.exc.IntegrityError:
            raise ConflictError(f"data key {key_id} exists or existed") from None
        log.info("created data key %s", key_id)

    def _key(self, key_id: str) -> bytes:
        with self._lock:
            cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        with self._engine.connect() as conn:
            exists, wrapped = store.data_key(conn, key_id)
        if not exists:
            raise NotFoundError(f"no data key {key_id}")
        if wrapped is None:
            raise DataKeyDestroyedError(f"data key {key_id} was destroyed")
        key = self._kek.unwrap(wrapped)
        with self._lock:
            self._cache[key_id] = key
        return key

    def has_data_key(self, key_id: str) -> bool:
        with self._engine.connect() as conn:
            exists, wrapped = store.data_key(conn, key_id)
        return exists and wrapped is not None

    def data_key_wrap(self, key_id: str, plaintext_dek: bytes) -> bytes:
        return wrap_key(self._key(key_id), plaintext_dek)

    def data_key_unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        # The single sanctioned exit of a plaintext key: the Parquet KMS client (see api.py).
        return unwrap_key(self._key(key_id), wrapped)

    def _derived_keys(self, key_id: str) -> DerivedKeys:
        derived = self._derived.get(key_id)  # one dict read: atomic, no lock needed
        if derived is None:
            derived = DerivedKeys(self._key(key_id))
            with self._lock:
                self._derived[key_id] = derived
        return derived

    def destroy_data_key(self, key_id: str) -> None:
        with self._lock:
            self._cache.pop(key_id, None)
            self._derived.pop(key_id, None)
        with self._engine.begin() as conn:
            destroyed = store.destroy_data_key(conn, key_id, self._clock())
        if not destroyed:
            with self._engine.connect() as conn:
                exists, _ = store.data_key(conn, key_id)
            if not exists:
                raise NotFoundError(f"no data key {key_id}")
            raise DataKeyDestroyedError(f"data key {key_id} was already destroyed")
        log.info("destroyed data key %s", key_id)


def _conforms(service: DataKeys) -> DataKeyService:
    """Lets mypy prove that DataKeys fulfils the published contract."""
    return service
