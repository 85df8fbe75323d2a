"""A batch of meters' answers: verify each, decode in bulk where the layout allows, hand over.

Verification is per meter (each has its own keys and counters). Decoding goes column-wise for
the answers of a shared canonical layout (``acquisition.columnar``); every other answer, and
every one that fails a bulk check, takes the per-meter decoders, which give the verdict. The
readings go to the store as one Arrow table per dataset when the sink takes tables
(``readings.api.DailyTableSink``), else as records.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa

from meterkast.acquisition.columnar import Decoded, decode_group, layout_of
from meterkast.acquisition.decoding import fast_read, generic_read
from meterkast.acquisition.domain import (
    MeterRead,
    Progress,
    ProgressUpdate,
    ReadJob,
    SecurityEvent,
    frame_digest,
)
from meterkast.kernel.codes import ReadingQuality, ReadingSource, ReadOutcome
from meterkast.kernel.errors import DomainError
from meterkast.keys.api import FrameRejectedError, MeterSession
from meterkast.readings.api import (
    DailyTableSink,
    ElectricityDaily,
    GasDaily,
    IntakeResult,
    ReadingsSink,
)
from meterkast.readings.frames import electricity_table, gas_table
from meterkast.readings.schema import Dataset

_STORED = ReadOutcome.STORED
_new = tuple.__new__


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch runs.

    A batch makes tens of thousands of small objects that live exactly as long as the batch and
    hold no cycles (reference counting frees them); the cyclic collector would only scan them
    again and again (about 15 % of the head-end's time, measured). It runs as usual afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(slots=True)
class Batch:
    """What a batch of answers gave: reads decoded one by one, groups decoded in bulk, and the
    outcome of every answer."""

    reads: list[tuple[ReadJob, MeterRead]] = field(default_factory=list)
    groups: list[Decoded] = field(default_factory=list)
    outcomes: Counter[ReadOutcome] = field(default_factory=Counter)
    failed: list[ProgressUpdate] = field(default_factory=list)


def receive_batch(
    answers: Sequence[tuple[ReadJob, MeterSession, bytes]], events: list[SecurityEvent],
    at: datetime,
) -> Batch:  # fmt: skip
    """Verify every answer, then decode; rejected frames become security events."""
    batch = Batch()
    by_layout: dict[int, tuple[list[ReadJob], list[bytes]]] = {}
    single: list[tuple[ReadJob, bytes]] = []
    for job, session, frame in answers:
        try:
            plaintext = session.unprotect(frame)
        except FrameRejectedError as rejected:
            events.append(SecurityEvent(job.target.serial, at, rejected.reason,
                                        frame_digest(frame)))  # fmt: skip
            batch.failed.append(ProgressUpdate(job.target.serial, ReadOutcome.REJECTED, at, None))
            continue
        if job.layout_key < 0:  # not planned by plan_job: no layout known
            single.append((job, plaintext))
            continue
        group = by_layout.get(job.layout_key)
        if group is None:
            group = by_layout[job.layout_key] = ([], [])
        group[0].append(job)
        group[1].append(plaintext)
    for jobs, plaintexts in by_layout.values():
        layout = layout_of(jobs[0])
        if layout is None:
            single.extend(zip(jobs, plaintexts, strict=True))
            continue
        size = layout.length
        fits = [len(p) == size for p in plaintexts]
        if not all(fits):  # another length: not the canonical answer
            single.extend((j, p) for j, p, f in zip(jobs, plaintexts, fits, strict=True) if not f)
            jobs = [j for j, f in zip(jobs, fits, strict=True) if f]
            plaintexts = [p for p, f in zip(plaintexts, fits, strict=True) if f]
            if not jobs:
                continue
        decoded, failed = decode_group(layout, jobs, plaintexts)
        batch.groups.append(decoded)
        single.extend((jobs[i], plaintexts[i]) for i in failed)
    for job, plaintext in single:
        try:
            batch.reads.append((job, fast_read(job, plaintext) or generic_read(job, plaintext)))
        except DomainError:  # authentic, but unusable: nothing from it is stored
            batch.failed.append(ProgressUpdate(job.target.serial, ReadOutcome.INVALID, at, None))
    stored = len(batch.reads) + sum(len(g.jobs) for g in batch.groups)
    batch.outcomes[ReadOutcome.STORED] += stored
    for update in batch.failed:
        batch.outcomes[update.outcome] += 1
    return batch


@dataclass(slots=True)
class HandOver:
    electricity_rows: int = 0
    gas_rows: int = 0
    interval_rows: int = 0
    updates: list[ProgressUpdate] = field(default_factory=list)


def hand_over_batch(batch: Batch, sink: ReadingsSink, at: datetime) -> HandOver:
    """Give the batch to the readings store; progress moves only for meters fully taken."""
    e_parts: list[tuple[pa.Table, np.ndarray]] = []
    g_parts: list[tuple[pa.Table, np.ndarray]] = []
    e_rows = [row for _job, read in batch.reads for row in read.electricity]
    g_rows = [row for _job, read in batch.reads for row in read.gas]
    if e_rows:
        e_owners = [i for i, (_job, read) in enumerate(batch.reads) for _ in read.electricity]
        e_parts.append((electricity_table(e_rows), np.array(e_owners, np.int64)))
    if g_rows:
        g_owners = [i for i, (_job, read) in enumerate(batch.reads) for _ in read.gas]
        g_parts.append((gas_table(g_rows), np.array(g_owners, np.int64)))
    offsets = []
    offset = len(batch.reads)
    for group in batch.groups:
        offsets.append(offset)
        if group.electricity is not None:
            e_parts.append((group.electricity, group.e_owner + offset))
        if group.gas is not None:
            g_parts.append((group.gas, group.g_owner + offset))
        offset += len(group.jobs)
    result = HandOver()
    refused: set[int] = set()
    for dataset, parts in ((Dataset.ELECTRICITY_DAILY, e_parts), (Dataset.GAS_DAILY, g_parts)):
        if not parts:
            continue
        table = pa.concat_tables([t for t, _ in parts])
        intake = _add(sink, dataset, table)
        if dataset is Dataset.ELECTRICITY_DAILY:
            result.electricity_rows += intake.stored
        else:
            result.gas_rows += intake.stored
        if intake.rejected:  # map rows back to their meters only when needed
            owners = np.concatenate([o for _, o in parts])
            refused |= {int(owners[i]) for i, _reason in intake.rejected}
    intervals = [row for _job, read in batch.reads for row in read.intervals]
    if intervals:
        intake = sink.add_interval(intervals)
        result.interval_rows += intake.stored
        if intake.rejected:
            owners_list = [i for i, (_job, read) in enumerate(batch.reads) for _ in read.intervals]
            refused |= {owners_list[i] for i, _reason in intake.rejected}
    updates = result.updates
    for index, (job, read) in enumerate(batch.reads):
        _progress(updates, job, read.e_progress, read.gas_progress, at, index in refused)
    for start, group in zip(offsets, batch.groups, strict=True):
        jobs, count = group.jobs, len(group.jobs)
        if refused and any(start <= i < start + count for i in refused):
            e_list: Sequence[Progress | None] = group.e_progress or [j.e_progress for j in jobs]
            g_list: Sequence[Progress | None] = group.gas_progress or [j.gas_progress for j in jobs]
            for k, job in enumerate(jobs):
                _progress(updates, job, e_list[k], g_list[k], at, start + k in refused)
            continue
        # Every meter of a group was fully taken, and its registers moved where days were asked.
        e_moved: Sequence[Progress | None] = group.e_progress or [None] * count
        updates += [_new(ProgressUpdate, (job.target.serial, _STORED, at, moved))
                    for job, moved in zip(jobs, e_moved, strict=True)]  # fmt: skip
        g_moved: Sequence[Progress | None] = group.gas_progress or [None] * count
        updates += [_new(ProgressUpdate, (job.target.gas_serial, _STORED, at, moved))
                    for job, moved in zip(jobs, g_moved, strict=True)
                    if job.target.gas_serial is not None]  # fmt: skip
    return result


def _progress(
    updates: list[ProgressUpdate], job: ReadJob, e_progress: Progress | None,
    gas_progress: Progress | None, at: datetime, refused: bool,
) -> None:  # fmt: skip
    target = job.target
    if refused:
        updates.append(ProgressUpdate(target.serial, ReadOutcome.INVALID, at, None))
        return
    updates.append(ProgressUpdate(target.serial, _STORED, at, _moved(e_progress, job.e_progress)))
    if target.gas_serial is not None:
        gas = _moved(gas_progress, job.gas_progress)
        updates.append(ProgressUpdate(target.gas_serial, _STORED, at, gas))


def _moved(new: Progress | None, old: Progress | None) -> Progress | None:
    return new if new is not None and new != old else None


def _add(sink: ReadingsSink, dataset: Dataset, table: pa.Table) -> IntakeResult:
    if isinstance(sink, DailyTableSink):
        return sink.add_daily_table(dataset, table)
    if dataset is Dataset.ELECTRICITY_DAILY:
        return sink.add_electricity_daily(electricity_rows(table))
    return sink.add_gas_daily(gas_rows(table))


def electricity_rows(table: pa.Table) -> list[ElectricityDaily]:
    """Records of a daily electricity table (for sinks that take no tables)."""
    return [
        ElectricityDaily(
            r["ean"],
            r["day"],
            r["import_t1_wh"],
            r["import_t2_wh"],
            r["export_t1_wh"],
            r["export_t2_wh"],
            ReadingSource(r["source"]),
            ReadingQuality(r["quality"]),
            r["series"],
        )
        for r in table.to_pylist()
    ]


def gas_rows(table: pa.Table) -> list[GasDaily]:
    return [
        GasDaily(
            r["ean"],
            r["day"],
            r["volume_dm3"],
            r["captured_at"],
            ReadingSource(r["source"]),
            ReadingQuality(r["quality"]),
            r["series"],
        )
        for r in table.to_pylist()
    ]
