"""The ``meterkast`` command line. Commands stay thin: parse, call a service, print."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from meterkast import __version__
from meterkast.cli import (
    area,
    audit,
    dsr,
    fleet,
    grid,
    keys,
    parties,
    portal,
    readings,
    serve,
    token,
)
from meterkast.cli import register as register_cli
from meterkast.cli.context import app_state
from meterkast.kernel.errors import DomainError


class _Group(TyperGroup):
    """Maps domain errors, anywhere below, to one line on stderr and exit code 2."""

    def invoke(self, ctx: Any) -> Any:  # click.Context, vendored by typer
        try:
            return super().invoke(ctx)
        except DomainError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None


app = typer.Typer(
    cls=_Group,
    help="meterkast: privacy-first data platform for Dutch grid operators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"meterkast {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    _version_flag: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """meterkast: privacy-first data platform for Dutch grid operators."""


@app.command()
def init() -> None:
    """Create the instance folder and bring the database schema up to date."""
    state = app_state()
    state.init()
    typer.echo(f"instance ready in {state.settings.home} ({state.engine.dialect.name})")


fleet.register(app)
grid.register(app)
keys.register(app)
parties.register(app)
area.register(app)
register_cli.register(app)
serve.register(app)
dsr.register(app)
audit.register(app)
token.register(app)
readings.register(app)
portal.register(app)


def main() -> None:
    app()
