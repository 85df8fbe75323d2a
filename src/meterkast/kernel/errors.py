"""The domain error hierarchy.

Every error a user can cause derives from :class:`DomainError`. Entry points map these once:
the CLI to a one-line message and exit code 2, the API to an RFC 9457 problem response.
Messages must never contain key material or personal data beyond what the caller supplied.
"""


class DomainError(Exception):
    """A request the domain refuses; the message is one clear line for the user."""

    code = "domain-error"


class InvalidCodeError(DomainError):
    """A malformed identifier (EAN, postcode, ...)."""

    code = "invalid-code"


class InvalidValueError(DomainError):
    """A value outside its allowed range or code list."""

    code = "invalid-value"


class NotFoundError(DomainError):
    """An unknown entity."""

    code = "not-found"


class ConflictError(DomainError):
    """A change that would break an invariant (overlap, duplicate, wrong state)."""

    code = "conflict"


class UnauthenticatedError(DomainError):
    """No valid credentials: a missing, malformed, expired or forged token."""

    code = "unauthenticated"
