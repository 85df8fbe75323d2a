"""Grid and parties services against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from meterkast.grid.domain import (
    Address,
    Capacity,
    Connection,
    Ean18,
    GridArea,
    Meter,
    Postcode,
)
from meterkast.grid.service import GridService
from meterkast.kernel.codes import (
    CustomerKind,
    DeliveryDirection,
    MeterKind,
    PartyRole,
    PhysicalStatus,
    Product,
    ProfileCategory,
    ReadingChoice,
)
from meterkast.kernel.errors import ConflictError, InvalidCodeError, NotFoundError
from meterkast.parties.domain import ContactData, Contract, Customer, CustomerId, Ean13, Party
from meterkast.parties.service import PartiesService
from meterkast.readings.adapters.facts import GridConnectionFacts, fact_of
from meterkast.synth.service import AreaGenerator

AREA = "8719900020019"
EAN = Ean18("871690000000000010")
SUPPLIER = Ean13("8719900000011")


def _seed(engine: Engine) -> tuple[GridService, PartiesService]:
    grid, parties = GridService(engine), PartiesService(engine)
    grid.add_grid_area(GridArea(AREA, "Test"))
    grid.add_connection(
        Connection(
            ean=EAN,
            product=Product.ELECTRICITY,
            address=Address(Postcode("8011AB"), 3, "Kerkstraat", "Zwolle"),
            grid_area=AREA,
            capacity=Capacity.parse("3x25"),
            profile_category=ProfileCategory.E1A,
            physical_status=PhysicalStatus.IN_SERVICE,
            delivery_direction=DeliveryDirection.OFFTAKE,
            meter=Meter("EKFM0000000001", MeterKind.SMART, date(2020, 1, 1)),
        )
    )
    parties.add_party(Party(SUPPLIER, PartyRole.SUPPLIER, "Polderstroom"))
    parties.add_customer(
        Customer(CustomerId("C00000001"), CustomerKind.PERSON, "A. Jansen", ContactData())
    )
    return grid, parties


def _contract(start: date, end: date | None, supplier: str = SUPPLIER) -> Contract:
    return Contract(0, EAN, CustomerId("C00000001"), Ean13(supplier), start, end)


def test_connection_round_trip_and_reading_choice(engine: Engine) -> None:
    grid, _ = _seed(engine)
    loaded = grid.get_connection(EAN)
    assert loaded.address.label == "Kerkstraat 3, 8011 AB Zwolle"
    assert loaded.meter is not None and loaded.meter.kind is MeterKind.SMART
    grid.choose_reading(EAN, ReadingChoice.ADMINISTRATIVELY_OFF, date(2026, 1, 10))
    again = grid.get_connection(EAN)
    assert again.reading_choice(date(2026, 1, 9)) is ReadingChoice.STANDARD
    assert again.reading_choice(date(2026, 1, 10)) is ReadingChoice.ADMINISTRATIVELY_OFF
    assert [c.ean for c in grid.list_connections(limit=5)] == [EAN]


def test_unknown_and_malformed_connections(engine: Engine) -> None:
    grid, _ = _seed(engine)
    with pytest.raises(NotFoundError):
        grid.get_connection("871690000000000027")
    with pytest.raises(InvalidCodeError):
        grid.get_connection("871690000000000011")


def test_overlapping_contract_is_refused_and_nothing_written(engine: Engine) -> None:
    _, parties = _seed(engine)
    first = parties.add_contract(_contract(date(2025, 1, 1), date(2025, 12, 31)))
    assert first.id > 0
    with pytest.raises(ConflictError, match="overlaps"):
        parties.add_contract(_contract(date(2025, 12, 31), None))
    with pytest.raises(NotFoundError, match="supplier"):
        parties.add_contract(_contract(date(2026, 1, 1), None, supplier="8716892000005"))
    assert parties.contracts_of(EAN) == [first]
    parties.add_contract(_contract(date(2026, 1, 1), None))
    running = parties.contract_end_register(EAN, date(2026, 5, 1))
    assert running is not None and running.start == date(2026, 1, 1)


def test_generated_area_loads_and_reads_back(engine: Engine) -> None:
    grid, parties = GridService(engine), PartiesService(engine)
    result = AreaGenerator(engine, grid, parties).generate(150, 3, date(2026, 11, 23))
    with engine.connect() as db:
        n = db.execute(sa.text("SELECT count(*) FROM contracts")).scalar_one()
    assert n == result.tables["contracts"] > 150
    first = grid.list_connections(limit=1)[0]
    assert grid.get_connection(first.ean) == first
    summary = grid.summary(date(2026, 11, 23))
    assert summary.connections["electricity"] == 150
    assert sum(summary.reading_choices.values()) == 150
    with pytest.raises(ConflictError, match="already holds"):
        AreaGenerator(engine, grid, parties).generate(10, 3, date(2026, 11, 23))


def test_many_connections_load_in_bulk_as_one_parameter(engine: Engine) -> None:
    grid, parties = GridService(engine), PartiesService(engine)
    AreaGenerator(engine, grid, parties).generate(600, 3, date(2026, 11, 23))
    every = grid.list_connections()
    asked = [str(c.ean) for c in reversed(every)] + ["871690000000000027", "not an EAN"]
    assert len(every) > 500  # more than fit in a plain IN list
    assert grid.get_connections(asked) == every  # ordered by EAN, unknown ones left out
    assert grid.get_connections(asked[:3]) == sorted(every[-3:], key=lambda c: c.ean)
    assert grid.get_connections(["not an EAN"]) == []


def test_connection_facts_come_as_columns_aligned_to_the_batch(engine: Engine) -> None:
    grid, parties = GridService(engine), PartiesService(engine)
    AreaGenerator(engine, grid, parties).generate(40, 3, date(2026, 11, 23))
    every = grid.list_connections()
    eans = np.unique(np.array([int(c.ean) for c in every] + [871690000000099993], np.int64))
    electricity = GridConnectionFacts(grid).lookup_columns(eans, Product.ELECTRICITY)
    for position, code in enumerate(eans.tolist()):
        found = [c for c in every if int(c.ean) == code]
        expected = fact_of(found[0]) if found else None
        if expected is None or expected.product is not Product.ELECTRICITY:
            assert not electricity.known[position]
            continue
        assert electricity.known[position]
        assert electricity.expected_annual[position] == expected.expected_annual
        assert electricity.capacity_amps[position] == expected.capacity_amps
        assert electricity.phases[position] == expected.phases
        assert electricity.solar_kwp[position] == expected.solar_kwp
    assert electricity.known.sum() == sum(c.product is Product.ELECTRICITY for c in every)
