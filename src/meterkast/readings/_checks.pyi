"""Compiled consecutive-reading checks of intake (see _checks.c and readings/fastpath.py)."""

import numpy as np

def check_forward(
    ean: np.ndarray,
    day: np.ndarray,
    series: np.ndarray,
    registers: np.ndarray,
    customer: np.ndarray,
    is_import: np.ndarray,
    known: np.ndarray,
    import_limit: np.ndarray,
    export_limit: np.ndarray,
    annual: np.ndarray,
    stored_row: np.ndarray,
    stored_day: np.ndarray,
    stored_series: np.ndarray,
    stored_registers: np.ndarray,
    shares: np.ndarray,
    shares_origin: int,
    status: np.ndarray,
    previous: np.ndarray,
) -> bool:
    """Fill ``status`` (reason code per row, 0 accepted) and ``previous`` (for an accepted row
    after a gap of days in the same series, its previous anchor: a row, or -2 - stored row;
    else -1); False when the batch is not an ordered forward batch (then the outputs mean
    nothing). Malformed arrays raise ValueError."""
