"""Green Button (NAESB ESPI) XML: an Atom feed of one connection's daily energy, in Wh.

Layout: one UsagePoint (electricity), and per direction a MeterReading with its ReadingType and
one IntervalBlock. Import is ``flowDirection`` forward (1), feed-in is reverse (19); both are
``kind`` energy (12), ``uom`` Wh (72), delta data (4) per day. A day's value is the difference
of the 00:00 readings of that day and the next, so N readings give N-1 interval readings.
Times are epoch seconds of Amsterdam midnights (a DST day lasts 23 or 25 hours).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta
from xml.sax.saxutils import escape

from meterkast.exports.rows import Reading, readings
from meterkast.kernel.clock import AMSTERDAM

ATOM = "http://www.w3.org/2005/Atom"
ESPI = "http://naesb.org/espi"
FORWARD, REVERSE = 1, 19
ENERGY, WATT_HOURS, DELTA_DATA, ELECTRICITY_COMMODITY = 12, 72, 4, 1
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


def _reading_type(direction: int) -> str:
    return (
        f'<ReadingType xmlns="{ESPI}"><accumulationBehaviour>{DELTA_DATA}'
        f"</accumulationBehaviour><commodity>{ELECTRICITY_COMMODITY}</commodity>"
        f"<dataQualifier>12</dataQualifier><flowDirection>{direction}</flowDirection>"
        f"<intervalLength>86400</intervalLength><kind>{ENERGY}</kind><phase>0</phase>"
        f"<powerOfTenMultiplier>0</powerOfTenMultiplier><timeAttribute>0</timeAttribute>"
        f"<uom>{WATT_HOURS}</uom></ReadingType>"
    )


def _block(days: list[Reading], direction: int) -> str:
    parts = []
    for today, tomorrow in itertools.pairwise(days):
        if tomorrow.day != today.day + timedelta(days=1):
            continue  # a gap: no honest daily value
        start, end = _epoch(today.day), _epoch(tomorrow.day)
        value = (
            tomorrow.import_wh - today.import_wh
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
) -> str:
    """The feed for one connection; ``base`` prefixes the resource links."""
    days = readings(rows)
    updated = generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    up_path = f"/Subscription/{ean}/UsagePoint/1"
    usage_point = (
        f'<UsagePoint xmlns="{ESPI}"><ServiceCategory><kind>0</kind>'
        "</ServiceCategory><status>1</status></UsagePoint>"
    )
    entries = [
        _entry(
            base,
            up_path,
            f"Aansluiting {ean}",
            usage_point,
            up=f"/Subscription/{ean}/UsagePoint",
            related=[f"{up_path}/MeterReading"],
            updated=updated,
        )
    ]
    for n, (name, direction) in enumerate((("Levering", FORWARD), ("Teruglevering", REVERSE)), 1):
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
                f"{name} (Wh per dag)",
                _reading_type(direction),
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
