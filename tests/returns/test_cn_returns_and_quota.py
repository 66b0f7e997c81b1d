"""China's retail import: per-person yearly quota, returns within 30 days restore it."""

from __future__ import annotations

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

PERSON = "110101199001011234"


def _cn(serial: int, value: str, person: str = PERSON) -> dict[str, Any]:
    return make_filing(
        filer_reference=f"CN-{serial}",
        transport_document=make_s10("EA", 30_000_000 + serial, "US"),
        destination_country="CN",
        dispatch_country="US",
        currency="CNY",
        transport_cost="0",
        collection={"model": "consumer"},
        consignee={
            "name": "Wang Fang",
            "address": "Chaoyang Road 1",
            "city": "Beijing",
            "postcode": "100020",
            "country": "CN",
            "identifier": person,
        },
        order={"id": f"O-{serial}", "total": value},
        payment={
            "id": f"P-{serial}",
            "amount": value,
            "currency": "CNY",
            "payer_name": "Wang Fang",
        },
        items=[
            {
                "description": "Face cream 50 ml",
                "hs_code": "330499",
                "quantity": 2,
                "value": value,
                "origin_country": "US",
                "net_mass_kg": "0.2",
            }
        ],
    )


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def _release(client: TestClient, officer: dict[str, str], cid: str) -> dict[str, Any]:
    """Present the parcel and let an officer release it (CN also wants three matched records)."""
    c = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    client.post(
        "/v1/arrivals", headers=officer, json={"transport_documents": [c["transport_document"]]}
    )
    c = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    if c["payment_status"] == "due":
        client.post(
            f"/v1/consignments/{cid}/payments",
            headers=officer,
            json={"amount": c["assessment"]["total"], "currency": "CNY", "reference": f"pay-{cid}"},
        )
        c = client.get(f"/v1/consignments/{cid}", headers=officer).json()
    if c["status"] != "released":
        r = client.post(
            f"/v1/consignments/{cid}/actions",
            headers=officer,
            json={"action": "release", "reason": "records checked"},
        )
        assert r.status_code == 200, r.text
        c = r.json()
    assert c["status"] == "released"
    return c


def test_quota_used_on_release_and_restored_by_a_return_within_30_days(
    client: TestClient, services: Services, clock: FixedClock
) -> None:
    officer = {"Authorization": f"Bearer {services.operators.create_key('Customs', 'officer')}"}
    shop = {"Authorization": f"Bearer {services.operators.create_key('Tmall Global', 'platform')}"}

    first = client.post("/v1/filings", headers=shop, json=_cn(1, "4000")).json()
    c1 = _release(client, officer, first["consignment_id"])
    assert "cbec_within_limits" in c1["assessment"]["flags"]
    q = client.get(f"/v1/quotas/{PERSON}", headers=officer).json()
    used = Decimal(c1["assessment"]["customs_value"])
    assert (Decimal(q["annual_limit"]), Decimal(q["transaction_limit"])) == (26000, 5000)
    assert Decimal(q["used"]) == used and Decimal(q["remaining"]) == 26000 - used

    # The pipeline reads the same usage: a parcel that would go over the year is general trade
    for serial in range(2, 7):
        body = client.post("/v1/filings", headers=shop, json=_cn(serial, "4900")).json()
        c = _release(client, officer, body["consignment_id"])
    assert "cbec_annual_limit_exceeded" in c["assessment"]["flags"]

    # Return one of the two jars of the first parcel on day 20: half its value restored
    clock.advance(timedelta(days=20))
    ret = client.post(
        "/v1/returns",
        headers=shop,
        json={
            "inbound": c1["transport_document"],
            "return_document": make_s10("RR", 5, "CN"),
            "items": [{"item": 0, "quantity": 1}],
        },
    )
    assert ret.status_code == 201, ret.text
    r = ret.json()
    assert r["within_window"] and r["goods_back_by"] == "2026-12-17"
    assert Decimal(r["quota_restored"]) == (used / 2).quantize(Decimal("0.01"))
    q2 = client.get(f"/v1/quotas/{PERSON}", headers=officer).json()
    assert Decimal(q2["used"]) == Decimal(q["used"]) + sum(
        Decimal(e["amount"]) for e in q2["entries"][1:]
    )
    assert q2["entries"][-1]["source"] == f"return:{r['id']}"
    refund = client.post("/v1/refunds", headers=shop, json={"return_id": r["id"]}).json()
    assert refund["status"] == "approved" and refund["account_id"] is None  # paid by consumer
    assert Decimal(refund["amount"]) > 0

    # Day 40: the second parcel's return is outside the window: no restore, refund refused
    clock.advance(timedelta(days=20))
    second = client.get(f"/v1/quotas/{PERSON}", headers=officer).json()["entries"][1]
    late = client.post(
        "/v1/returns",
        headers=shop,
        json={
            "inbound": second["consignment_id"],
            "return_document": make_s10("RR", 6, "CN"),
            "items": [{"item": 0, "quantity": 2}],
        },
    ).json()
    assert late["within_window"] is False and late["quota_restored"] is None
    refused = client.post("/v1/refunds", headers=shop, json={"return_id": late["id"]}).json()
    assert refused["status"] == "refused" and "outside the window" in refused["reasons"][0]


def test_a_parcel_not_released_cannot_be_returned(client: TestClient, services: Services) -> None:
    shop = {"Authorization": f"Bearer {services.operators.create_key('Tmall Global', 'platform')}"}
    body = client.post("/v1/filings", headers=shop, json=_cn(9, "100")).json()
    r = client.post(
        "/v1/returns",
        headers=shop,
        json={
            "inbound": body["consignment_id"],
            "return_document": make_s10("RR", 9, "CN"),
            "items": [{"item": 0, "quantity": 1}],
        },
    )
    assert r.status_code == 422 and "released" in r.json()["detail"]
    other = {"Authorization": f"Bearer {services.operators.create_key('Other', 'platform')}"}
    r = client.post(
        "/v1/returns",
        headers=other,
        json={
            "inbound": body["consignment_id"],
            "return_document": make_s10("RR", 9, "CN"),
            "items": [{"item": 0, "quantity": 1}],
        },
    )
    assert r.status_code == 404
