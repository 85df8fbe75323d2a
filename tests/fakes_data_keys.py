"""An in-memory, optionally file-backed data-key service for tests and the embedded default.

It stands in for the crypto-server until the real ``meterkast.keys`` data-key service is wired
in. Data keys are kept wrapped (AES key wrap, RFC 3394) under a master key; the key file is
rewritten with fsync + rename, so a destroyed key is gone from disk when ``destroy`` returns.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from meterkast.kernel.errors import ConflictError
from meterkast.keys.datakeys import DerivedKeyOperations, DerivedKeys
from meterkast.readings.ports import DataKeyUnavailableError


class FakeDataKeyService(DerivedKeyOperations):
    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._master = secrets.token_bytes(32)
        self._wrapped: dict[str, bytes] = {}
        self._destroyed: set[str] = set()
        self._derived: dict[str, DerivedKeys] = {}
        if path is not None and path.exists():
            stored = json.loads(path.read_text())
            self._master = bytes.fromhex(stored["master"])
            self._wrapped = {k: bytes.fromhex(v) for k, v in stored["keys"].items()}

    def __repr__(self) -> str:
        return f"FakeDataKeyService({len(self._wrapped)} data keys)"

    def create_data_key(self, key_id: str) -> None:
        with self._lock:
            if key_id in self._wrapped or key_id in self._destroyed:
                raise ConflictError(f"data key {key_id} exists or existed")
            self._wrapped[key_id] = aes_key_wrap(self._master, secrets.token_bytes(32))
            self._save()

    def has_data_key(self, key_id: str) -> bool:
        return key_id in self._wrapped

    def data_key_wrap(self, key_id: str, file_key: bytes) -> bytes:
        return aes_key_wrap(self._data_key(key_id), file_key)

    def data_key_unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        try:
            return aes_key_unwrap(self._data_key(key_id), wrapped)
        except InvalidUnwrap:
            raise DataKeyUnavailableError(key_id) from None

    def _derived_keys(self, key_id: str) -> DerivedKeys:
        derived = self._derived.get(key_id)
        if derived is None or key_id not in self._wrapped:
            derived = DerivedKeys(self._data_key(key_id))  # raises once the key is destroyed
            self._derived[key_id] = derived
        return derived

    def destroy_data_key(self, key_id: str) -> None:
        with self._lock:
            self._derived.pop(key_id, None)
            if self._wrapped.pop(key_id, None) is not None:
                self._destroyed.add(key_id)
                self._save()

    def _data_key(self, key_id: str) -> bytes:
        wrapped = self._wrapped.get(key_id)
        if wrapped is None:
            raise DataKeyUnavailableError(key_id)
        return aes_key_unwrap(self._master, wrapped)

    def _save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = {
            "master": self._master.hex(),
            "keys": {k: v.hex() for k, v in sorted(self._wrapped.items())},
        }
        tmp = self._path.with_name(self._path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(self._path)
