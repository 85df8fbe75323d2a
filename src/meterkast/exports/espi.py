"""Green Button (NAESB ESPI) XML: an Atom feed of one connection's daily use.

Layout: one UsagePoint with its LocalTimeParameters (Europe/Amsterdam), and per direction a
MeterReading with its ReadingType and one IntervalBlock. Electricity: import is
``flowDirection`` forward (1), feed-in reverse (19); ``kind`` energy (12), ``uom`` Wh (72).
Gas (ServiceCategory 1, commodity natural gas 7): one forward series in m³ (``uom`` 42) with
``powerOfTenMultiplier`` -3, so values are whole dm³. All are delta data (4) per day. A day's
value is the difference of the 00:00 readings of that day and the next, so N readings give N-1
interval readings. Times are epoch seconds of Amsterdam midnights (a DST day lasts 23 or 25 h).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from xml.sax.saxutils import escape

from meterkast.exports.localtime import amsterdam
from meterkast.exports.rows import Reading, readings
from meterkast.kernel.clock import AMSTERDAM

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
FORWARD, REVERSE = 1, 19
ENERGY, WATT_HOURS, DELTA_DATA, ELECTRICITY_COMMODITY = 12, 72, 4, 1
NOT_APPLICABLE, CUBIC_METRES, GAS_COMMODITY, GAS_SERVICE = 0, 42, 7, 1
# ESPI QualityOfReading: 0 valid, 7 manually edited, 8 estimated using a reference day
_QUALITY = {"measured": 0, "corrected": 7, "estimated": 8}


def _epoch(day: object) -> int:
    return int(datetime.combine(day, time(0), AMSTERDAM).timestamp())  # type: ignore[arg-type]


def _entry(
    base: str,
    path: str,
    title: str,
    content: str,
    *,
    up: str | None = None,
    related: Iterable[str] = (),
    updated: str,
) -> str:
    links = [f'<link rel="self" href="{escape(base + path)}"/>']
    if up is not None:
        links.append(f'<link rel="up" href="{escape(base + up)}"/>')
    links += [f'<link rel="related" href="{escape(base + r)}"/>' for r in related]
    return (
        f"<entry><id>urn:meterkast:{escape(path)}</id><title>{escape(title)}</title>"
        f"<updated>{updated}</updated>{''.join(links)}<content>{content}</content></entry>"
    )


def _reading_type(direction: int, gas: bool = False) -> str:
    commodity, kind, power, uom = (
        (GAS_COMMODITY, NOT_APPLICABLE, -3, CUBIC_METRES)
        if gas
        else (ELECTRICITY_COMMODITY, ENERGY, 0, WATT_HOURS)
    )
    return (
        f'<ReadingType xmlns="{ESPI}"><accumulationBehaviour>{DELTA_DATA}'
        f"</accumulationBehaviour><commodity>{commodity}</commodity>"
        f"<dataQualifier>12</dataQualifier><flowDirection>{direction}</flowDirection>"
        f"<intervalLength>86400</intervalLength><kind>{kind}</kind><phase>0</phase>"
        f"<powerOfTenMultiplier>{power}</powerOfTenMultiplier><timeAttribute>0</timeAttribute>"
        f"<uom>{uom}</uom></ReadingType>"
    )


def _local_time(year: int) -> str:
    p = amsterdam(year)
    return (
        f'<LocalTimeParameters xmlns="{ESPI}"><dstEndRule>{p.dst_end_rule:08X}</dstEndRule>'
        f"<dstOffset>{p.dst_offset}</dstOffset><dstStartRule>{p.dst_start_rule:08X}"
        f"</dstStartRule><tzOffset>{p.tz_offset}</tzOffset></LocalTimeParameters>"
    )


def _block(days: list[Reading], direction: int) -> str:
    parts = []
    for today, tomorrow in itertools.pairwise(days):
        if tomorrow.day != today.day + timedelta(days=1):
            continue  # a gap: no honest daily value
        start, end = _epoch(today.day), _epoch(tomorrow.day)
        value = (
            tomorrow.consumed - today.consumed
            if direction == FORWARD
            else tomorrow.export_wh - today.export_wh
        )
        worst = max(_QUALITY.get(today.quality, 0), _QUALITY.get(tomorrow.quality, 0))
        quality = f"<ReadingQuality><quality>{worst}</quality></ReadingQuality>" if worst else ""
        parts.append(
            f"<IntervalReading>{quality}<timePeriod><duration>{end - start}</duration>"
            f"<start>{start}</start></timePeriod><value>{value}</value>"
            "</IntervalReading>"
        )
    first, last = (_epoch(days[0].day), _epoch(days[-1].day)) if days else (0, 0)
    return (
        f'<IntervalBlock xmlns="{ESPI}"><interval><duration>{last - first}</duration>'
        f"<start>{first}</start></interval>{''.join(parts)}</IntervalBlock>"
    )


def to_espi(
    ean: str,
    rows: Iterable[Mapping[str, object]],
    *,
    generated_at: datetime,
    base: str = "https://meterkast.invalid/espi/1_1/resource",
    gas: bool = False,
) -> str:
    """The feed for one connection; ``base`` prefixes the resource links."""
    days = readings(rows)
    updated = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    up_path = f"/Subscription/{ean}/UsagePoint/1"
    usage_point = (
        f'<UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>{GAS_SERVICE if gas else 0}</kind>'
        "</ServiceCategory><status>1</status></UsagePoint>"
    )
    local_time = f"/LocalTimeParameters/{ean}"
    entries = [
        _entry(
            base,
            up_path,
            f"Aansluiting {ean}",
            usage_point,
            up=f"/Subscription/{ean}/UsagePoint",
            related=[f"{up_path}/MeterReading", local_time],
            updated=updated,
        ),
        _entry(
            base,
            local_time,
            "Europe/Amsterdam",
            _local_time(generated_at.astimezone(AMSTERDAM).year),
            updated=updated,
        ),
    ]
    series = [("Gas", FORWARD)] if gas else [("Levering", FORWARD), ("Teruglevering", REVERSE)]
    unit = "m³" if gas else "Wh"
    for n, (name, direction) in enumerate(series, 1):
        mr = f"{up_path}/MeterReading/{n}"
        entries.append(
            _entry(
                base,
                mr,
                name,
                f'<MeterReading xmlns="{ESPI}"/>',
                up=f"{up_path}/MeterReading",
                related=[f"/ReadingType/{ean}-{n}", f"{mr}/IntervalBlock"],
                updated=updated,
            )
        )
        entries.append(
            _entry(
                base,
                f"/ReadingType/{ean}-{n}",
                f"{name} ({unit} per dag)",
                _reading_type(direction, gas),
                updated=updated,
            )
        )
        entries.append(
            _entry(
                base,
                f"{mr}/IntervalBlock/1",
                f"{name} per dag",
                _block(days, direction),
                up=f"{mr}/IntervalBlock",
                updated=updated,
            )
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="{ATOM}">'
        f"<id>urn:meterkast:feed:{escape(ean)}</id><title>meterkast Green Button</title>"
        f"<updated>{updated}</updated>{''.join(entries)}</feed>\n"
    )
