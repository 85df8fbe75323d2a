"""Grants: the customer gives and withdraws consent; grantees see what they were given."""

from __future__ import annotations

from fastapi import APIRouter, Response

from meterkast.access.grants import Grant
from meterkast.access.policy import CONSENT_MANAGEMENT
from meterkast.api.deps import PrincipalDep, ServicesDep, bound
from meterkast.api.schemas import PROBLEM_RESPONSES, GrantIn, GrantOut
from meterkast.kernel.codes import Role
from meterkast.kernel.errors import NotFoundError

router = APIRouter(prefix="/api/v1/grants", tags=["grants"], responses=PROBLEM_RESPONSES)


def _out(grant: Grant) -> GrantOut:
    return GrantOut(
        id=grant.id, connection_ean=grant.connection_ean, grantee=grant.grantee,
        scopes=sorted(grant.scopes), purpose=grant.purpose, data_first=grant.data_first,
        data_last=grant.data_last, valid_from=grant.valid_from, valid_until=grant.valid_until,
        status=grant.status,
    )  # fmt: skip


@router.get("", openapi_extra=bound(CONSENT_MANAGEMENT))
def list_grants(who: PrincipalDep, svc: ServicesDep) -> list[GrantOut]:
    """A customer's own grants, or the grants given to the calling supplier or app."""
    now = svc.clock()
    if who.role is Role.CUSTOMER:
        return [_out(g) for g in svc.grants.of_customer(who.party_id, now)]
    if who.role in {Role.SUPPLIER, Role.THIRD_PARTY}:
        return [_out(g) for g in svc.grants.of_grantee(who.party_id, now)]
    return []


@router.post("", status_code=201, openapi_extra=bound(CONSENT_MANAGEMENT))
def give_grant(body: GrantIn, who: PrincipalDep, svc: ServicesDep) -> GrantOut:
    """The customer gives a party access to a connection's data for a purpose and period."""
    if who.role is not Role.CUSTOMER:
        raise NotFoundError("only customers give grants")
    grant = svc.grants.give(
        customer_id=who.party_id, connection_ean=body.connection_ean, grantee=body.grantee,
        scopes=body.scopes, purpose=body.purpose, data_first=body.data_first,
        data_last=body.data_last, valid_until=body.valid_until, now=svc.clock(),
    )  # fmt: skip
    return _out(grant)


@router.delete("/{grant_id}", status_code=204, openapi_extra=bound(CONSENT_MANAGEMENT))
def revoke_grant(grant_id: str, who: PrincipalDep, svc: ServicesDep) -> Response:
    """Withdraw consent: access stops at once."""
    if who.role is not Role.CUSTOMER:
        raise NotFoundError("no such grant")
    svc.grants.revoke(who.party_id, grant_id, svc.clock())
    return Response(status_code=204)
