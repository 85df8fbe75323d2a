"""Validation and gap estimation of cumulative daily registers, column-wise (pure, no I/O).

Rules (the *why* of each number is in its constant's comment):

* Per connection and meter series, registers never decrease from one reading to the next; a
  meter exchange starts a new, higher ``series`` number, and a series never goes back in time.
* The average daily increase between consecutive readings stays within the connection's limit:
  the lower of what the capacity can physically deliver in a day and ``SJV_FACTOR`` times the
  busiest day the annual consumption (SJV) predicts. Feed-in is bounded by the solar kWp.
* A customer's own reading must also be close to expectation: the use since the previous
  reading may not exceed ``CUSTOMER_FACTOR`` times the profile-expected use plus a margin.
* The same reading twice is a duplicate; a different value for a stored day is a new version;
  an estimate never replaces a measured value.
* Days between two accepted readings of one series are filled with estimates that split the
  increase over the days by profile shares (see :mod:`meterkast.readings.profiles`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.readings.columns import KEY_DAY_LIMIT, DailyColumns, find
from meterkast.readings.estimation import Shares, estimates_between, product_shares, versioned
from meterkast.readings.ports import ConnectionFact, FactColumns
from meterkast.readings.profiles import MONTH_SHARES

VOLTS = 230
# A day with ten times the busiest expected day is not a household pattern but an error.
SJV_FACTOR = 10.0
# Floors so a tiny or missing SJV does not reject ordinary use: 24 kWh, 10 m3 a day.
FLOOR_PER_DAY = {Product.ELECTRICITY: 24_000.0, Product.GAS: 10_000.0}
# Feed-in per kWp on the sunniest day is about 7 kWh; 8 leaves room, plus 2 kWh for noise.
EXPORT_WH_PER_KWP_DAY = 8_000.0
EXPORT_FLOOR_WH = 2_000.0
# A customer reading may show up to three times the expected use, plus 5 % of the SJV.
CUSTOMER_FACTOR = 3.0
CUSTOMER_MARGIN = 0.05
UNIT_PER_ANNUAL = {Product.ELECTRICITY: 1000.0, Product.GAS: 1000.0}  # kWh->Wh, m3->dm3

SHARES_ORIGIN = np.datetime64("2000-01-01")
NEW, DUPLICATE, REJECTED = 0, 1, 2
# Facts as columns aligned to sorted int64 EANs (what ConnectionFacts.lookup_columns gives).
FactsByEan = tuple[np.ndarray, FactColumns]
ESTIMATED = ReadingQuality.ESTIMATED.value
CUSTOMER = ReadingSource.CUSTOMER.value


@dataclass
class Limits:
    """Per-EAN daily bounds, aligned to an array of EANs."""

    import_per_day: np.ndarray
    export_per_day: np.ndarray
    annual: np.ndarray  # SJV in Wh or dm3


def limits_for(product: Product, facts: Sequence[ConnectionFact]) -> Limits:
    return limits_of(product, FactColumns.of(product, list(facts)))


def limits_of(product: Product, facts: FactColumns) -> Limits:
    """The daily bounds of connections given as fact columns (unknown ones: zeros)."""
    peak_share = float((MONTH_SHARES[product] / 31.0).max() * 31.0 / 28.0)  # busiest day
    unit = UNIT_PER_ANNUAL[product]
    annual = facts.expected_annual * unit
    if product is Product.ELECTRICITY:
        capacity = (facts.capacity_amps * facts.phases * VOLTS) * 24.0
    else:
        capacity = facts.gas_max_m3h * 24.0 * unit
    capacity = np.where(capacity > 0, capacity, np.inf)  # unknown capacity: SJV bound only
    by_sjv = np.maximum(SJV_FACTOR * annual * peak_share, FLOOR_PER_DAY[product])
    export = np.minimum(capacity, facts.solar_kwp * EXPORT_WH_PER_KWP_DAY + EXPORT_FLOOR_WH)
    return Limits(np.minimum(capacity, by_sjv), export, annual)


@dataclass
class Decision:
    status: np.ndarray  # per incoming row: NEW, DUPLICATE or REJECTED
    version: np.ndarray  # version to store for NEW rows
    reasons: dict[int, str] = field(default_factory=dict)
    estimates: DailyColumns | None = None


def decide(
    product: Product,
    incoming: DailyColumns,
    stored: DailyColumns,
    facts: Mapping[str, ConnectionFact] | FactsByEan,
    export_rows: tuple[int, ...],
    register_names: tuple[str, ...],
) -> Decision:
    """Decide on every incoming row against the stored rows (all versions) of its connections.

    Checks compare with the latest version of each day; idempotence compares with every stored
    version, so replaying an old batch after a correction changes nothing. ``facts`` maps
    18-digit EANs to facts, or gives them as columns aligned to sorted int64 EANs.
    """
    n = len(incoming)
    status = np.zeros(n, dtype=np.int8)
    version = np.ones(n, dtype=np.int64)
    reasons: dict[int, str] = {}

    def reject(rows: np.ndarray, reason: str) -> None:
        for row in rows.tolist():
            if status[row] != REJECTED:
                status[row] = REJECTED
                reasons[row] = reason

    # One integer code per EAN across both sides, and one integer key per (EAN, day).
    all_eans, codes = np.unique(np.concatenate([stored.ean, incoming.ean]), return_inverse=True)
    s_code, i_code = codes[: len(stored)], codes[len(stored) :]
    latest_rows = _latest_rows(s_code, stored)
    existing, e_code = stored.take(latest_rows), s_code[latest_rows]
    if isinstance(facts, tuple):
        columns = _aligned(facts, all_eans)
    else:
        columns = FactColumns.of(product, [facts.get(f"{e:018d}") for e in all_eans.tolist()])
    known = columns.known
    limits = limits_of(product, columns)
    limit_index = np.arange(all_eans.size)

    reject(np.flatnonzero(~known[i_code]), f"unknown {product.value} connection")
    reject(np.flatnonzero((incoming.registers < 0).any(axis=0)), "negative register value")
    reject(np.flatnonzero(incoming.series < 1), "series must be 1 or higher")
    e_key = e_code * KEY_DAY_LIMIT + existing.day.astype(np.int64)
    i_key = i_code * KEY_DAY_LIMIT + incoming.day.astype(np.int64)

    def values_at(index: np.ndarray) -> np.ndarray:
        """Registers and series of some incoming rows (not of all: a batch is large)."""
        return np.vstack([incoming.registers[:, index], incoming.series[None, index]])

    # The same day twice in one batch: identical is a duplicate, different is refused.
    order = np.argsort(i_key, kind="stable")
    repeat = np.flatnonzero(i_key[order][1:] == i_key[order][:-1])
    for position in repeat.tolist():
        first, second = order[position], order[position + 1]
        if (values_at(np.array([first])) == values_at(np.array([second]))).all():
            status[second] = max(status[second], DUPLICATE)
        else:
            reject(np.array([second]), "two different readings for the same day in one batch")

    # The same reading (values and source) already stored in any version is a duplicate.
    # Only rows whose day is stored at all can be one (usually few): compare just those.
    s_key = s_code * KEY_DAY_LIMIT + stored.day.astype(np.int64)
    on_stored_day = np.flatnonzero(_member(i_key, s_key))
    if on_stored_day.size:
        pool = np.flatnonzero(_member(s_key, i_key[on_stored_day]))
        already = _rows_in(
            _signature(i_code[on_stored_day], incoming.take(on_stored_day)),
            _signature(s_code[pool], stored.take(pool)),
        )
        hit_rows = on_stored_day[already]
        status[hit_rows[status[hit_rows] == NEW]] = DUPLICATE

    # Against the latest version: identical is a duplicate, different is a new version.
    match = find(e_key, i_key)
    hit = match >= 0
    rows = np.flatnonzero(hit)
    if rows.size:
        m = match[rows]
        values_ex = np.vstack([existing.registers[:, m], existing.series[None, m]])
        same = (values_ex == values_at(rows)).all(axis=0)
        dup = rows[same & (status[rows] == NEW)]
        status[dup] = DUPLICATE
        measured_there = existing.quality[m] != ReadingQuality.ESTIMATED.value
        reject(
            rows[~same & measured_there & (incoming.quality[rows] == ESTIMATED)],
            "an estimate cannot replace a measured reading",
        )
        version[rows] = existing.version[m] + 1

    # Consecutive-reading checks over the anchors (non-estimated stored rows and candidates).
    first_day = min(
        incoming.day.min() if n else np.datetime64("2000-01-01"),
        existing.day.min() if len(existing) else np.datetime64("2100-01-01"),
    )
    last_day = max(
        incoming.day.max() if n else np.datetime64("2000-01-01"),
        existing.day.max() if len(existing) else np.datetime64("1970-01-01"),
    )
    profile = product_shares(product, export_rows, registers=incoming.registers.shape[0])
    # A fixed origin: a span's share (a difference of cumulative sums) then does not depend on
    # which other rows happen to be in the batch, to the last bit (estimates are floored).
    shares = [Shares(min(SHARES_ORIGIN, first_day), last_day, s) for s in profile]
    measured_stored = existing.quality != ReadingQuality.ESTIMATED.value
    for _round in range(10):
        candidates = np.flatnonzero(status == NEW)
        everyone = candidates.size == n  # the usual case: no copies of whole-batch columns

        def pick(
            column: np.ndarray, everyone: bool = everyone, rows: np.ndarray = candidates
        ) -> np.ndarray:
            return column if everyone else column[..., rows]

        replaced = np.zeros(len(existing), dtype=bool)
        replaced[pick(match)[pick(match) >= 0]] = True
        stored_anchor = measured_stored & ~replaced
        anchors_e = np.flatnonzero(stored_anchor)
        a_code = np.concatenate([e_code[anchors_e], pick(i_code)])
        a_day = np.concatenate([existing.day[anchors_e], pick(incoming.day)])
        a_series = np.concatenate([existing.series[anchors_e], pick(incoming.series)])
        a_row = np.concatenate([np.full(anchors_e.size, -1), candidates])  # incoming row or -1
        a_customer = np.concatenate(
            [np.zeros(anchors_e.size, bool), pick(incoming.source) == CUSTOMER]
        )
        # One int64 key sorts by EAN then day; the inputs are sorted runs, which timsort likes.
        order = np.argsort(a_code * KEY_DAY_LIMIT + a_day.astype(np.int64), kind="stable")
        a_code, a_day, a_series = a_code[order], a_day[order], a_series[order]
        a_row, a_customer = a_row[order], a_customer[order]
        # The registers in that order, written in place (no stacked copy, no gathers per pair).
        a_regs = _in_order(order, existing.registers[:, anchors_e], pick(incoming.registers))
        # Adjacent rows are compared; only pairs of one connection with an incoming reading on
        # either side count. Rules are evaluated over every adjacent position (views, no
        # gathers) and masked with ``pair``.
        pair = (a_code[1:] == a_code[:-1]) & ((a_row[1:] >= 0) | (a_row[:-1] >= 0))
        why = np.zeros(pair.size, dtype=np.int8)  # 0: fine, else 1 + index into messages
        messages: list[str] = []

        same = pair & (a_series[1:] == a_series[:-1])
        _flag(
            why,
            messages,
            pair & (a_series[1:] < a_series[:-1]),
            "series number lower than an earlier reading's (meter exchange order)",
        )
        days = (a_day[1:] - a_day[:-1]).astype(np.int64)
        imports = [k for k in range(len(register_names)) if k not in export_rows]
        used = np.zeros(pair.size, dtype=np.int64)
        fed = np.zeros(pair.size, dtype=np.int64) if export_rows else used
        for k, name in enumerate(register_names):
            delta = a_regs[k, 1:] - a_regs[k, :-1]
            _flag(
                why,
                messages,
                same & (delta < 0),
                f"{name} lower than the previous reading (same meter series)",
            )
            np.add(used if k in imports else fed, delta, out=used if k in imports else fed)
        lim_pos = limit_index[a_code[1:]]
        _flag(
            why,
            messages,
            same & (used > limits.import_per_day[lim_pos] * days),
            "implausible consumption for the connection's capacity and SJV",
        )
        if export_rows:
            _flag(
                why,
                messages,
                same & (fed > limits.export_per_day[lim_pos] * days),
                "implausible feed-in for the connection's production capacity",
            )
        customer = np.flatnonzero(a_customer[1:] & same)
        if customer.size:
            annual = limits.annual[lim_pos[customer]]
            expected = annual * shares[imports[0]].span(a_day[customer], a_day[customer + 1])
            over = np.zeros(pair.size, dtype=bool)
            over[customer] = used[customer] > CUSTOMER_FACTOR * expected + CUSTOMER_MARGIN * annual
            _flag(
                why,
                messages,
                over,
                "customer reading implausible: use since the last reading far above expected",
            )
        bad = np.flatnonzero(why > 0)
        blamed = np.where(a_row[bad + 1] >= 0, a_row[bad + 1], a_row[bad])
        if not bad.size:
            break
        for row, code in zip(blamed.tolist(), why[bad].tolist(), strict=True):
            reject(np.array([row]), messages[code - 1])

    gap = np.flatnonzero(same & (days > 1))
    estimates = estimates_between(
        all_eans[a_code[gap]],
        a_day[gap],
        a_day[gap + 1],
        a_series[gap],
        a_regs[:, gap],
        a_regs[:, gap + 1],
        shares,
    )
    return Decision(status, version, reasons, versioned(estimates, existing, e_key, all_eans))


def _aligned(facts: FactsByEan, eans: np.ndarray) -> FactColumns:
    """Fact columns for ``eans`` from columns of other (sorted) EANs; missing ones unknown."""
    known_eans, columns = facts
    pos = np.minimum(np.searchsorted(known_eans, eans), max(known_eans.size - 1, 0))
    hit = known_eans[pos] == eans if known_eans.size else np.zeros(eans.size, dtype=bool)

    def pick(values: np.ndarray) -> np.ndarray:
        return np.where(hit, values[pos], 0) if values.size else np.zeros(eans.size, values.dtype)

    return FactColumns(
        pick(columns.known).astype(bool),
        pick(columns.expected_annual),
        pick(columns.capacity_amps),
        pick(columns.phases),
        pick(columns.gas_max_m3h),
        pick(columns.solar_kwp),
    )


def _latest_rows(code: np.ndarray, rows: DailyColumns) -> np.ndarray:
    """Indices of the highest version of each (EAN code, day)."""
    order = np.lexsort((rows.version, rows.day.astype(np.int64), code))
    key = code[order] * KEY_DAY_LIMIT + rows.day[order].astype(np.int64)
    last = np.ones(order.size, dtype=bool)
    last[:-1] = key[1:] != key[:-1]
    result: np.ndarray = order[last]
    return result


_SOURCES = np.array(sorted(s.value for s in ReadingSource))


def _signature(code: np.ndarray, rows: DailyColumns) -> np.ndarray:
    """One integer row per reading: what makes two readings 'the same reading'."""
    source = np.searchsorted(_SOURCES, rows.source)
    parts = [code, rows.day.astype(np.int64), *rows.registers, rows.series, source]
    return np.stack([np.asarray(p, dtype=np.int64) for p in parts], axis=1)


def _rows_in(wanted: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """For each row of ``wanted``, whether ``pool`` holds an identical row."""
    if pool.shape[0] == 0 or wanted.shape[0] == 0:
        return np.zeros(wanted.shape[0], dtype=bool)
    _, inverse = np.unique(np.vstack([pool, wanted]), axis=0, return_inverse=True)
    inverse = inverse.ravel()
    return np.isin(inverse[pool.shape[0] :], inverse[: pool.shape[0]])


def _flag(why: np.ndarray, messages: list[str], mask: np.ndarray, message: str) -> None:
    """Mark pairs failing a rule (the first failed rule is the reason given)."""
    messages.append(message)
    why[mask & (why == 0)] = len(messages)


def _member(wanted: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """For each wanted key, whether ``keys`` holds it (sort + binary search; no hashing)."""
    if keys.size == 0:
        return np.zeros(wanted.size, dtype=bool)
    ordered = np.sort(keys, kind="stable")
    pos = np.minimum(np.searchsorted(ordered, wanted), ordered.size - 1)
    result: np.ndarray = ordered[pos] == wanted
    return result


def _in_order(order: np.ndarray, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The columns of ``first`` then ``second`` (2-D, same rows) rearranged by ``order``:
    each part is scattered to its sorted places, one pass, no stacked copy in between."""
    total = first.shape[1] + second.shape[1]
    result = np.empty((first.shape[0], total), dtype=np.result_type(first, second))
    place = np.empty(total, dtype=np.int64)
    place[order] = np.arange(total)
    split = first.shape[1]
    to_first, to_second = place[:split], place[split:]
    for k in range(first.shape[0]):  # row by row: 1-D scatters are several times faster
        result[k][to_first] = first[k]
        result[k][to_second] = second[k]
    return result
