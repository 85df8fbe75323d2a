"""``meterkast generate`` and ``meterkast area summary``: the synthetic grid area."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer
from rich.console import Console

from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.kernel.clock import local_day
from meterkast.kernel.codes import PartyRole
from meterkast.kernel.errors import InvalidValueError

area_app = typer.Typer(help="The grid area as a whole.", no_args_is_help=True)


def parse_day(text: str | None, default: date) -> date:
    if text is None:
        return default
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()  # noqa: DTZ007 - a calendar day
    except ValueError:
        raise InvalidValueError(f"a date must look like 2026-01-31, got {text!r}") from None


def generate(
    connections: Annotated[int, typer.Option(help="Number of electricity connections.")] = 1000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same area.")] = 1,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="The day the area stands on (default today).")
    ] = None,
    history_months: Annotated[
        int,
        typer.Option(
            help="Also write this many months of daily readings before the as-of "
            "month, as the smart meters would have reported them (0: none)."
        ),
    ] = 0,
) -> None:
    """Create a synthetic grid area with 30 months of contract history before the as-of day."""
    state = app_state()
    state.init()
    day = parse_day(as_of, local_day(state.clock()))
    console = Console(stderr=True)
    with console.status(f"generating {connections:,} connections (seed {seed}, as of {day})"):
        result = state.area_generator.generate(connections, seed, day)
    rows = [{"table": name, "rows": f"{count:,}"} for name, count in result.tables.items()]
    if history_months:
        with console.status(f"writing {history_months} months of daily readings"):
            written = state.history_writer.write(day, history_months)
        rows.append({"table": "daily readings (encrypted Parquet)", "rows": f"{written:,}"})
    emit_table(f"generated grid area (seed {seed}, as of {day})", rows, ("table", "rows"))


@area_app.command("summary")
def summary(output: Annotated[Format, typer.Option("--format")] = Format.TABLE) -> None:
    """Counts that describe the grid area: connections, meters, choices, installations."""
    state = app_state()
    facts = state.grid.summary(local_day(state.clock()))
    record = {
        "grid_areas": facts.grid_areas,
        "towns": facts.towns,
        "postcodes": facts.postcodes,
        "addresses": facts.addresses,
        **{f"{k}_connections": v for k, v in sorted(facts.connections.items())},
        "smart_meters": facts.smart_meters,
        "conventional_meters": facts.conventional_meters,
        "gas_meters_on_mbus": facts.gas_meters_on_mbus,
        "solar_installations": facts.solar_installations,
        **{f"choice_{k}": v for k, v in facts.reading_choices.items()},
        "suppliers": len(state.parties.list_parties(PartyRole.SUPPLIER)),
        "third_parties": len(state.parties.list_parties(PartyRole.THIRD_PARTY)),
    }
    if output is Format.JSON:
        emit_json(record)
    else:
        emit_table("grid area", [{"figure": k, "value": v} for k, v in record.items()],
                   ("figure", "value"))  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.add_typer(area_app, name="area")
