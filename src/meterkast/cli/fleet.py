"""``meterkast fleet build`` and ``meterkast read``: the simulated meters and the head-end."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.progress import Progress

from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.kernel.errors import InvalidValueError

fleet_app = typer.Typer(help="The simulated smart meters.", no_args_is_help=True)
FormatOption = Annotated[Format, typer.Option("--format", help="json or table")]


@fleet_app.command("build")
def build(output: FormatOption = Format.TABLE) -> None:
    """Install a simulated meter, with keys from the crypto-server, on every smart connection."""
    state = app_state()
    result = state.fleet.build(state.all_connections())
    record = {"created": result.created, "existing": result.existing,
              "with_gas": result.with_gas}  # fmt: skip
    if output is Format.JSON:
        emit_json(record)
    else:
        emit_table("fleet", [record], list(record))


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidValueError(f"{name} must be a date like 2026-01-31, got {text!r}") from None


def read(
    day: Annotated[
        str | None, typer.Option("--date", help="Run the nightly cycle for this day.")
    ] = None,
    first: Annotated[str | None, typer.Option("--from", help="First day of a range.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day of a range.")] = None,
    output: FormatOption = Format.TABLE,
) -> None:
    """Read the meters (daily values, with backfill from meter memory) as the head-end."""
    one, start, end = _day(day, "--date"), _day(first, "--from"), _day(last, "--to")
    if one is not None and start is None and end is None:
        start, end = one, one
    elif one is not None or start is None or end is None:
        raise InvalidValueError("give either --date, or both --from and --to")
    state = app_state()
    with Progress(transient=True) as bar:
        task = bar.add_task("reading meters", total=None)
        report = state.acquisition.run(start, end, on_meter=lambda: bar.advance(task))
    record = report.as_record()
    if output is Format.JSON:
        emit_json(record)
    else:
        emit_table("read cycle", [{**record, "days": f"{start}..{end}"}], list(record))


def register(app: typer.Typer) -> None:
    app.add_typer(fleet_app, name="fleet")
    app.command("read")(read)
