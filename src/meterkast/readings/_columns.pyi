"""Compiled column conversions of the readings store (see _columns.c and frames.py)."""

from typing import Any

def ean_codes(
    offsets: Any, data: Any, offset: int, length: int, offset_width: int, out: Any
) -> None:
    """Parse ``length`` values of an Arrow string array (its offsets and data buffers, from
    row ``offset``; ``offset_width`` 4 or 8 bytes) into ``out`` (int64). A value that is not
    18 ASCII digits, or malformed buffers, raise ValueError."""

def strictly_ordered(ean: Any, day: Any) -> bool:
    """Whether rows are strictly ordered by EAN, then day (int64 columns of one length;
    anything else raises ValueError)."""
