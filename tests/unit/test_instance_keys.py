"""Instance keys: created private on first use, the same afterwards, refused when exposed."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from meterkast.access.audit import Pseudonyms
from meterkast.access.instance_keys import (
    AUDIT_SIGNING,
    PSEUDONYM,
    TOKEN_SIGNING,
    InstanceKeyError,
    InstanceKeys,
    Secret,
)


def test_keys_are_created_private_and_reused(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    first = InstanceKeys(folder)
    seed = first.pseudonym_key.reveal()
    first.audit_signing_key.public_key()
    first.token_signing_key.public_key()
    for name in (AUDIT_SIGNING, PSEUDONYM, TOKEN_SIGNING):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert not list(folder.glob(".*.tmp"))
    again = InstanceKeys(folder)
    assert again.pseudonym_key.reveal() == seed and len(seed) == 32
    assert again.audit_mac_key.reveal() == first.audit_mac_key.reveal()
    assert again.audit_mac_key.reveal() != (folder / AUDIT_SIGNING).read_bytes()


def test_keys_differ_between_instances(tmp_path: Path) -> None:
    one, two = InstanceKeys(tmp_path / "a"), InstanceKeys(tmp_path / "b")
    assert one.pseudonym_key.reveal() != two.pseudonym_key.reveal()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660])
def test_a_key_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    InstanceKeys(tmp_path).pseudonym_key.reveal()
    (tmp_path / PSEUDONYM).chmod(mode)
    with pytest.raises(InstanceKeyError, match="chmod 600"):
        InstanceKeys(tmp_path).pseudonym_key.reveal()


def test_a_key_of_the_wrong_size_is_refused_without_showing_it(tmp_path: Path) -> None:
    path = tmp_path / TOKEN_SIGNING
    path.write_bytes(b"short-secret")
    path.chmod(0o600)
    with pytest.raises(InstanceKeyError) as caught:
        InstanceKeys(tmp_path).token_signing_key.public_key()
    assert "wrong size" in str(caught.value) and "short-secret" not in str(caught.value)


def test_no_key_bytes_in_reprs(tmp_path: Path) -> None:
    keys = InstanceKeys(tmp_path)
    raw = keys.pseudonym_key.reveal()
    shown = " ".join([repr(keys), repr(keys.pseudonym_key), str(keys.pseudonym_key),
                      f"{keys.audit_mac_key}", repr(Pseudonyms(keys.pseudonym_key))])  # fmt: skip
    assert raw.hex() not in shown and repr(raw) not in shown and "hidden" in shown


def test_pseudonyms_are_keyed_stable_and_separate_kinds() -> None:
    one, two = Pseudonyms(Secret(b"a" * 32)), Pseudonyms(Secret(b"b" * 32))
    ean = "871687140000000011"
    assert one.connection(ean) == one.connection(ean) != two.connection(ean)
    assert one.connection(ean) != one.party(ean)
    assert len(one.connection(ean)) == 32 and ean not in one.connection(ean)
