"""Data keys of the readings store (one per month), destroyed when the month is purged.

The Parquet writer's KMS client wraps each file's data-encryption key under one of these.
Destroying a data key removes its wrapped copy from the database (SQLite: secure_delete) and
from this process's cache, so no file encrypted under it can be read again.
"""

from __future__ import annotations

import logging
import re
import secrets
import threading

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.dlms.keywrap import unwrap_key, wrap_key
from meterkast.kernel.clock import Clock
from meterkast.kernel.errors import ConflictError, InvalidValueError, NotFoundError
from meterkast.keys.adapters import store
from meterkast.keys.api import DataKeyService, KeyEncryptionProvider

log = logging.getLogger(__name__)
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


class DataKeyDestroyedError(ConflictError):
    code = "data-key-destroyed"


class DataKeys:
    """Implements :class:`meterkast.keys.api.DataKeyService`."""

    def __init__(self, engine: Engine, kek: KeyEncryptionProvider, clock: Clock) -> None:
        self._engine = engine
        self._kek = kek
        self._clock = clock
        self._cache: dict[str, bytes] = {}
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

    def destroy_data_key(self, key_id: str) -> None:
        with self._lock:
            self._cache.pop(key_id, None)
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
