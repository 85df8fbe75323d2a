"""``meterkast readings ...`` and ``meterkast purge``: the readings store (an operator tool)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from meterkast.cli.context import app_state
from meterkast.cli.output import Format, emit_json, emit_table
from meterkast.kernel.clock import local_day
from meterkast.readings.manual import import_csv
from meterkast.readings.schema import Dataset

readings_app = typer.Typer(help="Meter readings (encrypted at rest).", no_args_is_help=True)

FormatOption = Annotated[Format, typer.Option("--format", help="json or table")]
ELECTRICITY_COLUMNS: tuple[str, ...] = (
    "day", "import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh",
    "series", "version", "source", "quality",
)  # fmt: skip
GAS_COLUMNS: tuple[str, ...] = (
    "day",
    "volume_dm3",
    "captured_at",
    "series",
    "version",
    "source",
    "quality",
)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


@readings_app.command("show")
def show(
    ean: str,
    first: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD), inclusive.")],
    output: FormatOption = Format.TABLE,
    history: Annotated[bool, typer.Option(help="Every version, not only the latest.")] = False,
) -> None:
    """Daily register readings of one connection (latest versions unless --history)."""
    service = app_state().readings
    start, end = _day(first), _day(last)
    dataset, columns = Dataset.ELECTRICITY_DAILY, ELECTRICITY_COLUMNS
    table = service.daily(dataset, ean, start, end, all_versions=history)
    if table.num_rows == 0:
        dataset, columns = Dataset.GAS_DAILY, GAS_COLUMNS
        table = service.daily(dataset, ean, start, end, all_versions=history)
    rows = [{c: row[c] for c in columns} for row in table.to_pylist()]
    if output is Format.JSON:
        emit_json({"ean": ean, "kind": dataset.value, "readings": rows})
    else:
        emit_table(f"{dataset.value} {ean}", rows, columns)


@readings_app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Import manual readings from CSV; refused lines are listed with their line numbers."""
    report = import_csv(app_state().readings, file)
    for line, reason in report.errors:
        typer.echo(f"line {line}: {reason}", err=True)
    typer.echo(
        f"stored {report.stored}, duplicates {report.duplicates}, "
        f"estimated {report.estimated}, refused {len(report.errors)}"
    )
    if report.errors:
        raise typer.Exit(1)


@readings_app.command("rebuild-serving")
def rebuild_serving(
    month: Annotated[
        str | None, typer.Option("--month", help="One month (YYYY-MM); default: every month.")
    ] = None,
    stale_only: Annotated[
        bool, typer.Option("--stale-only", help="Only months whose blobs lag their files.")
    ] = False,
) -> None:
    """Rewrite the one-connection serving blobs from the month Parquet files."""
    service = app_state().readings
    if stale_only:
        rebuilt = service.repair_serving()
    else:
        rebuilt = service.rebuild_serving([_day(f"{month}-01")] if month else None)
    typer.echo(f"rebuilt serving blobs: {', '.join(f'{m:%Y-%m}' for m in rebuilt) or 'none'}")


def purge(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Day to apply retention on (default today).")
    ] = None,
) -> None:
    """Remove readings older than the retention window and destroy their month keys."""
    state = app_state()
    day = _day(as_of) if as_of else local_day(state.clock())
    result = state.readings.purge(day)
    months = ", ".join(f"{m:%Y-%m}" for m in result.months) or "none"
    typer.echo(f"purged months: {months} ({result.keys_destroyed} data keys destroyed)")


def register(app: typer.Typer) -> None:
    app.add_typer(readings_app, name="readings")
    app.command("purge")(purge)
