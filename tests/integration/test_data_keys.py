"""Data keys for the readings store: wrap, unwrap, destroy for good."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from meterkast.db.migrate import upgrade
from meterkast.dlms import DlmsError
from meterkast.kernel.errors import ConflictError, InvalidValueError, NotFoundError
from meterkast.keys.adapters.master_key import LocalKeyEncryptionProvider
from meterkast.keys.api import SealedDataRejectedError
from meterkast.keys.datakeys import DataKeyDestroyedError, DataKeys

KEK = LocalKeyEncryptionProvider(os.urandom(32), "test")


def clock() -> datetime:
    return datetime(2026, 3, 1, tzinfo=UTC)


def test_wrap_unwrap_and_destroy(engine: Engine) -> None:
    keys = DataKeys(engine, KEK, clock)
    keys.create_data_key("readings-2024-01")
    dek = os.urandom(16)
    wrapped = keys.data_key_wrap("readings-2024-01", dek)
    assert wrapped != dek and len(wrapped) == 24
    assert DataKeys(engine, KEK, clock).data_key_unwrap("readings-2024-01", wrapped) == dek
    keys.destroy_data_key("readings-2024-01")
    for service in (keys, DataKeys(engine, KEK, clock)):
        with pytest.raises(DataKeyDestroyedError):
            service.data_key_unwrap("readings-2024-01", wrapped)
    with pytest.raises(ConflictError):
        keys.create_data_key("readings-2024-01")  # a destroyed id is never issued again
    with pytest.raises(DataKeyDestroyedError):
        keys.destroy_data_key("readings-2024-01")


def test_unknown_and_invalid_ids_and_foreign_wraps(engine: Engine) -> None:
    keys = DataKeys(engine, KEK, clock)
    with pytest.raises(NotFoundError):
        keys.data_key_wrap("nope", os.urandom(16))
    with pytest.raises(NotFoundError):
        keys.destroy_data_key("nope")
    with pytest.raises(InvalidValueError):
        keys.create_data_key("bad id with spaces")
    keys.create_data_key("a")
    keys.create_data_key("b")
    wrapped = keys.data_key_wrap("a", os.urandom(16))
    with pytest.raises(DlmsError):
        keys.data_key_unwrap("b", wrapped)


def test_destroyed_key_leaves_no_bytes_in_the_sqlite_files(tmp_path: Path) -> None:
    from meterkast.db.engine import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'k.db'}")
    upgrade(engine)
    seen: list[bytes] = []
    spy = LocalKeyEncryptionProvider(os.urandom(32), "spy")
    original = spy.wrap

    class Spy:
        def wrap(self, key: bytes) -> bytes:
            seen.append(original(key))
            return seen[-1]

        def unwrap(self, wrapped: bytes) -> bytes:
            return spy.unwrap(wrapped)

    keys = DataKeys(engine, Spy(), clock)
    keys.create_data_key("readings-2024-02")
    keys.destroy_data_key("readings-2024-02")
    engine.dispose()
    blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("k.db"))
    assert seen and seen[0] not in blob


def test_seal_open_and_tag_stay_inside_the_service_and_die_with_the_key(engine: Engine) -> None:
    keys = DataKeys(engine, KEK, clock)
    keys.create_data_key("readings-2024-02")
    keys.create_data_key("readings-2024-03")
    sealed = keys.data_key_seal("readings-2024-02", [b"rows", b"more rows"], [b"a", b"b"])
    assert all(b"rows" not in s for s in sealed)
    assert len(sealed[0]) == 12 + 4 + 16  # nonce, ciphertext, authentication tag
    again = DataKeys(engine, KEK, clock)  # another process derives the same keys
    assert again.data_key_open("readings-2024-02", sealed, [b"a", b"b"]) == [b"rows", b"more rows"]
    with pytest.raises(SealedDataRejectedError):
        again.data_key_open("readings-2024-02", sealed[:1], [b"b"])  # wrong associated data
    with pytest.raises(SealedDataRejectedError):
        again.data_key_open("readings-2024-03", sealed[:1], [b"a"])  # another month's key
    tags = keys.data_key_tags("readings-2024-02", [b"e1", b"e2"])
    assert tags == again.data_key_tags("readings-2024-02", [b"e1", b"e2"])
    assert len(set(tags)) == 2 and all(len(t) == 16 for t in tags)
    assert keys.data_key_tags("readings-2024-03", [b"e1"])[0] != tags[0]  # months unlinkable
    keys.destroy_data_key("readings-2024-02")
    for service in (keys, DataKeys(engine, KEK, clock)):
        with pytest.raises(DataKeyDestroyedError):
            service.data_key_open("readings-2024-02", sealed, [b"a", b"b"])
        with pytest.raises(DataKeyDestroyedError):
            service.data_key_tags("readings-2024-02", [b"e1"])


def test_batched_prf_seal_and_open_take_one_key_per_item_and_die_with_the_key(
    engine: Engine,
) -> None:
    keys = DataKeys(engine, KEK, clock)
    for month in ("2024-04", "2024-05"):
        keys.create_data_key(f"readings-{month}")
    april, may = "readings-2024-04", "readings-2024-05"
    messages = [i.to_bytes(16, "little") for i in range(100)]
    numbers = keys.data_key_prf_each([april] * 100, messages)
    assert len(set(numbers)) == 100 and all(0 <= n < 2**62 for n in numbers)
    again = DataKeys(engine, KEK, clock)  # another process computes the same numbers
    assert again.data_key_prf_each([april] * 100, messages) == numbers
    mixed = again.data_key_prf_each([april, may, april], messages[:3])
    assert mixed[0] == numbers[0] and mixed[2] == numbers[2] and mixed[1] != numbers[1]
    with pytest.raises(InvalidValueError):
        keys.data_key_prf_each([april, april], [b"short", b"longer"])  # one length per batch
    with pytest.raises(InvalidValueError):
        keys.data_key_prf_each([april], [bytes(17)])
    sealed = keys.data_key_seal_each([april, may, may], [b"a", b"b", b"c"], [b"1", b"2", b"3"])
    assert again.data_key_open_each([may, april], sealed[1:0:-1] + sealed[:1], [b"2", b"1"]) == [
        b"b",
        b"a",
    ]
    with pytest.raises(SealedDataRejectedError):
        again.data_key_open_each([may], sealed[:1], [b"1"])  # sealed under April's key
    keys.destroy_data_key(april)
    for service in (keys, DataKeys(engine, KEK, clock)):
        with pytest.raises(DataKeyDestroyedError):
            service.data_key_prf_each([april], messages[:1])
        with pytest.raises(DataKeyDestroyedError):
            service.data_key_open_each([april], sealed[:1], [b"1"])


def test_a_read_across_month_keys_gives_what_the_batches_give(engine: Engine) -> None:
    """Several keys in a small batch (a 24-month read) go item by item: same numbers and
    plaintexts as one batch per key, and the same refusals."""
    keys = DataKeys(engine, KEK, clock)
    months = [f"readings-2025-{m:02d}" for m in range(1, 13)]
    for key_id in months:
        keys.create_data_key(key_id)
    message = b"e:871687000000001"[:16]
    across = keys.data_key_prf_each(months, [message] * len(months))
    assert across == [keys.data_key_prf_each([k], [message])[0] for k in months]
    assert across == [keys.data_key_prf_each([k, k], [message, message])[1] for k in months]
    assert len(set(across)) == len(months)  # one key per month: unlinkable numbers
    with pytest.raises(InvalidValueError):
        keys.data_key_prf_each(months[:2], [bytes(17), bytes(17)])
    with pytest.raises(InvalidValueError):
        keys.data_key_prf_each(months[:2], [message])  # one message per key id
    ids = [months[0], months[0], months[1], months[2]]
    sealed = [
        keys.data_key_seal_each([k], [p], [a])[0]
        for k, p, a in zip(ids, [b"a", b"b", b"c", b"d"], [b"1", b"2", b"3", b"4"], strict=True)
    ]
    assert keys.data_key_open_each(ids, sealed, [b"1", b"2", b"3", b"4"]) == [
        b"a",
        b"b",
        b"c",
        b"d",
    ]
    with pytest.raises(SealedDataRejectedError):
        keys.data_key_open_each(ids, sealed, [b"1", b"2", b"3", b"5"])  # the last is not its own
    with pytest.raises(SealedDataRejectedError):
        keys.data_key_open_each(ids[::-1], sealed, [b"1", b"2", b"3", b"4"])  # keys swapped
    with pytest.raises(InvalidValueError):
        keys.data_key_open_each(ids, sealed[:3], [b"1", b"2", b"3"])
