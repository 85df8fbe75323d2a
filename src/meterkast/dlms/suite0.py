"""Security suite 0: AES-GCM-128, IV = system title ‖ invocation counter, 12-byte tag.

The ciphered content of a secured APDU is ``SC ‖ IC ‖ body ‖ tag`` where the security control
byte SC says what is applied: 0x10 authentication only (body is the plaintext, AAD is
``SC ‖ AK ‖ plaintext``), 0x20 encryption only (no tag), 0x30 both (AAD is ``SC ‖ AK``).

Why encrypt twice to decrypt: ``AESGCM.decrypt`` only accepts a full 16-byte tag, while DLMS
truncates it to 12. Building a ``Cipher`` per frame would allow a short tag but runs at a third
of the speed, so we keep one ``AESGCM`` per key: encrypting the ciphertext with the same IV
yields the plaintext (GCM's keystream is a plain XOR), and encrypting that plaintext again
recomputes the tag, which we compare in constant time before releasing anything.
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from meterkast.dlms.apdu import GeneralGloCiphering, decode_general_glo, encode_general_glo
from meterkast.dlms.errors import DlmsError, MalformedApduError, TagMismatchError

AUTHENTICATED = 0x10
ENCRYPTED = 0x20
AUTHENTICATED_ENCRYPTED = 0x30
TAG_LENGTH = 12
SYSTEM_TITLE_LENGTH = 8
_MAX_COUNTER = 0xFFFF_FFFF
_HEADER = 5  # SC + 4-byte invocation counter
_SUITE0_CONTROLS = (AUTHENTICATED, ENCRYPTED, AUTHENTICATED_ENCRYPTED)


def _iv(system_title: bytes, invocation_counter: int) -> bytes:
    if len(system_title) != SYSTEM_TITLE_LENGTH:
        raise DlmsError("a system title is 8 bytes")
    if not 0 <= invocation_counter <= _MAX_COUNTER:
        raise DlmsError("invocation counter outside 0..2^32-1")
    return system_title + invocation_counter.to_bytes(4, "big")


class Suite0Cipher:
    """Ciphering with one meter's unicast encryption key (EK) and authentication key (AK).

    Gas meters have no AK: pass none and the AAD is the security control byte alone.
    The keys stay private; ``repr`` shows none of them.
    """

    __slots__ = ("_ak", "_gcm")

    def __init__(self, encryption_key: bytes, authentication_key: bytes = b"") -> None:
        if len(encryption_key) != 16 or len(authentication_key) not in (0, 16):
            raise DlmsError("suite 0 keys are 128 bits")
        self._gcm = AESGCM(encryption_key)
        self._ak = bytes(authentication_key)

    def __repr__(self) -> str:
        return "Suite0Cipher(keys hidden)"

    def seal(
        self, security_control: int, system_title: bytes, invocation_counter: int, plaintext: bytes
    ) -> bytes:
        """Cipher ``plaintext``; return the ciphered content ``SC ‖ IC ‖ body ‖ tag``."""
        if security_control not in _SUITE0_CONTROLS:
            raise DlmsError("unsupported security control byte")
        iv = _iv(system_title, invocation_counter)
        header = bytes((security_control,)) + iv[SYSTEM_TITLE_LENGTH:]
        if security_control == AUTHENTICATED:
            aad = header[:1] + self._ak + plaintext
            return header + plaintext + self._gcm.encrypt(iv, b"", aad)[:TAG_LENGTH]
        if security_control == ENCRYPTED:
            return header + self._gcm.encrypt(iv, plaintext, None)[:-16]
        sealed = self._gcm.encrypt(iv, plaintext, header[:1] + self._ak)
        return header + sealed[:-16] + sealed[-16 : -16 + TAG_LENGTH]

    def open(
        self, system_title: bytes, content: bytes, *, allow_unauthenticated: bool = False
    ) -> tuple[int, int, bytes]:
        """Verify and decipher ``SC ‖ IC ‖ body ‖ tag``; return (SC, IC, plaintext).

        Encryption-only content (0x20) carries no tag, so one flipped SC bit would turn a
        protected frame into an unverifiable one: it is refused unless explicitly allowed.
        """
        if len(content) < _HEADER:
            raise MalformedApduError("ciphered content shorter than its header")
        security_control = content[0]
        if security_control not in _SUITE0_CONTROLS:
            raise MalformedApduError("unsupported security control byte")
        invocation_counter = int.from_bytes(content[1:_HEADER], "big")
        iv = _iv(system_title, invocation_counter)
        if security_control == ENCRYPTED:
            if not allow_unauthenticated:
                raise MalformedApduError("encryption-only content is not accepted here")
            return (
                security_control,
                invocation_counter,
                self._gcm.encrypt(iv, content[5:], None)[:-16],
            )
        if len(content) < _HEADER + TAG_LENGTH:
            raise MalformedApduError("ciphered content shorter than its tag")
        body, tag = content[_HEADER:-TAG_LENGTH], content[-TAG_LENGTH:]
        if security_control == AUTHENTICATED:
            expected = self._gcm.encrypt(iv, b"", content[:1] + self._ak + body)[:TAG_LENGTH]
            if not hmac.compare_digest(expected, tag):
                raise TagMismatchError("authentication tag does not verify")
            return security_control, invocation_counter, body
        aad = content[:1] + self._ak
        plaintext = self._gcm.encrypt(iv, body, aad)[:-16]
        expected = self._gcm.encrypt(iv, plaintext, aad)[-16 : -16 + TAG_LENGTH]
        if not hmac.compare_digest(expected, tag):
            raise TagMismatchError("authentication tag does not verify")
        return security_control, invocation_counter, plaintext

    def seal_general_glo(
        self,
        system_title: bytes,
        invocation_counter: int,
        plaintext: bytes,
        security_control: int = AUTHENTICATED_ENCRYPTED,
    ) -> bytes:
        """A complete general-glo-ciphering APDU from ``system_title`` (the sender's)."""
        content = self.seal(security_control, system_title, invocation_counter, plaintext)
        return encode_general_glo(system_title, content)

    def open_general_glo(self, frame: bytes) -> tuple[GeneralGloCiphering, bytes]:
        """Decode, verify and decipher a general-glo-ciphering APDU; return it and the plaintext."""
        apdu = decode_general_glo(frame)
        return apdu, self.open(apdu.system_title, apdu.content)[2]


def hls5_gmac(
    encryption_key: bytes,
    authentication_key: bytes,
    system_title: bytes,
    invocation_counter: int,
    challenge: bytes,
) -> bytes:
    """The 12-byte HLS5-GMAC tag over ``0x10 ‖ AK ‖ challenge`` (IV from the sender's title)."""
    if len(encryption_key) != 16 or len(authentication_key) != 16:
        raise DlmsError("suite 0 keys are 128 bits")
    iv = _iv(system_title, invocation_counter)
    aad = bytes((AUTHENTICATED,)) + authentication_key + challenge
    return AESGCM(encryption_key).encrypt(iv, b"", aad)[:TAG_LENGTH]
