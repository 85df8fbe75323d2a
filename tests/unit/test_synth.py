"""The synthetic grid area: deterministic, valid codes, realistic shares and history."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from functools import cache
from itertools import pairwise

from meterkast.grid.domain import parse_ean18, parse_postcode
from meterkast.parties.domain import parse_ean13
from meterkast.synth.area import SyntheticArea, generate

AS_OF = date(2026, 11, 23)


@cache
def area() -> SyntheticArea:
    return generate(4000, seed=7, as_of=AS_OF)


def test_same_seed_same_area_other_seed_other_area() -> None:
    again = generate(4000, seed=7, as_of=AS_OF)
    assert again.grid == area().grid and again.parties == area().parties
    other = generate(4000, seed=8, as_of=AS_OF)
    assert other.grid["connections"] != area().grid["connections"]


def test_every_code_is_valid_and_unique() -> None:
    eans = [str(c["ean"]) for c in area().grid["connections"]]
    assert len(set(eans)) == len(eans)
    for ean in eans:
        parse_ean18(ean)
    for party in area().parties["parties"]:
        parse_ean13(str(party["ean"]))
    for address in area().grid["addresses"]:
        parse_postcode(str(address["postcode"]))


def test_one_electricity_connection_per_address_and_gas_beside_it() -> None:
    conns = area().grid["connections"]
    electricity = Counter(c["address_id"] for c in conns if c["product"] == "electricity")
    assert len(electricity) == 4000 and set(electricity.values()) == {1}
    gas = [c for c in conns if c["product"] == "gas"]
    assert 0.80 <= len(gas) / 4000 <= 0.89
    assert {c["capacity"] for c in gas} >= {"G4", "G6"}


def test_streets_have_consecutive_numbers_and_about_8_addresses_per_postcode() -> None:
    addresses = area().grid["addresses"]
    by_street: dict[tuple[object, object], list[int]] = defaultdict(list)
    for a in addresses:
        by_street[(a["town"], a["street"])].append(int(str(a["house_number"])))
    for numbers in by_street.values():
        assert sorted(numbers) == list(range(1, len(numbers) + 1))
    per_postcode = len(addresses) / len({a["postcode"] for a in addresses})
    assert 6.5 <= per_postcode <= 9.5
    assert len({a["town"] for a in addresses}) >= 5
    assert len(area().grid["grid_areas"]) >= 3


def test_profile_mix_solar_and_meters() -> None:
    conns = [c for c in area().grid["connections"] if c["product"] == "electricity"]
    profiles = Counter(str(c["profile_category"]) for c in conns)
    assert {"E1A", "E1B", "E1C"} <= set(profiles)
    assert any(p.startswith(("E2", "E3")) for p in profiles)
    solar = len(area().grid["production_installations"])
    assert 0.25 <= solar / 4000 <= 0.35
    meters = area().grid["meters"]
    smart = sum(m["kind"] == "smart" for m in meters) / len(meters)
    assert 0.87 <= smart <= 0.93
    gas_on_mbus = [m for m in meters if m["mbus_host_serial"] is not None]
    e_serials = {m["serial"] for m in meters if str(m["serial"]).startswith("E")}
    assert gas_on_mbus and all(m["mbus_host_serial"] in e_serials for m in gas_on_mbus)


def test_reading_choices_off_and_refused_shares() -> None:
    choices = area().grid["reading_choices"]
    first = Counter(c["choice"] for c in choices if str(c["connection_ean"]).startswith("87169"))
    assert 0.005 <= first["no_smart_meter"] / 4000 <= 0.02
    assert 0.01 <= first["administratively_off"] / 4000 <= 0.03
    gas_choices = [c for c in choices if str(c["connection_ean"]).startswith("87168")]
    assert gas_choices, "the gas meter follows the choice made at its address"


def test_contract_history_covers_30_months_with_switches_moves_and_vacancy() -> None:
    a = area()
    by_connection: dict[object, list[dict[str, object]]] = defaultdict(list)
    for c in a.parties["contracts"]:
        by_connection[c["connection_ean"]].append(c)
    moves = switches = vacant_now = 0
    for contracts in by_connection.values():
        contracts.sort(key=lambda c: c["start"])  # type: ignore[arg-type, return-value]
        for prev, nxt in pairwise(contracts):
            assert prev["end"] is not None and prev["end"] < nxt["start"]  # type: ignore[operator]
            if prev["customer_id"] == nxt["customer_id"]:
                switches += 1
            else:
                moves += 1
        last = contracts[-1]
        assert last["start"] <= AS_OF  # type: ignore[operator]
        assert last["end"] is None or last["end"] < AS_OF  # type: ignore[operator]
        vacant_now += last["end"] is not None
    assert moves > 100 and switches > 100 and vacant_now > 0
    assert min(c["start"] for c in a.parties["contracts"]) <= a.history_start  # type: ignore[type-var]
    assert a.history_start == date(2024, 5, 1)
    assert {c["supplier_ean"] for c in a.parties["contracts"]} <= {
        p["ean"] for p in a.parties["parties"] if p["role"] == "supplier"
    }
    assert sum(p["role"] == "third_party" for p in a.parties["parties"]) >= 2
