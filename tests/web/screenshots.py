"""Screenshots of the pages on real data, for docs/web.md.

Run against a server on the demo database (`clearway demo`, then `clearway serve` with the
snapshot and report folders it prints), with the demo's officer and analyst logins:

    .venv/bin/python -m tests.web.screenshots --base http://127.0.0.1:8000 \\
        --officer officer:PASSWORD --analyst analyst:PASSWORD

Each page is taken at laptop size in English and at phone size in French.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from tests.web.test_browser import ARGS, CHROMIUM, SIZES

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
TAKES = (("en", "laptop"), ("fr", "phone"))


def _page(browser: Browser, base: str, lang: str, size: str) -> Page:
    context = browser.new_context(viewport=SIZES[size], locale=lang)  # type: ignore[arg-type]
    context.add_cookies([{"name": "lang", "value": lang, "url": base}])
    return context.new_page()


def _login(page: Page, base: str, login: str) -> None:
    user, password = login.split(":", 1)
    page.goto(base + "/login")
    page.locator("#username").fill(user)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    page.wait_for_load_state("load")


def _shot(page: Page, out: Path, name: str, lang: str, size: str, full: bool = True) -> None:
    """The page as a 256-colour PNG (a tenth of the size, the same to read)."""
    page.wait_for_load_state("load")
    path = out / f"{name}-{lang}-{size}.png"
    page.screenshot(path=str(path), full_page=full)
    with Image.open(path) as img:
        small = img.convert("RGB").quantize(colors=256)
    small.save(path, optimize=True)
    print(path)


def take(base: str, officer: str, analyst: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        for lang, size in TAKES:
            page = _page(browser, base, lang, size)
            page.goto(base + "/estimate")
            page.locator("#destination").select_option("FR")
            page.locator("#description_0").fill("Men's waterproof jacket")
            page.locator("#hs_code_0").fill("620140")
            page.locator("#value_0").fill("180,00" if lang == "fr" else "180.00")
            page.locator("#origin_0").fill("CN")
            page.locator("#value_0").press("Enter")
            page.locator("#you-pay").wait_for()
            _shot(page, out, "estimate", lang, size)

            page = _page(browser, base, lang, size)
            _login(page, base, officer)
            page.goto(base + "/officer/?sort=score")
            page.locator("a[href^='/officer/consignments/']").first.click()
            page.locator("#lane-explanation").wait_for()
            _shot(page, out, "officer-consignment", lang, size)

            page = _page(browser, base, lang, size)
            _login(page, base, analyst)
            page.goto(base + "/analyst/statistics")
            _shot(page, out, "analyst-statistics", lang, size)
            page.goto(base + "/analyst/profiles")
            _shot(page, out, "analyst-profiles", lang, size)
            if size == "laptop":
                page.goto(base + "/analyst/report/index.html")
                _shot(page, out, "analyst-report", lang, size, full=False)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--officer", required=True, help="user:password")
    parser.add_argument("--analyst", required=True, help="user:password")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    take(args.base, args.officer, args.analyst, args.out)


if __name__ == "__main__":
    main()
