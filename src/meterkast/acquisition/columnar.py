"""Decoding a batch of canonical answers at once, column by column.

Most answers of a night have one layout per kind of job (the same days asked, E meter with or
without gas): every byte but the meter's identifier, the register values and the gas capture
times is known in advance. Such answers are checked and decoded together with numpy: the fixed
bytes compared to a template, the registers gathered as big-endian integers, falling registers
and days already stored refused - the same checks the per-meter fast decoder makes. An answer
that fails any check is not judged here: it goes to the per-meter decoders, which alone decide
(and explain) what is wrong, so the verdicts stay exactly those of the per-meter path.

The result is an Arrow table per dataset for the readings store, with each row's meter.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from meterkast.acquisition.domain import Progress, ReadJob
from meterkast.dlms.clock import decode_clock
from meterkast.dlms.errors import AxdrError
from meterkast.kernel.codes import ReadingQuality, ReadingSource

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
_E_LEAD = bytes((0x02, 0x05, 0x09, 0x0C))  # structure(5){clock, 4 x double-long-unsigned}
_G_LEAD = bytes((0x02, 0x03, 0x09, 0x0C))  # structure(3){clock, capture time, volume}
_U32, _OCTETS_12 = 0x06, bytes((0x09, 0x0C))
_EPOCH = date(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_CACHE_LIMIT = 256
_new = tuple.__new__


@dataclass(frozen=True, slots=True)
class Layout:
    """Where everything sits in the canonical answer to one kind of job."""

    length: int
    head: int
    fixed: npt.NDArray[np.intp]  # offsets that must hold ``expected``
    expected: npt.NDArray[np.uint8]
    e_days: list[date]
    e_values: npt.NDArray[np.intp]  # 4 bytes per register, 4 registers per day
    g_days: list[date]
    g_values: npt.NDArray[np.intp]  # 4 bytes per day
    g_captures: npt.NDArray[np.intp]  # 12 bytes per day


_LAYOUTS: dict[int, Layout | None] = {}


def layout_of(job: ReadJob) -> Layout | None:
    """The job's canonical layout, or None when its answer cannot be decoded in bulk."""
    key = job.layout_key
    if key < 0:
        return _build(job)
    if key in _LAYOUTS:
        return _LAYOUTS[key]
    layout = _build(job)
    if len(_LAYOUTS) >= _CACHE_LIMIT:
        _LAYOUTS.clear()
    _LAYOUTS[key] = layout
    return layout


def _build(job: ReadJob) -> Layout | None:
    if len(job.items) >= 0x80 or (
        job.target.gas_ean is None and any(c == 1 for c, _ in job.fast_plan)
    ):
        return None
    template = bytearray(job.canonical_head)
    fixed = list(range(len(template)))
    e_days: list[date] = []
    g_days: list[date] = []
    e_values: list[int] = []
    g_values: list[int] = []
    g_captures: list[int] = []

    def put(raw: bytes) -> None:
        fixed.extend(range(len(template), len(template) + len(raw)))
        template.extend(raw)

    def skip(size: int, into: list[int]) -> None:
        into.extend(range(len(template), len(template) + size))
        template.extend(bytes(size))

    for code, clocks in job.fast_plan:
        if code == 2 or len(clocks) >= 0x80:
            return None
        put(bytes((0x00, 0x01, len(clocks))))
        for clock, day in sorted(clocks.items(), key=lambda item: item[1]):
            if code == 0:
                put(_E_LEAD + clock)
                for _ in range(4):
                    put(bytes((_U32,)))
                    skip(4, e_values)
                e_days.append(day)
            else:
                put(_G_LEAD + clock + _OCTETS_12)
                skip(12, g_captures)
                put(bytes((_U32,)))
                skip(4, g_values)
                g_days.append(day)
    for days in (e_days, g_days):
        if any(b <= a for a, b in itertools.pairwise(days)):
            return None  # days asked twice or out of order: leave it to the per-meter path
    head = len(job.canonical_head)
    rest = np.array(fixed[head:], np.intp)
    return Layout(
        len(template), head, rest, np.frombuffer(bytes(template), np.uint8)[rest],
        e_days, np.array(e_values, np.intp), g_days, np.array(g_values, np.intp),
        np.array(g_captures, np.intp),
    )  # fmt: skip


@dataclass(slots=True)
class Decoded:
    """The answers of one layout that passed every check (``ok``), decoded."""

    jobs: list[ReadJob]
    electricity: pa.Table | None
    gas: pa.Table | None
    e_owner: Ints  # per row: index into jobs
    g_owner: Ints
    # The new last readings per job; None where the layout asks no such days (nothing moved).
    e_progress: list[Progress] | None
    gas_progress: list[Progress] | None


def _u32(raw: npt.NDArray[np.uint8], offsets: npt.NDArray[np.intp]) -> Ints:
    b = raw[:, offsets].reshape(raw.shape[0], -1, 4).astype(np.int64)
    return (b[..., 0] << 24) | (b[..., 1] << 16) | (b[..., 2] << 8) | b[..., 3]


def _rising(previous: Ints, values: Ints) -> Mask:
    """Rows whose first day is after the stored one and whose registers never fall."""
    later: Mask = previous[:, 0] < values[:, 0, 0]
    steps = np.diff(np.concatenate([previous[:, None, 1:], values[:, :, 1:]], axis=1), axis=1)
    return later & (steps >= 0).all(axis=(1, 2))


