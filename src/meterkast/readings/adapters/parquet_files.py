"""Encrypted Parquet file primitives of the month store: KMS bridge, opened files, fsync."""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pqe

from meterkast.readings.ports import DataKeyService, DataKeyUnavailableError
from meterkast.readings.schema import TIME_COLUMN, Dataset


def month_key_id(month: date) -> str:
    return f"readings-{month:%Y-%m}"


def month_dir_name(month: date) -> str:
    return f"{month:%Y-%m}"


class KmsClient(pqe.KmsClient):  # type: ignore[misc]  # pyarrow ships no stubs
    """Bridges PyArrow's KMS calls to the data-key service (the month key is the master key)."""

    def __init__(self, keys: DataKeyService) -> None:
        super().__init__()
        self._keys = keys

    def wrap_key(self, key_bytes: bytes, master_key_identifier: str) -> str:
        wrapped = self._keys.data_key_wrap(master_key_identifier, key_bytes)
        return base64.b64encode(wrapped).decode("ascii")

    def unwrap_key(self, wrapped_key: str | bytes, master_key_identifier: str) -> bytes:
        return self._keys.data_key_unwrap(master_key_identifier, base64.b64decode(wrapped_key))


@dataclass
class OpenFile:
    """An opened file with its decrypted footer and per-row-group EAN bounds (kept in memory)."""

    parquet: pq.ParquetFile
    ean_min: np.ndarray
    ean_max: np.ndarray
    # A ParquetFile is not safe for concurrent reads (the API serves requests on a thread
    # pool): one reader at a time per file; different files are still read in parallel.
    lock: threading.Lock = field(default_factory=threading.Lock)


def sort_keys(dataset: Dataset) -> list[tuple[str, str]]:
    return [("ean", "ascending"), (TIME_COLUMN[dataset], "ascending"), ("version", "ascending")]


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_file(
    path: Path, decryption: pqe.FileDecryptionProperties, keys: DataKeyService
) -> OpenFile:
    """Open an encrypted file and read its per-row-group EAN bounds."""
    try:
        parquet = pq.ParquetFile(path, decryption_properties=decryption)
    except OSError:
        # PyArrow wraps the KMS client's refusal; name the real cause when it is the key.
        key_id = f"readings-{path.parent.name}"
        if not keys.has_data_key(key_id):
            raise DataKeyUnavailableError(key_id) from None
        raise
    meta = parquet.metadata
    ean_index = meta.schema.names.index("ean")
    mins, maxs = [], []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(ean_index).statistics
        mins.append(stats.min)
        maxs.append(stats.max)
    opened = OpenFile(parquet, np.array(mins, dtype="U32"), np.array(maxs, dtype="U32"))
    return opened
