"""``meterkast connections ...``: the connection register (an operator tool)."""

from __future__ import annotations

from typing import Annotated

import typer

from meterkast.cli.binding import require_purpose
from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.kernel.clock import local_day
from meterkast.views import connection_record

connections_app = typer.Typer(help="The connection register.", no_args_is_help=True)

FormatOption = Annotated[Format, typer.Option("--format", help="json or table")]
PurposeOption = Annotated[
    str | None,
    typer.Option(help="Register activity this use serves: 3.8 connection register, 3.6 EAN "
                 "code book, 5.1 connection management, 3.2 contract end register."),
]  # fmt: skip
TABLE_COLUMNS = (
    "ean", "product", "postcode", "house_number", "grid_area", "capacity",
    "profile_category", "reading_choice",
)  # fmt: skip


@connections_app.command("list")
def list_connections(
    purpose: PurposeOption = None,
    output: FormatOption = Format.TABLE,
    limit: Annotated[int, typer.Option(min=1, help="At most this many connections.")] = 50,
    offset: Annotated[int, typer.Option(min=0, help="Skip this many first.")] = 0,
) -> None:
    """List connections in EAN order (an operator tool: name the purpose)."""
    require_purpose("connections list", purpose)
    state = app_state()
    found = state.grid.list_connections(limit=limit, offset=offset)
    contracts = state.parties.contracts_of_many([c.ean for c in found])
    today = local_day(state.clock())
    records = [connection_record(c, contracts[c.ean], today) for c in found]
    if output is Format.JSON:
        emit_json(records)
    else:
        emit_table("connections", records, TABLE_COLUMNS)


@connections_app.command("show")
def show_connection(
    ean: str, purpose: PurposeOption = None, output: FormatOption = Format.TABLE
) -> None:
    """Show one connection with its meter, installations and contract history."""
    require_purpose("connections show", purpose)
    state = app_state()
    connection = state.grid.get_connection(ean)
    today = local_day(state.clock())
    record = connection_record(connection, state.parties.contracts_of(connection.ean), today)
    if output is Format.JSON:
        emit_json(record)
        return
    flat = {k: v for k, v in record.items() if not isinstance(v, list | dict)}
    emit_table(f"connection {connection.ean}", [flat], list(flat))
    meter = record["meter"]
    if isinstance(meter, dict):
        emit_table("meter", [meter], list(meter))
    emit_table("contracts", record["contracts"], ("customer_id", "supplier_ean", "start", "end"))  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.add_typer(connections_app, name="connections")
