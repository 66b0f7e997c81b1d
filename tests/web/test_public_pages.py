"""Public pages: estimator, jurisdiction pages, restricted goods, languages — no login."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from clearway.domain.filing import from_builtins
from clearway.revenue.quote import quote_document
from tests.conftest import make_filing


def test_home_lists_every_destination_with_a_pack(public_client: TestClient) -> None:
    r = public_client.get("/")
    assert r.status_code == 200
    for code in ("DE", "FR", "GB", "US", "AU", "CN"):
        assert f'href="/jurisdictions/{code}"' in r.text
    assert "Content-Security-Policy" in r.headers
    assert "cdn" not in r.text.lower()


def test_estimator_shows_the_calculator_amounts_and_their_sources(
    public_client: TestClient,
) -> None:
    params = {
        "destination": "DE",
        "currency": "EUR",
        "category": "sale_of_goods",
        "collection": "consumer",
        "transport_cost": "4.50",
        "legal_date": "2026-11-02",
        "description_0": "Leather shoes",
        "hs_code_0": "640399",
        "value_0": "80.00",
        "quantity_0": "1",
        "origin_0": "CN",
    }
    r = public_client.get("/estimate", params=params)
    assert r.status_code == 200, r.text
    expected = quote_document(
        from_builtins(
            make_filing(
                transport_cost="4.50",
                collection={"model": "consumer"},
                items=[
                    {
                        "description": "Leather shoes",
                        "hs_code": "640399",
                        "quantity": 1,
                        "value": "80.00",
                        "origin_country": "CN",
                        "net_mass_kg": "0.5",
                    }
                ],
            )
        )
    )
    assert f"Estimate: {expected['total']} EUR" in r.text
    assert f"{expected['duty']} EUR" in r.text and f"{expected['tax']} EUR" in r.text
    assert "Rules and rates used" in r.text and "https://" in r.text
    assert "You, before the parcel is released" in r.text


def test_estimator_reports_bad_input_as_a_422_page(public_client: TestClient) -> None:
    r = public_client.get(
        "/estimate",
        params={
            "destination": "DE",
            "currency": "QQQ",
            "description_0": "Shoes",
            "value_0": "-3",
            "hs_code_0": "999999",
        },
    )
    assert r.status_code == 422
    assert 'role="alert"' in r.text and "/currency" in r.text and "/items/0/hs_code" in r.text
    r = public_client.get("/estimate", params={"destination": "DE"})
    assert r.status_code == 422 and "/items" in r.text
    r = public_client.get("/estimate", params={"destination": "ZZ", "value_0": "1"})
    assert r.status_code == 422


def test_jurisdiction_page_shows_thresholds_and_collection_rules(public_client: TestClient) -> None:
    r = public_client.get("/jurisdictions/DE", params={"on": "2026-01-15"})
    assert r.status_code == 200
    assert "Duty-free threshold" in r.text and "150 EUR (intrinsic)" in r.text
    assert "Vendor collection scheme" in r.text and "Standard tax rate" in r.text
    assert "19%" in r.text
    later = public_client.get("/jurisdictions/de", params={"on": "2026-08-01"})
    assert later.status_code == 200
    duty_row = re.search(r"Duty-free threshold.*?</td>", later.text, re.S)
    assert duty_row and "not in force" in duty_row.group(0)
    assert public_client.get("/jurisdictions/ZZ").status_code == 404
    assert public_client.get("/jurisdictions/DE", params={"on": "soon"}).status_code == 422


def test_restricted_goods_lookup_by_keyword_and_hs_code(public_client: TestClient) -> None:
    r = public_client.get("/restricted", params={"q": "pepper spray"})
    assert r.status_code == 200 and "Offensive weapons" in r.text
    r = public_client.get("/restricted", params={"q": "9303"})
    assert "Firearms" in r.text
    r = public_client.get("/restricted", params={"q": "honey"})
    assert "Food and veterinary authority" in r.text
    r = public_client.get("/restricted", params={"q": "cotton socks"})
    assert "No restriction found" in r.text


def test_pages_speak_french(public_client: TestClient) -> None:
    r = public_client.get("/lang/fr", params={"next": "/estimate"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/estimate"
    page = public_client.get("/estimate")
    assert '<html lang="fr">' in page.text and "Estimation des droits et taxes" in page.text
    juris = public_client.get("/jurisdictions/FR")
    assert "Seuil d’exonération des droits" in juris.text
    # An outside address is never a redirect target
    r = public_client.get("/lang/en", params={"next": "//evil.example"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_accept_language_picks_french_without_a_cookie(public_client: TestClient) -> None:
    r = public_client.get("/", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert "Acheter des marchandises à l’étranger" in r.text


def test_every_form_field_has_a_label(public_client: TestClient) -> None:
    for path in ("/estimate", "/login", "/restricted", "/jurisdictions/DE"):
        html = public_client.get(path).text
        ids = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
        labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
        assert ids <= labelled, (path, ids - labelled)
