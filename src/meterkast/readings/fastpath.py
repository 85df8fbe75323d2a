"""The usual intake batch decided in one compiled pass; anything else by :func:`decide`.

An *ordered forward batch* has its rows ordered by connection and day (each day once) and, per
connection, at most one stored row, a measured one, before the first day it brings: what the
anchors of :mod:`.anchors` give for the next days of daily readings. Then there are no
duplicates or versions to find, every pair of neighbouring readings blames its later one, and
the rules of :func:`.validation.decide` reduce to one walk per connection (``_checks.c``). The
decision is the same as ``decide``'s to the last bit (held by property tests); a batch outside
the preconditions, or one the kernel finds needs more of decide's rounds, goes to ``decide``.
"""

from __future__ import annotations

import numpy as np

from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.readings._checks import check_forward
from meterkast.readings.columns import DailyColumns
from meterkast.readings.estimation import Shares, estimates_between, product_shares
from meterkast.readings.ports import FactColumns
from meterkast.readings.validation import (
    NEW,
    REJECTED,
    SHARES_ORIGIN,
    Decision,
    decide,
    limits_of,
)

# The kernel's reason codes (see _checks.c); 8 + k is "register k decreased".
_REASONS = {
    1: "unknown {product} connection",
    2: "negative register value",
    3: "series must be 1 or higher",
    4: "series number lower than an earlier reading's (meter exchange order)",
    5: "implausible consumption for the connection's capacity and SJV",
    6: "implausible feed-in for the connection's production capacity",
    7: "customer reading implausible: use since the last reading far above expected",
}
_REGISTER_LOWER = 8
_ESTIMATED = ReadingQuality.ESTIMATED.value
_CUSTOMER = ReadingSource.CUSTOMER.value


def decide_batch(
    product: Product,
    incoming: DailyColumns,
    stored: DailyColumns,
    eans: np.ndarray,
    facts: FactColumns,
    export_rows: tuple[int, ...],
    register_names: tuple[str, ...],
) -> Decision:
    """Decide on a batch: the compiled pass when it applies, else :func:`decide`.

    ``eans`` are the batch's distinct EANs (sorted int64) and ``facts`` their fact columns.
    """
    fast = decide_forward(product, incoming, stored, eans, facts, export_rows, register_names)
    if fast is not None:
        return fast
    return decide(product, incoming, stored, (eans, facts), export_rows, register_names)


def decide_forward(
    product: Product,
    incoming: DailyColumns,
    stored: DailyColumns,
    eans: np.ndarray,
    facts: FactColumns,
    export_rows: tuple[int, ...],
    register_names: tuple[str, ...],
) -> Decision | None:
    """The decision on an ordered forward batch, or None when ``incoming`` is not one."""
    n = len(incoming)
    if n == 0 or not _one_measured_row_each(stored):
        return None
    stored_row = np.full(eans.size, -1, dtype=np.int64)
    if len(stored):
        pos = np.minimum(np.searchsorted(eans, stored.ean), eans.size - 1)
        mine = eans[pos] == stored.ean  # stored rows of other connections play no part
        stored_row[pos[mine]] = np.flatnonzero(mine)
    limits = limits_of(product, facts)
    imports = [k for k in range(len(register_names)) if k not in export_rows]
    customer = incoming.source == _CUSTOMER
    shares = _shares(product, incoming, stored, export_rows, register_names)
    import_shares = shares[imports[0]]
    status = np.empty(n, dtype=np.int8)
    previous = np.empty(n, dtype=np.int64)
    forward = check_forward(
        ean=np.ascontiguousarray(incoming.ean, dtype=np.int64),
        day=_day_numbers(incoming.day),
        series=np.ascontiguousarray(incoming.series, dtype=np.int64),
        registers=np.ascontiguousarray(incoming.registers, dtype=np.int64),
        customer=customer,
        is_import=np.isin(np.arange(len(register_names)), imports),
        known=np.ascontiguousarray(facts.known, dtype=bool),
        import_limit=np.ascontiguousarray(limits.import_per_day, dtype=np.float64),
        export_limit=np.ascontiguousarray(limits.export_per_day, dtype=np.float64),
        annual=np.ascontiguousarray(limits.annual, dtype=np.float64),
        stored_row=stored_row,
        stored_day=_day_numbers(stored.day),
        stored_series=np.ascontiguousarray(stored.series, dtype=np.int64),
        stored_registers=np.ascontiguousarray(stored.registers, dtype=np.int64),
        shares=import_shares.cumulative,
        shares_origin=int(import_shares.first.astype(np.int64)),
        status=status,
        previous=previous,
    )
    if not forward:
        return None
    rejected = np.flatnonzero(status != 0)
    reasons = {
        row: _reason(code, product, register_names)
        for row, code in zip(rejected.tolist(), status[rejected].tolist(), strict=True)
    }
    decision = np.where(status == 0, NEW, REJECTED).astype(np.int8)
    estimates = _estimates(incoming, stored, previous, shares)
    return Decision(decision, np.ones(n, dtype=np.int64), reasons, estimates)


def _one_measured_row_each(stored: DailyColumns) -> bool:
    """At most one stored row per connection, and a measured (or corrected) one."""
    if not len(stored):
        return True
    increasing = stored.ean.size < 2 or bool(np.all(stored.ean[1:] > stored.ean[:-1]))
    return increasing and not bool(np.any(stored.quality == _ESTIMATED))


def _shares(
    product: Product,
    incoming: DailyColumns,
    stored: DailyColumns,
    export_rows: tuple[int, ...],
    register_names: tuple[str, ...],
) -> list[Shares]:
    """The profile shares over the same day range decide uses (the same floats)."""
    first = incoming.day.min() if not len(stored) else min(incoming.day.min(), stored.day.min())
    last = incoming.day.max() if not len(stored) else max(incoming.day.max(), stored.day.max())
    profile = product_shares(product, export_rows, registers=len(register_names))
    return [Shares(min(SHARES_ORIGIN, first), last, s) for s in profile]


def _estimates(
    incoming: DailyColumns,
    stored: DailyColumns,
    previous: np.ndarray,
    shares: list[Shares],
) -> DailyColumns:
    """Estimates for the days between each accepted reading after a gap and its anchor."""
    later = np.flatnonzero(previous != -1)  # the kernel marks only those (few, usually none)
    earlier = previous[later]
    from_stored = earlier < -1
    stored_at = np.where(from_stored, -2 - earlier, 0)
    row_at = np.where(from_stored, 0, earlier)

    def before(incoming_values: np.ndarray, stored_values: np.ndarray) -> np.ndarray:
        if not from_stored.any():
            return incoming_values[..., row_at]
        return np.where(from_stored, stored_values[..., stored_at], incoming_values[..., row_at])

    return estimates_between(
        incoming.ean[later],
        before(incoming.day, stored.day),
        incoming.day[later],
        incoming.series[later],
        before(incoming.registers, stored.registers),
        incoming.registers[:, later],
        shares,
    )


def _day_numbers(days: np.ndarray) -> np.ndarray:
    """Days since 1970 as int64 (a view when the days already are datetime64[D])."""
    return np.ascontiguousarray(days.astype("datetime64[D]", copy=False)).view(np.int64)


def _reason(code: int, product: Product, register_names: tuple[str, ...]) -> str:
    if code >= _REGISTER_LOWER:
        name = register_names[code - _REGISTER_LOWER]
        return f"{name} lower than the previous reading (same meter series)"
    return _REASONS[code].format(product=product.value)
