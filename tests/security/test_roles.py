"""Role checks: analysts read aggregates only, quotas, and a message's role is its key's."""

from __future__ import annotations

import msgspec
from fastapi.testclient import TestClient

from clearway.simulation.formats import cn_legs
from clearway.wiring.services import Services
from tests.conftest import make_filing
from tests.matching.test_matching import CARRIER, cn_filing
from tests.security.conftest import key


def _file(client: TestClient, headers: dict[str, str], doc: object) -> dict[str, object]:
    resp = client.post(
        "/v1/filings",
        content=msgspec.json.encode(doc),
        headers={**headers, "Content-Type": "application/json"},
    )
    assert resp.status_code == 201, resp.text
    out: dict[str, object] = resp.json()
    return out


def test_analysts_read_aggregates_and_write_nothing(client: TestClient, services: Services) -> None:
    officer = key(services, "Border Office", "officer")
    mercato = key(services, "Mercato Global", "platform")
    analyst = key(services, "Risk Unit", "analyst")
    cid = _file(client, mercato, make_filing())["consignment_id"]
    assert client.get(f"/v1/consignments/{cid}", headers=analyst).status_code == 404
    granted = key(services, "Risk Unit", "analyst", "consignments")
    assert client.get(f"/v1/consignments/{cid}", headers=granted).status_code == 200

    acc = client.post(
        "/v1/accounts",
        headers=officer,
        json={"operator": "Mercato Global", "currency": "EUR", "guarantee": "1000"},
    ).json()
    # aggregates: the account's guarantee and liability, the surveillance reports
    assert client.get(f"/v1/accounts/{acc['id']}", headers=analyst).status_code == 200
    report = client.get("/v1/reports/liabilities", headers=analyst)
    assert report.status_code == 200
    assert client.get("/v1/reports/refunds", headers=analyst).status_code == 403  # per parcel
    # writes: neither an analyst nor a granted one builds a declaration or uploads a report
    for who in (analyst, granted):
        built = client.post(
            f"/v1/accounts/{acc['id']}/periods", headers=who, json={"period": "2026-11"}
        )
        assert built.status_code == 404, built.text
        upload = client.post(
            f"/v1/accounts/{acc['id']}/periods/2026-11/report",
            headers=who,
            json={"format": "csv", "content": "transport_document,kind,amount\n"},
        )
        assert upload.status_code == 404
    assert client.get(f"/v1/accounts/{acc['id']}/periods", headers=analyst).status_code == 404
    assert client.get(f"/v1/accounts/{acc['id']}/periods", headers=officer).json() == {
        "periods": []
    }


def test_quotas_by_person_are_for_officers_a_filer_asks_about_its_own_parcel(
    client: TestClient, services: Services
) -> None:
    shop = key(services, "Tmall Global", "platform")
    other = key(services, "Other Shop", "platform")
    officer = key(services, "Customs", "officer")
    cid = _file(client, shop, cn_filing())["consignment_id"]
    person = "310101199001011234"
    for who in (
        shop,
        other,
        key(services, "Risk", "analyst"),
        key(services, "Pay", "payment_provider"),
    ):
        assert client.get(f"/v1/quotas/{person}", headers=who).status_code == 403
    assert client.get(f"/v1/quotas/{person}", headers=officer).status_code == 200
    mine = client.get(f"/v1/consignments/{cid}/quota", headers=shop)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (
        body["remaining"] == body["annual_limit"] and "entries" not in body and "used" not in body
    )
    theirs = client.get(f"/v1/consignments/{cid}/quota", headers=other)
    assert theirs.status_code == 404 and "remaining" not in theirs.text


def test_a_message_carries_the_role_of_its_key_never_its_own(
    client: TestClient, services: Services
) -> None:
    shop = key(services, "Bazaar Direct", "platform")
    doc = cn_filing()
    first = _file(client, shop, doc)
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    # the platform sends a payment record (CEB411) as if it were the payment provider
    resp = client.post(
        "/v1/messages", content=legs.payment, headers={**shop, "Content-Type": "application/xml"}
    )
    assert resp.status_code == 200
    [result] = resp.json()["results"]
    assert result["outcome"] == "rejected"
    assert result["problems"][0]["code"] == "role_not_allowed"
    c = services.store.load(str(first["consignment_id"]))
    assert c is not None and c.legs == ["declaration"]
    roles = {f["role"] for f in services.store.filings_of(c.id)}
    assert roles == {"platform"}
