"""An in-memory crypto-server for tests: the keys/api.py protocols over real AES-GCM.

It checks frames with the low-level GCM API (truncated 12-byte tags allowed), a different code
path from the fleet's, so the two sides check each other. The lead swaps in meterkast.keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import aes_key_wrap

from meterkast.dlms import AUTHENTICATED_ENCRYPTED, GeneralGloCiphering, decode_general_glo
from meterkast.dlms import encode_general_glo as frame_of
from meterkast.dlms.errors import MalformedApduError
from meterkast.kernel.codes import FrameRejection, KeyType, MeterType
from meterkast.keys.api import FrameRejectedError, WrappedKey

CLIENT_TITLE = b"MKS\x00\x00\x00\x00\x01"


@dataclass
class _Meter:
    system_title: bytes
    keys: dict[KeyType, bytes] = field(repr=False)
    client_counter: int = 0
    last_meter_counter: int = -1


def gcm_open(ek: bytes, ak: bytes, frame: GeneralGloCiphering) -> bytes:
    iv = frame.system_title + frame.content[1:5]
    tag, body = frame.content[-12:], frame.content[5:-12]
    decryptor = Cipher(algorithms.AES(ek), modes.GCM(iv, tag, min_tag_length=12)).decryptor()
    decryptor.authenticate_additional_data(frame.content[:1] + ak)
    return decryptor.update(body) + decryptor.finalize()


class FakeSession:
    def __init__(self, meter_id: str, meter: _Meter) -> None:
        self.meter_id = meter_id
        self.client_system_title = CLIENT_TITLE
        self._meter = meter

    def protect(self, plaintext_apdu: bytes) -> bytes:
        m = self._meter
        m.client_counter += 1
        ek, ak = m.keys[KeyType.ENCRYPTION], m.keys[KeyType.AUTHENTICATION]
        iv = CLIENT_TITLE + m.client_counter.to_bytes(4, "big")
        encryptor = Cipher(algorithms.AES(ek), modes.GCM(iv)).encryptor()
        header = bytes((AUTHENTICATED_ENCRYPTED,)) + m.client_counter.to_bytes(4, "big")
        encryptor.authenticate_additional_data(header[:1] + ak)
        body = encryptor.update(plaintext_apdu) + encryptor.finalize() + encryptor.tag[:12]
        return frame_of(CLIENT_TITLE, header + body)

    def unprotect(self, frame: bytes) -> bytes:
        m = self._meter
        try:
            parsed = decode_general_glo(frame)
        except MalformedApduError:
            raise FrameRejectedError(self.meter_id, FrameRejection.MALFORMED) from None
        if parsed.security_control != AUTHENTICATED_ENCRYPTED or len(parsed.content) < 17:
            raise FrameRejectedError(self.meter_id, FrameRejection.MALFORMED)
        if parsed.system_title != m.system_title:
            raise FrameRejectedError(self.meter_id, FrameRejection.WRONG_SYSTEM_TITLE)
        if parsed.invocation_counter <= m.last_meter_counter:
            raise FrameRejectedError(self.meter_id, FrameRejection.REPLAY)
        try:
            plaintext = gcm_open(m.keys[KeyType.ENCRYPTION], m.keys[KeyType.AUTHENTICATION], parsed)
        except InvalidTag:
            raise FrameRejectedError(self.meter_id, FrameRejection.BAD_TAG) from None
        m.last_meter_counter = parsed.invocation_counter
        return plaintext


class FakeCryptoServer:
    def __init__(self) -> None:
        self.meters: dict[str, _Meter] = {}

    def provision(
        self, meter_id: str, meter_type: MeterType, system_title: bytes, transport_kek: bytes
    ) -> list[WrappedKey]:
        types = (
            [KeyType.MASTER, KeyType.AUTHENTICATION, KeyType.ENCRYPTION]
            if meter_type is MeterType.ELECTRICITY
            else [KeyType.MASTER, KeyType.ENCRYPTION]
        )
        keys = {t: os.urandom(16) for t in types}
        self.meters[meter_id] = _Meter(system_title, keys)
        return [WrappedKey(t, aes_key_wrap(transport_kek, k)) for t, k in keys.items()]

    def session(self, meter_id: str) -> FakeSession:
        meter = self.meters.get(meter_id)
        if meter is None:
            raise FrameRejectedError(meter_id, FrameRejection.UNKNOWN_METER)
        return FakeSession(meter_id, meter)
