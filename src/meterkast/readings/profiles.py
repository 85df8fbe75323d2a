"""Simple consumption profiles: the share of a year's volume that falls on each day.

Monthly shares (sum 1) loosely follow the Dutch settlement profiles: E1 households use more
in winter, G1 gas is mostly heating, solar PV peaks in June. A day's share is its month's share
divided by the month's length. Estimates and the synthetic history both use these, so an
estimate lands where a real reading would be expected. Pure functions, no I/O.
"""

from __future__ import annotations

import calendar
from datetime import date

import numpy as np

from meterkast.kernel.codes import Product

ELECTRICITY_MONTHS = np.array(
    [0.100, 0.088, 0.088, 0.078, 0.072, 0.066, 0.066, 0.069, 0.074, 0.085, 0.094, 0.100]
)
GAS_MONTHS = np.array(
    [0.170, 0.150, 0.130, 0.090, 0.050, 0.030, 0.020, 0.020, 0.040, 0.080, 0.100, 0.120]
)
SOLAR_MONTHS = np.array(
    [0.025, 0.045, 0.080, 0.115, 0.135, 0.140, 0.140, 0.120, 0.090, 0.060, 0.030, 0.020]
)
# Solar yield per kWp per year in the Netherlands, kWh.
SOLAR_KWH_PER_KWP = 900.0


def _normalised(weights: np.ndarray) -> np.ndarray:
    return np.asarray(weights / weights.sum(), dtype=np.float64)


MONTH_SHARES = {
    Product.ELECTRICITY: _normalised(ELECTRICITY_MONTHS),
    Product.GAS: _normalised(GAS_MONTHS),
}
SOLAR_SHARES = _normalised(SOLAR_MONTHS)


def day_shares(days: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """The share of the annual volume on each day (``days`` as numpy datetime64[D])."""
    months = days.astype("datetime64[M]")
    month_index = (months.astype(int) % 12).astype(int)
    next_month = months + np.timedelta64(1, "M")
    lengths = (next_month.astype("datetime64[D]") - months.astype("datetime64[D]")).astype(int)
    result: np.ndarray = shares[month_index] / lengths
    return result


def day_share(day: date, product: Product) -> float:
    length = calendar.monthrange(day.year, day.month)[1]
    return float(MONTH_SHARES[product][day.month - 1]) / length
