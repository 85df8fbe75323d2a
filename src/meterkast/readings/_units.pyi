from collections.abc import Sequence

from meterkast.keys._aes import ReadKeys

class RejectedError(ValueError): ...

class Units:
    def __init__(self, uri: str, mmap_bytes: int = 0) -> None: ...

def read(
    units: Sequence[Units],
    keys: Sequence[ReadKeys],
    counts: Sequence[int],
    places: Sequence[bytes],
    dataset: str,
    message: bytes,
) -> list[bytes]: ...
