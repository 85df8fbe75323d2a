"""The nightly cycle with a fake crypto-server (real AES-GCM) and simulated meters."""

from __future__ import annotations

import hashlib
import itertools
from datetime import date, timedelta

import pytest
from sqlalchemy.engine import Engine

from meterkast.acquisition.decoding import fast_read, generic_read, request_apdu
from meterkast.acquisition.domain import ReadJob, plan_job, targets_from
from meterkast.db.migrate import upgrade
from meterkast.dlms import Suite0Cipher, xdlms
from meterkast.dlms.axdr import Num, Tag
from meterkast.dlms.clock import encode_clock, local_midnight
from meterkast.fleet.memory import MeterState
from meterkast.fleet.meter import SimulatedMeter
from meterkast.kernel.codes import (
    FrameRejection,
    MeterEvent,
    MeterEventLog,
    ReadingChoice,
    ReadOutcome,
)
from meterkast.kernel.errors import DomainError
from tests.fleet_world import Grants, World, ean, household_connections

DAY = date(2026, 3, 1)


@pytest.fixture
def db(sqlite_engine: Engine) -> Engine:
    upgrade(sqlite_engine)
    return sqlite_engine


def test_reading_choice_is_honoured(db: Engine) -> None:
    off_from = DAY - timedelta(days=3)
    world = World(
        db,
        household_connections(1)
        + household_connections(2, choice=ReadingChoice.ADMINISTRATIVELY_OFF, choice_from=off_from)
        + household_connections(3, choice=ReadingChoice.NO_SMART_METER)
        + household_connections(4, smart=False),
    )
    world.read(DAY - timedelta(days=5))
    world.read(DAY)
    assert world.electricity_days(ean(1)) == [DAY - timedelta(days=5 - k) for k in range(6)]
    assert world.gas_days(ean(1, gas=True)) == world.electricity_days(ean(1))
    # Read before the choice took effect, and never after: the backfill skips the "off" days.
    assert world.electricity_days(ean(2)) == [DAY - timedelta(days=k) for k in (5, 4)]
    assert world.gas_days(ean(2, gas=True)) == world.electricity_days(ean(2))
    assert world.electricity_days(ean(3)) == [] == world.electricity_days(ean(4))
    world.read(DAY + timedelta(days=1))
    # One exchange a night per meter; meters whose choice forbids reading are not contacted.
    counters = {s: m.state.invocation_counter for s, m in world.meters.items()}
    assert counters == {"EKFM0000000001": 3, "EKFM0000000002": 2, "EKFM0000000003": 0}
    assert world.store.outcomes()["EKFM0000000002"] is ReadOutcome.NOTHING_TO_READ
    assert "EKFM0000000004" not in world.meters  # a conventional meter is no simulated meter


def test_backfill_after_a_ten_day_outage_loses_nothing(db: Engine) -> None:
    world = World(db, household_connections(1, solar=True))
    world.read(DAY)
    world.read(DAY + timedelta(days=11))  # the head-end was down for ten nights
    days = [DAY + timedelta(days=k) for k in range(12)]
    assert world.electricity_days(ean(1)) == days
    assert world.gas_days(ean(1, gas=True)) == days
    rows = [world.sink.electricity[(ean(1), d)] for d in days]
    for before, after in itertools.pairwise(rows):
        assert after.import_t1_wh >= before.import_t1_wh
        assert after.export_t2_wh >= before.export_t2_wh
    assert sum(r.export_t1_wh + r.export_t2_wh for r in rows[-1:]) > 0
    progress = world.store.progress()
    assert progress["EKFM0000000001"].day == days[-1]
    assert progress["GKFM0000000001"].day == days[-1]
    gas = world.sink.gas[(ean(1, gas=True), days[-1])]
    assert progress["GKFM0000000001"].values == (gas.volume_dm3,)


def test_backfill_stops_at_the_meters_forty_days(db: Engine) -> None:
    world = World(db, household_connections(1, gas=False))
    world.read(DAY)
    world.read(DAY + timedelta(days=60))
    got = world.electricity_days(ean(1))
    assert got[0] == DAY and got[1] == DAY + timedelta(days=21) and len(got) == 41


def test_a_range_reads_each_night_and_rerunning_reads_nothing_twice(db: Engine) -> None:
    world = World(db, household_connections(1))
    world.read(DAY, DAY + timedelta(days=2))
    assert len(world.electricity_days(ean(1))) == 3
    world.read(DAY + timedelta(days=2))
    assert world.store.outcomes()["EKFM0000000001"] is ReadOutcome.NOTHING_TO_READ


