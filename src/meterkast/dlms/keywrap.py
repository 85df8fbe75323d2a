"""RFC 3394 AES key wrap, as DLMS uses it for key transfer and we use it for storage."""

from __future__ import annotations

from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from meterkast.dlms.errors import DlmsError

_KEK_SIZES = (16, 24, 32)


def wrap_key(kek: bytes, key: bytes) -> bytes:
    if len(kek) not in _KEK_SIZES or len(key) < 16 or len(key) % 8:
        raise DlmsError("key wrap needs a 128/192/256-bit KEK and a key of 16+ bytes, 8-aligned")
    return aes_key_wrap(kek, key)


def unwrap_key(kek: bytes, wrapped: bytes) -> bytes:
    if len(kek) not in _KEK_SIZES or len(wrapped) < 24 or len(wrapped) % 8:
        raise DlmsError("malformed wrapped key")
    try:
        return aes_key_unwrap(kek, wrapped)
    except InvalidUnwrap:
        raise DlmsError("key unwrap failed: wrong key-encryption key or altered data") from None
