"""Sealing meter state at rest with each simulated device's own storage key.

A real meter keeps its memory in its own secure element; here each meter's storage key is
derived (HKDF-SHA256) from a fleet root secret in ``$METERKAST_HOME/fleet/device-root.key``,
created on first use and readable by the owner only. The head-end never sees it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from meterkast.kernel.errors import DomainError

NONCE_SIZE = 12


class DeviceStorageError(DomainError):
    """A meter's stored state could not be opened (wrong root secret or tampered)."""

    code = "device-storage"


class DeviceStorage:
    def __init__(self, root_secret: bytes) -> None:
        if len(root_secret) != 32:
            raise DeviceStorageError("the fleet root secret must be 32 bytes")
        self._root = root_secret

    def __repr__(self) -> str:
        return "DeviceStorage(<secret>)"

    @classmethod
    def in_folder(cls, folder: Path) -> DeviceStorage:
        """Use (or create) ``folder/device-root.key``."""
        path = folder / "device-root.key"
        if not path.exists():
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(os.urandom(32))
        return cls(path.read_bytes())

    def _aead(self, serial: str) -> AESGCM:
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=16,
            salt=None,
            info=b"meterkast/fleet/device-storage/" + serial.encode(),
        )
        return AESGCM(hkdf.derive(self._root))

    def seal(self, serial: str, state: bytes) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead(serial).encrypt(nonce, state, serial.encode())

    def open(self, serial: str, sealed: bytes) -> bytes:
        try:
            return self._aead(serial).decrypt(
                sealed[:NONCE_SIZE], sealed[NONCE_SIZE:], serial.encode()
            )
        except (InvalidTag, ValueError):
            raise DeviceStorageError(f"stored state of meter {serial} does not open") from None
