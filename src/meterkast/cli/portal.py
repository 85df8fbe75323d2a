"""``meterkast portal ...``: sign-in codes for customers and staff, service cases, OAuth apps."""

from __future__ import annotations

from typing import Annotated

import typer

from meterkast.access.policy import SERVICE_PURPOSES, CaseKind
from meterkast.cli.context import app_state
from meterkast.grid.domain import parse_ean18
from meterkast.kernel.codes import PartyRole, Role
from meterkast.kernel.errors import InvalidValueError
from meterkast.web.staff import issue_staff_code

portal_app = typer.Typer(
    help="The customer portal: sign-in codes and OAuth clients.", no_args_is_help=True
)
case_app = typer.Typer(
    help="Service cases that open a connection to customer-service staff.", no_args_is_help=True
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


@portal_app.command("staff-code")
def staff_code(
    role: Annotated[Role, typer.Option(help="privacy_officer or staff_service.")],
    staff: Annotated[str, typer.Option(help="The staff member's id, e.g. PO01.")],
) -> None:
    """Print a one-time sign-in code for a staff member; the issuance is audited."""
    state = app_state()
    typer.echo(issue_staff_code(state.login_codes, state.audit, state.clock, role, staff))


@case_app.command("open")
def open_case(
    connection: Annotated[str, typer.Option(help="EAN-18 of the connection.")],
    customer: Annotated[str, typer.Option(help="The customer the case is about.")],
    purpose: Annotated[str, typer.Option(help="1.4 compensation, 1.5 complaint, 1.6 question.")],
    subject: Annotated[str, typer.Option(help="What the case is about (no personal details).")],
    staff: Annotated[str, typer.Option(help="Staff id of whoever opens (and handles) it.")],
    team: Annotated[
        bool, typer.Option(help="Assign it to the whole team, not to --staff.")
    ] = False,
) -> None:
    """Open a service case: it lets customer service look the connection up in the portal."""
    state = app_state()
    if purpose not in SERVICE_PURPOSES:
        raise InvalidValueError("a service case is for purpose 1.4, 1.5 or 1.6")
    state.grid.get_connection(parse_ean18(connection))  # unknown connections fail here
    state.parties.get_customer(customer)
    case_id = state.cases.open(kind=CaseKind.SERVICE, connection_ean=connection,
                               customer_id=customer, purpose=purpose, subject=subject,
                               opened_by=staff, now=state.clock(), team=team)  # fmt: skip
    typer.echo(case_id)


@case_app.command("close")
def close_case(case: Annotated[str, typer.Argument(help="The case id.")]) -> None:
    """Close a case: staff access through it ends at once."""
    state = app_state()
    state.cases.close(case, state.clock())
    typer.echo("closed")


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
    portal_app.add_typer(case_app, name="case")
    app.add_typer(portal_app, name="portal")
