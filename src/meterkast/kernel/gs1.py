"""GS1 mod-10 check digits, used by EAN-13 party codes and EAN-18 connection codes."""

from __future__ import annotations

from meterkast.kernel.errors import InvalidCodeError


def check_digit(body: str) -> int:
    """Check digit for ``body`` (the code without its last digit).

    Weights alternate 3, 1, 3, ... starting from the rightmost digit of the body.
    """
    if not body.isascii() or not body.isdigit():
        raise InvalidCodeError(f"a GS1 code holds digits only, got {body!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def with_check_digit(body: str) -> str:
    """``body`` followed by its check digit."""
    return body + str(check_digit(body))


def validate(code: str, length: int, label: str) -> str:
    """Return ``code`` stripped if it is a valid GS1 code of ``length`` digits, else raise."""
    cleaned = code.strip()
    if len(cleaned) != length or not cleaned.isascii() or not cleaned.isdigit():
        raise InvalidCodeError(f"{label} must be {length} digits, got {code!r}")
    if check_digit(cleaned[:-1]) != int(cleaned[-1]):
        raise InvalidCodeError(f"{label} {cleaned} has a wrong check digit")
    return cleaned
