"""Pure domain of the connection register: identifiers, value objects and entities."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NewType

from meterkast.kernel import gs1
from meterkast.kernel.codes import (
    DeliveryDirection,
    InstallationKind,
    MeterKind,
    PhysicalStatus,
    Product,
    ProfileCategory,
    ReadingChoice,
)
from meterkast.kernel.errors import ConflictError, InvalidCodeError, InvalidValueError

Ean18 = NewType("Ean18", str)
Postcode = NewType("Postcode", str)


def parse_ean18(code: str) -> Ean18:
    """A connection EAN (18 digits, GS1 check digit). Dutch codes start with 871."""
    cleaned = gs1.validate(code, 18, "connection EAN")
    if not cleaned.startswith("871"):
        raise InvalidCodeError(f"connection EAN {cleaned} is not Dutch (must start with 871)")
    return Ean18(cleaned)


_POSTCODE = re.compile(r"^([1-9][0-9]{3}) ?([A-Z]{2})$")
_NEVER_USED_LETTERS = frozenset({"SA", "SD", "SS"})


def parse_postcode(text: str) -> Postcode:
    """A Dutch postcode, normalised to ``1234AB`` (a space in the input is allowed)."""
    match = _POSTCODE.match(text.strip().upper())
    if match is None:
        raise InvalidCodeError(f"postcode must look like 1234 AB, got {text!r}")
    digits, letters = match.groups()
    if letters in _NEVER_USED_LETTERS:
        raise InvalidCodeError(f"postcode letters {letters} are never issued")
    return Postcode(digits + letters)


_ELECTRICITY_CAPACITY = re.compile(r"^([13])x(\d{1,4})$")
_GAS_CAPACITY = re.compile(r"^G(\d{1,4})$")
GAS_METER_SIZES = (4, 6, 10, 16, 25, 40, 65, 100, 160, 250, 400, 650, 1000)


@dataclass(frozen=True, slots=True)
class Capacity:
    """Connection capacity: phases x amperes for electricity (``3x25``), G-size for gas (``G4``)."""

    product: Product
    phases: int
    amperes: int
    gas_size: int

    @classmethod
    def parse(cls, text: str) -> Capacity:
        if match := _ELECTRICITY_CAPACITY.match(text):
            phases, amps = int(match[1]), int(match[2])
            if not 1 <= amps <= 4000:
                raise InvalidValueError(f"capacity {text!r}: amperes out of range")
            return cls(Product.ELECTRICITY, phases, amps, 0)
        if match := _GAS_CAPACITY.match(text):
            size = int(match[1])
            if size not in GAS_METER_SIZES:
                raise InvalidValueError(f"capacity {text!r}: no such gas meter size")
            return cls(Product.GAS, 0, 0, size)
        raise InvalidValueError(f"capacity must look like 3x25 or G4, got {text!r}")

    def __str__(self) -> str:
        if self.product is Product.GAS:
            return f"G{self.gas_size}"
        return f"{self.phases}x{self.amperes}"

    @property
    def is_small_consumer(self) -> bool:
        """Small consumer: electricity up to 3x80 A, gas up to G25."""
        if self.product is Product.GAS:
            return self.gas_size <= 25
        return self.phases * self.amperes <= 3 * 80


@dataclass(frozen=True, slots=True)
class Address:
    postcode: Postcode
    house_number: int
    street: str
    town: str
    addition: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.house_number <= 99999:
            raise InvalidValueError(f"house number {self.house_number} out of range")
        if not self.street.strip() or not self.town.strip():
            raise InvalidValueError("an address needs a street and a town")

    @property
    def label(self) -> str:
        number = f"{self.house_number}{self.addition}"
        return f"{self.street} {number}, {self.postcode[:4]} {self.postcode[4:]} {self.town}"


@dataclass(frozen=True, slots=True)
class GridArea:
    """A grid area (netgebied), identified by an EAN-13 code."""

    ean: str
    name: str

    def __post_init__(self) -> None:
        gs1.validate(self.ean, 13, "grid area EAN")


@dataclass(frozen=True, slots=True)
class Meter:
    serial: str
    kind: MeterKind
    installed_on: date
    # A gas meter is read through the electricity meter it hangs on (M-Bus channel 1..4).
    mbus_host_serial: str | None = None
    mbus_channel: int | None = None

    def __post_init__(self) -> None:
        if not self.serial or len(self.serial) > 32:
            raise InvalidValueError("a meter serial is 1 to 32 characters")
        if (self.mbus_host_serial is None) != (self.mbus_channel is None):
            raise InvalidValueError("an M-Bus meter needs both a host meter and a channel")
        if self.mbus_channel is not None and not 1 <= self.mbus_channel <= 4:
            raise InvalidValueError(f"M-Bus channel {self.mbus_channel} is not 1..4")


@dataclass(frozen=True, slots=True)
class ProductionInstallation:
    kind: InstallationKind
    kwp: Decimal
    registered_on: date

    def __post_init__(self) -> None:
        if self.kwp <= 0:
            raise InvalidValueError("an installation's peak power must be positive")


@dataclass(frozen=True, slots=True)
class ReadingChoiceChange:
    choice: ReadingChoice
    effective_from: date


def choice_on(history: list[ReadingChoiceChange], day: date) -> ReadingChoice:
    """The reading choice in force on ``day`` (standard where nothing was chosen yet)."""
    current = ReadingChoice.STANDARD
    for change in sorted(history, key=lambda c: c.effective_from):
        if change.effective_from <= day:
            current = change.choice
    return current


@dataclass(slots=True)
class Connection:
    ean: Ean18
    product: Product
    address: Address
    grid_area: str
    capacity: Capacity
    profile_category: ProfileCategory
    physical_status: PhysicalStatus
    delivery_direction: DeliveryDirection
    meter: Meter | None = None
    installations: list[ProductionInstallation] = field(default_factory=list)
    reading_choices: list[ReadingChoiceChange] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.capacity.product is not self.product:
            raise InvalidValueError(
                f"capacity {self.capacity} does not fit a {self.product} connection"
            )
        if self.profile_category.product is not self.product:
            raise InvalidValueError(
                f"profile {self.profile_category} does not fit a {self.product} connection"
            )
        if self.installations and self.product is Product.GAS:
            raise InvalidValueError(
                "a production installation sits behind an electricity connection"
            )

    def choose_reading(self, change: ReadingChoiceChange) -> None:
        """Record a new reading choice; the history stays."""
        if change.choice is not ReadingChoice.NO_SMART_METER and (
            self.meter is None or self.meter.kind is not MeterKind.SMART
        ):
            raise ConflictError(f"connection {self.ean} has no smart meter to read remotely")
        self.reading_choices.append(change)

    def reading_choice(self, day: date) -> ReadingChoice:
        if self.meter is None or self.meter.kind is not MeterKind.SMART:
            return ReadingChoice.NO_SMART_METER
        return choice_on(self.reading_choices, day)
