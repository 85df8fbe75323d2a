"""The compiled serving read (``meterkast.readings._units``) refuses what it cannot use."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from meterkast.keys._aes import ReadKeys
from meterkast.readings import _units


def _file(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute(
            "CREATE TABLE units (dataset TEXT NOT NULL, bucket INTEGER NOT NULL,"
            " segment INTEGER NOT NULL, sealed BLOB NOT NULL,"
            " PRIMARY KEY (dataset, bucket, segment))"
        )
        connection.execute("INSERT INTO units VALUES ('electricity_daily', 0, 1, x'00')")
    return f"{path.as_uri()}?immutable=1"


def test_a_missing_or_foreign_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="serving file"):
        _units.Units(f"{(tmp_path / 'none.sqlite').as_uri()}?immutable=1")
    (tmp_path / "text.sqlite").write_text("not a database")
    with pytest.raises(OSError, match="serving file"):
        _units.Units(f"{(tmp_path / 'text.sqlite').as_uri()}?immutable=1")


def test_arguments_are_checked_before_anything_is_read(tmp_path: Path) -> None:
    units = _units.Units(_file(tmp_path / "s.sqlite"), 1 << 20)
    keys = ReadKeys(bytes(32), bytes(32))
    block = bytes(16)
    with pytest.raises(ValueError, match="one key"):
        _units.read([units], [], [1], [b"p"], "electricity_daily", block)
    with pytest.raises(ValueError, match="positive"):
        _units.read([units], [keys], [0], [b"p"], "electricity_daily", block)
    with pytest.raises(TypeError):
        _units.read([units], [b"raw key"], [1], [b"p"], "electricity_daily", block)
    with pytest.raises(ValueError, match="16-byte"):
        _units.read([units], [keys], [1], [b"p"], "electricity_daily", bytes(15))
    # The one stored unit is a byte, not a sealed item: it cannot authenticate.
    with pytest.raises(_units.RejectedError):
        _units.read([units], [keys], [1], [b"p"], "electricity_daily", block)
    assert _units.read([units], [keys], [1], [b"p"], "gas_daily", block) == []
    assert _units.read([], [], [], [], "electricity_daily", block) == []
