"""The reduced data set only where the destination's law allows it; any filer may withdraw its
filing before arrival, through JSON (DELETE) or CSV (an `action` column), with a notice."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.integrity.conftest import key


def _filing(**changes: Any) -> dict[str, Any]:
    doc = make_filing(**changes)
    doc.pop("order")
    doc.pop("payment")
    return doc


def test_reduced_data_set_over_the_value_limit_names_the_threshold(
    client: TestClient, services: Services
) -> None:
    shop = key(services, "Big Ticket Shop", "platform")
    doc = _filing(filer_reference="HV-1")
    doc["items"][0]["value"] = "190.00"  # with the cable: EUR 200, IRG category 4
    r = client.post("/v1/filings", headers=shop, json=doc)
    assert r.status_code == 422, r.text
    [problem] = [p for p in r.json()["problems"] if p["code"] == "data_set_not_eligible"]
    assert problem["path"] == "/data_set"
    assert "150 EUR" in problem["message"] and "200.00 EUR" in problem["message"]
    assert "eur-lex.europa.eu" in problem["message"]  # the legal reference of the threshold

    # the same parcel with the full data set is accepted
    r = client.post("/v1/filings", headers=shop, json={**doc, "data_set": "full"})
    assert r.status_code == 201, r.text

    # at the limit, the reduced set is fine (150.00 is "up to")
    low = _filing(filer_reference="LV-1", transport_document="RR123456785CN")
    low["items"][0]["value"] = "140.00"
    r = client.post("/v1/filings", headers=shop, json=low)
    assert r.status_code == 201, r.text


def test_reduced_data_set_refused_for_excise_goods_and_converted_from_other_currencies(
    client: TestClient, services: Services
) -> None:
    shop = key(services, "Wine Shop", "platform")
    wine = _filing(filer_reference="WINE-1")
    wine["items"] = [
        {
            "description": "Red wine, 0.75 l bottle",
            "hs_code": "220421",
            "quantity": 1,
            "value": "12.00",
            "origin_country": "CN",
            "net_mass_kg": "1.2",
        }
    ]
    r = client.post("/v1/filings", headers=shop, json=wine)
    assert r.status_code == 422, r.text
    assert any(
        p["code"] == "data_set_not_eligible" and p["path"] == "/items/0/hs_code"
        for p in r.json()["problems"]
    ), r.text

    dollars = _filing(filer_reference="USD-1", currency="USD")
    dollars["items"][0]["value"] = "170.00"  # USD 180 is over EUR 150 at any 2026 rate
    r = client.post("/v1/filings", headers=shop, json=dollars)
    assert r.status_code == 422, r.text
    assert "data_set_not_eligible" in {p["code"] for p in r.json()["problems"]}


def test_filer_withdraws_before_arrival_and_gets_a_notice(
    client: TestClient, services: Services
) -> None:
    shop = key(services, "Withdrawing Shop", "platform")
    other = key(services, "Other Shop", "platform")
    officer = key(services, "Border Office", "officer")
    r = client.post("/v1/filings", headers=shop, json=make_filing(filer_reference="W-1"))
    assert r.status_code == 201, r.text
    cid = r.json()["consignment_id"]

    assert client.delete("/v1/filings/W-1", headers=other).status_code == 404
    assert client.delete("/v1/filings/NOPE", headers=shop).status_code == 404

    r = client.delete("/v1/filings/W-1", headers=shop)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "invalidated" and r.json()["status"] == "invalidated"
    again = client.delete("/v1/filings/W-1", headers=shop)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"

    notices = [n["notice"] for n in client.get("/v1/notices", headers=shop).json()["notices"]]
    assert any(n["kind"] == "invalidated" and n["consignment_id"] == cid for n in notices)
    events = [e.kind for e in services.store.events_of(cid)]
    assert events[-1] == "invalidate"
    r = client.get(f"/v1/consignments/{cid}", headers=officer)
    assert r.json()["status"] == "invalidated"


def test_withdrawal_after_arrival_is_a_409_in_domain_words(
    client: TestClient, services: Services
) -> None:
    shop = key(services, "Late Shop", "platform")
    officer = key(services, "Border Office", "officer")
    doc = make_filing(filer_reference="W-2")
    assert client.post("/v1/filings", headers=shop, json=doc).status_code == 201
    client.post(
        "/v1/arrivals",
        headers=officer,
        json={"transport_documents": [doc["transport_document"]]},
    )
    r = client.delete("/v1/filings/W-2", headers=shop)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "only before arrival" in r.json()["detail"]


def test_csv_filer_withdraws_with_an_action_column(client: TestClient, services: Services) -> None:
    post = key(services, "CSV Post", "post")
    header = (
        "filer_reference,data_set,transport_document,destination_country,currency,"
        "consignee_name,consignee_address,consignee_country,item_description,"
        "item_quantity,item_value,item_hs_code,action\n"
    )
    body = header + (
        "C-9,reduced,LX123456785CN,DE,EUR,Anna Müller,Hauptstraße 5,DE,"
        "Plastic phone case,1,12.50,392690,\n"
    )
    headers = {**post, "Content-Type": "text/csv"}
    r = client.post("/v1/messages", headers=headers, content=body.encode())
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["outcome"] == "accepted", r.text

    cancel = "filer_reference,action\nC-9,cancel\n"
    r = client.post("/v1/messages", headers=headers, content=cancel.encode())
    assert r.status_code == 200, r.text
    [result] = r.json()["results"]
    assert result["outcome"] == "invalidated", r.text
    notices = [n["notice"] for n in client.get("/v1/notices", headers=post).json()["notices"]]
    assert any(n["kind"] == "invalidated" and n["filer_reference"] == "C-9" for n in notices)
