"""Audit records of operator actions on credentials: a token issued, a token revoked (pure).

Both are logged under the register activity A.4 (security and access audit log) on the legal
obligation to secure processing (GDPR art. 32).
"""

from __future__ import annotations

from datetime import UTC, datetime

from meterkast.access.audit import ORGANISATION_ROLES, AuditRecord, Pseudonyms
from meterkast.access.days import DaySet
from meterkast.access.policy import POLICY_VERSION
from meterkast.access.tokens import TokenClaims
from meterkast.kernel.codes import AuditEvent, LegalBasis, Role

# The register activity "Security and access audit log" (A.4 in the register on main, where
# A.3 is the third-party service under consent).
SECURITY_PURPOSE = "A.4"
OPERATOR = "security-operator"  # who runs `meterkast token ...` (pseudonymised like anyone)


def token_issued(claims: TokenClaims, at: datetime, pseudonyms: Pseudonyms) -> AuditRecord:
    organisation_party = claims.role in ORGANISATION_ROLES and len(claims.party_id) <= 13
    return _security_record(
        at=at,
        event=AuditEvent.TOKEN_ISSUED,
        role=claims.role,
        principal_ref=pseudonyms.party(claims.party_id),
        party=claims.party_id if organisation_party else None,
        organisation=None if claims.organisation is None else claims.organisation[:100],
        action="issue_token",
        reason=f"token {claims.token_id} valid until {claims.expires_at.isoformat()}",
        grant_id=None if claims.grant_id is None else claims.grant_id[:64],
    )


def token_revoked(token_id: str, at: datetime, pseudonyms: Pseudonyms) -> AuditRecord:
    """The operator refused a token from now on (the id is random, it names no one)."""
    return _security_record(
        at=at,
        event=AuditEvent.TOKEN_REVOKED,
        role=Role.PRIVACY_OFFICER,  # the staff role that answers for the security of processing
        principal_ref=pseudonyms.party(OPERATOR),
        party=None,
        organisation=None,
        action="revoke_token",
        reason=f"token {token_id} revoked",
        grant_id=None,
    )


def _security_record(
    *,
    at: datetime,
    event: AuditEvent,
    role: Role,
    principal_ref: str,
    party: str | None,
    organisation: str | None,
    action: str,
    reason: str,
    grant_id: str | None,
) -> AuditRecord:
    return AuditRecord(
        at=at.astimezone(UTC),
        event=event,
        role=role,
        principal_ref=principal_ref,
        party=party,
        organisation=organisation,
        purpose=SECURITY_PURPOSE,
        legal_basis=LegalBasis.LEGAL_OBLIGATION,
        action=action,
        allowed=True,
        subject_ref=None,
        asked_first=None,
        asked_last=None,
        days=DaySet(),
        reasons=(reason,),
        policy_version=POLICY_VERSION,
        grant_id=grant_id,
        case_id=None,
    )
