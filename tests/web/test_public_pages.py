"""Public pages: estimator, jurisdiction pages, restricted goods, languages — no login."""

from __future__ import annotations

import re
from decimal import Decimal

from fastapi.testclient import TestClient

from clearway.domain.filing import from_builtins
from clearway.revenue.quote import quote_document
from clearway.web.formats import for_lang
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
    fmt = for_lang("en")
    pay = re.search(r'id="you-pay">([^<]+)<', r.text)
    assert pay and pay.group(1) == fmt.money(Decimal(str(expected["total"])), "EUR")
    assert fmt.money(Decimal(str(expected["duty"])), "EUR") in r.text
    assert fmt.money(Decimal(str(expected["tax"])), "EUR") in r.text
    assert "Rules and rates used" in r.text and "https://" in r.text
    assert "before the parcel is released" in r.text
    assert "released once it is paid" in r.text  # who collects and when, in one sentence
    assert r.text.index('id="result-title"') < r.text.index("<form")  # the answer comes first


def _estimate(client: TestClient, lang: str = "en", **fields: str) -> tuple[int, str]:
    client.cookies.set("lang", lang)
    params = {
        "destination": "FR",
        "currency": "EUR",
        "collection": "consumer",
        "legal_date": "2026-11-02",
        "description_0": "Men's waterproof jacket",
        "hs_code_0": "620140",
        "value_0": "180.00",
        "origin_0": "CN",
        **fields,
    }
    r = client.get("/estimate", params=params)
    return r.status_code, r.text


def test_estimator_says_plainly_when_duty_was_not_computed(public_client: TestClient) -> None:
    quote = quote_document(
        from_builtins(
            make_filing(
                destination_country="FR",
                legal_date="2026-11-02",
                collection={"model": "consumer"},
                items=[
                    {
                        "description": "Jacket",
                        "hs_code": "620140",
                        "quantity": 1,
                        "value": "180.00",
                        "origin_country": "CN",
                        "net_mass_kg": "0.9",
                    }
                ],
            )
        )
    )
    flags = quote["flags"]
    assert isinstance(flags, list)
    status, html = _estimate(public_client)
    assert status == 200
    if "hs_code_unknown" in flags:  # the tariff has no line for the code: said at the top
        assert "This estimate is incomplete" in html and "620140" in html
        assert "You pay at least" in html
        assert html.index('id="missing"') < html.index('id="result-title"')
    else:  # the tariff knows the code: a plain answer
        assert "You pay" in html
    assert "hs_code_unknown" not in html and "manual_assessment_required" not in html


def test_estimator_without_an_exchange_rate_says_so_instead_of_nothing_to_pay(
    public_client: TestClient,
) -> None:
    status, html = _estimate(public_client, currency="XAF", hs_code_0="640399")
    assert status == 200
    assert "This parcel cannot be estimated" in html
    assert "No exchange rate for this currency" in html
    assert "Nothing to pay" not in html and 'id="you-pay"' not in html


def test_estimator_reads_numbers_in_the_page_language(public_client: TestClient) -> None:
    _, english = _estimate(public_client, hs_code_0="640399", value_0="1,180.00")
    status, french = _estimate(public_client, "fr", hs_code_0="640399", value_0="1 180,00")
    assert status == 200
    en_pay = re.search(r'id="you-pay">([^<]+)<', english)
    fr_pay = re.search(r'id="you-pay">([^<]+)<', french)
    assert en_pay and fr_pay
    assert for_lang("en").parse(en_pay.group(1).strip("€")) == for_lang("fr").parse(
        fr_pay.group(1).replace("€", "")
    )
    assert "," in fr_pay.group(1) and "€" in fr_pay.group(1)  # 216,00 €, not 216.00 EUR
    status, french = _estimate(public_client, "fr", hs_code_0="640399", value_0="180.00")
    assert status == 200  # a dot is still a decimal point on the French page


