"""No plaintext key anywhere: database file, logs at DEBUG, CLI output, errors and reprs.

Runs provisioning, a renewal (one meter crashing half-way), recovery, data keys and the CLI on a
real instance folder, then scans every file in it for every key the fake meters ever held. The
same scan over a real fleet, readings and renewal is in tests/cli/test_key_renewal_cli.py.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from meterkast.bootstrap import App, bootstrap
from meterkast.cli import app as cli
from meterkast.dlms import unwrap_key
from meterkast.kernel.codes import KeyType, MeterType
from meterkast.kernel.errors import DomainError
from tests.integration.fake_meter import FakeLink, FakeMeter

TRANSPORT = os.urandom(16)


def forms(key: bytes) -> list[bytes]:
    return [
        key,
        key.hex().encode(),
        key.hex().upper().encode(),
        base64.b64encode(key),
        base64.b64encode(key).rstrip(b"="),
    ]


def leaks(secrets: list[bytes], haystack: bytes) -> list[str]:
    return sorted(
        {f"key #{n}" for n, key in enumerate(secrets) for f in forms(key) if f in haystack}
    )


def test_no_plaintext_key_leaks(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    link = FakeLink()
    state: App = bootstrap()
    state.meter_link = link
    state.init()
    monkeypatch.setattr("meterkast.cli.keys.app_state", lambda: state)
    keys = state.keys
    errors: list[BaseException] = []
    shown: list[str] = [repr(keys), repr(state.master_key), repr(state.data_keys)]

    for number, meter_type in enumerate([MeterType.ELECTRICITY, MeterType.GAS] * 3):
        meter = link.add(FakeMeter(f"M{number}", b"LEAK\x00\x00\x00" + bytes((number,))))
        shipped = keys.provision(meter.meter_id, meter_type, meter.system_title, TRANSPORT)
        shown.extend(repr(w) for w in shipped)
        meter.load(TRANSPORT, shipped)
    link.crash[("M0", KeyType.AUTHENTICATION)] = "after"
    link.crash[("M2", KeyType.ENCRYPTION)] = "before"

    runner = CliRunner()
    outputs = [runner.invoke(cli, ["keys", "rotate", "--older-than", "0d", "--format", "json"])]
    assert outputs[0].exit_code == 1  # two meters failed half-way
    assert json.loads(outputs[0].stdout) == {"due": 6, "renewed": 4, "locked": 0, "failed": 2}
    for meter in link.meters.values():
        session = keys.session(meter.meter_id)  # recovers M0 and M2
        shown.append(repr(session))
        assert session.unprotect(meter.respond(b"reading")) == b"reading"
        frame = bytearray(meter.respond(b"reading"))
        frame[-1] ^= 1
        with pytest.raises(DomainError) as caught:
            session.unprotect(bytes(frame))
        errors.append(caught.value)
    keys.flush()
    outputs.append(runner.invoke(cli, ["keys", "rotate", "--older-than", "0d"]))
    outputs.append(runner.invoke(cli, ["keys", "status", "--format", "json"]))
    outputs.append(runner.invoke(cli, ["keys", "status", "--format", "table"]))
    assert all(o.exit_code == 0 for o in outputs[1:]), [o.output for o in outputs]
    assert '"expired"' in outputs[2].output

    data_keys = state.data_keys
    data_keys.create_data_key("readings-2024-05")
    dek = os.urandom(16)
    wrapped_dek = data_keys.data_key_wrap("readings-2024-05", dek)
    month_key = data_keys._key("readings-2024-05")  # test-only peek, to scan for it
    data_keys.destroy_data_key("readings-2024-05")
    for attempt in (
        lambda: data_keys.data_key_unwrap("readings-2024-05", wrapped_dek),
        lambda: unwrap_key(TRANSPORT, wrapped_dek),
        lambda: keys.session("nope"),
    ):
        with pytest.raises(DomainError) as caught:
            attempt()
        errors.append(caught.value)

    secrets = [k for m in link.meters.values() for k in m.ever_held]
    secrets += [TRANSPORT, dek, month_key, (home / "keys" / "master.key").read_bytes()]
    assert len(secrets) > 30
    assert leaks(secrets, b"x" + base64.b64encode(secrets[5]) + b"y") == [
        "key #5"
    ]  # the scan bites
    state.close()

    database = b"".join(p.read_bytes() for p in home.glob("meterkast.db*"))
    assert b"master" in database  # the scan reads the real tables
    # Every file of the instance folder; the master key file holds the master key, and only it.
    master = secrets[-1]
    for path in (p for p in home.rglob("*") if p.is_file()):
        found = leaks(secrets if path.name != "master.key" else secrets[:-1], path.read_bytes())
        assert found == [], path
    assert leaks([master], database) == []
    assert leaks(secrets, caplog.text.encode()) == []
    assert "recovered an interrupted key change" in caplog.text
    assert leaks(secrets, "".join(o.output for o in outputs).encode()) == []
    assert leaks(secrets, "".join(f"{e!s}{e!r}" for e in errors).encode()) == []
    assert leaks(secrets, "".join(shown).encode()) == []
