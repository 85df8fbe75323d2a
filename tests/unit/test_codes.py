"""GS1 check digits, EAN-18 connection codes, EAN-13 party codes and Dutch postcodes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meterkast.grid.domain import parse_ean18, parse_postcode
from meterkast.kernel import gs1
from meterkast.kernel.errors import InvalidCodeError
from meterkast.parties.domain import parse_ean13

PUBLISHED_PARTY_CODES = [
    "8712423014022",  # Enexis
    "8716892000005",  # Stedin
    "8716871000002",  # Liander
    "8716916000004",  # Coteq
    "8716912000008",  # Rendo
    "8716878999996",  # Westland Infra
]


@pytest.mark.parametrize("code", PUBLISHED_PARTY_CODES)
def test_published_party_codes_pass(code: str) -> None:
    assert parse_ean13(code) == code


def test_published_connection_code_passes() -> None:
    assert parse_ean18(" 871689290600044291 ") == "871689290600044291"


bodies17 = st.text(alphabet="0123456789", min_size=14, max_size=14).map(lambda s: "871" + s)


@given(bodies17)
def test_every_generated_connection_code_is_valid(body: str) -> None:
    assert parse_ean18(gs1.with_check_digit(body)) == gs1.with_check_digit(body)


@given(bodies17, st.integers(0, 17), st.integers(1, 9))
def test_any_one_digit_change_is_caught(body: str, position: int, shift: int) -> None:
    code = gs1.with_check_digit(body)
    changed = code[:position] + str((int(code[position]) + shift) % 10) + code[position + 1 :]
    with pytest.raises(InvalidCodeError):
        parse_ean18(changed)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12), st.integers(0, 12))
def test_party_code_one_digit_change_is_caught(body: str, position: int) -> None:
    code = gs1.with_check_digit(body)
    changed = code[:position] + str((int(code[position]) + 5) % 10) + code[position + 1 :]
    with pytest.raises(InvalidCodeError):
        parse_ean13(changed)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("87168929060004429", "18 digits"),
        ("8716892906000442911", "18 digits"),
        ("87168929060004429X", "18 digits"),
        ("871689290600044292", "check digit"),
        (gs1.with_check_digit("54168929060004429"), "Dutch"),
    ],
)
def test_malformed_connection_codes_are_refused_with_a_reason(code: str, why: str) -> None:
    with pytest.raises(InvalidCodeError, match=why):
        parse_ean18(code)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1234 AB", "1234AB"), ("1234ab", "1234AB"), ("9999ZZ", "9999ZZ"), ("5611 fy", "5611FY")],
)
def test_postcodes_are_normalised(text: str, expected: str) -> None:
    assert parse_postcode(text) == expected


@pytest.mark.parametrize(
    "text",
    ["0123AB", "123AB", "1234 A", "1234  AB", "1234SA", "1234 SD", "1234ss", "12345AB", "AB1234"],
)
def test_malformed_postcodes_are_refused(text: str) -> None:
    with pytest.raises(InvalidCodeError):
        parse_postcode(text)


@given(
    st.integers(1000, 9999),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
)
def test_postcode_accepts_exactly_the_issued_letter_pairs(digits: int, a: str, b: str) -> None:
    text = f"{digits}{a}{b}"
    if a + b in {"SA", "SD", "SS"}:
        with pytest.raises(InvalidCodeError):
            parse_postcode(text)
    else:
        assert parse_postcode(text) == text
