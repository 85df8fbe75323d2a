"""Tables of the connection register."""

from __future__ import annotations

import sqlalchemy as sa

from meterkast.db.metadata import code_column, metadata
from meterkast.kernel.codes import (
    DeliveryDirection,
    InstallationKind,
    MeterKind,
    PhysicalStatus,
    Product,
    ProfileCategory,
    ReadingChoice,
)

grid_areas = sa.Table(
    "grid_areas",
    metadata,
    sa.Column("ean", sa.String(13), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
)

addresses = sa.Table(
    "addresses",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("postcode", sa.String(6), nullable=False),
    sa.Column("house_number", sa.Integer, nullable=False),
    sa.Column("addition", sa.String(8), nullable=False, server_default=""),
    sa.Column("street", sa.String(100), nullable=False),
    sa.Column("town", sa.String(100), nullable=False),
    sa.UniqueConstraint("postcode", "house_number", "addition", name="uq_addresses_number"),
)

connections = sa.Table(
    "connections",
    metadata,
    sa.Column("ean", sa.String(18), primary_key=True),
    code_column("product", Product, nullable=False),
    sa.Column("address_id", sa.ForeignKey("addresses.id"), nullable=False, index=True),
    sa.Column("grid_area_ean", sa.ForeignKey("grid_areas.ean"), nullable=False, index=True),
    sa.Column("capacity", sa.String(8), nullable=False),
    code_column("profile_category", ProfileCategory, nullable=False),
    code_column("physical_status", PhysicalStatus, nullable=False),
    code_column("delivery_direction", DeliveryDirection, nullable=False),
    # Standard annual volume (SJV; kWh or m3) and, with a production installation, feed-in (SJI).
    sa.Column("sjv_offtake", sa.Integer, nullable=True),
    sa.Column("sjv_feed_in", sa.Integer, nullable=True),
)

meters = sa.Table(
    "meters",
    metadata,
    sa.Column("serial", sa.String(32), primary_key=True),
    sa.Column("connection_ean", sa.ForeignKey("connections.ean"), nullable=False, unique=True),
    code_column("kind", MeterKind, nullable=False),
    sa.Column("installed_on", sa.Date, nullable=False),
    sa.Column("mbus_host_serial", sa.ForeignKey("meters.serial"), nullable=True, index=True),
    sa.Column("mbus_channel", sa.SmallInteger, nullable=True),
)

production_installations = sa.Table(
    "production_installations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("connection_ean", sa.ForeignKey("connections.ean"), nullable=False, index=True),
    code_column("kind", InstallationKind, nullable=False),
    sa.Column("kwp", sa.Numeric(9, 2), nullable=False),
    sa.Column("registered_on", sa.Date, nullable=False),
)

reading_choices = sa.Table(
    "reading_choices",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("connection_ean", sa.ForeignKey("connections.ean"), nullable=False, index=True),
    code_column("choice", ReadingChoice, nullable=False),
    sa.Column("effective_from", sa.Date, nullable=False),
)
