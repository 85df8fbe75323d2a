"""Bar charts as inline SVG, rendered on the server (pure: no I/O, no clock).

Why server-side SVG: the portal loads nothing from outside and runs no script, the chart is in
the HTML the moment it arrives, and screen readers get a ``<title>``/``<desc>`` plus the data
table the page renders from the same numbers (docs/decisions/0008-portal-charts.md).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

from meterkast.exports.rows import readings


@dataclass(frozen=True, slots=True)
class Usage:
    """Use of one period (a day, or a month keyed on its first day): Wh, or dm³ for gas."""

    period: date
    import_wh: int
    export_wh: int


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    hint: str  # the accessible name of the bar, e.g. "2026-03: 212 kWh"


def daily_usage(rows: Iterable[Mapping[str, object]]) -> list[Usage]:
    """Consumption and feed-in per day: the difference of consecutive 00:00 readings.

    A day without next day's reading has no honest value and is left out (no interpolation).
    """
    days = readings(rows)
    return [
        Usage(a.day, b.consumed - a.consumed, b.export_wh - a.export_wh)
        for a, b in itertools.pairwise(days)
        if b.day == a.day + timedelta(days=1)
    ]


def monthly_usage(daily: Iterable[Usage]) -> list[Usage]:
    """Daily usage summed per calendar month (a month may be partial at either end)."""
    months: dict[date, tuple[int, int]] = {}
    for u in daily:
        key = u.period.replace(day=1)
        imp, exp = months.get(key, (0, 0))
        months[key] = (imp + u.import_wh, exp + u.export_wh)
    return [Usage(m, *months[m]) for m in sorted(months)]


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten not below ``value`` (axis top)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    desc: str,
    unit: str,
    kind: str = "import",
    width: int = 720,
    height: int = 240,
    number: Callable[[float], str] = _fmt,
) -> str:
    """One series as bars; negative values (a correction) are drawn at zero height."""
    left, right, top, bottom = 56, 8, 22, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = nice_ceiling(max((b.value for b in bars), default=0.0))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{escape(kind)}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" preserveAspectRatio="xMinYMin meet">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for i in range(5):  # gridlines at 0, 25, 50, 75 and 100 % of the axis
        value = peak * i / 4
        y = top + plot_h - plot_h * i / 4
        out.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" '
            f'y2="{y:.1f}"/><text class="tick" x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{escape(number(value))}</text>'
        )
    out.append(f'<text class="unit" x="4" y="12">{escape(unit)}</text>')
    if bars:
        slot = plot_w / len(bars)
        bar_w = max(slot * 0.8, 0.6)
        label_every = max(1, math.ceil(len(bars) / 12))
        for i, bar in enumerate(bars):
            h = plot_h * max(bar.value, 0.0) / peak
            x = left + i * slot + (slot - bar_w) / 2
            out.append(
                f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{bar_w:.1f}" height="{h:.1f}"><title>{escape(bar.hint)}'
                "</title></rect>"
            )
            if i % label_every == 0:
                out.append(
                    f'<text class="label" x="{x + bar_w / 2:.1f}" y="{height - 8}" '
                    f'text-anchor="middle">{escape(bar.label)}</text>'
                )
    out.append("</svg>")
    return "".join(out)
