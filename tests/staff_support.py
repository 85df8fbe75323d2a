"""A real instance for the staff pages: bootstrap's stores (audit log, readings, cases, rights)
on the test's database, one electricity and one gas connection of customer C00000001 with 24
months of readings, and the web app with the portal and the staff pages mounted."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from meterkast.api.app import create_app
from meterkast.bootstrap import App, bootstrap
from meterkast.grid.domain import Capacity, Connection, Meter
from meterkast.kernel import gs1
from meterkast.kernel.codes import DeliveryDirection, MeterKind, Product, ProfileCategory, Role
from meterkast.readings.schema import SCHEMAS, Dataset
from meterkast.settings import CoreSettings
from meterkast.web.staff import issue_staff_code
from tests.integration.test_register_services import EAN, _contract, _seed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CUSTOMER = "C00000001"
GAS_EAN = gs1.with_check_digit("87169000000000002")
OFFICER, CLERK = "PO01", "KS07"


def build_world(engine: Engine, home: Path, moment: list[datetime] | None = None) -> App:
    now = moment if moment is not None else [NOW]
    app = bootstrap(CoreSettings(home=home), clock=lambda: now[0])
    app.engine = engine  # the fixture's database (SQLite or a PostgreSQL schema)
    app.init()
    grid, parties = _seed(engine)
    electricity = grid.get_connection(EAN)
    meter = Meter(
        "G4SM0000000001",
        MeterKind.SMART,
        date(2020, 1, 1),
        mbus_host_serial="EKFM0000000001",
        mbus_channel=1,
    )
    gas: Connection = replace(
        electricity,
        ean=GAS_EAN,
        product=Product.GAS,
        meter=meter,
        capacity=Capacity.parse("G4"),
        profile_category=ProfileCategory.G1A,
        delivery_direction=DeliveryDirection.OFFTAKE,
    )
    grid.add_connection(gas)
    parties.add_contract(_contract(date(2024, 1, 1), None))
    parties.add_contract(replace(_contract(date(2024, 1, 1), None), connection_ean=GAS_EAN))
    days = [date(2024, 11, 1) + timedelta(days=i) for i in range(753)]
    n = len(days)
    app.readings.write_history(
        [
            pa.table(
                {
                    "ean": [EAN] * n,
                    "day": days,
                    "series": [1] * n,
                    "version": [1] * n,
                    "import_t1_wh": [7000 * i for i in range(n)],
                    "import_t2_wh": [0] * n,
                    "export_t1_wh": [0] * n,
                    "export_t2_wh": [0] * n,
                    "source": ["remote"] * n,
                    "quality": ["measured"] * n,
                    "recorded_at": [NOW] * n,
                },
                schema=SCHEMAS[Dataset.ELECTRICITY_DAILY],
            )
        ]
    )
    app.readings.write_history(
        [
            pa.table(
                {
                    "ean": [GAS_EAN] * n,
                    "day": days,
                    "series": [1] * n,
                    "version": [1] * n,
                    "volume_dm3": [2500 * i for i in range(n)],
                    "captured_at": [NOW] * n,
                    "source": ["remote"] * n,
                    "quality": ["measured"] * n,
                    "recorded_at": [NOW] * n,
                },
                schema=SCHEMAS[Dataset.GAS_DAILY],
            )
        ],
        Dataset.GAS_DAILY,
    )
    return app


def web_app(app: App) -> FastAPI:
    """The app as ``serve`` builds it, with cookies over plain http for the test client."""
    settings = replace(app.portal_settings(app.tokens), https_only=False)
    return create_app(app.api_services(), settings)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


def staff_sign_in(client: TestClient, app: App, role: Role, staff_id: str) -> str:
    page = client.get("/portal/staff/login")
    code = issue_staff_code(app.login_codes, app.audit, app.clock, role, staff_id)
    answer = client.post(
        "/portal/staff/login", data={"csrf": csrf_of(page.text), "staff_id": staff_id, "code": code}
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/portal/staff/login").text)


def customer_sign_in(client: TestClient, app: App, customer: str = CUSTOMER) -> str:
    page = client.get("/portal/login")
    answer = client.post(
        "/portal/login",
        data={
            "csrf": csrf_of(page.text),
            "customer_id": customer,
            "code": app.login_codes.issue(customer),
            "next": "/portal/connections",
        },
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/portal/connections").text)


__all__ = ["CLERK", "CUSTOMER", "EAN", "GAS_EAN", "NOW", "OFFICER", "build_world"]
