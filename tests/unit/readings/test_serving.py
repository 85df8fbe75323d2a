"""The serving blobs and the Parquet files never disagree about committed data."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from meterkast.kernel.codes import Product, ReadingQuality, ReadingSource
from meterkast.keys.api import SealedDataRejectedError
from meterkast.readings.adapters.facts import StaticConnectionFacts
from meterkast.readings.adapters.parquet import EncryptedMonthStore
from meterkast.readings.adapters.serving import DRAFT, SERVING
from meterkast.readings.api import ElectricityDaily, GasDaily, IntervalValue
from meterkast.readings.ports import ConnectionFact
from meterkast.readings.schema import Dataset
from meterkast.readings.service import ReadingsService
from tests.fakes_data_keys import FakeDataKeyService

from .conftest import E1, E2, G1, make_service

START = date(2026, 1, 20)
FAR = (date(2020, 1, 1), date(2030, 1, 1))
SOURCES = [ReadingSource.REMOTE, ReadingSource.CUSTOMER, ReadingSource.CORRECTION]


@contextmanager
def edited(path: Path) -> Iterator[sqlite3.Connection]:
    """Change a serving file the way the store does: a changed copy replaces it (a serving
    file never changes in place, readers open it immutable)."""
    copy = path.with_name("edited.sqlite")
    shutil.copyfile(path, copy)
    with closing(sqlite3.connect(copy)) as connection, connection:
        yield connection
    copy.replace(path)


def restore(path: Path, data: bytes) -> None:
    copy = path.with_name("restored.sqlite")
    copy.write_bytes(data)
    copy.replace(path)


def both_paths_agree(service: ReadingsService, eans: list[str]) -> int:
    """Compare every view of every EAN from the blobs and from the files; rows compared."""
    compared = 0
    for ean in eans:
        for dataset in (Dataset.ELECTRICITY_DAILY, Dataset.GAS_DAILY):
            for everything in (True, False):
                served = service.daily(dataset, ean, *FAR, all_versions=everything)
                files = service.daily(dataset, ean, *FAR, all_versions=everything, serving=False)
                assert served.schema == files.schema
                assert served.to_pylist() == files.to_pylist()
                compared += served.num_rows
        start = datetime(2020, 1, 1, tzinfo=UTC)
        end = datetime(2030, 1, 1, tzinfo=UTC)
        served = service.intervals(ean, start, end)
        assert served.equals(service.intervals(ean, start, end, serving=False))
        compared += served.num_rows
    return compared


step = st.tuples(
    st.sampled_from([E1, E2]),
    st.integers(0, 45),  # day after START (crosses two month boundaries)
    st.integers(0, 4_000),  # jitter on a plausible daily use of 6 kWh
    st.sampled_from(SOURCES),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # each example writes files: no shrinking
)
@given(st.lists(st.lists(step, min_size=1, max_size=6), min_size=1, max_size=6))
def test_random_intakes_and_corrections_read_the_same_from_blobs_and_files(
    batches: list[list[tuple[str, int, int, ReadingSource]]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        service = make_service(Path(folder) / "readings", FakeDataKeyService())
        for batch in batches:
            rows = [
                ElectricityDaily(
                    ean,
                    START + timedelta(days=offset),
                    6_000 * offset + jitter,
                    1_000 * offset,
                    0,
                    0,
                    source,
                    ReadingQuality.CORRECTED
                    if source is ReadingSource.CORRECTION
                    else ReadingQuality.MEASURED,
                )
                for ean, offset, jitter, source in batch
            ]
            service.add_electricity_daily(rows)
        assert all(service.serving_is_current(m) for m in service.months())
        both_paths_agree(service, [E1, E2])


def fill(service: ReadingsService) -> None:
    service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=d), 5_000 * d, 0, 0, 0) for d in (0, 3, 20)]
    )
    service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=3), 15_500, 0, 0, 0)]
    )
    service.add_gas_daily([GasDaily(G1, START, 1_000, datetime(2026, 1, 20, 6, tzinfo=UTC))])
    service.add_interval(
        [IntervalValue(E2, datetime(2026, 1, 20, 0, 15 * q, tzinfo=UTC), 100 + q) for q in range(4)]
    )


def test_every_dataset_is_served_and_corrections_keep_every_version(
    service: ReadingsService,
) -> None:
    fill(service)
    assert service.months() == [date(2026, 1, 1), date(2026, 2, 1)]
    assert all(service.serving_is_current(m) for m in service.months())
    assert both_paths_agree(service, [E1, E2, G1]) > 10
    history = service.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR, all_versions=True)
    corrected = [r for r in history.to_pylist() if r["day"] == START + timedelta(days=3)]
    assert [r["version"] for r in corrected] == [1, 2]


def test_blobs_that_do_not_reflect_the_manifest_are_not_used_and_are_rebuilt(
    service: ReadingsService, tmp_path: Path
) -> None:
    fill(service)
    january = date(2026, 1, 1)
    path = tmp_path / "readings" / "2026-01" / SERVING
    expected = service.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR, all_versions=True).to_pylist()
    # As if a crash struck after the blobs were committed but before the manifest was:
    with edited(path) as connection:
        connection.execute("UPDATE meta SET value = 'ahead' WHERE key = 'token'")
        connection.execute("DELETE FROM units")
    assert not service.serving_is_current(january)
    assert service.daily(
        Dataset.ELECTRICITY_DAILY, E1, *FAR, all_versions=True
    ).to_pylist() == expected  # fmt: skip  # the files answer while the blobs are stale
    assert service.repair_serving() == [january]
    assert service.serving_is_current(january)
    both_paths_agree(service, [E1, E2, G1])
    # A month written before the serving layout existed: rebuilt by the next intake there.
    path.unlink()
    assert not service.serving_is_current(january)
    service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=5), 25_000, 0, 0, 0)]
    )
    assert service.serving_is_current(january)
    both_paths_agree(service, [E1, E2, G1])
    assert service.rebuild_serving([january]) == [january]
    both_paths_agree(service, [E1, E2, G1])


def test_the_index_names_no_ean_and_a_moved_or_altered_unit_is_refused(
    service: ReadingsService, tmp_path: Path, keys: FakeDataKeyService
) -> None:
    fill(service)
    path = tmp_path / "readings" / "2026-01" / SERVING
    data = path.read_bytes()
    for ean in (E1, E2, G1):
        assert ean.encode() not in data
        assert int(ean).to_bytes(8, "little") not in data
    assert b"measured" not in data and b"remote" not in data
    with edited(path) as connection:
        units = connection.execute(
            "SELECT bucket, segment FROM units WHERE dataset = 'electricity_daily'"
        ).fetchall()
        assert len(units) == 2  # one bucket (one connection), one segment per intake
        (other,) = connection.execute(
            "SELECT sealed FROM units WHERE dataset = 'interval'"
        ).fetchone()
        # E2's interval unit put in place of E1's daily one: authentication binds unit and place.
        connection.execute(
            "UPDATE units SET sealed = ? WHERE dataset = 'electricity_daily'", (other,)
        )
    with pytest.raises(SealedDataRejectedError):
        service.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR)
    with edited(path) as connection:
        (sealed,) = connection.execute(
            "SELECT sealed FROM units WHERE dataset = 'interval'"
        ).fetchone()
        flipped = bytes([sealed[0] ^ 1]) + sealed[1:]
        connection.execute("UPDATE units SET sealed = ? WHERE dataset = 'interval'", (flipped,))
    # A reader that opened the file before it was replaced keeps reading that file (same
    # token, so the same content); a new reader sees the replacement.
    fresh = make_service(tmp_path / "readings", keys)
    with pytest.raises(SealedDataRejectedError):
        fresh.intervals(E2, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))
    service.rebuild_serving()
    both_paths_agree(service, [E1, E2, G1])


class BatchedOnlyKeys(FakeDataKeyService):
    """A data-key service whose keys never leave it (as an HSM): no read keys, so the store
    reads through the batched calls instead of the compiled path."""

    def data_key_reader(self, key_id: str) -> None:
        return None


@pytest.mark.parametrize("key_service", [FakeDataKeyService, BatchedOnlyKeys])
def test_units_swapped_between_buckets_segments_or_months_do_not_open(
    tmp_path: Path, key_service: type[FakeDataKeyService]
) -> None:
    eans = [f"8716871400000{i:05d}" for i in range(40)]  # four buckets of about 16
    facts = StaticConnectionFacts(
        [ConnectionFact(e, Product.ELECTRICITY, 3000.0, capacity_amps=25) for e in eans]
    )
    keys = key_service()

    def new_service() -> ReadingsService:  # a reader of its own: sees the file as it is now
        store = EncryptedMonthStore(tmp_path / "readings", keys)
        return ReadingsService(store, facts, lambda: datetime(2026, 3, 1, tzinfo=UTC))

    service = new_service()
    for offset in (0, 1):
        service.add_electricity_daily(
            [
                ElectricityDaily(e, START + timedelta(days=offset), 1_000 * offset, 0, 0, 0)
                for e in eans
            ]
        )
    service.add_electricity_daily(
        [ElectricityDaily(e, date(2026, 2, 2), 3_000, 0, 0, 0) for e in eans]
    )
    january = tmp_path / "readings" / "2026-01" / SERVING
    february = tmp_path / "readings" / "2026-02" / SERVING
    with edited(january) as connection:
        units = connection.execute(
            "SELECT bucket, segment, sealed FROM units WHERE dataset = 'electricity_daily'"
            " ORDER BY bucket, segment"
        ).fetchall()
    assert len({bucket for bucket, _, _ in units}) >= 2
    assert {1, 2} <= {segment for _, segment, _ in units}
    pristine = january.read_bytes()

    def refused_somewhere() -> bool:
        refused = False
        reader = new_service()
        for ean in eans:
            try:
                reader.daily(Dataset.ELECTRICITY_DAILY, ean, *FAR)
            except SealedDataRejectedError:
                refused = True
        return refused

    assert not refused_somewhere()
    first, second = next((a, b) for a in units for b in units if a[0] != b[0])
    later = next(b for b in units if b[0] == first[0] and b[1] != first[1])
    swaps = [
        (first[2], second[0], second[1]),  # another bucket's place
        (first[2], later[0], later[1]),  # another segment of the same bucket
    ]
    for sealed, bucket, segment in swaps:
        restore(january, pristine)
        with edited(january) as connection:
            connection.execute(
                "UPDATE units SET sealed = ? WHERE bucket = ? AND segment = ?"
                " AND dataset = 'electricity_daily'",
                (sealed, bucket, segment),
            )
        assert refused_somewhere()
    restore(january, pristine)
    # February's unit of the same bucket number under January's name: another month key.
    with edited(february) as connection:
        (count,) = connection.execute("SELECT count FROM buckets").fetchone()
        foreign = connection.execute(
            "SELECT bucket, sealed FROM units WHERE dataset = 'electricity_daily'"
        ).fetchall()
    with edited(january) as connection:
        (january_count,) = connection.execute(
            "SELECT count FROM buckets WHERE dataset = 'electricity_daily'"
        ).fetchone()
        assert january_count == count
        for bucket, sealed in foreign:
            connection.execute(
                "UPDATE units SET sealed = ? WHERE bucket = ? AND dataset = 'electricity_daily'",
                (sealed, bucket),
            )
    assert refused_somewhere()


def test_the_compiled_read_opens_what_the_batched_calls_open(tmp_path: Path) -> None:
    """The compiled path (``_units``: PRF, lookup and opening in C) and the data-key
    service's batched calls give the same payloads, for every connection, across months and
    segments, on the same files and keys."""
    keys = FakeDataKeyService(tmp_path / "keys.json")
    service = make_service(tmp_path / "readings", keys)
    fill(service)
    service.add_electricity_daily(  # a second segment in January
        [ElectricityDaily(E1, START + timedelta(days=3), 9_999, 1, 2, 3, ReadingSource.CORRECTION)]
    )
    compiled = service._store.serving
    batched = make_service(tmp_path / "readings", BatchedOnlyKeys(tmp_path / "keys.json"))
    view = service._store.view()
    assert view is not None
    months = [(month, view.tokens[month]) for month in view.months]
    assert len(months) >= 2
    opened = 0
    for dataset in Dataset:
        for ean in (E1, E2, G1, "871687140000009999"):
            mine = compiled.find(dataset, ean, months)
            theirs = batched._store.serving.find(dataset, ean, months)
            assert mine == theirs
            opened += len(mine[0])
    assert opened > 6
    assert service.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR).equals(
        batched.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR)
    )


def test_a_second_store_sees_commits_and_purges_through_the_generation_mark(
    tmp_path: Path, keys: FakeDataKeyService
) -> None:
    """Two stores on one folder (the API server and a CLI import): the reader's view of
    months and manifests follows every commit and purge of the other, without a check per
    month."""
    writer = make_service(tmp_path / "readings", keys)
    reader = make_service(tmp_path / "readings", keys)
    assert reader.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR).num_rows == 0
    writer.add_electricity_daily([ElectricityDaily(E1, START, 1_000, 0, 0, 0)])
    assert reader.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR).num_rows == 1
    assert reader._store.view() is not None
    writer.add_electricity_daily([ElectricityDaily(E1, START + timedelta(days=1), 2_000, 0, 0, 0)])
    assert reader.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR)["import_t1_wh"].to_pylist() == [
        1_000,
        2_000,
    ]
    writer.add_electricity_daily([ElectricityDaily(E1, date(2026, 2, 3), 3_000, 0, 0, 0)])
    days = reader.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR)["day"].to_pylist()
    assert days[0] == START
    assert days[-1] == date(2026, 2, 3)  # the days between are estimated at intake
    assert len(reader.months()) == 2
    writer._store.drop_month(date(2026, 1, 1))
    assert reader.months() == [date(2026, 2, 1)]
    days = reader.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR)["day"].to_pylist()
    assert days[-1] == date(2026, 2, 3)
    assert min(days) >= date(2026, 2, 1)


def test_a_store_under_a_relative_path_serves_its_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keys: FakeDataKeyService
) -> None:
    """``make demo`` keeps its instance under ``.meterkast/demo``: serving files are opened by
    URI, which needs the absolute path."""
    monkeypatch.chdir(tmp_path)
    service = make_service(Path("relative") / "readings", keys)
    fill(service)
    assert service.serving_is_current(date(2026, 1, 1))
    assert both_paths_agree(service, [E1, E2, G1]) > 10


def test_a_connection_without_rows_in_a_month_reads_empty(service: ReadingsService) -> None:
    fill(service)
    empty = service.daily(Dataset.GAS_DAILY, E1, *FAR)
    assert empty.num_rows == 0
    assert empty.schema == service.daily(Dataset.GAS_DAILY, E1, *FAR, serving=False).schema
    assert isinstance(empty, pa.Table)


def test_compaction_leaves_one_segment_per_bucket_and_the_same_answers(
    service: ReadingsService, tmp_path: Path
) -> None:
    for d in range(10):  # ten intakes into one month: more than 8 files, so it is compacted
        rows = [
            ElectricityDaily(ean, START + timedelta(days=d), 6_000 * d + i, 0, 0, 0)
            for i, ean in enumerate((E1, E2))
        ]
        service.add_electricity_daily(rows)
    january = date(2026, 1, 1)
    assert len(service._store.files(Dataset.ELECTRICITY_DAILY, january)) == 2  # 9 -> 1, +1
    assert service.serving_is_current(january)
    with edited(tmp_path / "readings" / "2026-01" / SERVING) as connection:
        counts = connection.execute(
            "SELECT count(*) FROM units WHERE dataset = 'electricity_daily' GROUP BY bucket"
        ).fetchall()
    assert counts == [(2,)]  # one bucket: a segment from the compaction, one from the last intake
    assert both_paths_agree(service, [E1, E2]) == 4 * 10  # two EANs, latest and all versions


def test_a_serving_file_of_the_older_blob_format_is_stale_and_rebuilt(
    service: ReadingsService, tmp_path: Path
) -> None:
    fill(service)
    january = date(2026, 1, 1)
    path = tmp_path / "readings" / "2026-01" / SERVING
    expected = service.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR, all_versions=True).to_pylist()
    # Format 2 had a table of per-connection blobs (which would not decode) and tokens "2:".
    with edited(path) as connection:
        (token,) = connection.execute("SELECT value FROM meta WHERE key = 'token'").fetchone()
        assert token.startswith("3:")
        connection.execute("UPDATE meta SET value = ? WHERE key = 'token'", ("2" + token[1:],))
        connection.execute("DROP TABLE units")
        connection.execute("CREATE TABLE blobs (tag BLOB, segment INTEGER, sealed BLOB)")
        connection.execute("UPDATE summary SET sealed = x'00'")
    assert not service.serving_is_current(january)
    assert (
        service.daily(Dataset.ELECTRICITY_DAILY, E1, *FAR, all_versions=True).to_pylist()
        == expected
    )
    assert service.repair_serving() == [january]
    both_paths_agree(service, [E1, E2, G1])
    with edited(path) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master")}
    assert "blobs" not in tables and "units" in tables


def test_a_serving_file_is_replaced_whole_and_a_crashed_draft_is_discarded(
    service: ReadingsService, tmp_path: Path
) -> None:
    fill(service)
    path = tmp_path / "readings" / "2026-01" / SERVING
    before = path.stat().st_ino
    (path.parent / DRAFT).write_bytes(b"left by a crash")
    service.add_electricity_daily(
        [ElectricityDaily(E1, START + timedelta(days=6), 30_000, 0, 0, 0)]
    )
    assert path.stat().st_ino != before  # readers of the old file keep a consistent snapshot
    assert not (path.parent / DRAFT).exists()
    assert service.serving_is_current(date(2026, 1, 1))
    both_paths_agree(service, [E1, E2, G1])
