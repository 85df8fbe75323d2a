"""Generate a synthetic grid area: addresses, connections, meters, customers and contracts.

Deterministic for a seed and an as-of day. The output is plain rows per table, validated by the
domain types on the way (every code is built with its check digit; tests re-parse them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate

from meterkast.kernel import gs1
from meterkast.kernel.codes import (
    CustomerKind,
    DeliveryDirection,
    InstallationKind,
    MeterKind,
    PartyRole,
    PhysicalStatus,
    Product,
    ProfileCategory,
    ReadingChoice,
)
from meterkast.synth import names
from meterkast.synth.timeline import Occupancy, occupancies, supply_periods

Row = dict[str, object]
HISTORY_MONTHS = 30
OPERATOR = "Meterkast Netbeheer"
_NEVER_USED = frozenset({"SA", "SD", "SS"})
_STREET_PREFIXES = ("", "Oude ", "Nieuwe ", "Korte ", "Lange ", "Kleine ", "Grote ")


@dataclass
class SyntheticArea:
    """Rows for every table, keyed by table name, plus the window the history covers."""

    as_of: date
    history_start: date
    grid: dict[str, list[Row]] = field(default_factory=dict)
    parties: dict[str, list[Row]] = field(default_factory=dict)


def party_ean(block: int, index: int) -> str:
    """A fictional but valid EAN-13 party code in a block reserved for synthetic data."""
    return gs1.with_check_digit(f"8719900{block:02d}{index:03d}")


def connection_ean(product: Product, sequence: int) -> str:
    prefix = "87169" if product is Product.ELECTRICITY else "87168"
    return gs1.with_check_digit(f"{prefix}{sequence:012d}")


def months_before(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + (day.month - 1) - months
    return date(index // 12, index % 12 + 1, 1)


def _postcode_letters() -> list[str]:
    letters = "ABCDEFGHJKLMNPRSTVWXZ"  # common series letters
    return [a + b for a in letters for b in letters if a + b not in _NEVER_USED]


class _AddressBook:
    """Hands out addresses street by street: consecutive numbers, about 8 per postcode."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._letters = _postcode_letters()
        self._towns = [
            {"name": t, "digits": d, "letter": 0, "area": a, "streets": 0}
            for t, d, a in names.TOWNS
        ]
        self._weights = list(accumulate([3, 1, 2, 3, 1, 3, 4, 1, 4, 1]))

    def street(self, business: bool) -> tuple[dict[str, object], str]:
        town = self._rng.choices(self._towns, cum_weights=self._weights)[0]
        pool = names.BUSINESS_STREETS if business else names.STREETS
        n = int(town["streets"])  # type: ignore[call-overload]
        town["streets"] = n + 1
        base = pool[n % len(pool)]
        prefix = _STREET_PREFIXES[(n // len(pool)) % len(_STREET_PREFIXES)]
        suffix = "" if n < len(pool) * len(_STREET_PREFIXES) else f" {n // 420 + 1}"
        return town, f"{prefix}{base}{suffix}"

    def postcode(self, town: dict[str, object]) -> str:
        index = int(town["letter"])  # type: ignore[call-overload]
        # A new 4-digit area every ~30 postcodes, as neighbourhoods do.
        if index and index % 30 == 0:
            town["digits"] = int(town["digits"]) + 1  # type: ignore[call-overload]
        town["letter"] = index + 1
        return f"{town['digits']}{self._letters[index % len(self._letters)]}"

    def addresses(self, count: int, business: bool) -> list[Row]:
        rows: list[Row] = []
        while len(rows) < count:
            town, street = self.street(business)
            length = self._rng.randint(6, 24) if business else self._rng.randint(10, 70)
            number = 1
            while number <= length and len(rows) < count:
                postcode = self.postcode(town)
                for _ in range(self._rng.randint(5, 11)):
                    if number > length or len(rows) >= count:
                        break
                    rows.append(
                        {
                            "postcode": postcode,
                            "house_number": number,
                            "addition": "",
                            "street": street,
                            "town": town["name"],
                            "area": town["area"],
                        }
                    )
                    number += 1
        return rows


def _dwelling_electricity(rng: random.Random) -> tuple[str, ProfileCategory]:
    capacity = rng.choices(["1x35", "3x25", "1x40"], weights=[18, 78, 4])[0]
    profile = rng.choices(
        [ProfileCategory.E1A, ProfileCategory.E1B, ProfileCategory.E1C], weights=[55, 10, 35]
    )[0]
    return capacity, profile


def _business_electricity(rng: random.Random) -> tuple[str, ProfileCategory]:
    return rng.choice(
        [
            ("3x35", ProfileCategory.E2A),
            ("3x50", ProfileCategory.E2A),
            ("3x63", ProfileCategory.E2A),
            ("3x80", ProfileCategory.E2B),
            ("3x125", ProfileCategory.E3A),
            ("3x160", ProfileCategory.E3B),
            ("3x250", ProfileCategory.E3C),
        ]
    )


def _sjv(rng: random.Random, profile: ProfileCategory, capacity: str) -> int:
    """Standard annual volume: kWh for electricity, m3 for gas."""
    base = {
        ProfileCategory.E1A: 2600, ProfileCategory.E1B: 3400, ProfileCategory.E1C: 3100,
        ProfileCategory.E2A: 18000, ProfileCategory.E2B: 45000, ProfileCategory.E3A: 90000,
        ProfileCategory.E3B: 140000, ProfileCategory.E3C: 220000, ProfileCategory.E3D: 300000,
        ProfileCategory.G1A: 1200 if capacity == "G4" else 1700, ProfileCategory.G2A: 9000,
    }.get(profile, 2500)  # fmt: skip
    return max(100, int(rng.lognormvariate(0, 0.35) * base))


class _People:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.rows: list[Row] = []

    def new(self, business: bool) -> str:
        cid = f"C{len(self.rows) + 1:08d}"
        rng = self._rng
        surname = rng.choice(names.SURNAMES)
        handle = surname.lower().replace(" ", "")
        if business:
            name = f"{rng.choice(names.BUSINESS_KINDS)} {surname.split()[-1]}"
            kvk: str | None = f"{rng.randint(10_000_000, 99_999_999)}"
            kind = CustomerKind.BUSINESS
        else:
            name = f"{rng.choice(names.FIRST_NAMES)} {surname}"
            kvk, kind = None, CustomerKind.PERSON
        self.rows.append(
            {
                "id": cid,
                "kind": kind.value,
                "name": name,
                "email": f"{handle}.{len(self.rows) + 1}@mail.example",
                "phone": f"06-{rng.randint(10_000_000, 99_999_999)}",
                "kvk_number": kvk,
            }
        )
        return cid


def generate(connections: int, seed: int, as_of: date) -> SyntheticArea:
    """A grid area with ``connections`` electricity connections as it stands on ``as_of``."""
    if connections < 1:
        raise ValueError("a grid area needs at least one connection")
    rng = random.Random(seed)
    area = SyntheticArea(as_of=as_of, history_start=months_before(as_of, HISTORY_MONTHS))
    areas: list[Row] = [
        {"ean": party_ean(2, i), "name": n} for i, n in enumerate(names.GRID_AREAS, start=1)
    ]
    suppliers = [party_ean(0, i) for i in range(1, len(names.SUPPLIERS) + 1)]
    supplier_weights = list(accumulate(names.SUPPLIER_SHARES))
    parties: list[Row] = [
        {"ean": e, "role": PartyRole.SUPPLIER.value, "name": n}
        for e, n in zip(suppliers, names.SUPPLIERS, strict=True)
    ]
    parties += [
        {"ean": party_ean(1, i), "role": PartyRole.THIRD_PARTY.value, "name": n}
        for i, n in enumerate(names.THIRD_PARTIES, start=1)
    ]
    parties.append(
        {"ean": party_ean(3, 1), "role": PartyRole.GRID_OPERATOR.value, "name": OPERATOR}
    )
    area.parties["parties"] = parties

    n_business = max(0, round(connections * 0.03)) if connections >= 40 else 0
    book = _AddressBook(rng)
    address_rows = book.addresses(connections - n_business, business=False)
    address_rows += book.addresses(n_business, business=True)

    grid: dict[str, list[Row]] = {
        "grid_areas": areas,
        "addresses": [],
        "connections": [],
        "meters": [],
        "production_installations": [],
        "reading_choices": [],
    }
    people = _People(rng)
    contracts: list[Row] = []
    gas_sequence = 0
    for index, address in enumerate(address_rows, start=1):
        business = index > connections - n_business
        grid_area = areas[int(address.pop("area"))]["ean"]  # type: ignore[call-overload]
        grid["addresses"].append({"id": index, **address})
        e_ean = connection_ean(Product.ELECTRICITY, index)
        capacity, profile = (_business_electricity if business else _dwelling_electricity)(rng)
        solar = not business and rng.random() < 0.30
        grid["connections"].append(
            {
                "ean": e_ean,
                "product": Product.ELECTRICITY.value,
                "address_id": index,
                "grid_area_ean": grid_area,
                "capacity": capacity,
                "profile_category": profile.value,
                "physical_status": PhysicalStatus.IN_SERVICE.value,
                "delivery_direction": (
                    DeliveryDirection.BIDIRECTIONAL if solar else DeliveryDirection.OFFTAKE
                ).value,
                "sjv_offtake": _sjv(rng, profile, capacity),
            }
        )
        history_start = area.history_start
        if solar:
            kwp = round(rng.uniform(1.2, 8.5), 2)
            grid["production_installations"].append(
                {
                    "connection_ean": e_ean,
                    "kind": InstallationKind.SOLAR_PV.value,
                    "kwp": kwp,
                    "registered_on": history_start - timedelta(days=rng.randint(0, 2500)),
                }
            )
            grid["connections"][-1]["sjv_feed_in"] = int(kwp * rng.uniform(820, 950))
        # Meter: ~90 % smart; 1 % refused placement; the rest not yet exchanged.
        draw = rng.random()
        refused = draw < 0.01
        smart = draw >= 0.10
        maker = rng.choice(names.METER_MAKERS)
        e_serial = f"E{maker}{index:010d}"
        grid["meters"].append(
            {
                "serial": e_serial,
                "connection_ean": e_ean,
                "kind": (MeterKind.SMART if smart else MeterKind.CONVENTIONAL).value,
                "installed_on": history_start
                - timedelta(days=rng.randint(60, 3000) if smart else rng.randint(4000, 11000)),
                "mbus_host_serial": None,
                "mbus_channel": None,
            }
        )
        # Gas at ~85 % of dwellings and some businesses, on the E meter's M-Bus when both smart.
        eans = [e_ean]
        if rng.random() < (0.85 if not business else 0.5):
            gas_sequence += 1
            g_ean = connection_ean(Product.GAS, gas_sequence)
            g_capacity = (
                rng.choices(["G4", "G6"], weights=[80, 20])[0]
                if not business
                else rng.choice(["G10", "G16", "G25"])
            )
            g_profile = ProfileCategory.G1A if not business else ProfileCategory.G2A
            grid["connections"].append(
                {
                    "ean": g_ean,
                    "product": Product.GAS.value,
                    "address_id": index,
                    "grid_area_ean": grid_area,
                    "capacity": g_capacity,
                    "profile_category": g_profile.value,
                    "physical_status": PhysicalStatus.IN_SERVICE.value,
                    "delivery_direction": DeliveryDirection.OFFTAKE.value,
                    "sjv_offtake": _sjv(rng, g_profile, g_capacity),
                }
            )
            grid["meters"].append(
                {
                    "serial": f"G{maker}{gas_sequence:010d}",
                    "connection_ean": g_ean,
                    "kind": (MeterKind.SMART if smart else MeterKind.CONVENTIONAL).value,
                    "installed_on": grid["meters"][-1]["installed_on"],
                    "mbus_host_serial": e_serial if smart else None,
                    "mbus_channel": 1 if smart else None,
                }
            )
            eans.append(g_ean)
        _reading_choices(rng, eans, refused, smart, history_start, as_of,
                         grid["reading_choices"])  # fmt: skip
        for occupancy in occupancies(rng, history_start, as_of):
            _contracts_for(rng, occupancy, eans, people, business, suppliers, supplier_weights,
                           history_start, as_of, contracts)  # fmt: skip
    for row in grid["connections"]:
        row.setdefault("sjv_feed_in", None)
    for number, row in enumerate(contracts, start=1):
        row["id"] = number
    area.grid = grid
    area.parties["customers"] = people.rows
    area.parties["contracts"] = contracts
    return area


def _contracts_for(
    rng: random.Random,
    occupancy: Occupancy,
    eans: list[str],
    people: _People,
    business: bool,
    suppliers: list[str],
    supplier_weights: list[float],
    history_start: date,
    as_of: date,
    out: list[Row],
) -> None:
    customer: str | None = None  # created on the first contract inside the window
    for start, end in supply_periods(rng, occupancy, as_of):
        if end is not None and end < history_start:
            continue
        customer = customer or people.new(business)
        supplier = rng.choices(suppliers, cum_weights=supplier_weights)[0]
        fixed = rng.random() < 0.5
        term_end = start + timedelta(days=365 * rng.choice((1, 3)) - 1) if fixed else None
        for ean in eans:
            out.append(
                {
                    "connection_ean": ean,
                    "customer_id": customer,
                    "supplier_ean": supplier,
                    "start": start,
                    "end": end,
                    "term_end": term_end,
                    "notice_days": 30,
                }
            )


def _reading_choices(
    rng: random.Random,
    eans: list[str],
    refused: bool,
    smart: bool,
    history_start: date,
    as_of: date,
    out: list[Row],
) -> None:
    """Refusals (~1 %) and administratively-off choices (~2 % of smart meters), some undone.

    The choice covers every meter at the address: the gas meter is read through the E meter.
    """
    changes: list[tuple[ReadingChoice, date]] = []
    if refused:
        changes.append(
            (ReadingChoice.NO_SMART_METER, history_start - timedelta(days=rng.randint(30, 2000)))
        )
    elif smart and rng.random() < 0.022:
        off = history_start + timedelta(days=rng.randint(0, (as_of - history_start).days))
        changes.append((ReadingChoice.ADMINISTRATIVELY_OFF, off))
        if rng.random() < 0.1 and off < as_of - timedelta(days=2):
            back_on = off + timedelta(days=rng.randint(1, (as_of - off).days))
            changes.append((ReadingChoice.STANDARD, back_on))
    for choice, effective_from in changes:
        for ean in eans:
            out.append(
                {"connection_ean": ean, "choice": choice.value, "effective_from": effective_from}
            )
