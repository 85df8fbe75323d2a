"""The staff pages in a real browser (Debian's Chromium via Playwright) on a real instance:
the privacy officer sees the audit log verify and then fail after tampering, handles a request
and downloads its access export; service staff see a connection only through an open case.
Screenshots land in test-artifacts/ like the customer tests'."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.engine import Engine

from meterkast.access.adapters.sql import audit_entries
from meterkast.access.policy import CaseKind
from meterkast.bootstrap import App
from meterkast.kernel.codes import Role
from meterkast.rights.domain import RequestKind
from meterkast.web.staff import issue_staff_code
from tests.browser.test_portal_browser import ARTIFACTS, browser, serving  # noqa: F401
from tests.staff_support import CLERK, CUSTOMER, EAN, NOW, OFFICER, build_world, web_app


@pytest.fixture
def served(sqlite_engine: Engine, tmp_path: Path) -> Iterator[tuple[str, App]]:
    app = build_world(sqlite_engine, tmp_path / "home")
    with serving(web_app(app)) as base_url:
        yield base_url, app
    app.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(locale="nl-NL", accept_downloads=True)
    opened = context.new_page()
    yield opened
    ARTIFACTS.mkdir(exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def _staff_sign_in(page: Page, base: str, app: App, role: Role, staff_id: str) -> None:
    page.goto(f"{base}/portal/staff/login")
    page.get_by_label("Medewerkernummer").fill(staff_id)
    page.get_by_label("Eenmalige code").fill(
        issue_staff_code(app.login_codes, app.audit, app.clock, role, staff_id)
    )
    page.get_by_role("button", name="Inloggen").click()


def test_officer_sees_the_audit_log_verify_and_then_the_first_bad_entry(
    page: Page, served: tuple[str, App]
) -> None:
    base, app = served
    _staff_sign_in(page, base, app, Role.PRIVACY_OFFICER, OFFICER)
    expect(page.get_by_role("heading", name="Auditlog")).to_be_visible()
    status = page.locator("#verify")
    expect(status).to_have_attribute("data-ok", "true")
    expect(status).to_contain_text("nu gecontroleerd en in orde")
    expect(page.locator("#full-run")).to_contain_text("Laatste volledige controle")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Naar de inhoud")).to_be_focused()
    with app.engine.begin() as db:  # an edit behind the application's back
        db.execute(audit_entries.update().where(audit_entries.c.seq == 1).values(allowed=False))
    page.reload()  # an old entry: the view relies on the last full run and says since when
    expect(page.locator("#full-run")).to_have_attribute("data-ok", "true")
    page.get_by_role("button", name="Volledige controle nu uitvoeren").click()
    expect(page.locator("#full-run")).to_have_attribute("data-ok", "false")
    page.screenshot(path=str(ARTIFACTS / "officer_full_run_finds_entry_1.png"), full_page=True)
    expect(status).to_have_attribute("data-ok", "false")
    expect(status).to_have_attribute("data-first-bad", "1")
    expect(status).to_contain_text("eerste foute regel 1")
    expect(page.locator('tr[data-seq="1"]')).to_have_class("bad")


def _customer_sign_in(customer: Page, base: str, app: App) -> None:
    customer.goto(f"{base}/portal/login")
    customer.get_by_label("Customer number").fill(CUSTOMER)
    customer.get_by_label("One-time code").fill(app.login_codes.issue(CUSTOMER))
    customer.get_by_role("button", name="Sign in").click()


def test_officer_handles_a_request_and_downloads_the_access_export(
    page: Page,
    served: tuple[str, App],
    browser: Browser,  # noqa: F811
) -> None:
    base, app = served
    request = app.request_desk.register(OFFICER, CUSTOMER, RequestKind.ACCESS)
    _staff_sign_in(page, base, app, Role.PRIVACY_OFFICER, OFFICER)
    page.get_by_role("link", name="Verzoeken van betrokkenen").click()
    row = page.locator(f'tr[data-request="{request.id}"]')
    expect(row.locator(".deadline")).to_have_text("2026-12-23")
    expect(page.locator("#deadline-rule")).to_contain_text("twee maanden")
    row.get_by_role("link").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Inzage downloaden (JSON)").click()
    saved = download.value.path()
    data = json.loads(Path(saved).read_text("utf-8"))
    assert data["customer"]["id"] == CUSTOMER and data["connections"]
    customer = browser.new_context(locale="en-GB").new_page()
    _customer_sign_in(customer, base, app)
    customer.goto(f"{base}/portal/access-log")
    export = customer.locator("tr", has=customer.get_by_role(
        "cell", name="privacy officer, privacy office")).first  # fmt: skip
    expect(export).to_contain_text("your data-subject request")
    customer.screenshot(path=str(ARTIFACTS / "customer_sees_the_officers_export.png"),
                        full_page=True)  # fmt: skip
    customer.context.close()
    page.get_by_label("Toelichting").fill("export sent by post")
    finish = page.get_by_role("button", name="Afronden")
    page.keyboard.press("Tab")  # from the note field to its button, by keyboard only
    expect(finish).to_be_focused()
    assert finish.evaluate("b => getComputedStyle(b).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    expect(page.locator("#request-status")).to_have_attribute("data-status", "done")
    assert app.audit.verify().ok


def test_service_staff_need_a_case_and_the_customer_sees_the_view(
    page: Page,
    served: tuple[str, App],
    browser: Browser,  # noqa: F811
) -> None:
    base, app = served
    _staff_sign_in(page, base, app, Role.STAFF_SERVICE, CLERK)

    def look_up() -> None:
        page.goto(f"{base}/portal/service")
        page.get_by_label("Aansluiting (EAN)").fill(EAN)
        page.get_by_label("Doel van de zaak").select_option("1.5")
        page.get_by_role("button", name="Tonen").click()

    look_up()
    expect(page.get_by_role("alert")).to_contain_text("no connection with that EAN")
    app.cases.open(
        kind=CaseKind.SERVICE,
        connection_ean=EAN,
        customer_id=CUSTOMER,
        purpose="1.5",
        subject="complaint about a bill",
        opened_by=CLERK,
        now=NOW,
    )
    page.goto(f"{base}/portal/service")  # the case is in the clerk's list, without the EAN
    listed = page.locator("#open-cases")
    expect(listed).to_contain_text("1.5 klacht")
    expect(listed).not_to_contain_text(EAN)
    page.screenshot(path=str(ARTIFACTS / "service_open_cases.png"), full_page=True)
    listed.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(EAN))).to_be_visible()
    expect(page.locator("#case-id")).to_contain_text("1.5")
    page.goto(f"{base}/portal/service")
    page.get_by_label("Aansluiting (EAN)").fill(EAN)
    page.get_by_label("Doel van de zaak").select_option("1.4")  # not what the case is about
    page.get_by_role("button", name="Tonen").click()
    expect(page.get_by_role("alert")).to_contain_text("no connection with that EAN")
    look_up()
    expect(page.get_by_role("heading", name=re.compile(EAN))).to_be_visible()
    assert page.locator("svg.chart rect.bar").count() >= 20
    customer = browser.new_context(locale="en-GB").new_page()
    _customer_sign_in(customer, base, app)
    customer.goto(f"{base}/portal/access-log")
    expect(
        customer.get_by_role("cell", name="staff service, customer service").first
    ).to_be_visible()
    customer.screenshot(path=str(ARTIFACTS / "customer_sees_the_staff_view.png"), full_page=True)
    customer.context.close()
    page.get_by_role("button", name="Zaak sluiten (inzage stopt)").click()
    expect(page.locator("#case-closed")).to_be_visible()
    look_up()
    expect(page.get_by_role("alert")).to_contain_text("no connection with that EAN")
    page.goto(f"{base}/portal/service")
    expect(page.locator("#no-open-cases")).to_be_visible()
