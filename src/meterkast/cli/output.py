"""Printing results as JSON (for machines) or rich tables (for people)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum

import typer
from rich.console import Console
from rich.table import Table


class Format(StrEnum):
    JSON = "json"
    TABLE = "table"


def emit_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def emit_table(title: str, rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)
