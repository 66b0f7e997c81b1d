"""Joining someone else's parcel: refused unless named or proven; least privilege once joined.

Each attack is played through the HTTP API with ordinary keys and checked three ways: it is
refused (or held for an officer), nothing about the parcel leaks to the attacker, and the
parcel is exactly as it was.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
from fastapi.testclient import TestClient

from clearway.domain.filing import FilingDocument, Party
from clearway.simulation.formats import cn_legs
from clearway.wiring.services import Services
from tests.matching.test_matching import CARRIER, cn_filing
from tests.security.conftest import key

CONSIGNEE_SECRETS = ("Wang Fang", "Nanjing Road", "310101199001011234")


def _json(client: TestClient, headers: dict[str, str], doc: FilingDocument) -> Any:
    return client.post(
        "/v1/filings",
        content=msgspec.json.encode(doc),
        headers={**headers, "Content-Type": "application/json"},
    )


def _xml(client: TestClient, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    resp = client.post(
        "/v1/messages", content=body, headers={**headers, "Content-Type": "application/xml"}
    )
    assert resp.status_code == 200, resp.text
    [result] = resp.json()["results"]
    out: dict[str, Any] = result
    return out


def _snapshot(services: Services, cid: str) -> tuple[object, ...]:
    c = services.store.load(cid)
    assert c is not None
    return (c.version, c.status, c.payment_status, sorted(c.legs), c.document, c.decision)


def _leaks(text: str) -> list[str]:
    return [s for s in CONSIGNEE_SECRETS if s in text]


def test_guessed_keys_do_not_join_and_tell_the_attacker_nothing(
    client: TestClient, services: Services
) -> None:
    victim = key(services, "Bazaar Direct", "platform")
    doc = cn_filing()
    cid = _json(client, victim, doc).json()["consignment_id"]
    before = _snapshot(services, cid)

    # A rival payment provider sends a CEB411 with the victim's order number (sequential and
    # easy to guess) but its own payer and amount; a rival carrier a CEB511 with the transport
    # document and a made-up consignee.
    assert doc.payment is not None
    guess = msgspec.structs.replace(
        doc,
        payment=msgspec.structs.replace(
            doc.payment, id="P-GUESS", amount=Decimal("1.00"), payer_name="Eve Mallory"
        ),
        consignee=Party(name="Eve Mallory", address="Elsewhere 1", country="CN"),
    )
    legs = cn_legs(guess, pay_code="PAY99", pay_name="Rogue Pay", carrier=Party(name="Rogue"))
    rogue_pay = key(services, "Rogue Pay", "payment_provider")
    rogue_carrier = key(services, "Rogue Logistics", "carrier")
    paid = _xml(client, rogue_pay, legs.payment)
    shipped = _xml(client, rogue_carrier, legs.waybill)
    for held in (paid, shipped):
        assert held["outcome"] == "unmatched"
        assert "consignment_id" not in held and held["problems"][0]["code"] == "held_unmatched"
        assert not _leaks(str(held))

    # nothing changed, and nobody but customs knows the records exist
    assert _snapshot(services, cid) == before
    for attacker in (rogue_pay, rogue_carrier):
        assert client.get(f"/v1/consignments/{cid}", headers=attacker).status_code == 404
        assert client.get("/v1/notices", headers=attacker).json()["notices"] == []
        pay = client.post(
            f"/v1/consignments/{cid}/payments",
            headers=attacker,
            json={"amount": "1.00", "currency": "CNY", "reference": "NOT-REALLY-PAID"},
        )
        assert pay.status_code == 404 and "CNY" not in pay.text
    arrival = client.post(
        "/v1/arrivals",
        headers=rogue_carrier,
        json={"transport_documents": [doc.transport_document]},
    )
    assert arrival.json()["results"][0]["answer"] == "unknown"
    assert _snapshot(services, cid) == before
    mine = client.get(f"/v1/consignments/{cid}", headers=victim).json()
    assert {f["operator"] for f in mine["filings"]} == {"Bazaar Direct"}
    assert all(e["kind"] != "join" for e in mine["events"])
    notices = client.get("/v1/notices", headers=victim).json()["notices"]
    assert all("Rogue" not in str(n) for n in notices)

    # customs sees both, with why they were held, and closes them
    officer = key(services, "Border Office", "officer")
    held_legs = client.get("/v1/unmatched-legs", headers=officer).json()["legs"]
    assert {(h["kind"], h["consignment_id"]) for h in held_legs} == {
        ("payment", cid),
        ("waybill", cid),
    }
    assert all("not named by the declarant" in h["reason"] for h in held_legs)
    for h in held_legs:
        closed = client.post(
            f"/v1/unmatched-legs/{h['id']}/close",
            headers=officer,
            json={"note": "not a party of this parcel"},
        )
        assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert client.get("/v1/unmatched-legs", headers=rogue_pay).status_code == 403
    # the same record sent again is not stored twice
    again = _xml(client, rogue_pay, legs.payment)
    assert again["outcome"] == "unmatched"
    assert len(client.get("/v1/unmatched-legs?status=all", headers=officer).json()["legs"]) == 2


def test_a_named_party_joins_and_reads_only_what_its_role_needs(
    client: TestClient, services: Services
) -> None:
    platform = key(services, "Bazaar Direct", "platform")
    doc = cn_filing(collection={"model": "consumer"})  # the consignee pays at the border
    assert doc.payment is not None
    named = msgspec.structs.replace(
        doc,
        payment=msgspec.structs.replace(doc.payment, provider=Party(name="Alipay")),
        carrier=CARRIER,
    )
    cid = _json(client, platform, named).json()["consignment_id"]
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    alipay = key(services, "Alipay", "payment_provider")
    sf = key(services, "SF Express", "carrier")
    assert _xml(client, alipay, legs.payment)["consignment_id"] == cid
    assert _xml(client, sf, legs.waybill)["consignment_id"] == cid

    pay_view = client.get(f"/v1/consignments/{cid}", headers=alipay).json()
    assert pay_view["view"] == "payment" and "amount_due" in pay_view
    assert "document" not in pay_view and "transport" not in pay_view
    ship_view = client.get(f"/v1/consignments/{cid}", headers=sf).json()
    assert ship_view["view"] == "transport" and ship_view["transport"]["mode"] == "express"
    assert "amount_due" not in ship_view
    for view in (pay_view, ship_view):
        assert not _leaks(str(view))
    for party in (alipay, sf):
        feed = client.get("/v1/notices", headers=party).json()["notices"]
        assert feed and not _leaks(str(feed))
        assert all("lane" not in n["notice"] and "requests" not in n["notice"] for n in feed)

    full = client.get(f"/v1/consignments/{cid}", headers=platform).json()
    joins = [e for e in full["events"] if e["kind"] == "join"]
    assert {(e["actor"], e["data"]["leg"]) for e in joins} == {
        ("payment_provider:Alipay", "payment"),
        ("carrier:SF Express", "waybill"),
    }
    assert all(e["data"]["basis"].startswith("named by the declarant") for e in joins)
    # the declarant platform does not record payments; the named provider does
    due = pay_view["amount_due"]
    assert full["assessment"]["payable_by"] == "consumer" and Decimal(due) > 0
    body = {"amount": due, "currency": "CNY", "reference": "ALIPAY-1"}
    refused = client.post(f"/v1/consignments/{cid}/payments", headers=platform, json=body)
    assert refused.status_code == 403
    paid = client.post(f"/v1/consignments/{cid}/payments", headers=alipay, json=body)
    assert paid.status_code == 200, paid.text
    assert paid.json()["payment_status"] == "paid" and not _leaks(paid.text)
    # the carrier presents it; an unrelated carrier cannot
    stranger = key(services, "Other Carrier", "carrier")
    td = doc.transport_document
    unknown = client.post("/v1/arrivals", headers=stranger, json={"transport_documents": [td]})
    assert unknown.json()["results"][0]["answer"] == "unknown"
    presented = client.post("/v1/arrivals", headers=sf, json={"transport_documents": [td]})
    assert presented.json()["results"][0]["answer"] in ("release", "hold")


def test_a_record_that_agrees_on_several_keys_joins_without_being_named(
    client: TestClient, services: Services
) -> None:
    platform = key(services, "Bazaar Direct", "platform")
    doc = cn_filing()
    cid = _json(client, platform, doc).json()["consignment_id"]
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    joined = _xml(client, key(services, "Alipay", "payment_provider"), legs.payment)
    assert joined["outcome"] == "attached" and joined["consignment_id"] == cid
    events = client.get(f"/v1/consignments/{cid}", headers=platform).json()["events"]
    [join] = [e for e in events if e["kind"] == "join"]
    assert join["data"]["basis"] == "agrees on amount, order_id, payer, payment_id"


def test_no_record_joins_after_arrival(client: TestClient, services: Services) -> None:
    platform = key(services, "Bazaar Direct", "platform")
    doc = cn_filing()
    cid = _json(client, platform, doc).json()["consignment_id"]
    officer = key(services, "Border Office", "officer")
    client.post(
        "/v1/arrivals", headers=officer, json={"transport_documents": [doc.transport_document]}
    )
    before = _snapshot(services, cid)
    legs = cn_legs(doc, pay_code="PAY01", pay_name="Alipay", carrier=CARRIER)
    late = client.post(
        "/v1/messages",
        content=legs.payment,
        headers={**key(services, "Alipay", "payment_provider"), "Content-Type": "application/xml"},
    ).json()["results"][0]
    assert late["outcome"] == "conflict" and late["problems"][0]["code"] == "join_refused"
    assert _snapshot(services, cid) == before


def test_a_record_filed_first_with_a_guessed_order_gets_no_rights_on_the_parcel(
    client: TestClient, services: Services
) -> None:
    # The attacker pre-empts: a payment record for an order number not filed yet.
    doc = cn_filing()
    assert doc.payment is not None
    guess = msgspec.structs.replace(
        doc,
        payment=msgspec.structs.replace(doc.payment, amount=Decimal("1.00"), payer_name="Eve"),
    )
    legs = cn_legs(guess, pay_code="PAY99", pay_name="Rogue Pay")
    rogue = key(services, "Rogue Pay", "payment_provider")
    first = _xml(client, rogue, legs.payment)
    assert first["outcome"] == "accepted"
    # the platform then declares its order: the guessed record is neither named nor agreeing
    platform = key(services, "Bazaar Direct", "platform")
    declared = _json(client, platform, doc).json()
    cid = declared["consignment_id"]
    assert cid == first["consignment_id"]
    c = services.store.load(cid)
    assert c is not None and "payment" not in c.legs  # the guess is not merged
    assert c.document.payment is not None and c.document.payment.amount == Decimal("830.00")
    assert client.get(f"/v1/consignments/{cid}", headers=rogue).status_code == 404
    pay = client.post(
        f"/v1/consignments/{cid}/payments",
        headers=rogue,
        json={"amount": "1.00", "currency": "CNY", "reference": "NOT-REALLY-PAID"},
    )
    assert pay.status_code == 404
    assert not _leaks(str(client.get("/v1/notices", headers=rogue).json()))
    mine = client.get(f"/v1/consignments/{cid}", headers=platform).json()
    assert {f["operator"] for f in mine["filings"]} == {"Bazaar Direct"}