def test_intervals_only_for_granted_connections(db: Engine) -> None:
    world = World(db, household_connections(1) + household_connections(2),
                  grants=Grants({ean(1), ean(2, gas=True)}))  # fmt: skip
    world.read(DAY)
    by_ean: dict[str, int] = {}
    for e, _start in world.sink.intervals:
        by_ean[str(e)] = by_ean.get(str(e), 0) + 1
    assert by_ean == {ean(1): 96, ean(2, gas=True): 24}
    values = [v for (e, _s), v in world.sink.intervals.items() if e == ean(1)]
    day_total = sum(v.value for v in values)
    registers = [world.sink.electricity[(ean(1), DAY)]]
    assert day_total > 0 and registers[0].import_t1_wh > 0


class TamperingLink:
    """Passes frames to the real meters and spoils the answer of one meter."""

    def __init__(self, world: World, victim: str, how: str) -> None:
        self.world, self.victim, self.how = world, victim, how
        self.sent: list[bytes] = []
        self.kept: bytes | None = None

    def exchange(self, meter_id: str, frame: bytes) -> bytes:
        answer = self.world.pool.exchange(meter_id, frame)
        if meter_id != self.victim:
            return answer
        spoiled = self._spoil(answer)
        self.sent.append(spoiled)
        return spoiled

    def _spoil(self, answer: bytes) -> bytes:
        meter = self.world.meters[self.victim]
        if self.how == "bad_tag":
            return answer[:-1] + bytes((answer[-1] ^ 1,))
        if self.how == "malformed":
            return answer[:20]
        if self.how == "replay":
            assert self.kept is not None
            return self.kept
        plain = xdlms.encode_get_response(1, [self.victim.encode()], with_list=False)
        s = meter.state
        if self.how == "wrong_key":
            return Suite0Cipher(bytes(16), s.keys.authentication).seal_general_glo(
                s.system_title, s.invocation_counter + 1, plain
            )
        if self.how == "wrong_system_title":
            title = b"LGF" + s.system_title[3:]
            return _cipher(s).seal_general_glo(title, s.invocation_counter + 1, plain)
        assert self.how == "lowered_counter"
        return _cipher(s).seal_general_glo(s.system_title, 1, plain)


def _cipher(state: MeterState) -> Suite0Cipher:
    return Suite0Cipher(state.keys.encryption, state.keys.authentication)


@pytest.mark.parametrize(
    ("how", "reason"),
    [("bad_tag", FrameRejection.BAD_TAG), ("wrong_key", FrameRejection.BAD_TAG),
     ("replay", FrameRejection.REPLAY), ("lowered_counter", FrameRejection.REPLAY),
     ("wrong_system_title", FrameRejection.WRONG_SYSTEM_TITLE),
     ("malformed", FrameRejection.MALFORMED)],
)  # fmt: skip
def test_rejected_frames_store_nothing_and_raise_a_security_event(
    db: Engine, how: str, reason: FrameRejection
) -> None:
    world = World(db, household_connections(1) + household_connections(2))
    world.read(DAY - timedelta(days=1))  # a genuine night first: counters are in use
    link = TamperingLink(world, "EKFM0000000002", how)
    if how == "replay":
        link.kept = _genuine_answer(world)
    world.link = link
    stored_before = set(world.sink.electricity)
    world.read(DAY)
    assert (ean(2), DAY) not in world.sink.electricity
    assert (ean(2, gas=True), DAY) not in world.sink.gas
    assert (ean(1), DAY) in world.sink.electricity  # the other meter is unaffected
    assert set(world.sink.electricity) - stored_before == {(ean(1), DAY)}
    events = world.store.security_events()
    assert [(e.meter_id, e.reason) for e in events] == [("EKFM0000000002", reason)]
    assert events[0].frame_sha256 == hashlib.sha256(link.sent[-1]).hexdigest()
    assert world.store.outcomes()["EKFM0000000002"] is ReadOutcome.REJECTED


def _genuine_answer(world: World) -> bytes:
    """An answer the victim really sent earlier (its counter is already used up)."""
    session = world.crypto.session("EKFM0000000002")
    request = session.protect(xdlms.encode_get_request(1, [xdlms.GetItem(xdlms.EQUIPMENT_ID)]))
    answer = world.pool.exchange("EKFM0000000002", request)
    session.unprotect(answer)  # the head-end has seen this counter
    return answer


def test_an_answer_from_another_meter_is_invalid_and_not_stored(db: Engine) -> None:
    world = World(db, household_connections(1) + household_connections(2))

    class Swapped:
        def exchange(self, meter_id: str, frame: bytes) -> bytes:
            meter = world.meters[meter_id]
            plain = xdlms.encode_get_response(1, [b"EKFM0000000009"], with_list=False)
            return meter.respond(plain)

    world.link = Swapped()
    world.read(DAY)
    assert world.sink.electricity == {}
    assert set(world.store.outcomes().values()) == {ReadOutcome.INVALID}
    assert world.store.security_events() == []


