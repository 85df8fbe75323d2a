"""The master key (KEK) from the environment or from a private file in the instance folder."""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import secrets
import stat
from pathlib import Path

from meterkast.dlms.keywrap import unwrap_key, wrap_key
from meterkast.keys.api import KeyEncryptionProvider
from meterkast.keys.domain import MasterKeyError
from meterkast.settings import KeySettings

MASTER_KEY_BYTES = 32  # AES-256 key wrap


class LocalKeyEncryptionProvider:
    """RFC 3394 wrap and unwrap under a master key held in this process only."""

    __slots__ = ("_kek", "source")

    def __init__(self, kek: bytes, source: str) -> None:
        if len(kek) not in (16, 32):
            raise MasterKeyError("the master key must be 16 or 32 bytes")
        self._kek = bytes(kek)
        self.source = source  # "environment" or the file path: for messages, never the key

    def __repr__(self) -> str:
        return f"LocalKeyEncryptionProvider(source={self.source})"

    def wrap(self, key: bytes) -> bytes:
        return wrap_key(self._kek, key)

    def unwrap(self, wrapped: bytes) -> bytes:
        return unwrap_key(self._kek, wrapped)


def parse_master_key(text: str) -> bytes:
    """Hex (32/64 digits) or base64 of 16 or 32 bytes."""
    text = text.strip()
    candidates: list[bytes] = []
    if len(text) in (32, 64):
        with contextlib.suppress(ValueError):
            candidates.append(bytes.fromhex(text))
    with contextlib.suppress(binascii.Error, ValueError):
        candidates.append(base64.b64decode(text, validate=True))
    for key in candidates:
        if len(key) in (16, 32):
            return key
    raise MasterKeyError("METERKAST_MASTER_KEY is not 16 or 32 bytes in hex or base64")


def master_key_path(home: Path) -> Path:
    return home / "keys" / "master.key"


def read_or_create_master_key(path: Path) -> bytes:
    """Read the key file, creating it (0600, folder 0700) if absent; refuse a readable one."""
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not both write a different key.
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(secrets.token_bytes(MASTER_KEY_BYTES))
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise MasterKeyError(
            f"{path} is accessible to group or others (mode {stat.filemode(mode)}); "
            "run chmod 600 on it"
        )
    key = path.read_bytes()
    if len(key) not in (16, 32):
        raise MasterKeyError(f"{path} does not hold a 16 or 32 byte key")
    return key


def load_provider(settings: KeySettings, home: Path) -> LocalKeyEncryptionProvider:
    if settings.master_key is not None:
        return LocalKeyEncryptionProvider(
            parse_master_key(settings.master_key.get_secret_value()), "environment"
        )
    path = master_key_path(home)
    return LocalKeyEncryptionProvider(read_or_create_master_key(path), str(path))


def _conforms(provider: LocalKeyEncryptionProvider) -> KeyEncryptionProvider:
    """Lets mypy prove that the local provider fulfils the published contract."""
    return provider
