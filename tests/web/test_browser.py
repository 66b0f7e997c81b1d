"""Real browser (Debian's Chromium through Playwright) against the real server on SQLite.

Each journey — a shopper estimating duty, reading a destination's guidance and the restricted
goods list; an officer finding, correcting, taking payment and releasing; an agency holding and
lifting; an analyst reading figures and profiles — runs at laptop size (1,366×768) and at phone
size (390×844), each in English and in French. axe-core (installed from the npm registry by
scripts/install into var/node) checks every page the journey visits, and no page may scroll
sideways. Screenshots go to var/screenshots/ (the ones in docs/web.md come from here).
One browser per worker session; each journey opens one context and reuses its page."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from clearway.api.app import create_app
from clearway.statistics.report import write_report
from clearway.storage.export import export
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.web.conftest import HONEY, PASSWORD, PEPPER, SHIRT, arrive, file_parcel

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"
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
SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
COMBOS = [(lang, size) for lang in ("en", "fr") for size in ("laptop", "phone")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run scripts/install (it installs it from npm)")
    return AXE.read_text("utf-8")


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


class Visit:
    """One person's browser tab in one language and size; `check()` audits the page."""

    def __init__(self, browser: Browser, base: str, lang: str, size: str, axe: str) -> None:
        self.base, self.lang, self.size, self.axe = base, lang, size, axe
        self.context = browser.new_context(viewport=SIZES[size], locale=lang)  # type: ignore[arg-type]
        self.context.add_cookies([{"name": "lang", "value": lang, "url": base}])
        self.page: Page = self.context.new_page()

    def go(self, path: str) -> Page:
        self.page.goto(self.base + path)
        return self.page

    def check(self, shot: str | None = None) -> None:
        """axe-core finds nothing, and the page fits the width (no sideways scrolling)."""
        page = self.page
        page.wait_for_load_state("domcontentloaded")
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe)  # evaluated by the test driver: the page's CSP is untouched
        violations: list[dict[str, Any]] = page.evaluate(
            "async () => (await axe.run(document)).violations"
        )
        summary = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in violations
        ]
        assert not violations, f"{page.url} ({self.lang}, {self.size}): {json.dumps(summary)}"
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{page.url} ({self.size}) scrolls sideways by {overflow}px"
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            name = f"{shot}-{self.lang}-{self.size}.png"
            page.screenshot(path=str(SHOTS / name), full_page=True)

    def login(self, username: str) -> None:
        self.go("/login")
        self.check()
        self.page.locator("#username").fill(username)
        self.page.locator("#password").fill(PASSWORD)
        self.page.locator("#password").press("Enter")  # keyboard submit

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(
    browser: Browser, site: tuple[str, Services], axe_source: str, request: pytest.FixtureRequest
) -> Iterator[Visit]:
    lang, size = request.param
    v = Visit(browser, site[0], lang, size, axe_source)
    yield v
    v.close()