def _job_and_answer(db: Engine, days_back: int) -> tuple[World, ReadJob, bytes, SimulatedMeter]:
    world = World(db, household_connections(1, solar=True))
    world.read(DAY - timedelta(days=days_back))
    world.night_of(DAY)
    target = targets_from(world.connections)[0]
    progress = world.store.progress()
    job = plan_job(target, DAY, progress["EKFM0000000001"], progress["GKFM0000000001"],
                   lambda _d: frozenset())  # fmt: skip
    meter = world.meters["EKFM0000000001"]
    request = world.crypto.session(target.serial).protect(request_apdu(job))
    answer = world.crypto.session(target.serial).unprotect(meter.answer(request, world.now) or b"")
    return world, job, answer, meter


def test_fast_and_generic_decoders_agree(db: Engine) -> None:
    _world, job, answer, _meter = _job_and_answer(db, 3)
    fast = fast_read(job, answer)
    assert fast is not None and len(fast.electricity) == 3 == len(fast.gas)
    assert fast == generic_read(job, answer)
    # Another valid encoding of the same answer (a register as long64-unsigned) takes the slow
    # path. (A long-form length is no longer one: meterkast.dlms accepts only the shortest.)
    _invoke, results = xdlms.decode_get_response(answer)
    daily = results[1]
    assert isinstance(daily, list) and isinstance(daily[0], tuple)
    first = daily[0]
    assert isinstance(first[1], Num)
    daily[0] = (first[0], Num(Tag.LONG64_UNSIGNED, first[1].value), *first[2:])
    relaxed = xdlms.encode_get_response(1, results, with_list=True)
    assert fast_read(job, bytes(relaxed)) is None
    assert generic_read(job, bytes(relaxed)) == fast


@pytest.mark.parametrize("spoil", ["falling", "unasked_day", "other_meter", "truncated"])
def test_both_decoders_refuse_the_same_answers(db: Engine, spoil: str) -> None:
    _world, job, answer, meter = _job_and_answer(db, 2)
    _invoke, results = xdlms.decode_get_response(answer)
    daily = results[1]
    assert isinstance(daily, list) and isinstance(daily[0], tuple)
    if spoil == "falling":
        first = daily[0]
        daily[0] = (first[0], Num(Tag.DOUBLE_LONG_UNSIGNED, 0), *first[2:])
    elif spoil == "unasked_day":
        daily[0] = (encode_clock(local_midnight(DAY + timedelta(days=5))), *daily[0][1:])
    elif spoil == "other_meter":
        results[0] = b"EKFM0000000002"
    raw = xdlms.encode_get_response(1, results, with_list=True)
    if spoil == "truncated":
        raw = raw[:-3]
    assert fast_read(job, raw) is None
    with pytest.raises(DomainError):
        generic_read(job, raw)
    assert meter.state.serial == "EKFM0000000001"


def test_a_meter_without_keys_is_a_security_event_not_a_crash(db: Engine) -> None:
    world = World(db, household_connections(1) + household_connections(2))
    del world.crypto.meters["EKFM0000000002"]  # never provisioned at the crypto-server
    world.read(DAY)
    assert (ean(1), DAY) in world.sink.electricity
    events = world.store.security_events()
    assert [(e.meter_id, e.reason) for e in events] == [
        ("EKFM0000000002", FrameRejection.UNKNOWN_METER)
    ]
    assert events[0].frame_sha256 == hashlib.sha256(b"").hexdigest()


def test_meters_drop_replayed_forged_and_garbled_requests(db: Engine) -> None:
    world = World(db, household_connections(1))
    session = world.crypto.session("EKFM0000000001")
    request = session.protect(xdlms.encode_get_request(1, [xdlms.GetItem(xdlms.EQUIPMENT_ID)]))
    meter = world.meters["EKFM0000000001"]
    assert meter.answer(request, world.now) is not None
    forged = session.protect(b"\xc0\x01\xc1")[:-1] + b"\x00"
    assert meter.answer(request, world.now) is None  # replayed
    assert meter.answer(forged, world.now) is None  # tag does not verify
    assert meter.answer(b"\xdb\x08", world.now) is None  # not even a frame
    log = [e.event for e in meter.state.events[MeterEventLog.COMMUNICATION]]
    assert log == [MeterEvent.REPLAY_ATTEMPT, MeterEvent.DECRYPTION_FAILURE,
                   MeterEvent.MALFORMED_REQUEST]  # fmt: skip
    silent = World(db, household_connections(2))
    silent.pool.meters.clear()  # nobody answers
    silent.read(DAY)
    assert silent.store.outcomes()["EKFM0000000002"] is ReadOutcome.NO_RESPONSE
