from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterkast.cli import app
from meterkast.cli.context import app_state
from meterkast.grid.domain import Address, Capacity, Connection, GridArea, parse_ean18
from meterkast.kernel.codes import DeliveryDirection, PhysicalStatus, Product, ProfileCategory
from meterkast.kernel.gs1 import with_check_digit

EAN = with_check_digit("87168714000000001")
AREA = with_check_digit("871687140000")


@pytest.fixture
def runner(home: Path) -> Iterator[CliRunner]:
    app_state.cache_clear()
    state = app_state()
    state.init()
    state.grid.add_grid_area(GridArea(AREA, "Testnet"))
    state.grid.add_connection(
        Connection(
            ean=parse_ean18(EAN),
            product=Product.ELECTRICITY,
            address=Address("1234AB", 1, "Dorpsstraat", "Ergens"),
            grid_area=AREA,
            capacity=Capacity.parse("1x35"),
            profile_category=ProfileCategory.E1A,
            physical_status=PhysicalStatus.IN_SERVICE,
            delivery_direction=DeliveryDirection.OFFTAKE,
        )
    )
    yield CliRunner()
    state.close()
    app_state.cache_clear()


def test_import_keeps_good_lines_and_reports_bad_ones(runner: CliRunner, tmp_path: Path) -> None:
    csv_file = tmp_path / "manual.csv"
    csv_file.write_text(
        "ean,day,import_t1_wh,import_t2_wh,export_t1_wh,export_t2_wh\n"
        f"{EAN},2026-01-01,1000,2000,0,0\n"
        f"{EAN},2026-01-05,9000,8000,0,0\n"
        f"{EAN},2026-01-06,500,8000,0,0\n"
        f"{EAN},not-a-day,1,1,0,0\n"
        f"871687140000009990,2026-01-07,1,1,0,0\n"
    )
    result = runner.invoke(app, ["readings", "import", str(csv_file)])
    assert result.exit_code == 1
    assert "line 4: import_t1_wh lower than the previous reading" in result.stderr
    assert "line 5: day must be YYYY-MM-DD" in result.stderr
    assert "line 6: unknown electricity connection" in result.stderr
    assert "stored 2, duplicates 0, estimated 3, refused 3" in result.stdout

    shown = runner.invoke(
        app,
        ["readings", "show", EAN, "--from", "2026-01-01", "--to", "2026-01-31", "--format", "json"],
    )
    assert shown.exit_code == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert [r["day"] for r in data["readings"]] == [f"2026-01-0{d}" for d in range(1, 6)]
    assert [r["quality"] for r in data["readings"]][1:4] == ["estimated"] * 3
    table = runner.invoke(
        app, ["readings", "show", EAN, "--from", "2026-01-01", "--to", "2026-01-02"]
    )
    assert table.exit_code == 0
    assert f"electricity_daily {EAN}" in table.stdout


def test_purge_removes_months_beyond_retention(runner: CliRunner, tmp_path: Path) -> None:
    csv_file = tmp_path / "manual.csv"
    csv_file.write_text(
        f"ean,day,import_t1_wh,import_t2_wh,export_t1_wh,export_t2_wh\n{EAN},2023-01-01,1,1,0,0\n"
    )
    assert runner.invoke(app, ["readings", "import", str(csv_file)]).exit_code == 0
    result = runner.invoke(app, ["purge", "--as-of", "2025-06-01"])
    assert result.exit_code == 0
    assert "purged months: 2023-01 (1 data keys destroyed)" in result.stdout
    assert app_state().readings.months() == []
    assert date(2023, 1, 1) not in app_state().readings.months()


def test_readings_dir_setting_moves_the_store(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METERKAST_READINGS_DIR", str(tmp_path / "elsewhere"))
    app_state.cache_clear()
    try:
        state = app_state()
        assert state.readings_settings.resolved_dir(home) == tmp_path / "elsewhere"
        assert state.readings_settings.readings_retention_months == 24
    finally:
        app_state.cache_clear()


def test_rebuild_serving_rewrites_the_blobs_of_a_month(runner: CliRunner, tmp_path: Path) -> None:
    csv_file = tmp_path / "manual.csv"
    csv_file.write_text(
        f"ean,day,import_t1_wh,import_t2_wh,export_t1_wh,export_t2_wh\n{EAN},2026-01-01,1,1,0,0\n"
    )
    assert runner.invoke(app, ["readings", "import", str(csv_file)]).exit_code == 0
    stale = runner.invoke(app, ["readings", "rebuild-serving", "--stale-only"])
    assert stale.exit_code == 0 and "rebuilt serving blobs: none" in stale.stdout
    result = runner.invoke(app, ["readings", "rebuild-serving", "--month", "2026-01"])
    assert result.exit_code == 0, result.output
    assert "rebuilt serving blobs: 2026-01" in result.stdout
    assert app_state().readings.serving_is_current(date(2026, 1, 1))
    bad = runner.invoke(app, ["readings", "rebuild-serving", "--month", "Jan"])
    assert bad.exit_code != 0
