"""``meterkast token ...``: bearer tokens for the API (an operator's tool)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from meterkast.access.tokens import parse_duration
from meterkast.cli.context import app_state
from meterkast.cli.output import emit_json
from meterkast.kernel.codes import Role
from meterkast.kernel.errors import InvalidValueError

_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # the jti the instance issues is 22 such characters

token_app = typer.Typer(help="Bearer tokens for the API.", no_args_is_help=True)


@token_app.command("issue")
def issue(
    role: Annotated[Role, typer.Option(help="The role the token acts in.")],
    party: Annotated[str, typer.Option(help="Customer id, party EAN-13 or staff id.")],
    ttl: Annotated[
        str | None, typer.Option(help="Lifetime such as 15m, 1h, 7d (at most 30d).")
    ] = None,
    grant: Annotated[
        str | None, typer.Option(help="Bind a third party's token to this grant id.")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option("--org", help="The organisation (staff: their department).")
    ] = None,
) -> None:
    """Print one signed token; the issuance is written to the audit log."""
    state = app_state()
    lifetime = parse_duration(ttl) if ttl is not None else None
    token = state.tokens.issue(role, party, lifetime, grant=grant, organisation=organisation)
    state.audit.token_issued(state.tokens.verify(token), at=state.clock())
    typer.echo(token)


@token_app.command("verify")
def verify(token: Annotated[str, typer.Argument(help="The token to check.")]) -> None:
    """Check a token's signature, issuer and lifetime; print its claims as JSON."""
    claims = app_state().tokens.verify(token)
    emit_json(
        {
            "role": claims.role.value,
            "party": claims.party_id,
            "organisation": claims.organisation,
            "grant": claims.grant_id,
            "issued_at": claims.issued_at.isoformat(),
            "expires_at": claims.expires_at.isoformat(),
            "token_id": claims.token_id,
        }
    )


@token_app.command("revoke")
def revoke(
    token_id: Annotated[
        str, typer.Argument(metavar="JTI", help="The token's id (`token_id` of `token verify`).")
    ],
) -> None:
    """Refuse a token from now on, on every worker (401); the revocation is audited."""
    if not _TOKEN_ID.fullmatch(token_id):
        raise InvalidValueError("not a token id: expected 8-64 letters, digits, '-' or '_'")
    state = app_state()
    now = state.clock()
    if not state.revocations.revoke(token_id, now):
        typer.echo(f"token {token_id} was revoked already")
        return
    state.audit.token_revoked(token_id, at=now)
    typer.echo(f"token {token_id} revoked: it is refused from now on")


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