@pytest.mark.parametrize("visit", COMBOS, indirect=True, ids=lambda c: "-".join(c))
def test_shopper_estimates_reads_guidance_and_restrictions(visit: Visit) -> None:
    fr = visit.lang == "fr"
    page = visit.go("/")
    visit.check("public-home")
    page.locator("a[href='/estimate']").first.click()
    visit.check()
    page.locator("#destination").select_option("FR")
    page.locator("#description_0").fill("Men's waterproof jacket")
    page.locator("#hs_code_0").fill("620140")
    page.locator("#value_0").fill("abc")
    page.locator("#value_0").press("Enter")
    expect(page.locator("#value_0")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#value_0")).to_be_focused()
    expect(page.locator("#err-value_0")).to_be_visible()
    visit.check()
    page.locator("#value_0").fill("180,00" if fr else "180.00")
    page.locator("#origin_0").fill("CN")
    page.get_by_role("button", name="Estimer" if fr else "Estimate", exact=True).click()
    expect(page.locator("#result-title")).to_be_focused()
    money = r"^\d+,\d\d\u00a0€$" if fr else r"^€\d+\.\d\d$"  # the page's number format
    expect(page.locator("#you-pay")).to_have_text(re.compile(money))
    expect(page.locator("#who-collects")).to_be_visible()
    visit.check("public-estimate")
    page.goto(visit.base + "/jurisdictions/FR")
    expect(page.locator("#for-shoppers")).to_be_visible()
    visit.check("public-guidance")
    page.goto(visit.base + "/restricted?q=" + ("couteau" if fr else "knife"))
    expect(page.locator(".results")).to_contain_text("Armes" if fr else "weapons")
    visit.check("public-restricted")


@pytest.mark.parametrize("visit", COMBOS, indirect=True, ids=lambda c: "-".join(c))
def test_officer_finds_corrects_takes_payment_and_releases(
    visit: Visit, site: tuple[str, Services]
) -> None:
    _, svc = site
    held = file_parcel(svc, 1, [PEPPER], office="DE-HUB-1")
    for n in range(2, 5):
        arrive(svc, file_parcel(svc, n, [PEPPER, SHIRT], office=f"DE-HUB-{n % 2 + 1}"))
    arrive(svc, held)
    td = svc.store.load(held).transport_document  # type: ignore[union-attr]
    WebStore(svc.engine, svc.clock).create_user("ana.officer", PASSWORD, "officer")
    visit.login("ana.officer")
    page = visit.page
    expect(page.locator("#q")).to_be_visible()
    visit.check("officer-queue")
    page.locator("#q").fill(td)
    page.locator("#q").press("Enter")
    expect(page.locator("#lane-explanation")).to_contain_text("WPN-BLADE-STUN")
    expect(page.locator("#reasons")).to_contain_text(
        "Armes offensives" if visit.lang == "fr" else "Offensive weapons"
    )
    visit.check("officer-consignment")
    page.locator("input[name=found][value=yes]").check()
    page.locator("#corrected_value").fill("260,00" if visit.lang == "fr" else "260.00")
    page.locator("#notes").fill("two canisters declared as one")
    page.locator("form:has(input[value=record_inspection]) button[type=submit]").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "inspected")
    expect(page.locator("#due")).to_be_visible()
    expect(page.locator("button[value=release]")).to_have_count(0)
    visit.check("officer-corrected")
    page.locator("#reference").fill("PAY-2026-0042")
    page.locator("form:has(input[value=record_payment]) button[type=submit]").click()
    page.locator("#close-reason").fill("paid; licence presented")
    page.locator("button[value=release]").click()
    expect(page.locator("#status")).to_have_attribute("data-status", "released")
    expect(page.locator("#timeline")).to_contain_text("officer:ana.officer")
    expect(page.locator("button[value=seize]")).to_have_count(0)
    visit.check()


@pytest.mark.parametrize("visit", COMBOS, indirect=True, ids=lambda c: "-".join(c))
def test_agency_places_and_lifts_a_hold(visit: Visit, site: tuple[str, Services]) -> None:
    _, svc = site
    mixed = file_parcel(svc, 1, [HONEY, PEPPER])
    arrive(svc, mixed)
    td = svc.store.load(mixed).transport_document  # type: ignore[union-attr]
    WebStore(svc.engine, svc.clock).create_user("fsa.ines", PASSWORD, "agency", "food_safety")
    visit.login("fsa.ines")
    page = visit.page
    expect(page.locator("h1")).to_contain_text(
        "Autorité vétérinaire et alimentaire" if visit.lang == "fr" else "Food and veterinary"
    )
    visit.check("agency-queue")
    page.get_by_role("link", name=td).click()
    page.locator("#hold-reason").fill("veterinary certificate missing")
    page.locator("#hold-reason").press("Enter")
    expect(page.locator("#holds")).to_contain_text("veterinary certificate missing")
    assert {h.authority for h in svc.store.holds(mixed) if h.open} == {"customs", "food_safety"}
    visit.check("agency-consignment")
    page.locator("#lift-reason").fill("certificate received")
    page.locator("#lift-reason").press("Enter")
    expect(page.get_by_role("status")).to_be_visible()
    assert {h.authority for h in svc.store.holds(mixed) if h.open} == {"customs"}
    visit.check()