def test_estimator_errors_sit_beside_their_field(public_client: TestClient) -> None:
    status, html = _estimate(public_client, "fr", value_0="cent", hs_code_0="999999")
    assert status == 422
    field = re.search(r'<input id="value_0"[^>]*>', html)
    assert field and 'aria-invalid="true"' in field.group(0) and "data-focus" in field.group(0)
    assert 'id="err-value_0"' in html and "Indiquez un nombre" in html
    status, html = _estimate(public_client, currency="QQQ", hs_code_0="999999")
    assert status == 422
    for name in ("currency", "hs_code_0"):
        control = re.search(rf'<input id="{name}"[^>]*>', html)
        assert control and 'aria-invalid="true"' in control.group(0), name
    assert "three-letter currency code" in html and "HS code does not exist" in html
    assert "/items/0" not in html  # no JSON pointers for shoppers


def test_estimator_lists_countries_by_their_name_in_the_page_language(
    public_client: TestClient,
) -> None:
    for lang, first, second in (("en", "Australia", "Austria"), ("fr", "Allemagne", "Australie")):
        public_client.cookies.set("lang", lang)
        html = public_client.get("/estimate").text
        names = re.findall(r'<option value="[A-Z]{2}"[^>]*>([^<]+)</option>', html)
        assert names.index(first) < names.index(second), (lang, names[:5])


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
    assert 'role="alert"' in r.text and 'id="err-currency"' in r.text
    assert 'id="err-hs_code_0"' in r.text
    r = public_client.get("/estimate", params={"destination": "DE"})
    assert r.status_code == 422 and 'id="err-description_0"' in r.text
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


def test_restricted_goods_search_knows_synonyms_in_both_languages(
    public_client: TestClient,
) -> None:
    for q in ("knife", "knives", "couteau", "Couteaux"):
        r = public_client.get("/restricted", params={"q": q})
        assert "Offensive weapons" in r.text or "Armes offensives" in r.text, q
    public_client.cookies.set("lang", "fr")
    r = public_client.get("/restricted", params={"q": "batterie externe"})
    assert "Piles ou batteries au lithium" in r.text
    assert "li- po" not in r.text and "ly mer" not in r.text  # no regex debris


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


def test_destination_guidance_is_written_from_the_pack_with_sources(
    public_client: TestClient,
) -> None:
    r = public_client.get("/jurisdictions/DE", params={"on": "2026-11-02"})
    shoppers = re.search(r'id="for-shoppers".*?</section>', r.text, re.S)
    sellers = re.search(r'id="for-sellers".*?</section>', r.text, re.S)
    assert shoppers and sellers
    assert "VAT is charged at 19%" in shoppers.group(0)
    assert "€150.00" in shoppers.group(0) and "legal source" in shoppers.group(0)
    assert "IM[0-9]{10}" in sellers.group(0) and "applies from" in sellers.group(0)
    public_client.cookies.set("lang", "fr")
    r = public_client.get("/jurisdictions/GB", params={"on": "2026-11-02"})
    assert "Colis envoyés vers ce pays : Royaume-Uni" in r.text
    assert "L’enregistrement est obligatoire" in r.text and "135,00\u00a0£GB" in r.text


def test_estimator_refuses_a_date_no_pack_covers(public_client: TestClient) -> None:
    status, html = _estimate(public_client, legal_date="2099-01-01")
    assert status == 422
    assert "No jurisdiction pack covers the law of this date" in html
    assert 'id="you-pay"' not in html


def test_estimator_without_the_months_customs_rate_says_so(public_client: TestClient) -> None:
    # December 2026 converts at the ECB rates of 2026-11-18, which the shipped history lacks
    status, html = _estimate(public_client, currency="USD", legal_date="2026-12-01")
    assert status == 200
    assert "This parcel cannot be estimated" in html
    assert "Nothing to pay" not in html and 'id="you-pay"' not in html
