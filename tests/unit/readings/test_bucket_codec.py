"""The compiled bucket codec, held to a numpy reference, and its refusal of corrupt input."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meterkast.readings import _codec
from meterkast.readings.adapters.serving import prf_message, prf_messages
from meterkast.readings.blobs import CODES, RECORDS, SUMMARY, Groups, group
from meterkast.readings.bucket_codec import (
    FIELDS,
    decode_rows,
    decode_summary,
    encode_buckets,
    encode_summary,
)
from meterkast.readings.history import synthesise_electricity
from meterkast.readings.schema import SCHEMAS, TIME_COLUMN, Dataset

_INTEGER = {2: pa.int16(), 4: pa.int32(), 8: pa.int64()}
_LIMITS = {1: (0, 3), 2: (-(2**15), 2**15 - 1), 4: (-(2**31), 2**31 - 1), 8: (-(2**63), 2**63 - 1)}


def _random_groups(
    dataset: Dataset, data: st.DataObject, connections: int
) -> tuple[Groups, list[str]]:
    """Random rows (any values the field types hold, any order within a connection)."""
    counts = data.draw(st.lists(st.integers(0, 12), min_size=connections, max_size=connections))
    n = sum(counts)
    columns = {}
    for name in FIELDS[dataset]:
        dtype = RECORDS[dataset][name]
        low, high = _LIMITS[dtype.itemsize]
        if name in CODES:
            high = len(CODES[name]) - 1
        # Mostly small steps (the real data), sometimes anything (wrap-around, wide widths).
        if data.draw(st.booleans()):
            values = data.draw(st.lists(st.integers(low, high), min_size=n, max_size=n))
        else:
            start = data.draw(st.integers(max(low, -1000), min(high, 1000)))
            steps = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
            values = [min(max(start + s, low), high) for s in np.cumsum(steps).tolist()]
        columns[name] = np.array(values, dtype=dtype)
    eans = [
        data.draw(st.sampled_from(["871687140000000011", "x", "", "871687140000000028é"])) + str(i)
        for i in range(connections)
    ]
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Groups(dataset, pa.array(eans, pa.string()), columns, starts), eans


def _reference(
    dataset: Dataset, groups: Groups, i: int, window: tuple[int, int], latest: bool
) -> dict[str, list[int]]:
    """Connection ``i``'s rows in the window, by (time, version), stable; latest if asked."""
    rows = slice(int(groups.starts[i]), int(groups.starts[i + 1]))
    time = groups.columns[TIME_COLUMN[dataset]][rows].astype(np.int64)
    version = groups.columns["version"][rows].astype(np.int64)
    keep = np.flatnonzero((time >= window[0]) & (time < window[1]))
    order = keep[np.lexsort((version[keep], time[keep]))]
    if latest and order.size:
        last = np.ones(order.size, bool)
        last[:-1] = time[order][1:] != time[order][:-1]
        order = order[last]
    return {name: groups.columns[name][rows][order].tolist() for name in FIELDS[dataset]}


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(list(Dataset)), st.data())
def test_decoding_one_connection_matches_the_reference(
    dataset: Dataset, data: st.DataObject
) -> None:
    connections = data.draw(st.integers(1, 6))
    groups, eans = _random_groups(dataset, data, connections)
    n_buckets = data.draw(st.integers(1, 4))
    buckets = np.array(
        data.draw(
            st.lists(st.integers(0, n_buckets - 1), min_size=connections, max_size=connections)
        ),
        dtype=np.int64,
    )
    payloads = [p for p in encode_buckets(groups, buckets, n_buckets) if p]
    assert len(payloads) == len(set(buckets.tolist()))
    i = data.draw(st.integers(0, connections - 1))
    low = data.draw(st.integers(-(2**63), 2**63 - 1))
    window = (low, data.draw(st.integers(low, 2**63 - 1)))
    if data.draw(st.booleans()):
        window = (-(2**63), 2**63 - 1)
    latest = data.draw(st.booleans())
    copies = data.draw(st.integers(1, 3))  # the same rows in several segments or months
    got = decode_rows(
        dataset, payloads * copies, eans[i], list(FIELDS[dataset]), window=window, latest=latest
    )
    expected = _reference(dataset, group_copies(groups, copies), i, window, latest)
    for name in FIELDS[dataset]:
        column = got[name]
        if name in CODES:
            codes = CODES[name].to_pylist()
            values = [codes.index(v) for v in column.to_pylist()]
        else:
            values = column.cast(_INTEGER[RECORDS[dataset][name].itemsize]).to_pylist()
        assert values == expected[name], name


