"""Real browser (Debian's Chromium through Playwright) against the real server on SQLite.

Walks the three journeys of the issue — an officer clearing a held parcel, an agency placing and
lifting a hold, a member of the public estimating duty — and saves a screenshot of each main
page under var/screenshots/ (laptop and tablet sizes)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from clearway.api.app import create_app
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.web.conftest import HONEY, PASSWORD, PEPPER, SHIRT, arrive, file_parcel

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def site(sqlite_services: Services) -> Iterator[tuple[str, Services]]:
    """The app served by uvicorn in a background thread on a free localhost port."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(sqlite_services), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", sqlite_services
    server.should_exit = True
    thread.join(timeout=10)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")  # keyboard submit


def test_officer_finds_reads_inspects_and_releases(
    browser: Browser, site: tuple[str, Services]
) -> None:
    base, svc = site
    held = file_parcel(svc, 1, [PEPPER], office="DE-HUB-1")
    for n in range(2, 5):
        arrive(svc, file_parcel(svc, n, [PEPPER, SHIRT], office=f"DE-HUB-{n % 2 + 1}"))
    arrive(svc, held)
    td = svc.store.load(held).transport_document  # type: ignore[union-attr]
    WebStore(svc.engine, svc.clock).create_user("ana.officer", PASSWORD, "officer")
    page = browser.new_page(viewport=LAPTOP)
    _login(page, base, "ana.officer")
    expect(page.get_by_role("heading", name="Held parcels")).to_be_visible()
    page.get_by_label("Office").select_option("DE-HUB-1")
    page.get_by_role("button", name="Filter").click()
    _shot(page, "officer-queue")
    page.get_by_role("link", name=td).click()
    expect(page.locator("#reasons")).to_contain_text("WPN-BLADE-STUN")
    expect(page.locator("#reasons")).to_contain_text("Offensive weapons")
    _shot(page, "officer-consignment")
    page.get_by_label("Found (irregularity)").check()
    page.get_by_label("Corrected value").fill("35.00")
    page.get_by_label("Notes").fill("two canisters declared as one")
    page.get_by_role("button", name="Record inspection result").click()
    expect(page.locator("#status")).to_have_text("inspected")
    page.locator("#close-reason").fill("licence presented")
    page.get_by_role("button", name="Release", exact=True).click()
    expect(page.locator("#status")).to_have_text("released")
    expect(page.locator("#timeline")).to_contain_text("officer:ana.officer")
    tablet = browser.new_page(viewport=TABLET)
    _login(tablet, base, "ana.officer")
    _shot(tablet, "officer-queue-tablet")
    tablet.close()
    page.close()


def test_agency_places_and_lifts_a_hold(browser: Browser, site: tuple[str, Services]) -> None:
    base, svc = site
    mixed = file_parcel(svc, 1, [HONEY, PEPPER])
    arrive(svc, mixed)
    td = svc.store.load(mixed).transport_document  # type: ignore[union-attr]
    WebStore(svc.engine, svc.clock).create_user("fsa.ines", PASSWORD, "agency", "food_safety")
    page = browser.new_page(viewport=LAPTOP)
    _login(page, base, "fsa.ines")
    expect(page.get_by_role("heading", name="parcels routed to you")).to_be_visible()
    _shot(page, "agency-queue")
    page.get_by_role("link", name=td).click()
    page.get_by_label("Reason").fill("veterinary certificate missing")
    page.get_by_role("button", name="Place a hold").click()
    expect(page.get_by_role("status")).to_contain_text("Place a hold")
    expect(page.locator("#holds")).to_contain_text("veterinary certificate missing")
    assert {h.authority for h in svc.store.holds(mixed) if h.open} == {"customs", "food_safety"}
    _shot(page, "agency-consignment")
    page.locator("#lift-reason").fill("certificate received")
    page.get_by_role("button", name="Lift our hold").click()
    expect(page.get_by_role("status")).to_contain_text("Lift our hold")
    assert {h.authority for h in svc.store.holds(mixed) if h.open} == {"customs"}
    page.close()


def test_public_estimates_duty_without_logging_in(
    browser: Browser, site: tuple[str, Services]
) -> None:
    base, _svc = site
    page = browser.new_page(viewport=LAPTOP)
    page.goto(base + "/")
    _shot(page, "public-home")
    page.get_by_role("link", name="Estimate duty and tax").first.click()
    page.get_by_label("Destination country").select_option("FR")
    page.get_by_label("Currency of the values").fill("EUR")
    page.get_by_label("Who collects tax").select_option("consumer")
    page.get_by_label("Description 1").fill("Leather handbag")
    page.get_by_label("HS code (optional) 1").fill("420221")
    page.get_by_label("Value 1").fill("120.00")
    page.get_by_label("Made in 1").fill("CN")
    page.get_by_role("button", name="Estimate", exact=True).click()
    expect(page.locator("#you-pay")).to_contain_text("€")
    expect(page.locator("#result-title")).to_be_focused()  # the answer is where focus lands
    expect(page.get_by_text("Each amount explained")).to_be_visible()
    _shot(page, "public-estimate")
    page.goto(base + "/jurisdictions/FR")
    expect(page.get_by_text("Duty-free threshold")).to_be_visible()
    _shot(page, "public-jurisdiction")
    page.goto(base + "/restricted?q=lithium")
    expect(page.locator(".results")).to_contain_text("Lithium")
    _shot(page, "public-restricted")
    page.get_by_role("link", name="Français").click()
    expect(
        page.get_by_role("heading", name="Marchandises restreintes et prohibées")
    ).to_be_visible()
    page.goto(base + "/estimate")
    _shot(page, "public-estimate-fr")
    tablet = browser.new_page(viewport=TABLET)
    tablet.goto(base + "/jurisdictions/DE")
    _shot(tablet, "public-jurisdiction-tablet")
    tablet.close()
    page.close()


def test_analyst_pages(browser: Browser, site: tuple[str, Services]) -> None:
    base, svc = site
    for n in range(1, 4):
        file_parcel(svc, n, [PEPPER] if n % 2 else [SHIRT])
    WebStore(svc.engine, svc.clock).create_user("anna.analyst", PASSWORD, "analyst")
    page = browser.new_page(viewport=LAPTOP)
    _login(page, base, "anna.analyst")
    expect(page.get_by_role("heading", name="Analysis")).to_be_visible()
    _shot(page, "analyst-dashboard")
    page.get_by_role("link", name="Risk profiles").first.click()
    expect(page.locator("#profiles")).to_contain_text("WPN-BLADE-STUN")
    _shot(page, "analyst-profiles")
    page.close()