@pytest.mark.parametrize("visit", COMBOS, indirect=True, ids=lambda c: "-".join(c))
def test_analyst_reads_figures_and_profiles(visit: Visit, site: tuple[str, Services]) -> None:
    _, svc = site
    fr = visit.lang == "fr"
    for n in range(1, 4):
        file_parcel(svc, n, [PEPPER] if n % 2 else [SHIRT])
    WebStore(svc.engine, svc.clock).create_user("anna.analyst", PASSWORD, "analyst")
    visit.login("anna.analyst")
    page = visit.page
    visit.check("analyst-dashboard")
    page.goto(visit.base + "/analyst/statistics")
    visit.check()
    page.goto(visit.base + "/analyst/profiles")
    expect(page.locator("#profiles")).to_contain_text("WPN-BLADE-STUN")
    visit.check("analyst-profiles")
    page.goto(visit.base + "/analyst/profiles/WPN-BLADE-STUN")
    visit.check()
    page.locator("#weight").fill("5")
    page.locator("#note").fill("fewer pepper-spray inspections")
    page.locator("button[value=preview]").click()
    expect(page.locator("#review")).to_be_visible()
    expect(page.locator("#diff")).to_contain_text("poids" if fr else "weight")
    visit.check("analyst-profile-review")
    page.locator("button[value=save]").click()  # a proposal: nothing decides with it yet
    expect(page.locator("#own-proposal")).to_be_visible()
    expect(page.locator("button[value=approve]")).to_have_count(0)
    visit.check()
    assert WebStore(svc.engine).effective_versions(svc.clock.now().date()) == {}


@pytest.mark.parametrize("visit", COMBOS, indirect=True, ids=lambda c: "-".join(c))
def test_a_second_analyst_approves_a_profile_change(
    visit: Visit, site: tuple[str, Services]
) -> None:
    _, svc = site
    store = WebStore(svc.engine, svc.clock)
    today = svc.clock.now().date()
    store.propose_profile_version(
        "WPN-BLADE-STUN",
        active=True,
        weight="5",
        lane=None,
        referral="request_for_screening",
        reason="Offensive weapons (flick knives, knuckle dusters, stun guns, pepper spray)",
        effective_from=today,
        effective_until=None,
        note="fewer pepper-spray inspections",
        edited_by="analyst:anna.analyst",
    )
    store.create_user("ben.analyst", PASSWORD, "analyst")
    visit.login("ben.analyst")
    page = visit.page
    page.goto(visit.base + "/analyst/profiles")
    page.locator("a[href='/analyst/profiles/WPN-BLADE-STUN#pending']").click()
    expect(page.locator("#proposed-by")).to_have_text("analyst:anna.analyst")
    expect(page.locator("#pending-diff")).to_be_visible()
    visit.check("analyst-profile-approval")
    page.locator("#review_note").fill("hit rate too low for a red lane")
    page.locator("button[value=approve]").click()
    expect(page.get_by_role("status")).to_be_visible()
    row = page.locator("#versions tr[data-version='1']")
    expect(row).to_contain_text("analyst:anna.analyst")
    expect(row).to_contain_text("analyst:ben.analyst")
    expect(page.locator("#in-force")).to_have_text("v1")
    visit.check()
    assert store.effective_versions(today)["WPN-BLADE-STUN"].weight == "5"


@pytest.mark.parametrize("visit", COMBOS, indirect=True, ids=lambda c: "-".join(c))
def test_analyst_reads_the_statistics_and_the_report(
    visit: Visit, site: tuple[str, Services], tmp_path: Path
) -> None:
    """The statistics page and the HTML report behind it, on figures from a real snapshot: the
    report has navigation (its sections, and back to the pages), a strict CSP and no axe
    violation."""
    _, svc = site
    for n in range(1, 5):
        cid = file_parcel(svc, n, [PEPPER] if n % 2 else [SHIRT], office=f"DE-HUB-{n % 2 + 1}")
        arrive(svc, cid)
    snapshot, report = tmp_path / "snapshot", tmp_path / "report"
    export(svc.engine, snapshot)
    write_report(snapshot, report, formats=("svg",))
    svc.settings = replace(svc.settings, snapshot_dir=str(snapshot), report_dir=str(report))
    WebStore(svc.engine, svc.clock).create_user("anna.analyst", PASSWORD, "analyst")
    visit.login("anna.analyst")
    page = visit.page
    page.goto(visit.base + "/analyst/statistics")
    visit.check("analyst-statistics")
    page.locator("a[href='/analyst/report/index.html']").click()
    response = page.context.request.get(visit.base + "/analyst/report/index.html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    fr = visit.lang == "fr"
    nav = page.get_by_role("navigation", name="Sections du rapport" if fr else "Report sections")
    expect(nav.locator("a[href='#risk']")).to_be_visible()
    expect(page.locator("main h1")).to_have_text(
        "Statistiques Clearway" if fr else "Clearway statistics"
    )
    expect(page.locator("html")).to_have_attribute("lang", visit.lang)
    page.wait_for_load_state("load")
    assert page.evaluate("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
    visit.check("analyst-report")
    nav.locator("a[href='/analyst/statistics']").click()
    expect(page).to_have_url(visit.base + "/analyst/statistics")
