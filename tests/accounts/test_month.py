"""A month of accounts end to end through the API, on SQLite and PostgreSQL.

Three collecting operators (two platforms under vendor collection, a post under intermediary
collection) file parcels; one platform's guarantee is too small, so its third parcel is held with
the reason until it pays; a parcel with an unregistered number falls back to consumer collection
and waits for payment; the month's consolidated declarations are built, an operator's report with
one deliberate difference is reconciled, payment closes the period, a partial return is refunded
and shows as negative lines in the next declaration — and every total reconciles.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.kernel.clock import FixedClock
from clearway.kernel.codes import make_s10
from clearway.wiring.services import Services
from tests.conftest import make_filing


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def _key(services: Services, operator: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {services.operators.create_key(operator, role)}"}


def _ok(resp: Any, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def _parcel(serial: int, number: str | None, model: str = "vendor", **extra: Any) -> dict[str, Any]:
    collection: dict[str, Any] = {"model": model}
    if number:
        collection["registration_number"] = number
    return make_filing(
        filer_reference=f"REF-{serial}",
        transport_document=make_s10("LX", 20_000_000 + serial, "CN"),
        collection=collection,
        # one consignee per parcel: several parcels of one buyer on one day are a split shipment
        consignee={
            "name": f"Customer {serial}",
            "address": "Hauptstraße 5",
            "city": "Berlin",
            "postcode": "10115",
            "country": "DE",
        },
        payment={
            "id": f"P-{serial}",
            "amount": "27.40",
            "currency": "EUR",
            "payer_name": f"Customer {serial}",
        },
        **extra,
    )


def test_a_month_of_accounts_reconciles(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    officer = _key(services, "Border Office", "officer")
    mercato = _key(services, "Mercato Global", "platform")
    bazaar = _key(services, "Bazaar Direct", "platform")
    post = _key(services, "Deutsche Post", "post")
    payer = _key(services, "Clearing Bank", "payment_provider")

    acc = {
        name: _ok(
            client.post(
                "/v1/accounts",
                headers=officer,
                json={"operator": name, "currency": "EUR", "guarantee": g},
            ),
            201,
        )
        for name, g in (
            ("Mercato Global", "30.00"),
            ("Bazaar Direct", "1000"),
            ("Deutsche Post", "1000"),
        )
    }
    for name, number, scheme in (
        ("Mercato Global", "IM2760000001", "ioss"),
        ("Bazaar Direct", "IM2760000002", "ioss"),
        ("Deutsche Post", "IN2760000003", "intermediary"),
    ):
        reg = _ok(
            client.post(
                "/v1/registrations",
                headers=officer,
                json={
                    "operator": name,
                    "number": number,
                    "scheme": scheme,
                    "jurisdiction": "EU",
                    "valid_from": "2026-01-01",
                    "account_id": acc[name]["id"],
                },
            ),
            201,
        )
        assert reg["standing_today"] == "valid"

    # November: filings
    filed: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for serial, (who, number, model) in enumerate(
        [
            (mercato, "IM2760000001", "vendor"),
            (mercato, "IM2760000001", "vendor"),
            (mercato, "IM2760000001", "vendor"),
            (bazaar, "IM2760000002", "vendor"),
            (bazaar, "IM2760000002", "vendor"),
            (post, "IN2760000003", "intermediary"),
            (bazaar, "IM2769999999", "vendor"),  # not registered: consumer collection
        ]
    ):
        body = _ok(
            client.post("/v1/filings", headers=who, json=_parcel(serial, number, model)), 201
        )
        filed[number].append(body)
    unregistered = filed["IM2769999999"][0]
    got = _ok(client.get(f"/v1/consignments/{unregistered['consignment_id']}", headers=bazaar))
    assert got["assessment"]["payable_by"] == "consumer"
    assert "registration_number_invalid" in got["assessment"]["flags"]
    assert got["payment_status"] == "due"

    # Arrivals: the third Mercato parcel would take it over its EUR 30 guarantee
    tds = [
        got["transport_document"]
        for got in (
            _ok(client.get(f"/v1/consignments/{f['consignment_id']}", headers=officer))
            for fs in filed.values()
            for f in fs
        )
    ]
    answers = {
        r["transport_document"]: r
        for r in _ok(
            client.post("/v1/arrivals", headers=officer, json={"transport_documents": tds})
        )["results"]
    }
    third = _ok(
        client.get(
            f"/v1/consignments/{filed['IM2760000001'][2]['consignment_id']}", headers=officer
        )
    )
    assert answers[third["transport_document"]]["answer"] == "hold"
    assert any("guarantee" in r for r in answers[third["transport_document"]]["reasons"])
    assert answers[got["transport_document"]]["answer"] == "hold"  # awaiting payment
    released = [td for td, r in answers.items() if r["answer"] == "release"]
    assert len(released) == 5
    paid = client.post(
        f"/v1/consignments/{unregistered['consignment_id']}/payments",
        headers=officer,
        json={"amount": got["assessment"]["total"], "currency": "EUR", "reference": "PSP-77"},
    )
    assert _ok(paid)["status"] == "released"

    m_acc = _ok(client.get(f"/v1/accounts/{acc['Mercato Global']['id']}", headers=mercato))
    one = Decimal(third["assessment"]["total"])
    assert Decimal(m_acc["open_liability"]) == 2 * one
    assert Decimal(m_acc["headroom"]) == Decimal("30.00") - 2 * one

    # What customs recorded: assessments of the released collecting parcels, per account
    expected: dict[str, Decimal] = defaultdict(Decimal)
    by_rate: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for number, name in (
        ("IM2760000001", "Mercato Global"),
        ("IM2760000002", "Bazaar Direct"),
        ("IN2760000003", "Deutsche Post"),
    ):
        for f in filed[number]:
            c = _ok(client.get(f"/v1/consignments/{f['consignment_id']}", headers=officer))
            if c["status"] != "released":
                continue
            expected[name] += Decimal(c["assessment"]["total"])
            for ch in c["assessment"]["charges"]:
                by_rate[name][(ch["kind"], ch.get("rate") or "")] += Decimal(ch["amount"])

    # December 1st: November's consolidated declarations
    clock.advance(timedelta(days=29))
    decl = {}
    for name, who in (
        ("Mercato Global", mercato),
        ("Bazaar Direct", bazaar),
        ("Deutsche Post", post),
    ):
        d = _ok(
            client.post(
                f"/v1/accounts/{acc[name]['id']}/periods", headers=who, json={"period": "2026-11"}
            ),
            201,
        )
        decl[name] = d
        assert Decimal(d["total"]) == expected[name] > 0
        assert {(t["kind"], t["rate"] or ""): Decimal(t["amount"]) for t in d["totals"]} == dict(
            by_rate[name]
        )
        assert sum(Decimal(ln["amount"]) for ln in d["lines"]) == Decimal(d["total"])
    assert len({ln["transport_document"] for ln in decl["Mercato Global"]["lines"]}) == 2

    # Mercato's own report: one deliberate difference; Bazaar's CSV agrees to the cent
    per_parcel: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for ln in decl["Mercato Global"]["lines"]:
        per_parcel[(ln["transport_document"], ln["kind"])] += Decimal(ln["amount"])
    report = [
        {"transport_document": td, "kind": k, "amount": str(a)}
        for (td, k), a in sorted(per_parcel.items())
    ]
    report[0]["amount"] = str(Decimal(report[0]["amount"]) - Decimal("0.01"))
    up = _ok(
        client.post(
            f"/v1/accounts/{acc['Mercato Global']['id']}/periods/2026-11/report",
            headers=mercato,
            json={"format": "json", "lines": report},
        )
    )
    assert [
        (d["transport_document"], d["kind"], d["code"], d["difference"]) for d in up["differences"]
    ] == [(report[0]["transport_document"], report[0]["kind"], "amount_differs", "-0.01")]
    rows = ["transport_document,kind,amount"] + [
        f"{ln['transport_document']},{ln['kind']},{ln['amount']}"
        for ln in decl["Bazaar Direct"]["lines"]
    ]
    up = _ok(
        client.post(
            f"/v1/accounts/{acc['Bazaar Direct']['id']}/periods/2026-11/report",
            headers=bazaar,
            json={"format": "csv", "content": "\n".join(rows)},
        )
    )
    assert up["differences"] == [] and Decimal(up["reported_total"]) == expected["Bazaar Direct"]

    # Only an officer records payment: a payment provider that does not hold the account is
    # told nothing; the owner's own claim waits for the bank statement
    stranger = client.post(
        f"/v1/accounts/{acc['Mercato Global']['id']}/periods/2026-11/payment",
        headers=payer,
        json={"amount": decl["Mercato Global"]["total"], "currency": "EUR", "reference": "X"},
    )
    assert stranger.status_code == 404 and decl["Mercato Global"]["total"] not in stranger.text
    wrong = client.post(
        f"/v1/accounts/{acc['Mercato Global']['id']}/periods/2026-11/payment",
        headers=mercato,
        json={"amount": "1.00", "currency": "EUR", "reference": "SEPA-1"},
    )
    assert wrong.status_code == 422
    claim = _ok(
        client.post(
            f"/v1/accounts/{acc['Mercato Global']['id']}/periods/2026-11/payment",
            headers=mercato,
            json={
                "amount": decl["Mercato Global"]["total"],
                "currency": "EUR",
                "reference": "SEPA-1",
            },
        ),
        202,
    )
    assert claim["status"] == "pending_confirmation"
    still = _ok(
        client.get(f"/v1/accounts/{acc['Mercato Global']['id']}/periods/2026-11", headers=mercato)
    )
    assert still["status"] == "declared"
    # Payment (the statement confirming the claim) closes the period and frees the held parcel,
    # which now accrues in December
    statement = _ok(
        client.post(
            "/v1/payments/confirmations",
            headers=officer,
            json={
                "lines": [
                    {
                        "reference": "SEPA-1",
                        "amount": decl["Mercato Global"]["total"],
                        "currency": "EUR",
                    },
                    {"reference": "SEPA-404", "amount": "9.99", "currency": "EUR"},
                ]
            },
        )
    )
    assert [r["outcome"] for r in statement["results"]] == ["confirmed", "no_matching_claim"]
    assert statement["results"][0]["released"] == [third["id"]]
    closed = _ok(
        client.get(f"/v1/accounts/{acc['Mercato Global']['id']}/periods/2026-11", headers=mercato)
    )
    assert closed["status"] == "closed"
    again = client.post(
        f"/v1/accounts/{acc['Mercato Global']['id']}/periods/2026-11/payment",
        headers=officer,
        json={"amount": decl["Mercato Global"]["total"], "currency": "EUR", "reference": "SEPA-1"},
    )
    assert again.status_code == 409
    m_acc = _ok(client.get(f"/v1/accounts/{acc['Mercato Global']['id']}", headers=officer))
    assert Decimal(m_acc["open_liability"]) == one

    # A partial return (one of two phone cases) and its refund
    first = filed["IM2760000002"][0]
    ret = _ok(
        client.post(
            "/v1/returns",
            headers=bazaar,
            json={
                "inbound": first["consignment_id"],
                "return_document": make_s10("RR", 1, "DE"),
                "items": [{"item": 0, "quantity": 1}],
            },
        ),
        201,
    )
    assert ret["within_window"] is True
    twice = client.post(
        "/v1/returns",
        headers=bazaar,
        json={
            "inbound": first["consignment_id"],
            "return_document": make_s10("RR", 2, "DE"),
            "items": [{"item": 0, "quantity": 2}],
        },
    )
    assert twice.status_code == 422  # only one phone case left to return
    refund = _ok(client.post("/v1/refunds", headers=bazaar, json={"return_id": ret["id"]}), 201)
    inbound = _ok(client.get(f"/v1/consignments/{first['consignment_id']}", headers=officer))
    item0 = [ch for ch in inbound["assessment"]["charges"] if ch.get("item") == 0]
    assert refund["status"] == "approved"
    assert Decimal(refund["amount"]) == sum(
        (Decimal(ch["amount"]) / 2).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        for ch in item0
    )
    assert (
        client.post("/v1/refunds", headers=bazaar, json={"return_id": ret["id"]}).status_code == 409
    )

    # January: December's declarations carry the refund as negative lines and the freed parcel
    clock.advance(timedelta(days=31))
    dec_b = _ok(
        client.post(
            f"/v1/accounts/{acc['Bazaar Direct']['id']}/periods",
            headers=bazaar,
            json={"period": "2026-12"},
        ),
        201,
    )
    assert Decimal(dec_b["total"]) == -Decimal(refund["amount"])
    assert all(
        Decimal(ln["amount"]) < 0 and ln["refund_id"] == refund["id"] for ln in dec_b["lines"]
    )
    dec_m = _ok(
        client.post(
            f"/v1/accounts/{acc['Mercato Global']['id']}/periods",
            headers=officer,
            json={"period": "2026-12"},
        ),
        201,
    )
    assert Decimal(dec_m["total"]) == one
    assert {ln["transport_document"] for ln in dec_m["lines"]} == {third["transport_document"]}

    # Reports: per-number monthly totals, open liabilities, refunds (also as CSV)
    regs = _ok(client.get("/v1/reports/registrations?period=2026-11", headers=officer))["rows"]
    assert {r["registration_number"]: (r["parcels"], Decimal(r["total"])) for r in regs} == {
        "IM2760000001": (2, expected["Mercato Global"]),
        "IM2760000002": (2, expected["Bazaar Direct"]),
        "IN2760000003": (1, expected["Deutsche Post"]),
    }
    csv_text = client.get("/v1/reports/refunds?format=csv", headers=officer).text
    assert refund["id"] in csv_text and dec_b["id"] in csv_text
    assert client.get("/v1/reports/refunds", headers=mercato).status_code == 403
    # Operators see only their own accounts
    assert (
        client.get(f"/v1/accounts/{acc['Bazaar Direct']['id']}", headers=mercato).status_code == 404
    )
