"""Read models shared by the entry points (JSON-ready dictionaries)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from meterkast.grid.domain import Connection
from meterkast.parties.domain import Contract


def connection_record(
    connection: Connection, contracts: Iterable[Contract], today: date
) -> dict[str, object]:
    """A connection as the operator tools and the API show it."""
    meter = connection.meter
    return {
        "ean": connection.ean,
        "product": connection.product.value,
        "street": connection.address.street,
        "house_number": connection.address.house_number,
        "addition": connection.address.addition,
        "postcode": connection.address.postcode,
        "town": connection.address.town,
        "grid_area": connection.grid_area,
        "capacity": str(connection.capacity),
        "profile_category": connection.profile_category.value,
        "physical_status": connection.physical_status.value,
        "delivery_direction": connection.delivery_direction.value,
        "meter": None
        if meter is None
        else {
            "type": meter.kind.value,
            "serial": meter.serial,
            "installed_on": meter.installed_on.isoformat(),
            "mbus_host_serial": meter.mbus_host_serial,
            "mbus_channel": meter.mbus_channel,
        },
        "installations": [
            {
                "kind": i.kind.value,
                "kwp": float(i.kwp),
                "registered_on": i.registered_on.isoformat(),
            }
            for i in connection.installations
        ],
        "reading_choice": connection.reading_choice(today).value,
        "reading_choice_history": [
            {"choice": c.choice.value, "effective_from": c.effective_from.isoformat()}
            for c in connection.reading_choices
        ],
        "contracts": [
            {
                "customer_id": c.customer_id,
                "supplier_ean": c.supplier_ean,
                "start": c.start.isoformat(),
                "end": None if c.end is None else c.end.isoformat(),
            }
            for c in contracts
        ],
    }
