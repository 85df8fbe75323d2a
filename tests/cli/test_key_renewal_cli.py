"""The whole renewal on one instance through the CLI: generate, build the fleet, read, renew the
keys of the real simulated meters, read every meter again with the new keys - and then scan the
whole instance folder, the logs and every command's output for plaintext key bytes."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from meterkast.bootstrap import App
from meterkast.cli import app
from meterkast.cli.context import app_state
from meterkast.dlms.clock import local_midnight
from meterkast.keys.adapters.sql import data_keys, meter_keys
from meterkast.keys.datakeys import DataKeys

AS_OF = date(2026, 11, 29)
runner = CliRunner()


class Clock:
    def __init__(self) -> None:
        self.now = local_midnight(date(2026, 11, 30)) + timedelta(hours=3)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def instance(home: Path) -> Iterator[tuple[App, Clock]]:
    app_state.cache_clear()
    current, clock = app_state(), Clock()
    current.clock = clock
    yield current, clock
    current.close()
    app_state.cache_clear()


def forms(key: bytes) -> list[bytes]:
    b64 = base64.b64encode(key)
    return [key, key.hex().encode(), key.hex().upper().encode(), b64, b64.rstrip(b"=")]


def leaks(secrets: list[bytes], haystack: bytes) -> int:
    return sum(any(f in haystack for f in forms(key)) for key in secrets)


def test_renewal_of_the_real_fleet_leaks_nothing(
    instance: tuple[App, Clock],
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    state, clock = instance
    caplog.set_level(logging.DEBUG)
    deks: list[bytes] = []  # every file key the Parquet writer asked to have wrapped
    original_wrap = DataKeys.data_key_wrap

    def recording_wrap(self: DataKeys, key_id: str, plaintext_dek: bytes) -> bytes:
        deks.append(plaintext_dek)
        return original_wrap(self, key_id, plaintext_dek)

    monkeypatch.setattr(DataKeys, "data_key_wrap", recording_wrap)
    outputs: list[Result] = []

    def run(*args: str) -> Result:
        result = runner.invoke(app, list(args))
        outputs.append(result)
        assert result.exit_code == 0, result.output
        return result

    def json_of(*args: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(run(*args, "--format", "json").stdout)
        return loaded

    run("init")
    run("generate", "--connections", "24", "--seed", "5", "--as-of", AS_OF.isoformat())
    built = json_of("fleet", "build")
    meters = built["created"]
    assert isinstance(meters, int) and meters > 15
    first = json_of("read", "--date", "2026-11-30")
    readable = first["stored"]
    assert isinstance(readable, int) and readable >= meters - 2
    keys_before = state.fleet.state_of(_a_serial(state)).keys

    clock.now += timedelta(days=1)
    renewal = json_of("keys", "rotate", "--older-than", "0d")
    assert renewal["failed"] == 0 and renewal["renewed"] == renewal["due"]
    assert renewal["due"] == meters + built["with_gas"]  # every E meter and every gas meter
    second = json_of("read", "--date", "2026-12-01")
    assert (second["stored"], second["rejected"], second["no_response"]) == (readable, 0, 0)
    keys_after = state.fleet.state_of(_a_serial(state)).keys
    assert keys_after.encryption != keys_before.encryption
    status = json.loads(run("keys", "status", "--format", "json").stdout)
    counts = {(r["meter_type"], r["key_type"], r["status"]): r["count"] for r in status}
    assert counts[("electricity", "encryption", "expired")] == meters
    assert counts[("electricity", "authentication", "expired")] == meters
    assert counts[("gas", "encryption", "expired")] == built["with_gas"]
    run("keys", "status")
    state.keys.flush()

    # Every key there is or was: the crypto-server's records (all statuses), the month keys,
    # the file keys, and the master key itself.
    master = state.master_key
    with state.engine.connect() as conn:
        secrets = [
            master.unwrap(w) for w in conn.execute(sa.select(meter_keys.c.wrapped)).scalars()
        ]
        months = [
            master.unwrap(w)
            for w in conn.execute(sa.select(data_keys.c.wrapped)).scalars()
            if w is not None
        ]
    assert len(secrets) == 2 * (3 * meters + 2 * built["with_gas"]) - meters - built["with_gas"]
    assert months and deks
    master_bytes = (home / "keys" / "master.key").read_bytes()
    secrets += months + deks
    state.close()

    files = [p for p in home.rglob("*") if p.is_file()]
    assert {p.relative_to(home).parts[0] for p in files} >= {"meterkast.db", "fleet", "readings"}
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        content = path.read_bytes()
        assert leaks(secrets, content) == 0, path
        if path.name != "master.key":  # the one place the master key lives (mode 0600)
            assert leaks([master_bytes], content) == 0, path
    assert leaks(secrets, b"x" + secrets[3].hex().encode()) == 1  # the scan bites
    said = "".join(o.output for o in outputs).encode() + caplog.text.encode()
    assert leaks([*secrets, master_bytes], said) == 0


def _a_serial(state: App) -> str:
    with state.engine.connect() as conn:
        return str(
            conn.execute(
                sa.text("SELECT serial FROM fleet_meters ORDER BY serial LIMIT 1")
            ).scalar_one()
        )
