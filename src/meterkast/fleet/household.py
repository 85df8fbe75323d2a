"""A deterministic household model: what a meter's registers read at any 15-minute boundary.

Nothing is simulated tick by tick. Each day's use (import T1/T2, export T1/T2, gas) is a closed
form of the day number and a counter-based hash of (seed, day), so the register at the start of
any day is a cumulative sum over the days since installation (a few thousand numpy elements), and
a moment inside a day adds that day's total times the fraction its intraday shape reaches by
then. Registers therefore never decrease, and 100,000 meters cost a few seconds.

Shapes: base load with a morning bump and an evening peak; solar export between 07:00 and 20:00
(wider in summer), seasonal; gas for hot water plus heating below 16 °C. Tariff 1 (low) is
23:00-07:00 and the whole weekend, tariff 2 the rest; solar falls in tariff 2 on weekdays.
Day shapes follow Dutch wall-clock time, so DST days have 92 or 100 quarter hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from meterkast.dlms.clock import local_midnight
from meterkast.kernel.clock import AMSTERDAM, local_day
from meterkast.kernel.codes import ProfileCategory

EPOCH = date(2000, 1, 1)  # a Saturday: weekday(n) = (n + 5) % 7
QUARTER = timedelta(minutes=15)
YEAR_DAYS = 365.2425
MASK64 = (1 << 64) - 1
REGISTERS = ("import_t1_wh", "import_t2_wh", "export_t1_wh", "export_t2_wh", "gas_dm3")

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

# Mean annual offtake (kWh) per settlement profile, and gas (m3) per gas profile.
_ANNUAL_KWH = {
    ProfileCategory.E1A: 2_700, ProfileCategory.E1B: 3_100, ProfileCategory.E1C: 3_300,
    ProfileCategory.E2A: 12_000, ProfileCategory.E2B: 15_000, ProfileCategory.E3A: 40_000,
    ProfileCategory.E3B: 55_000, ProfileCategory.E3C: 70_000, ProfileCategory.E3D: 90_000,
    ProfileCategory.E4A: 5_000,
}  # fmt: skip
_ANNUAL_GAS_M3 = {ProfileCategory.G1A: 1_150, ProfileCategory.G2A: 4_500}
_DEGREE_DAYS_PER_YEAR = 2_300.0


def _bump(hours: Floats, centre: float, width: float) -> Floats:
    result: Floats = np.exp(-0.5 * ((hours - centre) / width) ** 2)
    return result


_HOURS: Floats = np.arange(96, dtype=np.float64) / 4.0 + 0.125  # mid-slot wall-clock hours
_USE_SHAPE = 0.5 + 0.45 * _bump(_HOURS, 7.5, 1.0) + 1.4 * _bump(_HOURS, 19.0, 1.8)
_GAS_SHAPE = 0.35 + 1.3 * _bump(_HOURS, 7.0, 1.2) + 0.9 * _bump(_HOURS, 19.5, 2.2)
_LOW_TARIFF: npt.NDArray[np.bool_] = (_HOURS < 7.0) | (_HOURS >= 23.0)
_WEEKDAY_LOW_SHARE = float(_USE_SHAPE[_LOW_TARIFF].sum() / _USE_SHAPE.sum())


def mix(*parts: int) -> int:
    """A 64-bit hash of integers (splitmix64 finaliser over a running combination)."""
    x = 0x9E3779B97F4A7C15
    for part in parts:
        x = (x ^ (part & MASK64)) * 0xBF58476D1CE4E5B9 & MASK64
        x ^= x >> 31
    return x


def _uniform(seed: int, n: Ints, stream: int) -> Floats:
    """Uniform [0, 1) per day number, reproducible from (seed, stream, n)."""
    x = n.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x ^= np.uint64(mix(seed, stream))
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    result: Floats = (x >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return result


def _unit(seed: int, stream: int) -> float:
    return (mix(seed, stream) >> 11) * 2.0**-53


@dataclass(frozen=True, slots=True)
class Household:
    """The use behind one meter; every figure derives from ``seed``."""

    seed: int
    installed_on: date
    daily_wh: float
    solar_kwp: float = 0.0
    gas_m3_per_degree_day: float = 0.0
    gas_base_m3: float = 0.0

    @classmethod
    def for_connection(
        cls,
        seed: int,
        installed_on: date,
        profile: ProfileCategory,
        solar_kwp: float = 0.0,
        gas_profile: ProfileCategory | None = None,
    ) -> Household:
        annual = _ANNUAL_KWH.get(profile, 3_000) * (0.55 + 1.1 * _unit(seed, 1))
        gas_k = gas_base = 0.0
        if gas_profile is not None:
            gas_annual = _ANNUAL_GAS_M3.get(gas_profile, 1_150) * (0.5 + _unit(seed, 2))
            gas_base = 0.15 * gas_annual / YEAR_DAYS
            gas_k = 0.85 * gas_annual / _DEGREE_DAYS_PER_YEAR
        return cls(seed, installed_on, annual * 1000 / YEAR_DAYS, solar_kwp, gas_k, gas_base)

    @property
    def has_gas(self) -> bool:
        return self.gas_m3_per_degree_day > 0

    def daily_use(self, first: date, stop: date) -> Floats:
        """Use per day for days [first, stop): shape (days, 5), columns as ``REGISTERS``."""
        n = np.arange((first - EPOCH).days, (stop - EPOCH).days, dtype=np.int64)
        weekend = (n + 5) % 7 >= 5
        winter = np.cos(2 * np.pi * (n - 14) / YEAR_DAYS)
        use = self.daily_wh * (1 + 0.2 * winter) * np.where(weekend, 1.12, 1.0)
        use *= 0.75 + 0.5 * _uniform(self.seed, n, 10)
        out = np.zeros((len(n), 5))
        out[:, 0] = np.where(weekend, use, use * _WEEKDAY_LOW_SHARE)
        out[:, 1] = use - out[:, 0]
        if self.solar_kwp:
            summer = (1 + np.cos(2 * np.pi * (n - 172) / YEAR_DAYS)) / 2
            made = self.solar_kwp * 1000 * (0.7 + 4.2 * summer)
            made *= 0.3 + _uniform(self.seed, n, 11)
            exported = 0.65 * made  # the rest is used behind the meter
            out[:, 2] = np.where(weekend, exported, 0.0)
            out[:, 3] = exported - out[:, 2]
        if self.has_gas:
            temperature = 10.5 - 7.5 * np.cos(2 * np.pi * (n - 20) / YEAR_DAYS)
            temperature += 4 * (_uniform(self.seed, n, 12) - 0.5)
            m3 = self.gas_base_m3 + self.gas_m3_per_degree_day * np.maximum(0, 16 - temperature)
            out[:, 4] = 1000 * m3 * (0.85 + 0.3 * _uniform(self.seed, n, 13))
        return out

    def cumulative(self, last: date) -> Floats:
        """Registers at 00:00 of each day from installation to ``last``: (days + 1, 5)."""
        use = self.daily_use(self.installed_on, max(last, self.installed_on))
        result: Floats = np.vstack([np.zeros((1, 5)), np.cumsum(use, axis=0)])
        return result

    def registers_on(self, days: list[date], cumulative: Floats | None = None) -> Ints:
        """Register values at 00:00 (Dutch time) of each day: shape (len(days), 5), integers.

        ``cumulative`` (from :meth:`cumulative`) may be passed when it reaches the last day.
        """
        if not days:
            return np.zeros((0, 5), dtype=np.int64)
        index = np.array([max(0, (d - self.installed_on).days) for d in days])
        if cumulative is None or len(cumulative) <= index.max():
            cumulative = self.cumulative(max(days))
        result: Ints = np.floor(cumulative[index]).astype(np.int64)
        return result

    def registers_at(self, moments: list[datetime]) -> Ints:
        """Register values at aware 15-minute boundaries: shape (len(moments), 5), integers."""
        if not moments:
            return np.zeros((0, 5), dtype=np.int64)
        days = [local_day(m) for m in moments]
        first, last = min(days), max(days)
        start = min(first, self.installed_on)
        use = self.daily_use(start, last + timedelta(days=1))
        offset = (self.installed_on - start).days
        use[:offset] = 0.0  # nothing before installation
        cumulative = np.vstack([np.zeros((1, 5)), np.cumsum(use, axis=0)])
        values = np.zeros((len(moments), 5))
        fractions: dict[date, Floats] = {}
        for i, (moment, day) in enumerate(zip(moments, days, strict=True)):
            row = (day - start).days
            slot = int((moment - local_midnight(day)) / QUARTER)
            if day not in fractions:
                fractions[day] = _day_fractions(day)
            values[i] = cumulative[row] + use[row] * fractions[day][slot]
        result: Ints = np.floor(values).astype(np.int64)
        return result


def _day_fractions(day: date) -> Floats:
    """Share of each register's day total reached after k quarter hours: (slots + 1, 5)."""
    start = local_midnight(day)
    count = int((local_midnight(day + timedelta(days=1)) - start) / QUARTER)
    slots = np.array(
        [
            (lambda t: t.hour * 4 + t.minute // 15)((start + k * QUARTER).astimezone(AMSTERDAM))
            for k in range(count)
        ]
    )
    n = (day - EPOCH).days
    weekend = (n + 5) % 7 >= 5
    summer = (1 + np.cos(2 * np.pi * (n - 172) / YEAR_DAYS)) / 2
    half_width = 4.0 + 2.5 * summer  # 07:00-20:00 at most, inside tariff 2 hours
    sun = np.clip(np.cos(np.pi / 2 * (_HOURS[slots] - 13.5) / half_width), 0, None)
    sun[np.abs(_HOURS[slots] - 13.5) >= half_width] = 0.0
    use = _USE_SHAPE[slots]
    low = _LOW_TARIFF[slots]
    weights = np.zeros((count, 5))
    weights[:, 0] = use if weekend else use * low
    weights[:, 1] = 0.0 if weekend else use * ~low
    weights[:, 2] = sun if weekend else 0.0
    weights[:, 3] = 0.0 if weekend else sun
    weights[:, 4] = _GAS_SHAPE[slots]
    totals = weights.sum(axis=0)
    totals[totals == 0] = 1.0
    fractions = np.vstack([np.zeros((1, 5)), np.cumsum(weights, axis=0) / totals])
    result: Floats = np.minimum(fractions, 1.0)
    return result
