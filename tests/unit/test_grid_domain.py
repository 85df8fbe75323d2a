"""Connection register rules: capacities, invariants, reading choice history."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from meterkast.grid.domain import (
    Address,
    Capacity,
    Connection,
    Ean18,
    Meter,
    Postcode,
    ProductionInstallation,
    ReadingChoiceChange,
)
from meterkast.kernel.codes import (
    DeliveryDirection,
    InstallationKind,
    MeterKind,
    PhysicalStatus,
    Product,
    ProfileCategory,
    ReadingChoice,
)
from meterkast.kernel.errors import ConflictError, InvalidValueError


@pytest.mark.parametrize(
    ("text", "product", "small"),
    [("1x35", Product.ELECTRICITY, True), ("3x25", Product.ELECTRICITY, True),
     ("3x80", Product.ELECTRICITY, True), ("3x125", Product.ELECTRICITY, False),
     ("G4", Product.GAS, True), ("G6", Product.GAS, True), ("G16", Product.GAS, True),
     ("G25", Product.GAS, True), ("G40", Product.GAS, False)],
)  # fmt: skip
def test_capacities_parse_and_print_back(text: str, product: Product, small: bool) -> None:
    capacity = Capacity.parse(text)
    assert (capacity.product, str(capacity), capacity.is_small_consumer) == (product, text, small)


@pytest.mark.parametrize("text", ["2x25", "3x", "G5", "G", "25A", "3x0", ""])
def test_bad_capacities_are_refused(text: str) -> None:
    with pytest.raises(InvalidValueError):
        Capacity.parse(text)


def _connection(meter: Meter | None, product: Product = Product.ELECTRICITY) -> Connection:
    electricity = product is Product.ELECTRICITY
    return Connection(
        ean=Ean18("871690000000000017"),
        product=product,
        address=Address(Postcode("8011AB"), 12, "Kerkstraat", "Zwolle"),
        grid_area="8719900020019",
        capacity=Capacity.parse("3x25" if electricity else "G4"),
        profile_category=ProfileCategory.E1A if electricity else ProfileCategory.G1A,
        physical_status=PhysicalStatus.IN_SERVICE,
        delivery_direction=DeliveryDirection.OFFTAKE,
        meter=meter,
    )


SMART = Meter("EKFM0000000001", MeterKind.SMART, date(2020, 1, 1))


def test_capacity_and_profile_must_fit_the_product() -> None:
    with pytest.raises(InvalidValueError, match="capacity"):
        replace(_connection(SMART), capacity=Capacity.parse("G4"))


def test_reading_choice_history_decides_per_day() -> None:
    connection = _connection(SMART)
    connection.choose_reading(
        ReadingChoiceChange(ReadingChoice.ADMINISTRATIVELY_OFF, date(2026, 3, 1))
    )
    connection.choose_reading(ReadingChoiceChange(ReadingChoice.STANDARD, date(2026, 6, 1)))
    assert connection.reading_choice(date(2026, 2, 28)) is ReadingChoice.STANDARD
    assert connection.reading_choice(date(2026, 3, 1)) is ReadingChoice.ADMINISTRATIVELY_OFF
    assert connection.reading_choice(date(2026, 5, 31)) is ReadingChoice.ADMINISTRATIVELY_OFF
    assert connection.reading_choice(date(2026, 6, 1)) is ReadingChoice.STANDARD
    assert len(connection.reading_choices) == 2  # history kept


def test_a_conventional_meter_is_never_read_remotely() -> None:
    connection = _connection(Meter("EKFM0000000002", MeterKind.CONVENTIONAL, date(1999, 1, 1)))
    assert connection.reading_choice(date(2026, 1, 1)) is ReadingChoice.NO_SMART_METER
    with pytest.raises(ConflictError):
        connection.choose_reading(ReadingChoiceChange(ReadingChoice.STANDARD, date(2026, 1, 1)))


def test_gas_meter_hangs_on_an_mbus_channel() -> None:
    with pytest.raises(InvalidValueError):
        Meter("GKFM1", MeterKind.SMART, date(2020, 1, 1), mbus_host_serial="EKFM1")
    with pytest.raises(InvalidValueError):
        Meter("GKFM1", MeterKind.SMART, date(2020, 1, 1), "EKFM1", mbus_channel=5)
    assert Meter("GKFM1", MeterKind.SMART, date(2020, 1, 1), "EKFM1", 1).mbus_channel == 1


def test_installations_sit_behind_electricity_connections_only() -> None:
    solar = ProductionInstallation(InstallationKind.SOLAR_PV, Decimal("4.2"), date(2021, 5, 1))
    with pytest.raises(InvalidValueError):
        replace(_connection(None, Product.GAS), installations=[solar])
    with pytest.raises(InvalidValueError):
        ProductionInstallation(InstallationKind.SOLAR_PV, Decimal(0), date(2021, 5, 1))
