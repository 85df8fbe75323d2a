"""The master key: private file created on first use, or the environment; never shown."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from meterkast.keys.adapters.master_key import (
    load_provider,
    master_key_path,
    parse_master_key,
    read_or_create_master_key,
)
from meterkast.keys.domain import MasterKeyError
from meterkast.settings import KeySettings


def test_file_is_created_private_and_reused(tmp_path: Path) -> None:
    path = master_key_path(tmp_path)
    key = read_or_create_master_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_or_create_master_key(path) == key


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_group_or_world_access_is_refused(tmp_path: Path, mode: int) -> None:
    path = master_key_path(tmp_path)
    read_or_create_master_key(path)
    path.chmod(mode)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        read_or_create_master_key(path)


def test_environment_key_in_hex_or_base64(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key = os.urandom(32)
    for text in (key.hex(), key.hex().upper(), base64.b64encode(key).decode()):
        monkeypatch.setenv("METERKAST_MASTER_KEY", text)
        provider = load_provider(KeySettings(), tmp_path)
        assert provider.unwrap(provider.wrap(b"k" * 16)) == b"k" * 16
        assert provider.source == "environment"
        assert key.hex() not in repr(provider).lower()
    assert not master_key_path(tmp_path).exists()


@pytest.mark.parametrize("text", ["", "abc", "00" * 15, "00" * 20, "not base64 !!"])
def test_malformed_environment_key_is_refused_without_echo(text: str) -> None:
    with pytest.raises(MasterKeyError) as caught:
        parse_master_key(text)
    assert not text or text not in str(caught.value)


def test_file_provider_wraps_reversibly_and_hides_key(tmp_path: Path) -> None:
    provider = load_provider(KeySettings(master_key=None), tmp_path)
    key = master_key_path(tmp_path).read_bytes()
    wrapped = provider.wrap(b"x" * 16)
    assert provider.unwrap(wrapped) == b"x" * 16
    assert key.hex() not in repr(provider).lower()
