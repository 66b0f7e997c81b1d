"""The official GACC samples through the API: what is accepted, refused, merged and assessed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from clearway.api.app import create_app
from clearway.wiring.services import Services
from tests.ingestion.conftest import CEB_SAMPLES

ORDER_NO = "order20160321116421002"  # the CEB311 sample's order, also on the first waybill


def sample(name: str, *edits: tuple[str, str]) -> bytes:
    """A sample with `(old, new)` text edits applied to its first occurrence each."""
    text = (CEB_SAMPLES / name).read_text(encoding="utf-8-sig")
    for old, new in edits:
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new, 1)
    return text.encode("utf-8")


def first_block(name: str, block: str) -> str:
    """The sample with only its first business block (a platform sends one order at a time)."""
    text = (CEB_SAMPLES / name).read_text(encoding="utf-8-sig")
    start = text.index(f"<ceb:{block}>")
    second = text.index(f"<ceb:{block}>", start + 1)
    tail = text.index("<ceb:BaseTransfer>")
    return text[:second] + text[tail:]


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def key(services: Services, name: str, role: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {services.operators.create_key(name, role)}",
        "Content-Type": "application/xml",
    }


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    resp = client.post("/v1/messages", content=body, headers=headers)
    assert resp.status_code == 200, resp.text
    out: dict[str, Any] = resp.json()
    return out


def test_samples_are_accepted_where_valid_and_refused_with_the_reason(
    client: TestClient, services: Services
) -> None:
    platform = key(services, "东方物通科技", "platform")
    orders = post(client, sample("CEB311Message.xml"), platform)
    # six copies of one order: the first is filed, the others are the same filing again
    assert [r["outcome"] for r in orders["results"]] == ["accepted"] + ["duplicate"] * 5
    assert {r["consignment_id"] for r in orders["results"]} == {
        orders["results"][0]["consignment_id"]
    }
    payments = post(
        client, sample("CEB411Message.xml"), key(services, "测试支付", "payment_provider")
    )
    assert payments["accepted"] == 10 and payments["rejected"] == 0
    waybills = post(client, sample("CEB511Message.xml"), key(services, "测试物流", "carrier"))
    assert waybills["rejected"] == 0
    inventories = post(client, sample("CEB621Message.xml"), key(services, "测试报关", "broker"))
    assert inventories["accepted"] == 0 and inventories["rejected"] == 10
    for result in inventories["results"]:
        problem = next(p for p in result["problems"] if p["code"] == "hs_unknown")
        assert problem["path"] == "/items/0/hs_code"
        assert "854140" in problem["message"] and "HS 2022" in problem["message"]


def test_a_lone_payment_or_waybill_waits_for_its_partners(
    client: TestClient, services: Services
) -> None:
    pay = post(
        client,
        first_block("CEB411Message.xml", "Payment").encode(),
        key(services, "测试支付", "payment_provider"),
    )
    [result] = pay["results"]
    assert (result["outcome"], result["status"]) == ("accepted", "filed")
    c = services.store.load(result["consignment_id"])
    assert c is not None
    assert c.decision is None and c.assessment is None and c.document.items == []
    way = post(
        client,
        first_block("CEB511Message.xml", "Logistics").encode(),
        key(services, "测试物流", "carrier"),
    )
    [result] = way["results"]
    c = services.store.load(result["consignment_id"])
    assert c is not None and c.status == "filed" and c.assessment is None
    assert c.document.items == []  # "包裹" on the waybill is no goods line


def file_matched_legs(
    client: TestClient,
    services: Services,
    edits: tuple[tuple[str, str], ...] = (),
    after_order: Callable[[str], None] | None = None,
) -> str:
    """The samples' order, payment, inventory and waybill edited to share one order number, as
    a real platform's legs would, filed by their enterprises; the parcel's id. `edits` change
    the inventory further; `after_order` runs once the order has opened the parcel."""
    today = services.clock.now().strftime("%Y%m%d")
    # the order names the payment company (payCode) and the inventory the logistics company
    # (logisticsCode): registered to their operators, their records join even where they
    # disagree (docs/security.md), which is what the comparison below is about
    order = (
        first_block("CEB311Message.xml", "Order")
        .replace("<ceb:payCode>1105910159", "<ceb:payCode>1101110323")
        .encode()
    )
    assert services.accounts is not None
    for who, role, code in (
        ("测试支付", "payment_provider", "1101110323"),
        ("测试物流", "carrier", "1101180326"),
    ):
        services.operators.ensure(who, role)
        services.accounts.accounts.register(
            operator=who,
            number=code,
            scheme="national",
            jurisdiction="CN",
            valid_from=date(2016, 1, 1),
        )
    payment = sample(
        "CEB411Message.xml", ("<ceb:orderNo>order2016030811340007", f"<ceb:orderNo>{ORDER_NO}")
    )
    waybill = first_block("CEB511Message.xml", "Logistics").encode()  # already names ORDER_NO
    inventory = first_block("CEB621Message.xml", "Inventory")
    for old, new in (
        ("<ceb:orderNo>order2016030811340001", f"<ceb:orderNo>{ORDER_NO}"),
        ("<ceb:gcode>8541401000", "<ceb:gcode>8528710000"),  # set-top box: HS 2022 852871
        ("<ceb:gcode>8541401000", "<ceb:gcode>9619000000"),  # diapers: HS 2022 961900
        ("<ceb:declTime>20160308", f"<ceb:declTime>{today}"),
        *edits,
    ):
        assert old in inventory, old
        inventory = inventory.replace(old, new, 1)
    first = post(client, order, key(services, "东方物通科技", "platform"))["results"][0]
    assert first["status"] == "filed"  # an order alone is not a declaration: it waits
    cid: str = first["consignment_id"]
    if after_order is not None:
        after_order(cid)
    for body, who, role in (
        (payment, "测试支付", "payment_provider"),
        # the platform declares its own inventory (an unnamed agent's would be held)
        (inventory.encode(), "东方物通科技", "platform"),
        (waybill, "测试物流", "carrier"),
    ):
        out = post(client, body, key(services, who, role))
        assert out["results"][0]["consignment_id"] == cid, out
    return cid


def test_legs_sharing_an_order_number_merge_and_the_inventory_is_assessed(
    client: TestClient, services: Services
) -> None:
    """The samples name different orders; a real platform's legs share one. Edit them to."""
    cid = file_matched_legs(client, services)
    c = services.store.load(cid)
    assert c is not None and sorted(c.legs) == ["inventory", "order", "payment", "waybill"]
    assert c.transport_document == "L201603081138007"
    assert c.assessment is not None and "cbec_within_limits" in c.assessment.flags
    # goods come from the inventory, never from the waybill's note
    assert [i.description for i in c.document.items] == ["小米盒子", "花王纸尿裤"]
    assert c.decision is not None
    match = {r.code: r.text for r in c.decision.reasons if r.source == "match"}
    # the samples' payer (支付人, another ID number) is not the orderer, the waybill's consignee
    # (李小可) is not the order's (焦洪宇), and the inventory declares 32 CNY of goods for an
    # order of 14,000: each named with its documents and fields
    assert {"match_payer", "match_payer_id", "match_consignee", "match_declared_value"} <= set(
        match
    )
    assert "payment record (CEB411)" in match["match_payer"] and "支付人" in match["match_payer"]
    assert "李小可" in match["match_consignee"] and "waybill (CEB511)" in match["match_consignee"]
    assert "inventory (CEB621)" in match["match_declared_value"]
    # 14000 + freight 5000 + tax 50 − discount 0 = 19050, paid 19050: no amount mismatch
    assert "match_amount" not in match and "match_leg_missing" not in match
    assert c.decision.lane in ("yellow", "red")
