"""The crypto-server on SQLite and PostgreSQL: provisioning, sessions, counters, locks."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.dlms import wrap_key
from meterkast.kernel.codes import FrameRejection, KeyType, MeterType
from meterkast.kernel.errors import ConflictError
from meterkast.keys.adapters.master_key import LocalKeyEncryptionProvider
from meterkast.keys.api import FrameRejectedError
from meterkast.keys.domain import KeyRing, MeterKeysLockedError
from meterkast.keys.service import KeyService
from tests.integration.fake_meter import FakeLink, FakeMeter

TRANSPORT = bytes(range(100, 116))
CLIENT_TITLE = bytes.fromhex("4D4B530000000001")
KEK = LocalKeyEncryptionProvider(os.urandom(32), "test")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def server(engine: Engine, clock: Clock | None = None, link: FakeLink | None = None) -> KeyService:
    return KeyService(engine, KEK, clock or Clock(), CLIENT_TITLE, meter_link=link, counter_block=8)


def provisioned(keys: KeyService, meter_id: str, meter_type: MeterType) -> FakeMeter:
    title = b"FAK" + int(meter_id[1:]).to_bytes(5, "big")
    meter = FakeMeter(meter_id, title)
    meter.load(TRANSPORT, keys.provision(meter_id, meter_type, title, TRANSPORT))
    return meter


def test_provisioning_ships_the_key_set_under_the_transport_key(engine: Engine) -> None:
    keys = server(engine)
    electricity = provisioned(keys, "E1", MeterType.ELECTRICITY)
    gas = provisioned(keys, "G2", MeterType.GAS)
    assert set(electricity.keys) == {KeyType.MASTER, KeyType.AUTHENTICATION, KeyType.ENCRYPTION}
    assert set(gas.keys) == {KeyType.MASTER, KeyType.ENCRYPTION}
    assert len(set(electricity.ever_held + gas.ever_held)) == 5
    with pytest.raises(ConflictError):
        keys.provision("E1", MeterType.ELECTRICITY, b"OTHER001", TRANSPORT)


@pytest.mark.parametrize("meter_type", list(MeterType))
def test_session_accepts_meter_frames_and_rejects_replays(
    engine: Engine, meter_type: MeterType
) -> None:
    keys = server(engine)
    meter = provisioned(keys, "M7", meter_type)
    session = keys.session("M7")
    first, second = meter.respond(b"reading 1"), meter.respond(b"reading 2")
    assert session.unprotect(second) == b"reading 2"
    with pytest.raises(FrameRejectedError) as caught:
        session.unprotect(first)  # older counter
    assert caught.value.reason is FrameRejection.REPLAY
    with pytest.raises(FrameRejectedError) as caught:
        session.unprotect(second)
    assert caught.value.reason is FrameRejection.REPLAY


def test_session_rejects_tampering_and_foreign_titles(engine: Engine) -> None:
    keys = server(engine)
    meter = provisioned(keys, "E3", MeterType.ELECTRICITY)
    other = provisioned(keys, "E4", MeterType.ELECTRICITY)
    session = keys.session("E3")
    frame = bytearray(meter.respond(b"x" * 300))
    frame[40] ^= 1
    cases = {
        FrameRejection.BAD_TAG: bytes(frame),
        FrameRejection.WRONG_SYSTEM_TITLE: other.respond(b"x"),
        FrameRejection.MALFORMED: b"\xdb\x08" + bytes(10),
    }
    for reason, bad in cases.items():
        with pytest.raises(FrameRejectedError) as caught:
            session.unprotect(bad)
        assert caught.value.reason is reason
    with pytest.raises(FrameRejectedError) as caught:
        keys.session("E999")
    assert caught.value.reason is FrameRejection.UNKNOWN_METER


def test_counters_survive_a_restart_after_flush(engine: Engine) -> None:
    keys = server(engine)
    meter = provisioned(keys, "E5", MeterType.ELECTRICITY)
    old = meter.respond(b"old")
    keys.session("E5").unprotect(old)
    keys.flush()
    restarted = server(engine)
    with pytest.raises(FrameRejectedError) as caught:
        restarted.session("E5").unprotect(old)
    assert caught.value.reason is FrameRejection.REPLAY
    assert restarted.session("E5").unprotect(meter.respond(b"new")) == b"new"


def test_requests_never_reuse_a_counter_across_restarts(engine: Engine) -> None:
    keys = server(engine)
    meter = provisioned(keys, "E6", MeterType.ELECTRICITY)
    link = FakeLink()
    link.add(meter)
    for _ in range(3):
        assert link.probe("E6", keys.session("E6"))
    # A new process (no flush) continues above the reserved block: the meter still answers.
    assert link.probe("E6", server(engine).session("E6"))
    assert meter.last_request >= 8


def test_the_lock_has_one_owner_until_it_expires(engine: Engine) -> None:
    clock = Clock()
    first, second = server(engine, clock), server(engine, clock)
    provisioned(first, "E8", MeterType.ELECTRICITY)
    with first.locked("E8"):
        with pytest.raises(MeterKeysLockedError), second.locked("E8"):
            pass
        clock.now += timedelta(minutes=10)  # the first holder's lock has expired
        with second.locked("E8"):
            pass
    with second.locked("E8"):
        pass


def test_database_refuses_a_second_new_key(engine: Engine) -> None:
    keys = server(engine)
    provisioned(keys, "E9", MeterType.ELECTRICITY)
    keys.store_new(keys.load("E9").ring, KeyType.ENCRYPTION)
    blank = KeyRing("E9", MeterType.ELECTRICITY, ())  # skips the domain check: the DB must hold
    with pytest.raises(sa.exc.IntegrityError):
        keys.store_new(blank, KeyType.ENCRYPTION)
    assert keys.load("E9").ring.pending(KeyType.ENCRYPTION) is not None


def test_transfer_wrap_uses_the_meters_master_key(engine: Engine) -> None:
    keys = server(engine)
    meter = provisioned(keys, "E10", MeterType.ELECTRICITY)
    ring, record = keys.store_new(keys.load("E10").ring, KeyType.AUTHENTICATION)
    wrapped = keys.transfer_wrapped(ring, record)
    meter.accept_transfer(KeyType.AUTHENTICATION, wrapped)
    assert wrap_key(meter.keys[KeyType.MASTER], meter.keys[KeyType.AUTHENTICATION]) == wrapped


def test_sessions_in_a_batch(engine: Engine) -> None:
    keys = server(engine)
    meters = {m: provisioned(keys, m, MeterType.ELECTRICITY) for m in ("E11", "E12")}
    found = keys.sessions(["E11", "E12", "E404"])
    assert set(found) == {"E11", "E12"}
    for meter_id, session in found.items():
        assert session.unprotect(meters[meter_id].respond(b"r")) == b"r"


def test_a_new_session_learns_counters_flushed_by_another_process(engine: Engine) -> None:
    first, second = server(engine), server(engine)
    meter = provisioned(first, "E13", MeterType.ELECTRICITY)
    first.session("E13")  # first caches the meter's counters
    early = meter.respond(b"early")
    second.session("E13").unprotect(meter.respond(b"late"))
    second.flush()
    with pytest.raises(FrameRejectedError) as caught:
        first.session("E13").unprotect(early)
    assert caught.value.reason is FrameRejection.REPLAY
