"""The bulk (column-wise) decoder against the per-meter decoders: same rows, same verdicts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterkast.acquisition.adapters.memory_sink import InMemoryReadingsSink
from meterkast.acquisition.batch import (
    electricity_rows,
    gas_rows,
    hand_over_batch,
    receive_batch,
)
from meterkast.acquisition.columnar import decode_group, layout_of
from meterkast.acquisition.decoding import fast_read, request_apdu
from meterkast.acquisition.domain import Progress, ReadJob, ReadTarget, plan_job
from meterkast.dlms import xdlms
from meterkast.dlms.axdr import Num, Tag
from meterkast.dlms.clock import encode_clock, local_midnight
from meterkast.fleet.household import Household
from meterkast.fleet.memory import MeterKeys, MeterState
from meterkast.fleet.meter import SimulatedMeter, system_title_for
from meterkast.kernel.codes import ProfileCategory, ReadOutcome
from meterkast.readings.api import IntakeResult
from meterkast.readings.frames import electricity_table
from meterkast.readings.schema import Dataset
from tests.fleet_world import ean

DAY = date(2026, 3, 1)
AT = local_midnight(DAY) + timedelta(hours=2)
CLIENT = b"MKS\x00\x00\x00\x00\x01"


class _Plain:
    """A session whose frames are the plaintext itself (verification is tested elsewhere)."""

    meter_id = "x"
    client_system_title = CLIENT

    def protect(self, plaintext_apdu: bytes) -> bytes:
        return plaintext_apdu

    def unprotect(self, frame: bytes) -> bytes:
        return frame


def _answer(n: int, gas: bool, days_back: int) -> tuple[ReadJob, bytes]:
    serial = f"EKFM{n:010d}"
    household = Household.for_connection(
        n * 7919, DAY - timedelta(days=300), ProfileCategory.E1B, 3.0 if n % 3 else 0.0,
        ProfileCategory.G1A if gas else None,
    )  # fmt: skip
    state = MeterState(serial, ean(n), system_title_for(serial), household,
                       MeterKeys(bytes(16), bytes(16), bytes(16)),
                       f"GKFM{n:010d}" if gas else None)  # fmt: skip
    meter = SimulatedMeter(state)
    before = DAY - timedelta(days=days_back)
    registers = household.registers_on([before])[0].tolist()
    target = ReadTarget(serial, ean(n), (), state.gas_serial, ean(n, gas=True) if gas else None)
    job = plan_job(target, DAY, Progress(before, tuple(registers[:4])),
                   Progress(before, (registers[4],)) if gas else None,
                   lambda _d: frozenset())  # fmt: skip
    state.advance(AT)
    results = [meter._get(item) for item in job.items]
    return job, xdlms.encode_get_response(1, results, with_list=True)


meters = st.lists(
    st.tuples(st.integers(1, 10**6), st.booleans(), st.integers(1, 5)),
    min_size=1, max_size=12, unique_by=lambda m: m[0],
)  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(meters)
def test_bulk_and_per_meter_decoders_give_the_same_rows(spec: list[tuple[int, bool, int]]) -> None:
    answers = [_answer(n, gas, back) for n, gas, back in spec]
    batch = receive_batch([(job, _Plain(), raw) for job, raw in answers], [], AT)
    assert not batch.reads and not batch.failed  # every canonical answer went in bulk
    expected = [fast_read(job, raw) for job, raw in answers]
    assert all(e is not None for e in expected)
    got_e = sorted((r for g in batch.groups if g.electricity is not None
                    for r in electricity_rows(g.electricity)), key=_key)  # fmt: skip
    want_e = sorted((r for e in expected if e is not None for r in e.electricity), key=_key)
    assert got_e == want_e
    got_g = sorted((r.ean, r.day, r.volume_dm3, r.captured_at) for g in batch.groups
                   if g.gas is not None for r in gas_rows(g.gas))  # fmt: skip
    want_g = sorted((r.ean, r.day, r.volume_dm3, r.captured_at)
                    for e in expected if e is not None for r in e.gas)  # fmt: skip
    assert got_g == want_g
    progress = {j.target.serial: p for g in batch.groups
                for j, p in zip(g.jobs, g.e_progress or [], strict=True)}  # fmt: skip
    for (job, _raw), e in zip(answers, expected, strict=True):
        assert e is not None
        assert progress[job.target.serial] == e.e_progress


def _key(row: object) -> tuple[str, date]:
    return (getattr(row, "ean"), getattr(row, "day"))  # noqa: B009


SPOILS = ["falling", "unasked_day", "other_meter", "long64", "short", "bad_capture"]


@pytest.mark.parametrize("spoil", SPOILS)
def test_a_spoiled_answer_leaves_the_bulk_path_and_gets_the_per_meter_verdict(spoil: str) -> None:
    answers = [_answer(n, True, 2) for n in range(1, 6)]
    job, raw = answers[2]
    _invoke, results = xdlms.decode_get_response(raw)
    daily, gas = results[1], results[2]
    assert isinstance(daily, list) and isinstance(daily[0], tuple)
    assert isinstance(gas, list) and isinstance(gas[0], tuple)
    first = daily[0]
    if spoil == "falling":
        daily[0] = (first[0], Num(Tag.DOUBLE_LONG_UNSIGNED, 0), *first[2:])
    elif spoil == "unasked_day":
        daily[0] = (encode_clock(local_midnight(DAY + timedelta(days=5))), *first[1:])
    elif spoil == "other_meter":
        results[0] = b"EKFM0000000099"
    elif spoil == "long64":  # valid, only not canonical: stored through the per-meter path
        assert isinstance(first[1], Num)
        daily[0] = (first[0], Num(Tag.LONG64_UNSIGNED, first[1].value), *first[2:])
    elif spoil == "short":  # the meter has the first day only: valid too
        results[1] = daily[:1]
    else:
        gas[0] = (gas[0][0], bytes(12), *gas[0][2:])
    answers[2] = (job, xdlms.encode_get_response(1, results, with_list=True))
    batch = receive_batch([(j, _Plain(), r) for j, r in answers], [], AT)
    assert sum(len(g.jobs) for g in batch.groups) == 4
    valid = spoil in ("long64", "short")
    assert [j.target.serial for j, _read in batch.reads] == ([job.target.serial] if valid else [])
    assert [u.outcome for u in batch.failed] == ([] if valid else [ReadOutcome.INVALID])
    assert batch.outcomes[ReadOutcome.STORED] == (5 if valid else 4)


def test_layouts_with_interval_items_are_left_to_the_per_meter_path() -> None:
    job, _raw = _answer(1, False, 1)
    interval = plan_job(job.target, DAY, job.e_progress, None, lambda _d: frozenset({ean(1)}))
    assert layout_of(job) is not None and layout_of(interval) is None


def test_bulk_decoding_refuses_rows_that_do_not_fit_the_template() -> None:
    job, raw = _answer(1, True, 1)
    layout = layout_of(job)
    assert layout is not None and len(raw) == layout.length
    spoiled = bytearray(raw)
    spoiled[len(job.canonical_head) + 1] ^= 0x01  # the array tag of the first profile
    decoded, failed = decode_group(layout, [job, job], [raw, bytes(spoiled)])
    assert failed == [1] and len(decoded.jobs) == 1


class _Refusing(InMemoryReadingsSink):
    def add_daily_table(self, dataset: Dataset, table: pa.Table) -> IntakeResult:
        result = super().add_daily_table(dataset, table)
        if dataset is Dataset.ELECTRICITY_DAILY:
            return IntakeResult(result.stored - 1, result.duplicates, [(1, "no")])
        return result


def test_a_row_the_store_refuses_keeps_that_meter_behind_only() -> None:
    answers = [_answer(n, n % 2 == 0, 1) for n in range(1, 5)]
    batch = receive_batch([(j, _Plain(), r) for j, r in answers], [], AT)
    handed = hand_over_batch(batch, _Refusing(), AT)
    outcomes = {u.meter_serial: (u.outcome, u.progress is not None) for u in handed.updates}
    refused = [s for s, (o, _p) in outcomes.items() if o is ReadOutcome.INVALID]
    assert len(refused) == 1
    assert all(
        moved for s, (o, moved) in outcomes.items() if s.startswith("E") and s not in refused
    )


def test_the_memory_sink_counts_repeats_across_and_within_tables() -> None:
    sink = InMemoryReadingsSink()
    _job, raw = _answer(1, False, 1)
    rows = list((fast_read(_job, raw) or _never()).electricity)
    first = sink.add_daily_table(Dataset.ELECTRICITY_DAILY, electricity_table(rows + rows))
    assert (first.stored, first.duplicates) == (1, 1)
    again = sink.add_electricity_daily(rows)
    assert (again.stored, again.duplicates) == (0, 1)
    assert list(sink.electricity.values()) == rows


def _never() -> object:
    raise AssertionError("the canonical answer decodes")


def test_capture_times_are_utc_instants() -> None:
    _job, raw = _answer(2, True, 1)
    batch = receive_batch([(_job, _Plain(), raw)], [], AT)
    (group,) = batch.groups
    assert group.gas is not None
    (row,) = gas_rows(group.gas)
    assert row.captured_at == local_midnight(DAY) and row.captured_at.tzinfo is not None
    assert row.captured_at.astimezone(UTC) == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    assert request_apdu(_job)  # the job is a real one


def test_the_collector_pauses_for_a_batch_and_comes_back() -> None:
    import gc

    from meterkast.acquisition.batch import collector_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("a batch failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()
