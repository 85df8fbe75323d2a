"""``meterkast token ...``: bearer tokens for the API (an operator's tool)."""

from __future__ import annotations

from typing import Annotated

import typer

from meterkast.access.tokens import parse_duration
from meterkast.cli.context import app_state
from meterkast.cli.output import emit_json
from meterkast.kernel.codes import Role

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


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")
