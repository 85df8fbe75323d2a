"""Fixed-width delta coding of connections' rows into serving bucket payloads (C kernel)."""

from collections.abc import Sequence

import numpy as np

# Any C-contiguous buffer works; the callers pass numpy arrays (and bytes for names).
_Buffer = np.ndarray | bytes

def encode(
    columns: Sequence[_Buffer],
    starts: _Buffer,
    names: _Buffer,
    offsets: _Buffer,
    buckets: _Buffer,
    n_buckets: int,
    /,
) -> list[bytes]: ...
def decode(
    payloads: list[bytes],
    name: bytes,
    widths: bytes,
    time_field: int,
    version_field: int,
    low: int,
    high: int,
    latest: bool,
    /,
) -> tuple[int, list[bytes]]: ...
def positions(offsets: _Buffer, data: _Buffer, codes: list[bytes], /) -> bytes: ...
