"""Which portal session an identity provider's ID token starts (customer, staff or none)."""

from __future__ import annotations

import pytest

from meterkast.web.oidc import OidcSettings, session_from_claims

SETTINGS = OidcSettings("https://idp.invalid/meta", "portal", "s")


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"customer_number": "C00000001"}, ("customer", "", "C00000001")),
        ({"meterkast_role": "privacy_officer", "meterkast_staff_id": "PO01"},
         ("staff", "privacy_officer", "PO01")),
        ({"meterkast_role": "staff_service", "meterkast_staff_id": "KS07",
          "customer_number": "C00000001"}, ("staff", "staff_service", "KS07")),
        # a staff claim that does not hold never falls back to the customer number
        ({"meterkast_role": "supplier", "meterkast_staff_id": "X",
          "customer_number": "C00000001"}, ("none", "", "")),
        ({"meterkast_role": "privacy_officer", "customer_number": "C00000001"}, ("none", "", "")),
        ({"meterkast_staff_id": "PO01"}, ("none", "", "")),
        ({"customer_number": ""}, ("none", "", "")),
        ({}, ("none", "", "")),
    ],
)  # fmt: skip
def test_session_from_claims(claims: dict[str, object], expected: tuple[str, str, str]) -> None:
    assert session_from_claims(claims, SETTINGS) == expected


def test_claim_names_are_configurable() -> None:
    custom = OidcSettings("u", "c", "s", staff_role_claim="role", staff_id_claim="sub")
    assert session_from_claims({"role": "staff_service", "sub": "KS07"}, custom)[0] == "staff"