def group_copies(groups: Groups, copies: int) -> Groups:
    """Each connection's rows repeated ``copies`` times (what several segments hold)."""
    parts = [
        np.concatenate([np.arange(groups.starts[i], groups.starts[i + 1])] * copies)
        for i in range(len(groups.eans))
    ]
    take = np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)
    counts = np.diff(groups.starts) * copies
    starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    columns = {name: values[take] for name, values in groups.columns.items()}
    return Groups(groups.dataset, groups.eans, columns, starts)


def test_summaries_round_trip() -> None:
    summary = np.zeros(3, dtype=SUMMARY[Dataset.ELECTRICITY_DAILY])
    summary["ean"] = [871687140000000011, 871687140000000028, 871687140000099999]
    summary["day"] = [20_000, 20_030, 19_990]
    summary["import_t1_wh"] = [5, 2**62, -1]
    back = decode_summary(
        Dataset.ELECTRICITY_DAILY, encode_summary(Dataset.ELECTRICITY_DAILY, summary)
    )
    assert back.tobytes() == summary.tobytes()
    empty = summary[:0]
    assert (
        decode_summary(
            Dataset.GAS_DAILY,
            encode_summary(Dataset.GAS_DAILY, np.zeros(0, SUMMARY[Dataset.GAS_DAILY])),
        ).size
        == 0
    )
    assert empty.size == 0


def _real_payloads() -> tuple[list[bytes], int, list[str]]:
    """A month of synthetic electricity days for 64 connections in 4 buckets."""
    eans = np.array([f"871687{i:012d}" for i in range(64)])
    table = next(
        synthesise_electricity(
            eans,
            np.full(64, 3500.0),
            np.where(np.arange(64) % 3 == 0, 4.0, 0.0),
            __import__("datetime").date(2025, 1, 1),
            1,
            7,
        )
    )
    groups = group(Dataset.ELECTRICITY_DAILY, table, ordered=True)
    payloads = encode_buckets(groups, np.arange(64, dtype=np.int64) % 4, 4)
    return payloads, table.num_rows, eans.tolist()


def test_real_daily_rows_take_about_seven_bytes_each() -> None:
    payloads, rows, eans = _real_payloads()
    assert sum(map(len, payloads)) / rows < 8
    back = decode_rows(
        Dataset.ELECTRICITY_DAILY, payloads, eans[5], SCHEMAS[Dataset.ELECTRICITY_DAILY].names
    )
    assert back.num_rows == 31


