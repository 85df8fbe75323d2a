"""Validating against the months' last-row summaries decides exactly as reading the months."""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from meterkast.kernel.codes import ReadingQuality, ReadingSource
from meterkast.readings.api import ElectricityDaily, IntakeResult
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

from .conftest import E1, E2, make_service

START = date(2025, 11, 20)
KINDS = [
    (ReadingSource.REMOTE, ReadingQuality.MEASURED),
    (ReadingSource.CUSTOMER, ReadingQuality.MEASURED),
    (ReadingSource.CORRECTION, ReadingQuality.CORRECTED),
    (ReadingSource.ESTIMATE, ReadingQuality.ESTIMATED),
]
step = st.tuples(
    st.sampled_from([E1, E2]),
    st.integers(0, 200),  # days after START: up to seven months, with gaps and backfills
    st.integers(0, 3_000),
    st.sampled_from(KINDS),
)


def everything(service: ReadingsService) -> list[dict[str, object]]:
    parts = [
        service.month(Dataset.ELECTRICITY_DAILY, m, all_versions=True) for m in service.months()
    ]
    if not parts:
        return []
    table = pa.concat_tables(parts)
    return table.sort_by(
        [("ean", "ascending"), ("day", "ascending"), ("version", "ascending")]
    ).to_pylist()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example writes files: no shrinking
)
@given(st.lists(st.lists(step, min_size=1, max_size=8), min_size=1, max_size=7))
def test_summaries_and_full_months_give_the_same_decisions_and_content(
    batches: list[list[tuple[str, int, int, tuple[ReadingSource, ReadingQuality]]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        fast = make_service(Path(folder) / "fast", FakeDataKeyService())
        slow = make_service(Path(folder) / "slow", FakeDataKeyService())
        slow.use_summaries = False
        for batch in batches:
            rows = [
                ElectricityDaily(
                    ean, START + timedelta(days=d), 7_000 * d + jitter, 2_000 * d, 0, 0, *kind
                )
                for ean, d, jitter, kind in batch
            ]
            results: list[IntakeResult] = [s.add_electricity_daily(rows) for s in (fast, slow)]
            assert results[0] == results[1]
        assert everything(fast) == everything(slow)


def test_a_forward_batch_is_decided_from_the_summary_alone(service: ReadingsService) -> None:
    service.add_electricity_daily([ElectricityDaily(E1, START, 1_000, 0, 0, 0)])
    service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=20), 101_000, 0, 0, 0)]
    )
    december = date(2025, 12, 1)
    last = service._store.last_rows(Dataset.ELECTRICITY_DAILY, december)
    assert last is not None and last.size == 1
    assert int(last["import_t1_wh"][0]) == 101_000
    read: list[object] = []
    original = service._existing
    service._existing = lambda *a: read.append(a) or original(*a)  # type: ignore[method-assign]
    result = service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=25), 140_000, 0, 0, 0)]
    )
    assert (result.stored, result.estimated) == (1, 4)  # four days estimated between readings
    assert read == []  # no month was read
    backfill = service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=1), 4_000, 0, 0, 0)]
    )
    assert backfill.stored == 1 and len(read) == 1  # a backfill reads the connection's months
