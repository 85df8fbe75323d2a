"""``meterkast portal ...``: sign-in codes for customers and registration of third-party apps."""

from __future__ import annotations

from typing import Annotated

import typer

from meterkast.cli.context import app_state
from meterkast.kernel.codes import PartyRole
from meterkast.kernel.errors import InvalidValueError

portal_app = typer.Typer(
    help="The customer portal: sign-in codes and OAuth clients.", no_args_is_help=True
)
client_app = typer.Typer(
    help="Third-party apps that ask customers for consent (OAuth 2).", no_args_is_help=True
)


@portal_app.command("code")
def code(customer: Annotated[str, typer.Option(help="Customer number, e.g. C00000001.")]) -> None:
    """Print a one-time sign-in code (10 minutes, single use) for a customer (demo sign-in)."""
    state = app_state()
    found = state.parties.get_customer(customer.strip().upper())  # unknown customers fail here
    typer.echo(state.login_codes.issue(found.id))


@client_app.command("add")
def add_client(
    party: Annotated[str, typer.Option(help="EAN-13 of the third party that runs the app.")],
    redirect_uri: Annotated[list[str], typer.Option(help="Allowed redirect URI (repeatable).")],
) -> None:
    """Register an app; prints its client id and secret once (only a hash is kept)."""
    state = app_state()
    found = state.parties.get_party(party)
    if found.role is not PartyRole.THIRD_PARTY:
        raise InvalidValueError("OAuth clients are registered for third parties")
    client_id, secret = state.oauth_clients.add(found.ean, redirect_uri)
    typer.echo(f"client_id: {client_id}")
    typer.echo(f"client_secret: {secret}")
    typer.echo("store the secret now: it is not shown again", err=True)


def register(app: typer.Typer) -> None:
    portal_app.add_typer(client_app, name="client")
    app.add_typer(portal_app, name="portal")
