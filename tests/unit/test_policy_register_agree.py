"""The access policy names only purposes the register lets that role use, with legal bases."""

from __future__ import annotations

from meterkast.access.policy import CONSENT_MANAGEMENT, ROLE_PURPOSES, THIRD_PARTY_SERVICE
from meterkast.kernel.codes import LegalBasis, Role
from meterkast.register.catalog import default_register


def test_every_policy_purpose_is_a_register_activity_of_that_role() -> None:
    register = default_register()
    for role, purposes in ROLE_PURPOSES.items():
        allowed = {a.id for a in register.for_role(role)}
        assert purposes <= allowed, f"{role.value}: {sorted(purposes - allowed)} not in register"


def test_consent_purposes_rest_on_consent() -> None:
    register = default_register()
    assert LegalBasis.CONSENT in register.get(THIRD_PARTY_SERVICE).legal_bases
    assert Role.CUSTOMER in register.get(CONSENT_MANAGEMENT).roles
