"""The crypto-server's public contract, as the head-end, the fleet and the readings store use it.

Only the ``keys`` package implements these; callers depend on this module alone, so a PKCS#11 HSM
or a vault transit engine can stand behind it. Nothing here ever returns a plaintext key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from meterkast.kernel.codes import FrameRejection, KeyType, MeterType
from meterkast.kernel.errors import DomainError
from meterkast.keys._aes import ReadKeys as ReadKeys  # re-exported: the port's type


class FrameRejectedError(DomainError):
    """A secured frame failed verification; nothing from it may be used."""

    code = "frame-rejected"

    def __init__(self, meter_id: str, reason: FrameRejection) -> None:
        super().__init__(f"frame from meter {meter_id} rejected: {reason.value}")
        self.meter_id = meter_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A key wrapped (RFC 3394) under another key; safe to store or transfer."""

    key_type: KeyType
    wrapped: bytes

    def __repr__(self) -> str:
        return f"WrappedKey({self.key_type.value}, {len(self.wrapped)} bytes)"


class MeterSession(Protocol):
    """A head-end session with one meter, using keys that stay inside the crypto-server."""

    meter_id: str
    client_system_title: bytes

    def protect(self, plaintext_apdu: bytes) -> bytes:
        """Cipher a request for the meter (general-glo-ciphering, suite 0, own counter)."""
        ...

    def unprotect(self, frame: bytes) -> bytes:
        """Verify and decrypt a meter's response; raise FrameRejectedError on any failure."""
        ...


class CryptoServer(Protocol):
    def provision(
        self, meter_id: str, meter_type: MeterType, system_title: bytes, transport_kek: bytes
    ) -> list[WrappedKey]:
        """Create a meter's key set; return it wrapped under the factory transport key."""
        ...

    def session(self, meter_id: str) -> MeterSession:
        """A session on the meter's active keys (raises ``FrameRejectedError`` UNKNOWN_METER).

        Invocation counters are per meter and carry on across key changes; the last counter
        seen from each meter is kept in memory and written by :meth:`flush`.
        """
        ...

    def sessions(self, meter_ids: Sequence[str]) -> Mapping[str, MeterSession]:
        """Sessions for many meters, read in batches; unknown meters are left out."""
        ...

    def flush(self) -> None:
        """Persist the invocation counters seen since the last flush (one batch)."""
        ...


class KeyEncryptionProvider(Protocol):
    """The master key (KEK) that wraps every stored key: a file, an HSM, a vault engine."""

    def wrap(self, key: bytes) -> bytes:
        """RFC 3394-wrap ``key`` under the master key."""
        ...

    def unwrap(self, wrapped: bytes) -> bytes:
        """Unwrap; only the ``keys`` package calls this and keeps the result to itself."""
        ...


class MeterKeyPort(Protocol):
    """The link to meters a key change needs; the fleet (or a real head-end) implements it.

    Meters keep their invocation counters across key changes; a transferred key is wrapped
    (RFC 3394) under the meter's current master key, which only the meter can unwrap.
    """

    def transfer_key(self, meter_id: str, key_type: KeyType, wrapped: bytes) -> None:
        """Deliver a new key to the meter (like DLMS global_key_transfer); raise on failure."""
        ...

    def probe(self, meter_id: str, session: MeterSession) -> bool:
        """Do one secured exchange through ``session``; True when the meter answered and the
        answer verified (``session.unprotect`` succeeded), False otherwise."""
        ...


class DataKeyService(Protocol):
    """Data keys of the readings store: one per month of readings, destroyed at retention.

    The Parquet writer (PyArrow's modular encryption) makes its own data-encryption keys and
    asks a KMS client to wrap them; these methods are that KMS. ``data_key_unwrap`` is the one
    place in meterkast where a plaintext key leaves the ``keys`` package, and only the
    Parquet KMS client may call it: PyArrow must hold the key to decrypt a file.
    """

    def create_data_key(self, key_id: str) -> None:
        """Create the key ``key_id`` (refused if it exists or was ever destroyed)."""
        ...

    def has_data_key(self, key_id: str) -> bool:
        """True while ``key_id`` exists and has not been destroyed."""
        ...

    def data_key_wrap(self, key_id: str, plaintext_dek: bytes) -> bytes:
        """Wrap a file's data-encryption key under the data key ``key_id``."""
        ...

    def data_key_unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """Unwrap a file's data-encryption key (Parquet KMS client only, see above)."""
        ...

    def destroy_data_key(self, key_id: str) -> None:
        """Destroy ``key_id`` for good: nothing wrapped or sealed under it opens again."""
        ...

    # Sealing with a data key (the readings store's serving blobs). The key never leaves the
    # service: it derives a sealing key and a tagging key from the data key (HKDF-SHA256),
    # keeps both in memory only, and forgets them when the data key is destroyed. Each call
    # takes a batch, so the per-call cost is paid once per batch, not once per item.

    def data_key_seal(
        self, key_id: str, plaintexts: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        """AES-256-GCM under a key derived from ``key_id``: ``nonce || ciphertext || tag``
        per item, bound to its ``associated`` data (random 96-bit nonces)."""
        ...

    def data_key_open(
        self, key_id: str, sealed: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        """Open what :meth:`data_key_seal` sealed; raise ``SealedDataRejectedError`` when an
        item or its associated data was altered."""
        ...

    def data_key_tags(self, key_id: str, messages: Sequence[bytes]) -> list[bytes]:
        """A keyed 16-byte tag (keyed BLAKE2b, RFC 7693) of each message under a key derived
        from ``key_id``: an index key that says nothing without the data key."""
        ...

    # The same operations with one key id per item, for callers that work across many items
    # and several keys at once (the serving layout: 100,000 connections of one month at
    # intake, one connection in 24 months on a read). Items that share a key id are handled
    # as one batch under one derived key, in order.

    def data_key_prf_each(self, key_ids: Sequence[str], messages: Sequence[bytes]) -> list[int]:
        """A 62-bit pseudo-random number per message under a key derived from its ``key_ids``
        entry (AES-256 on one block). Messages of one batch share one length of at most 16
        bytes. Without the data key the numbers cannot be computed or linked across keys."""
        ...

    def data_key_seal_each(
        self, key_ids: Sequence[str], plaintexts: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        """:meth:`data_key_seal`, each item under its own entry of ``key_ids``."""
        ...

    def data_key_open_each(
        self, key_ids: Sequence[str], sealed: Sequence[bytes], associated: Sequence[bytes]
    ) -> list[bytes]:
        """:meth:`data_key_open`, each item under its own entry of ``key_ids``."""
        ...

    def data_key_reader(self, key_id: str) -> ReadKeys | None:
        """The PRF and sealing keys derived from ``key_id`` as an opaque object for the
        compiled serving read (``meterkast.readings._units``), which evaluates the PRF and
        opens units with it without the key bytes reaching Python code; the object holds
        copies of the derived keys, so a caller drops it when the month is purged. None from
        a service whose keys cannot leave it (an HSM): callers then use the ``_each``
        methods."""
        ...


class SealedDataRejectedError(DomainError):
    """Sealed data (or its associated data) failed authentication: altered or misplaced."""

    code = "sealed-data-rejected"

    def __init__(
        self,
        message: str = "sealed data failed authentication (altered, or not sealed for this place)",
    ) -> None:
        super().__init__(message)
