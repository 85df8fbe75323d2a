"""The compiled AES kernel (``meterkast.keys._aes``) against the Python bindings it replaces
on reads across month keys: the same PRF numbers, the same plaintexts, the same refusals."""

from __future__ import annotations

import pickle
import secrets

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from meterkast.keys import _aes
from meterkast.keys.datakeys import DerivedKeys

keys = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=30)


@given(data_keys=keys, message=st.binary(max_size=16))
def test_prf_each_gives_the_numbers_of_prf_one(data_keys: list[bytes], message: bytes) -> None:
    derived = [DerivedKeys(k) for k in data_keys]
    expected = [d.prf_one(message) for d in derived]
    assert _aes.prf_each([d._prf_key for d in derived], message) == expected
    assert all(0 <= n < 2**62 for n in expected)


@given(
    items=st.lists(
        st.tuples(st.binary(min_size=32, max_size=32), st.binary(max_size=600), st.binary()),
        max_size=12,
    )
)
def test_open_each_opens_what_aes_gcm_sealed(items: list[tuple[bytes, bytes, bytes]]) -> None:
    sealed = []
    for key, plain, aad in items:
        nonce = secrets.token_bytes(12)
        sealed.append(nonce + AESGCM(key).encrypt(nonce, plain, aad))
    opened = _aes.open_each([k for k, _, _ in items], sealed, [a for _, _, a in items])
    assert opened == [p for _, p, _ in items]


def test_any_altered_item_refuses_the_whole_batch() -> None:
    key = secrets.token_bytes(32)
    nonce = secrets.token_bytes(12)
    good = nonce + AESGCM(key).encrypt(nonce, b"readings", b"place")
    assert _aes.open_each([key, key], [good, good], [b"place", b"place"]) == [b"readings"] * 2
    for position in range(len(good)):
        flipped = bytearray(good)
        flipped[position] ^= 0x01
        with pytest.raises(_aes.RejectedError):
            _aes.open_each([key, key], [good, bytes(flipped)], [b"place", b"place"])
    with pytest.raises(_aes.RejectedError):  # bound to its place
        _aes.open_each([key], [good], [b"elsewhere"])
    with pytest.raises(_aes.RejectedError):  # another key
        _aes.open_each([secrets.token_bytes(32)], [good], [b"place"])
    with pytest.raises(_aes.RejectedError):  # too short for a nonce and a tag
        _aes.open_each([key], [good[:27]], [b"place"])


def test_bad_arguments_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        _aes.prf_each([b"short"], b"m")
    with pytest.raises(ValueError, match="at most 16"):
        _aes.prf_each([bytes(32)], bytes(17))
    with pytest.raises(ValueError, match="one key"):
        _aes.open_each([bytes(32)], [], [])
    with pytest.raises(TypeError):
        _aes.open_each([bytes(32)], ["text"], [b""])


def test_read_keys_show_nothing_and_do_not_travel() -> None:
    secret = bytes(range(32))
    handle = _aes.ReadKeys(secret, secret)
    assert repr(handle) == "ReadKeys()"
    assert secret.hex() not in repr(handle) and not hasattr(handle, "__dict__")
    with pytest.raises(TypeError):
        pickle.dumps(handle)
    with pytest.raises(ValueError, match="32 bytes"):
        _aes.ReadKeys(b"short", secret)
