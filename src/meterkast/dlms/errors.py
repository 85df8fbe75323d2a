"""Errors of the link-security code; messages never carry key or frame bytes."""

from meterkast.kernel.errors import DomainError


class DlmsError(DomainError):
    """A DLMS/COSEM security operation failed."""

    code = "dlms-error"


class MalformedApduError(DlmsError):
    """Bytes that do not form a valid APDU (bad tag, length or field)."""

    code = "dlms-malformed"


class AxdrError(MalformedApduError):
    """Bytes that are not valid A-XDR data for what was expected."""

    code = "axdr"


class TagMismatchError(DlmsError):
    """Authentication failed: the frame was altered, or the key or counter is wrong."""

    code = "dlms-bad-tag"
