"""Use cases of the connection register."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection as DbConnection
from sqlalchemy.engine import Engine

from meterkast.grid.adapters.sql import (
    addresses,
    connections,
    grid_areas,
    meters,
    production_installations,
    reading_choices,
)
from meterkast.grid.domain import (
    Address,
    Capacity,
    Connection,
    Ean18,
    GridArea,
    Meter,
    Postcode,
    ProductionInstallation,
    ReadingChoiceChange,
    parse_ean18,
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
from meterkast.kernel.errors import DomainError, NotFoundError

Rows = Sequence[Mapping[str, object]]
# Up to this many EANs go into a query as a plain IN list; more as one array parameter.
_INLINE_EANS = 500

# Bulk loading order: parents before children (foreign keys).
BULK_TABLES = (
    grid_areas,
    addresses,
    connections,
    meters,
    production_installations,
    reading_choices,
)


@dataclass(frozen=True, slots=True)
class AreaSummary:
    grid_areas: int
    addresses: int
    towns: int
    postcodes: int
    connections: dict[str, int]
    smart_meters: int
    conventional_meters: int
    gas_meters_on_mbus: int
    solar_installations: int
    reading_choices: dict[str, int]


class GridService:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add_grid_area(self, area: GridArea) -> None:
        with self._engine.begin() as db:
            db.execute(grid_areas.insert().values(ean=area.ean, name=area.name))

    def add_connection(self, connection: Connection) -> None:
        """Register a connection with its address, meter and installations, all or nothing."""
        with self._engine.begin() as db:
            if (
                db.execute(
                    sa.select(grid_areas.c.ean).where(grid_areas.c.ean == connection.grid_area)
                ).first()
                is None
            ):
                raise NotFoundError(f"no grid area {connection.grid_area}")
            a = connection.address
            address_id = db.execute(
                sa.select(addresses.c.id).where(
                    addresses.c.postcode == a.postcode,
                    addresses.c.house_number == a.house_number,
                    addresses.c.addition == a.addition,
                )
            ).scalar()
            if address_id is None:
                address_id = db.execute(
                    addresses.insert().values(
                        postcode=a.postcode,
                        house_number=a.house_number,
                        addition=a.addition,
                        street=a.street,
                        town=a.town,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            db.execute(
                connections.insert().values(
                    ean=connection.ean,
                    product=connection.product.value,
                    address_id=address_id,
                    grid_area_ean=connection.grid_area,
                    capacity=str(connection.capacity),
                    profile_category=connection.profile_category.value,
                    physical_status=connection.physical_status.value,
                    delivery_direction=connection.delivery_direction.value,
                )
            )
            if (m := connection.meter) is not None:
                db.execute(
                    meters.insert().values(
                        serial=m.serial,
                        connection_ean=connection.ean,
                        kind=m.kind.value,
                        installed_on=m.installed_on,
                        mbus_host_serial=m.mbus_host_serial,
                        mbus_channel=m.mbus_channel,
                    )
                )
            for inst in connection.installations:
                db.execute(
                    production_installations.insert().values(
                        connection_ean=connection.ean,
                        kind=inst.kind.value,
                        kwp=inst.kwp,
                        registered_on=inst.registered_on,
                    )
                )
            for change in connection.reading_choices:
                db.execute(
                    reading_choices.insert().values(
                        connection_ean=connection.ean,
                        choice=change.choice.value,
                        effective_from=change.effective_from,
                    )
                )

    def bulk_load(self, db: DbConnection, rows_by_table: Mapping[str, Rows]) -> None:
        """Insert pre-validated rows (the synthetic area) inside the caller's transaction."""
        for table in BULK_TABLES:
            rows = rows_by_table.get(table.name, ())
            for start in range(0, len(rows), 20_000):
                db.execute(table.insert(), list(rows[start : start + 20_000]))

    def get_connection(self, ean: str) -> Connection:
        code = parse_ean18(ean)
        found = self._load(sa.select(connections.c.ean).where(connections.c.ean == code))
        if not found:
            raise NotFoundError(f"no connection {code}")
        return found[0]

    def get_connections(self, eans: Sequence[str]) -> list[Connection]:
        """The connections among ``eans``, ordered by EAN; unknown EANs and codes that are no
        connection EAN are left out. The EANs travel as one parameter (any number of them)."""
        codes = []
        for ean in eans:
            try:
                codes.append(str(parse_ean18(ean)))
            except DomainError:
                continue
        if not codes:
            return []
        query = sa.select(connections.c.ean).where(self._among(connections.c.ean, codes))
        return self._load(query.order_by(connections.c.ean))

    def list_connections(self, limit: int | None = None, offset: int = 0) -> list[Connection]:
        query = sa.select(connections.c.ean).order_by(connections.c.ean).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return self._load(query)

    def choose_reading(self, ean: str, choice: ReadingChoice, effective_from: date) -> None:
        connection = self.get_connection(ean)
        change = ReadingChoiceChange(choice, effective_from)
        connection.choose_reading(change)  # domain rule: remote reading needs a smart meter
        with self._engine.begin() as db:
            db.execute(
                reading_choices.insert().values(
                    connection_ean=connection.ean,
                    choice=choice.value,
                    effective_from=effective_from,
                )
            )

    def summary(self, day: date) -> AreaSummary:
        with self._engine.connect() as db:
            count = sa.func.count()
            by_product: dict[str, int] = dict(
                db.execute(
                    sa.select(connections.c.product, count).group_by(connections.c.product)
                ).all()
            )
            by_kind: dict[str, int] = dict(
                db.execute(sa.select(meters.c.kind, count).group_by(meters.c.kind)).all()
            )
            on_mbus = db.execute(
                sa.select(count).where(meters.c.mbus_host_serial.is_not(None))
            ).scalar_one()
            solar = db.execute(
                sa.select(count).where(
                    production_installations.c.kind == InstallationKind.SOLAR_PV.value
                )
            ).scalar_one()
            towns = db.execute(sa.select(sa.func.count(sa.distinct(addresses.c.town)))).scalar()
            postcodes = db.execute(
                sa.select(sa.func.count(sa.distinct(addresses.c.postcode)))
            ).scalar()
            n_addresses = db.execute(sa.select(count).select_from(addresses)).scalar_one()
            n_areas = db.execute(sa.select(count).select_from(grid_areas)).scalar_one()
        choices: dict[str, int] = dict.fromkeys([c.value for c in ReadingChoice], 0)
        for conn in self._iter_electricity_choices(day):
            choices[conn.value] += 1
        return AreaSummary(
            grid_areas=n_areas,
            addresses=n_addresses,
            towns=int(towns or 0),
            postcodes=int(postcodes or 0),
            connections={str(k): int(v) for k, v in by_product.items()},
            smart_meters=int(by_kind.get(MeterKind.SMART.value, 0)),
            conventional_meters=int(by_kind.get(MeterKind.CONVENTIONAL.value, 0)),
            gas_meters_on_mbus=int(on_mbus),
            solar_installations=int(solar),
            reading_choices=choices,
        )

    def _iter_electricity_choices(self, day: date) -> Iterable[ReadingChoice]:
        """The reading choice in force on ``day`` for every electricity connection."""
        with self._engine.connect() as db:
            smart = {
                r.connection_ean
                for r in db.execute(
                    sa.select(meters.c.connection_ean).where(meters.c.kind == MeterKind.SMART.value)
                )
            }
            # Ordered by (day, id): the last change seen per connection is the one in force.
            latest: dict[str, str] = {}
            for r in db.execute(
                sa.select(reading_choices.c.connection_ean, reading_choices.c.choice)
                .where(reading_choices.c.effective_from <= day)
                .order_by(reading_choices.c.effective_from, reading_choices.c.id)
            ):
                latest[r.connection_ean] = r.choice
            for ean in db.execute(
                sa.select(connections.c.ean).where(
                    connections.c.product == Product.ELECTRICITY.value
                )
            ).scalars():
                if ean not in smart:
                    yield ReadingChoice.NO_SMART_METER
                else:
                    yield ReadingChoice(latest.get(ean, ReadingChoice.STANDARD.value))

    def _among(self, column: sa.ColumnElement[str], eans: list[str]) -> sa.ColumnElement[bool]:
        """``column IN eans`` with the EANs as one bound value (a JSON array on SQLite, an
        array on PostgreSQL): a list of 100,000 would exceed both drivers' parameter limits."""
        if len(eans) <= _INLINE_EANS:
            return column.in_(eans)
        if self._engine.dialect.name == "postgresql":
            return column == sa.any_(sa.cast(sa.bindparam("eans", eans), ARRAY(sa.String)))
        values = sa.func.json_each(sa.bindparam("eans", json.dumps(eans))).table_valued("value")
        return column.in_(sa.select(values.c.value))

    def _load(self, ean_query: sa.Select[tuple[str]]) -> list[Connection]:
        """Load full connections for the EANs an ordered query selects (4 queries in all)."""
        with self._engine.connect() as db:
            eans = [str(ean) for ean in db.execute(ean_query).scalars()]
            if not eans:
                return []
            rows = db.execute(
                sa.select(connections, addresses)
                .join(addresses, addresses.c.id == connections.c.address_id)
                .where(self._among(connections.c.ean, eans))
            ).all()
            meter_rows = {
                r.connection_ean: r
                for r in db.execute(
                    sa.select(meters).where(self._among(meters.c.connection_ean, eans))
                )
            }
            installs: dict[str, list[ProductionInstallation]] = {}
            for r in db.execute(
                sa.select(production_installations)
                .where(self._among(production_installations.c.connection_ean, eans))
                .order_by(production_installations.c.id)
            ):
                installs.setdefault(r.connection_ean, []).append(
                    ProductionInstallation(
                        InstallationKind(r.kind), Decimal(r.kwp), r.registered_on
                    )
                )
            choices: dict[str, list[ReadingChoiceChange]] = {}
            for r in db.execute(
                sa.select(reading_choices)
                .where(self._among(reading_choices.c.connection_ean, eans))
                .order_by(reading_choices.c.effective_from, reading_choices.c.id)
            ):
                choices.setdefault(r.connection_ean, []).append(
                    ReadingChoiceChange(ReadingChoice(r.choice), r.effective_from)
                )
        by_ean = {}
        for r in rows:
            m = r._mapping
            meter_row = meter_rows.get(m["ean"])
            by_ean[m["ean"]] = Connection(
                ean=Ean18(m["ean"]),
                product=Product(m["product"]),
                address=Address(
                    postcode=Postcode(m["postcode"]),
                    house_number=m["house_number"],
                    street=m["street"],
                    town=m["town"],
                    addition=m["addition"],
                ),
                grid_area=m["grid_area_ean"],
                capacity=Capacity.parse(m["capacity"]),
                profile_category=ProfileCategory(m["profile_category"]),
                physical_status=PhysicalStatus(m["physical_status"]),
                delivery_direction=DeliveryDirection(m["delivery_direction"]),
                meter=None
                if meter_row is None
                else Meter(
                    serial=meter_row.serial,
                    kind=MeterKind(meter_row.kind),
                    installed_on=meter_row.installed_on,
                    mbus_host_serial=meter_row.mbus_host_serial,
                    mbus_channel=meter_row.mbus_channel,
                ),
                installations=installs.get(m["ean"], []),
                reading_choices=choices.get(m["ean"], []),
            )
        return [by_ean[e] for e in eans]