def _captures(raw: npt.NDArray[np.uint8], offsets: npt.NDArray[np.intp]) -> tuple[Ints, Mask]:
    """Gas capture times in µs since the epoch (UTC), and which rows hold only valid clocks."""
    n = raw.shape[0]
    cells = np.ascontiguousarray(raw[:, offsets].reshape(-1, 12)).view("V12").ravel()
    unique, inverse = np.unique(cells, return_inverse=True)
    micros = np.zeros(len(unique), np.int64)
    valid = np.ones(len(unique), np.bool_)
    for k, cell in enumerate(unique):
        try:
            micros[k] = (decode_clock(cell.tobytes()) - _EPOCH_UTC) // timedelta(microseconds=1)
        except AxdrError:
            valid[k] = False
    rows_valid: Mask = np.asarray(valid[inverse].reshape(n, -1).all(axis=1))
    return micros[inverse].reshape(n, -1), rows_valid


def decode_group(
    layout: Layout, jobs: Sequence[ReadJob], plaintexts: Sequence[bytes]
) -> tuple[Decoded, list[int]]:
    """Decode answers of one layout (all ``layout.length`` long); also return the indexes of
    those that failed a check, for the per-meter decoders."""
    n = len(jobs)
    raw = np.frombuffer(b"".join(plaintexts), np.uint8).reshape(n, layout.length)
    heads = np.frombuffer(b"".join([j.canonical_head for j in jobs]), np.uint8)
    ok: Mask = (raw[:, : layout.head] == heads.reshape(n, layout.head)).all(axis=1)
    ok &= (raw[:, layout.fixed] == layout.expected).all(axis=1)
    de, dg = len(layout.e_days), len(layout.g_days)
    e_vals = g_vals = g_caps = None
    before = np.array([j.before for j in jobs], np.int64).reshape(n, 7)
    if de:
        e_vals = _u32(raw, layout.e_values).reshape(n, de, 4)
        days = np.array([d.toordinal() for d in layout.e_days], np.int64)
        stamped = np.concatenate([np.broadcast_to(days[None, :, None], (n, de, 1)), e_vals], 2)
        ok &= _rising(before[:, :5], stamped)
    if dg:
        g_vals = _u32(raw, layout.g_values).reshape(n, dg)
        days = np.array([d.toordinal() for d in layout.g_days], np.int64)
        stamped = np.stack([np.broadcast_to(days, (n, dg)), g_vals], axis=2)
        ok &= _rising(before[:, 5:], stamped)
        g_caps, clocks_ok = _captures(raw, layout.g_captures)
        ok &= clocks_ok  # (plan_job asks gas days only of a target with a gas EAN)
    keep = np.flatnonzero(ok)
    failed = np.flatnonzero(~ok).tolist()
    kept = list(jobs) if not failed else [jobs[i] for i in keep.tolist()]
    k = len(kept)
    decoded = Decoded(kept, None, None, np.repeat(np.arange(k), de), np.repeat(np.arange(k), dg),
                      None, None)  # fmt: skip
    if k and e_vals is not None:
        values = e_vals[keep]
        eans = [j.target.ean for j in kept]
        decoded.electricity = electricity_table(
            eans if de == 1 else [e for e in eans for _ in range(de)], _days(layout.e_days, k),
            values.reshape(-1, 4),
        )  # fmt: skip
        last = layout.e_days[-1]
        # tuple.__new__ skips the NamedTuple's Python-level constructor (once per meter).
        decoded.e_progress = [_new(Progress, (last, tuple(v))) for v in values[:, -1].tolist()]
    if k and g_vals is not None and g_caps is not None:
        volumes = g_vals[keep]
        eans = [str(j.target.gas_ean) for j in kept]
        decoded.gas = gas_table(
            eans if dg == 1 else [e for e in eans for _ in range(dg)], _days(layout.g_days, k),
            volumes.reshape(-1), g_caps[keep].reshape(-1),
        )  # fmt: skip
        last = layout.g_days[-1]
        decoded.gas_progress = [_new(Progress, (last, (v,))) for v in volumes[:, -1].tolist()]
    return decoded, failed


def _days(days: list[date], repeat: int) -> pa.Array:
    epoch_days = np.array([(d - _EPOCH).days for d in days], np.int32)
    return pa.array(np.tile(epoch_days, repeat), pa.date32())


def _constant(value: str, size: int) -> pa.Array:
    return pa.repeat(pa.scalar(value, pa.string()), size)


def electricity_table(eans: list[str], days: pa.Array, registers: Ints) -> pa.Table:
    """Remote, measured daily registers in the readings store's intake layout."""
    n = len(eans)
    return pa.table({
        "ean": pa.array(eans, pa.string()), "day": days,
        "series": pa.array(np.ones(n, np.int16)), "version": pa.array(np.zeros(n, np.int16)),
        "import_t1_wh": registers[:, 0], "import_t2_wh": registers[:, 1],
        "export_t1_wh": registers[:, 2], "export_t2_wh": registers[:, 3],
        "source": _constant(ReadingSource.REMOTE.value, n),
        "quality": _constant(ReadingQuality.MEASURED.value, n),
    })  # fmt: skip


def gas_table(eans: list[str], days: pa.Array, volumes: Ints, captured_us: Ints) -> pa.Table:
    n = len(eans)
    return pa.table({
        "ean": pa.array(eans, pa.string()), "day": days,
        "series": pa.array(np.ones(n, np.int16)), "version": pa.array(np.zeros(n, np.int16)),
        "volume_dm3": volumes,
        "captured_at": pa.array(captured_us, pa.timestamp("us", tz="UTC")),
        "source": _constant(ReadingSource.REMOTE.value, n),
        "quality": _constant(ReadingQuality.MEASURED.value, n),
    })  # fmt: skip
