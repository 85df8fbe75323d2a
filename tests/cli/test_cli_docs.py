"""docs/cli.md is generated from the code; it must match what the code generates now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cli_reference_is_current(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    typer = Path(sys.executable).parent / "typer"
    subprocess.run(
        [str(typer), "meterkast.cli", "utils", "docs", "--name", "meterkast", "--output", str(out)],
        check=True,
        capture_output=True,
    )
    current = (ROOT / "docs" / "cli.md").read_text()
    assert out.read_text() == current, "docs/cli.md is stale: run `make docs`"
