"""The instance's own secrets: audit signing, pseudonymisation and token signing keys.

Each key is 32 random bytes in a file under ``$METERKAST_HOME/keys/``, readable by this user only.
A missing file is generated on first use; a file that group or others may read is refused, since
a copied key would let anyone forge checkpoints and tokens or reverse pseudonyms by trial. Nothing
here prints, logs or raises with key bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import stat
from functools import cached_property
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from meterkast.kernel.errors import DomainError

KEY_BYTES = 32
AUDIT_SIGNING = "audit-signing.ed25519"
PSEUDONYM = "pseudonym.hmac"
TOKEN_SIGNING = "token-signing.ed25519"  # noqa: S105 - a file name, not a secret


class InstanceKeyError(DomainError):
    """A key file that cannot be used safely (readable by others, wrong size, unreadable)."""

    code = "instance-key"


class Secret:
    """Key bytes that never show in a repr, a log line or an f-string."""

    __slots__ = ("_value",)

    def __init__(self, value: bytes) -> None:
        self._value = value

    def reveal(self) -> bytes:
        return self._value

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__


def key_id(public: Ed25519PublicKey) -> str:
    """A short public fingerprint naming which key signed something."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class InstanceKeys:
    """Loads (or on first use creates) the instance keys in one private folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __repr__(self) -> str:
        return f"InstanceKeys({str(self.folder)!r})"

    @cached_property
    def audit_signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._load(AUDIT_SIGNING).reveal())

    @cached_property
    def audit_mac_key(self) -> Secret:
        """Seals every audit entry; derived from the signing key so one file guards the log."""
        seed = self._load(AUDIT_SIGNING).reveal()
        hkdf = HKDF(
            algorithm=SHA256(), length=KEY_BYTES, salt=None, info=b"meterkast/audit/entry-seal/v1"
        )
        return Secret(hkdf.derive(seed))

    @cached_property
    def pseudonym_key(self) -> Secret:
        return self._load(PSEUDONYM)

    @cached_property
    def token_signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self._load(TOKEN_SIGNING).reveal())

    def _load(self, name: str) -> Secret:
        path = self.folder / name
        if not path.exists():
            self._create(path)
        try:
            info = path.stat()
            if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise InstanceKeyError(
                    f"key file {path} is accessible to group or others; chmod 600 it"
                )
            data = path.read_bytes()
        except OSError as error:
            raise InstanceKeyError(f"key file {path} cannot be read ({error.strerror})") from None
        if len(data) != KEY_BYTES:
            raise InstanceKeyError(f"key file {path} has the wrong size for a {KEY_BYTES}-byte key")
        return Secret(data)

    def _create(self, path: Path) -> None:
        """Write a fresh key atomically: two processes starting at once agree on one key."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        temp = self.folder / f".{path.name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileExistsError):  # another process created it first
                os.link(temp, path)
        finally:
            temp.unlink(missing_ok=True)
