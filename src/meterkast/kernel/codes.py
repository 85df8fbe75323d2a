"""Code lists, in one place. Values are the stable strings stored and exchanged."""

from __future__ import annotations

from enum import StrEnum


class Product(StrEnum):
    ELECTRICITY = "electricity"
    GAS = "gas"


class ProfileCategory(StrEnum):
    """Dutch settlement profile categories (electricity E*, gas G*)."""

    E1A = "E1A"
    E1B = "E1B"
    E1C = "E1C"
    E2A = "E2A"
    E2B = "E2B"
    E3A = "E3A"
    E3B = "E3B"
    E3C = "E3C"
    E3D = "E3D"
    E4A = "E4A"
    G1A = "G1A"
    G2A = "G2A"
    G2C = "G2C"

    @property
    def product(self) -> Product:
        return Product.ELECTRICITY if self.value.startswith("E") else Product.GAS


class PhysicalStatus(StrEnum):
    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    REMOVED = "removed"


class DeliveryDirection(StrEnum):
    """Offtake only, or offtake and feed-in (a production installation behind the meter)."""

    OFFTAKE = "offtake"
    BIDIRECTIONAL = "bidirectional"


class MeterKind(StrEnum):
    SMART = "smart"
    CONVENTIONAL = "conventional"


class ReadingChoice(StrEnum):
    """The customer's choice on remote reading (register activity 1.2)."""

    STANDARD = "standard"
    ADMINISTRATIVELY_OFF = "administratively_off"
    NO_SMART_METER = "no_smart_meter"


class InstallationKind(StrEnum):
    SOLAR_PV = "solar_pv"
    WIND = "wind"
    CHP = "chp"
    BATTERY = "battery"


class PartyRole(StrEnum):
    SUPPLIER = "supplier"
    THIRD_PARTY = "third_party"
    GRID_OPERATOR = "grid_operator"


class CustomerKind(StrEnum):
    PERSON = "person"
    BUSINESS = "business"