def test_truncated_or_corrupt_payloads_raise_value_error() -> None:
    payloads, _, eans = _real_payloads()
    payload = payloads[1]
    widths = b"\x04\x02\x02" + b"\x08" * 4 + b"\x01\x01\x08"
    for cut in range(len(payload)):
        with pytest.raises(ValueError, match="corrupt"):
            _codec.decode(
                [payload[:cut]], eans[1].encode(), widths, 0, 2, -(2**63), 2**63 - 1, False
            )
    with pytest.raises(ValueError, match="corrupt"):
        _codec.decode([payload + b"\x00"], b"", widths, 0, 2, -(2**63), 2**63 - 1, False)
    with pytest.raises(ValueError, match="corrupt"):  # another field count
        _codec.decode([payload], b"", widths[:-1], 0, 2, -(2**63), 2**63 - 1, False)
    with pytest.raises(ValueError, match="widths"):
        _codec.decode([payload], b"", b"\x03" * 10, 0, 2, -(2**63), 2**63 - 1, False)
    # A huge row count with nothing after it (constant fields take no bytes) is refused.
    huge = bytes([0x33, 1, 1, 0]) + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) + bytes([0, 0, 0])
    with pytest.raises(ValueError, match="corrupt"):
        _codec.decode([huge], b"", b"\x08", 0, 0, -(2**63), 2**63 - 1, False)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_flipped_bytes_never_read_out_of_bounds(data: st.DataObject) -> None:
    payloads, _, eans = _real_payloads_cached()
    payload = bytearray(payloads[2])
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(payload) - 1))
        payload[position] = data.draw(st.integers(0, 255))
    widths = b"\x04\x02\x02" + b"\x08" * 4 + b"\x01\x01\x08"
    try:
        count, fields = _codec.decode(
            [bytes(payload)], eans[2].encode(), widths, 0, 2, -(2**63), 2**63 - 1, True
        )
    except ValueError:
        return
    assert [len(f) for f in fields] == [count * w for w in widths]


_CACHE: list[tuple[list[bytes], int, list[str]]] = []


def _real_payloads_cached() -> tuple[list[bytes], int, list[str]]:
    if not _CACHE:
        _CACHE.append(_real_payloads())
    return _CACHE[0]


def test_encode_refuses_inconsistent_input() -> None:
    column = np.arange(4, dtype=np.int64)
    names, offsets = b"ab", np.array([0, 1, 2], np.int64)
    starts, buckets = np.array([0, 2, 4], np.int64), np.zeros(2, np.int64)
    assert len(_codec.encode([column], starts, names, offsets, buckets, 1)) == 1
    with pytest.raises(ValueError):
        _codec.encode([column], np.array([0, 2, 5], np.int64), names, offsets, buckets, 1)
    with pytest.raises(ValueError):
        _codec.encode([column], starts, names, np.array([0, 1, 3], np.int64), buckets, 1)
    with pytest.raises(ValueError):
        _codec.encode([column], starts, names, offsets, np.array([0, 1], np.int64), 1)
    with pytest.raises(ValueError):
        _codec.encode([column.astype(np.float32)[:3]], starts, names, offsets, buckets, 1)


def test_prf_messages_are_the_same_one_by_one_and_vectorised() -> None:
    eans = ["871687140000000011", "000000000000000000", "999999999999999999"]
    for dataset in Dataset:
        assert prf_messages(dataset, pa.array(eans)) == [prf_message(dataset, e) for e in eans]
        odd = ["x", "8716871400000000111"]
        assert prf_messages(dataset, pa.array(odd)) == [prf_message(dataset, e) for e in odd]
    messages = {prf_message(d, e) for d in Dataset for e in [*eans, "x"]}
    assert len(messages) == 12 and {len(m) for m in messages} == {16}


def test_code_positions_are_found_and_unknown_or_broken_input_refused() -> None:
    words = [b"corrected", b"estimated", b"measured"]
    column = pa.array(["measured", "measured", "estimated", "corrected", "measured"])
    sliced = column.slice(1)  # an array that starts inside its buffers
    offsets = np.frombuffer(sliced.buffers()[1], np.int32)[1:6]
    found = _codec.positions(offsets, sliced.buffers()[2], words)
    assert list(found) == [2, 1, 0, 2]
    with pytest.raises(ValueError, match="unknown code at row 0"):
        _codec.positions(offsets, sliced.buffers()[2], words[:2])
    with pytest.raises(ValueError, match="out of range"):
        _codec.positions(np.array([0, 99], np.int32), b"measured", words)
    with pytest.raises(ValueError, match="out of range"):
        _codec.positions(np.array([5, 2], np.int32), b"measured", words)
    assert _codec.positions(np.array([0], np.int32), b"", words) == b""
