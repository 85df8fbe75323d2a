"""``meterkast parties ...``: market parties by role."""

from __future__ import annotations

from typing import Annotated

import typer

from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.kernel.codes import PartyRole

parties_app = typer.Typer(help="Market parties (EAN-13).", no_args_is_help=True)


@parties_app.command("list")
def list_parties(
    role: Annotated[PartyRole | None, typer.Option(help="Only parties with this role.")] = None,
    output: Annotated[Format, typer.Option("--format")] = Format.TABLE,
) -> None:
    """List suppliers, third parties and grid operators."""
    found = app_state().parties.list_parties(role)
    rows = [{"id": p.ean, "name": p.name, "role": p.role.value} for p in found]
    if output is Format.JSON:
        emit_json(rows)
    else:
        emit_table("parties", rows, ("id", "name", "role"))


def register(app: typer.Typer) -> None:
    app.add_typer(parties_app, name="parties")
