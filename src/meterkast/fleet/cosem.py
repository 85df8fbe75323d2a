"""The meters' side of the link ciphers with the `dlms-cosem` package, not with our `dlms`.

The head-end verifies frames with ``meterkast.dlms`` (one ``AESGCM`` per key, fast); the
simulated meters seal and open them with dlms-cosem's suite-0 functions and unwrap transferred
keys with its key unwrap. Two independent implementations on the two ends of the link mean that
every exchange in every test, demo and benchmark is an interoperability check as well.

dlms-cosem builds a cipher per frame, which is slower; the meters' work is not the head-end's
and is not timed. Framing (the general-glo-ciphering APDU with A-XDR lengths) stays ours:
dlms-cosem's ``GeneralGlobalCipher.to_bytes`` writes a one-byte length, wrong above 127 bytes.
The gas meter's channel carries no authentication key, which dlms-cosem's functions require,
so it uses ``meterkast.dlms.Suite0Cipher``. Transferred keys are unwrapped with
``meterkast.dlms.unwrap_key``: dlms-cosem's ``unwrap_key`` (version 24/25) checks the wrapped
key's length as if it were a plain suite-0 key and so refuses every 24-byte wrapped key.
"""

from __future__ import annotations

from typing import Protocol

from dlms_cosem import security

from meterkast.dlms import (
    AUTHENTICATED_ENCRYPTED,
    DlmsError,
    MalformedApduError,
    TagMismatchError,
    encode_general_glo,
)

_SUITE0 = 0
_HEADER = 5  # security control byte + 4-byte invocation counter
_TAG = 12


class MeterCipher(Protocol):
    def open(self, system_title: bytes, content: bytes) -> tuple[int, int, bytes]: ...

    def seal_general_glo(
        self, system_title: bytes, invocation_counter: int, plaintext: bytes
    ) -> bytes: ...


class CosemCipher:
    """Suite-0 authenticated encryption (SC 0x30) through ``dlms_cosem.security``."""

    __slots__ = ("_ak", "_ek")

    def __init__(self, encryption_key: bytes, authentication_key: bytes) -> None:
        if len(encryption_key) != 16 or len(authentication_key) != 16:
            raise DlmsError("suite 0 keys are 128 bits")
        self._ek = bytes(encryption_key)
        self._ak = bytes(authentication_key)

    def __repr__(self) -> str:
        return "CosemCipher(keys hidden)"

    def open(self, system_title: bytes, content: bytes) -> tuple[int, int, bytes]:
        if len(content) < _HEADER + _TAG:
            raise MalformedApduError("ciphered content shorter than its header and tag")
        if content[0] != AUTHENTICATED_ENCRYPTED:
            raise TagMismatchError("only authenticated encryption is accepted")
        control = security.SecurityControlField.from_bytes(content[:1])
        counter = int.from_bytes(content[1:_HEADER], "big")
        try:
            plaintext = security.decrypt(
                control, system_title, counter, self._ek, content[_HEADER:], self._ak
            )
        except security.DecryptionError:
            raise TagMismatchError("authentication tag does not verify") from None
        except ValueError as error:  # a system title that is not 8 bytes, and the like
            raise MalformedApduError(str(error)) from None
        return content[0], counter, bytes(plaintext)

    def seal_general_glo(
        self, system_title: bytes, invocation_counter: int, plaintext: bytes
    ) -> bytes:
        control = security.SecurityControlField(_SUITE0, authenticated=True, encrypted=True)
        sealed = security.encrypt(
            control, system_title, invocation_counter, self._ek, plaintext, self._ak
        )
        header = bytes((AUTHENTICATED_ENCRYPTED,)) + invocation_counter.to_bytes(4, "big")
        return encode_general_glo(system_title, header + sealed)
