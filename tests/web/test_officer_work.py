"""An officer's day on the pages (SQLite): find a parcel, read why it is red, correct it and see
the new amount, take the payment, release — with only the actions the status allows; and an
agency that sees what its mandate needs."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.storage.web_repository import WebStore
from clearway.wiring.services import Services
from tests.web.conftest import HONEY, PEPPER, SHIRT, arrive, file_parcel, form, login
from tests.web.conftest import status_on_page as status


@pytest.fixture
def officer(sqlite_services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_services)) as c:
        login(c, WebStore(sqlite_services.engine, sqlite_services.clock), "ana.officer", "officer")
        yield c


def _act(client: TestClient, cid: str, **fields: str) -> tuple[int, str]:
    r = client.post(f"/officer/consignments/{cid}/actions", data=form(client, **fields))
    return r.status_code, r.text


def test_one_search_box_finds_a_parcel_by_document_order_or_name(
    officer: TestClient, sqlite_services: Services
) -> None:
    svc = sqlite_services
    first = file_parcel(svc, 1, [SHIRT])
    second = file_parcel(svc, 2, [PEPPER])
    td = svc.store.load(first).transport_document  # type: ignore[union-attr]
    for q in (td, td.lower(), "O-2"):
        r = officer.get("/officer/", params={"q": q}, follow_redirects=False)
        assert r.status_code == 303, q
        assert r.headers["location"].endswith(first if q != "O-2" else second)
    both = officer.get("/officer/", params={"q": "anna mül"})
    assert f"/officer/consignments/{first}" in both.text
    assert f"/officer/consignments/{second}" in both.text
    none = officer.get("/officer/", params={"q": "nobody at all"})
    assert none.status_code == 200 and "Nothing here." in none.text


def test_correction_reassesses_and_release_waits_for_the_new_amount(
    officer: TestClient, sqlite_services: Services
) -> None:
    svc = sqlite_services
    cid = file_parcel(svc, 1, [PEPPER])
    assert arrive(svc, cid) == "hold"
    page = officer.get(f"/officer/consignments/{cid}").text
    why = re.search(r'id="lane-explanation">(.*?)</div>', page, re.S)
    assert why and "Risk points" in why.group(1) and "WPN-BLADE-STUN" in why.group(1)
    assert "20.00" not in page or "€20.00" in page  # amounts in the page's format
    assert svc.store.load(cid).payment_status == "none"  # type: ignore[union-attr]

    code, page = _act(
        officer, cid, action="record_inspection", found="yes", corrected_value="260.00"
    )
    assert code == 200 and status(page) == "inspected"
    c = svc.store.load(cid)
    assert c is not None and c.assessment is not None
    assert c.document.intrinsic_value == 260 and c.payment_status == "due"
    due = c.assessment.due_at_border
    assert due > 0
    assert 'id="due"' in page and f"€{due:,.2f}" in page
    assert 'value="release"' not in page and 'id="release-blockers"' in page
    open_holds = [h.reason for h in svc.store.holds(cid) if h.open]
    assert not any("red lane" in r for r in open_holds)  # the inspection answered its hold
    assert any("awaiting payment" in r for r in open_holds)

    code, page = _act(officer, cid, action="record_payment", amount=f"{due}", reference="")
    assert code == 422 and f'value="{due}"' in page, page[page.find("alert") :][:600]
    code, page = _act(
        officer, cid, action="record_payment", amount=f"{due}", currency="EUR", reference="PAY-9"
    )
    assert code == 200 and 'value="release"' in page, page[page.find("alert") :][:600]
    code, page = _act(officer, cid, action="release", reason="paid and checked")
    assert code == 200 and status(page) == "released"
    assert "No action is possible" in page and 'name="action"' not in page


def test_refused_forms_keep_what_was_typed(officer: TestClient, sqlite_services: Services) -> None:
    cid = file_parcel(sqlite_services, 1, [PEPPER])
    arrive(sqlite_services, cid)
    code, page = _act(
        officer, cid, action="record_inspection", corrected_value="35,5x", notes="two canisters"
    )
    assert code == 422
    field = re.search(r'<input id="corrected_value"[^>]*>', page)
    assert field and 'value="35,5x"' in field.group(0) and 'aria-invalid="true"' in field.group(0)
    assert "two canisters</textarea>" in page


def test_french_officer_page_speaks_french(officer: TestClient, sqlite_services: Services) -> None:
    cid = file_parcel(sqlite_services, 1, [PEPPER])
    arrive(sqlite_services, cid)
    officer.cookies.set("lang", "fr")
    page = officer.get(f"/officer/consignments/{cid}").text
    assert ">retenu</strong>" in page and "rouge" in page and "Points de risque" in page
    assert "contrôle physique ou non intrusif (circuit rouge)" in page
    queue = officer.get("/officer/").text
    assert "heure" in queue or "minute" in queue or "jour" in queue  # ages in words


def test_agency_notes_stay_apart_and_its_view_follows_its_mandate(
    officer: TestClient, sqlite_services: Services
) -> None:
    svc = sqlite_services
    cid = file_parcel(svc, 1, [HONEY, PEPPER])
    arrive(svc, cid)
    with TestClient(officer.app) as agency:
        login(agency, WebStore(svc.engine, svc.clock), "fsa.ines", "agency", "food_safety")
        agency.post(
            f"/agency/consignments/{cid}/holds",
            data=form(agency, action="hold", reason="veterinary certificate missing"),
        )
        page = agency.get(f"/agency/consignments/{cid}").text
        assert "veterinary certificate missing" in page
        assert "WPN-BLADE-STUN" not in page and 'id="reasons"' not in page  # no targeting
        assert "€" not in page and "Assessment" not in page  # no amounts in its mandate
        assert "red lane" not in page  # customs' own hold reasons are not shown
        queue = agency.get("/agency/").text
        assert "Score" not in queue and "lane-" not in queue
    queue = officer.get("/officer/").text
    reasons = re.search(r'<select id="reason".*?</select>', queue, re.S)
    assert reasons and "veterinary certificate missing" not in reasons.group(0)
    held_by = re.search(r'<select id="authority".*?</select>', queue, re.S)
    assert held_by and "Food and veterinary authority" in held_by.group(0)
