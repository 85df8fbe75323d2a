"""Yearly renewal against fake meters, including changes broken half-way and recovered."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.kernel.codes import KeyStatus, KeyType, MeterType
from meterkast.keys.adapters.master_key import LocalKeyEncryptionProvider
from meterkast.keys.adapters.sql import meter_keys
from meterkast.keys.domain import Age
from meterkast.keys.rotation import KeyRotation
from meterkast.keys.service import KeyService
from tests.integration.fake_meter import FakeLink, FakeMeter

TRANSPORT = os.urandom(16)
KEK = LocalKeyEncryptionProvider(os.urandom(32), "test")
YEAR = Age.parse("12m")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def setup(engine: Engine, *meters: tuple[str, MeterType]) -> tuple[KeyService, FakeLink, Clock]:
    clock, link = Clock(), FakeLink()
    keys = KeyService(engine, KEK, clock, b"MKS\x00\x00\x00\x00\x01", meter_link=link)
    for number, (meter_id, meter_type) in enumerate(meters):
        meter = link.add(FakeMeter(meter_id, b"FAK\x00\x00\x00\x00" + bytes((number,))))
        meter.load(TRANSPORT, keys.provision(meter_id, meter_type, meter.system_title, TRANSPORT))
    clock.now += timedelta(days=400)
    return keys, link, clock


def statuses(engine: Engine, meter_id: str) -> dict[tuple[KeyType, KeyStatus], int]:
    query = (
        sa.select(meter_keys.c.key_type, meter_keys.c.status, sa.func.count())
        .where(meter_keys.c.meter_id == meter_id)
        .group_by(meter_keys.c.key_type, meter_keys.c.status)
    )
    with engine.connect() as conn:
        return {(KeyType(k), KeyStatus(s)): n for k, s, n in conn.execute(query)}


def works(keys: KeyService, link: FakeLink, meter_id: str) -> bool:
    session = keys.session(meter_id)  # may probe the meter first (recovery)
    return session.unprotect(link.meters[meter_id].respond(b"reading")) == b"reading"


def test_renewal_replaces_authentication_then_encryption_keys(engine: Engine) -> None:
    keys, link, clock = setup(engine, ("E1", MeterType.ELECTRICITY), ("G1", MeterType.GAS))
    before = dict(link.meters["E1"].keys)
    report = KeyRotation(keys, link, clock).rotate(YEAR)
    assert (report.due, report.renewed, report.failed) == (2, 2, 0)
    after = link.meters["E1"].keys
    assert after[KeyType.MASTER] == before[KeyType.MASTER]
    assert after[KeyType.AUTHENTICATION] != before[KeyType.AUTHENTICATION]
    assert after[KeyType.ENCRYPTION] != before[KeyType.ENCRYPTION]
    assert statuses(engine, "E1") == {
        (KeyType.MASTER, KeyStatus.ACTIVE): 1,
        (KeyType.AUTHENTICATION, KeyStatus.ACTIVE): 1,
        (KeyType.AUTHENTICATION, KeyStatus.EXPIRED): 1,
        (KeyType.ENCRYPTION, KeyStatus.ACTIVE): 1,
        (KeyType.ENCRYPTION, KeyStatus.EXPIRED): 1,
    }
    assert statuses(engine, "G1")[(KeyType.ENCRYPTION, KeyStatus.EXPIRED)] == 1
    assert works(keys, link, "E1")
    assert works(keys, link, "G1")
    # Fresh keys are not renewed again.
    assert KeyRotation(keys, link, clock).rotate(YEAR).due == 0


def test_meter_got_the_key_but_the_database_still_says_new(engine: Engine) -> None:
    keys, link, clock = setup(engine, ("E2", MeterType.ELECTRICITY))
    link.crash[("E2", KeyType.AUTHENTICATION)] = "after"
    report = KeyRotation(keys, link, clock).rotate(YEAR)
    assert report.failed == 1
    assert statuses(engine, "E2")[(KeyType.AUTHENTICATION, KeyStatus.NEW)] == 1
    # The next session tries NEW first, finds the meter answers on it, and activates it.
    assert works(keys, link, "E2")
    found = statuses(engine, "E2")
    assert (KeyType.AUTHENTICATION, KeyStatus.NEW) not in found
    assert found[(KeyType.AUTHENTICATION, KeyStatus.EXPIRED)] == 1
    # The renewal then finishes with the encryption key.
    assert KeyRotation(keys, link, clock).rotate(YEAR).renewed == 1
    assert statuses(engine, "E2")[(KeyType.ENCRYPTION, KeyStatus.EXPIRED)] == 1
    assert works(keys, link, "E2")


def test_meter_never_got_the_key_keeps_working_and_renewal_resumes(engine: Engine) -> None:
    keys, link, clock = setup(engine, ("E3", MeterType.ELECTRICITY))
    link.crash[("E3", KeyType.ENCRYPTION)] = "before"
    assert KeyRotation(keys, link, clock).rotate(YEAR).failed == 1
    pending = statuses(engine, "E3")
    assert pending[(KeyType.AUTHENTICATION, KeyStatus.EXPIRED)] == 1
    assert pending[(KeyType.ENCRYPTION, KeyStatus.NEW)] == 1
    assert works(keys, link, "E3")  # NEW fails, ACTIVE answers: nothing activated
    assert statuses(engine, "E3")[(KeyType.ENCRYPTION, KeyStatus.NEW)] == 1
    transfers = link.transfers
    assert KeyRotation(keys, link, clock).rotate(YEAR).renewed == 1
    assert link.transfers == transfers + 1  # the same NEW key, sent again
    assert statuses(engine, "E3")[(KeyType.ENCRYPTION, KeyStatus.EXPIRED)] == 1
    assert works(keys, link, "E3")


def test_a_refused_key_is_withdrawn(engine: Engine) -> None:
    keys, link, clock = setup(engine, ("G4", MeterType.GAS))
    link.refuse.add(("G4", KeyType.ENCRYPTION))
    assert KeyRotation(keys, link, clock).rotate(YEAR).failed == 1
    found = statuses(engine, "G4")
    assert found[(KeyType.ENCRYPTION, KeyStatus.WITHDRAWN)] == 1
    assert found[(KeyType.ENCRYPTION, KeyStatus.ACTIVE)] == 1
    assert works(keys, link, "G4")
