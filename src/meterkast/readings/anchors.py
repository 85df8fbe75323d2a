"""What intake compares a batch with, taken from the months' summaries of last rows (pure).

Validation of a reading needs, per connection, the stored rows on the batch's days (duplicates,
versions) and the nearest stored reading before and after (register checks, gap estimates).
When every day a connection brings lies after its last stored row, and that row is a measured
or corrected one, that row alone is all validation can use: the decision is the same as with
the connection's whole months, without reading them. Every other connection (backfill,
corrections, a last row that is an estimate) still gets its stored rows read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from meterkast.kernel.codes import ReadingQuality
from meterkast.readings.blobs import CODES, SUMMARY, merge_last
from meterkast.readings.columns import DailyColumns
from meterkast.readings.schema import Dataset

_SOURCES = np.array(CODES["source"].to_pylist())
_QUALITIES = np.array(CODES["quality"].to_pylist())
_ESTIMATED = int(np.flatnonzero(ReadingQuality.ESTIMATED.value == _QUALITIES)[0])


@dataclass(frozen=True, slots=True)
class Anchors:
    rows: DailyColumns  # the last rows of the connections that need nothing else
    others: np.ndarray  # int64 EANs whose stored rows must still be read


def from_summaries(
    dataset: Dataset,
    registers: Sequence[str],
    summaries: Sequence[np.ndarray],
    incoming: DailyColumns,
) -> Anchors:
    """Split the batch's connections into those the summaries settle and the others."""
    last = merge_last(dataset, summaries) if summaries else np.empty(0, SUMMARY[dataset])
    eans, first = _first_days(incoming)
    pos = np.minimum(np.searchsorted(last["ean"], eans), max(last.size - 1, 0))
    found = (
        (pos < last.size) & (last["ean"][pos] == eans) if last.size else np.zeros(eans.size, bool)
    )
    rows = last[pos[found]] if last.size else last
    ahead = (rows["day"].astype(np.int64) < first[found]) & (rows["quality"] != _ESTIMATED)
    settled = rows[ahead]
    others = eans[found][~ahead]
    return Anchors(
        DailyColumns(
            ean=settled["ean"].astype(np.int64),
            day=settled["day"].astype("datetime64[D]"),
            series=settled["series"].astype(np.int64),
            registers=np.vstack([settled[r].astype(np.int64) for r in registers]).reshape(
                len(registers), settled.size
            ),
            source=_SOURCES[settled["source"]],
            quality=_QUALITIES[settled["quality"]],
            version=settled["version"].astype(np.int64),
        ),
        others,
    )


def _first_days(incoming: DailyColumns) -> tuple[np.ndarray, np.ndarray]:
    """The distinct EANs of the batch (sorted) and the first day each one brings."""
    ean, day = incoming.ean, incoming.day.astype(np.int64)
    if ean.size > 1 and not bool(np.all(ean[1:] >= ean[:-1])):
        order = np.argsort(ean, kind="stable")
        ean, day = ean[order], day[order]
    if ean.size == 0:
        return ean, day
    starts = np.concatenate([[0], np.flatnonzero(ean[1:] != ean[:-1]) + 1])
    return ean[starts], np.minimum.reduceat(day, starts)
