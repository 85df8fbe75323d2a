"""DLMS/COSEM link security (security suite 0), shared by the head-end and the simulated meters.

Pure functions and small value objects, no I/O: A-XDR lengths, AES-GCM-128 ciphering with the
12-byte DLMS tag, general-glo-ciphering APDUs, HLS5-GMAC and RFC 3394 key wrap.
"""

from meterkast.dlms.apdu import (
    GENERAL_GLO_CIPHERING,
    GLO_GET_REQUEST,
    GLO_INITIATE_REQUEST,
    GeneralGloCiphering,
    decode_general_glo,
    decode_service_glo,
    encode_general_glo,
    encode_service_glo,
)
from meterkast.dlms.axdr import decode_length, encode_length
from meterkast.dlms.errors import DlmsError, MalformedApduError, TagMismatchError
from meterkast.dlms.keywrap import unwrap_key, wrap_key
from meterkast.dlms.suite0 import (
    AUTHENTICATED,
    AUTHENTICATED_ENCRYPTED,
    ENCRYPTED,
    TAG_LENGTH,
    Suite0Cipher,
    hls5_gmac,
)

__all__ = [
    "AUTHENTICATED",
    "AUTHENTICATED_ENCRYPTED",
    "ENCRYPTED",
    "GENERAL_GLO_CIPHERING",
    "GLO_GET_REQUEST",
    "GLO_INITIATE_REQUEST",
    "TAG_LENGTH",
    "DlmsError",
    "GeneralGloCiphering",
    "MalformedApduError",
    "Suite0Cipher",
    "TagMismatchError",
    "decode_general_glo",
    "decode_length",
    "decode_service_glo",
    "encode_general_glo",
    "encode_length",
    "encode_service_glo",
    "hls5_gmac",
    "unwrap_key",
    "wrap_key",
]
