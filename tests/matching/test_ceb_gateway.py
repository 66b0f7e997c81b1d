"""CEB receipts from the message gateway: the right party, the message's guid, field paths, and a
CEB900 for a message that fails the schema — every one valid against the GACC schema."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from clearway.api.app import create_app
from clearway.ingestion.xml_safety import parse_xml, schema, schema_problems
from clearway.wiring.services import Services
from tests.matching.test_ceb_samples import file_matched_legs, first_block, key, sample

C = "{http://www.chinaport.gov.cn/ceb}"


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as c:
        yield c


def receipts(client: TestClient, body: bytes, headers: dict[str, str]) -> list[Any]:
    resp = client.post("/v1/messages", content=body, headers=headers)
    assert resp.status_code == 200, resp.text
    out = []
    for result in resp.json()["results"]:
        root = parse_xml(result["receipt"].encode())
        errors = schema_problems(schema("cn_ceb", "ceb_import_business_node_202205.xsd"), root)
        assert errors == [], errors
        out.append(root)
    return out


def field(root: Any, name: str) -> str | None:
    value: str | None = root.findtext(f".//{C}{name}")
    return value


def test_receipts_echo_the_guid_and_name_the_enterprise_that_sent_the_block(
    client: TestClient, services: Services
) -> None:
    # every sample's transfer node names 1101180326 (a logistics company) as the sender: the
    # receipts name the enterprise each block is about instead
    [order] = receipts(
        client, first_block("CEB311Message.xml", "Order").encode(), key(services, "p", "platform")
    )
    assert order.tag == f"{C}CEB312Message"
    assert order.get("guid") == field(order, "guid") == "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
    assert (field(order, "ebpCode"), field(order, "ebcCode")) == ("1105910159", "1105910159")
    assert field(order, "orderNo") == "order20160321116421002"
    assert field(order, "returnStatus") == "120"
    # the order's goods are named "b" and "v": kept, with the element that carried them
    assert "Order/0/OrderList/0/itemName" in (field(order, "returnInfo") or "")
    [payment] = receipts(
        client,
        first_block("CEB411Message.xml", "Payment").encode(),
        key(services, "pay", "payment_provider"),
    )
    assert (field(payment, "payCode"), field(payment, "returnStatus")) == ("1101110323", "120")
    assert field(payment, "payTransactionId") == "P0242250007"
    inventories = receipts(client, sample("CEB621Message.xml"), key(services, "agent", "broker"))
    assert len(inventories) == 10
    first = inventories[0]
    assert first.tag == f"{C}CEB622Message"
    assert field(first, "returnStatus") == "100"  # the sample's HS code is not in HS 2022
    assert (field(first, "agentCode"), field(first, "ebpCode")) == ("1105910159", "1101110325")
    assert field(first, "copNo") == "NBBH20160308005"
    info = field(first, "returnInfo") or ""
    assert info.startswith("Inventory/0/InventoryList/0/gcode: ") and "854140" in info


def test_a_message_that_fails_the_schema_gets_a_ceb900(
    client: TestClient, services: Services
) -> None:
    body = sample(
        "CEB411Message.xml",
        ("<ceb:amountPaid>19050</ceb:amountPaid>", "<ceb:amountPaid>lots</ceb:amountPaid>"),
    )
    resp = client.post(
        "/v1/messages", content=body, headers=key(services, "pay", "payment_provider")
    )
    assert resp.status_code == 200
    [result] = resp.json()["results"]
    assert result["outcome"] == "rejected"
    root = parse_xml(result["receipt"].encode())
    assert schema_problems(schema("cn_ceb", "ceb_import_business_node_202205.xsd"), root) == []
    assert root.tag == f"{C}CEB900Message"
    assert field(root, "returnStatus") == "-1"
    assert field(root, "oriMessageType") == "CEB411Message"
    original_guid = etree.fromstring(body).get("guid")
    assert field(root, "oriCopMsgId") == original_guid
    assert "amountPaid" in (field(root, "returnInfo") or "")
    assert base64.b64decode(field(root, "oriBizMessage") or "") == body


def test_a_receipt_sent_as_a_filing_gets_a_ceb900(client: TestClient, services: Services) -> None:
    [root] = receipts(client, sample("CEB622Message.xml"), key(services, "agent", "broker"))
    assert root.tag == f"{C}CEB900Message"
    assert "receipt customs sends" in (field(root, "returnInfo") or "")


def feed(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    resp = client.get("/v1/notices?limit=1000", headers=headers)
    assert resp.status_code == 200, resp.text
    notices: list[dict[str, Any]] = [n["notice"] for n in resp.json()["notices"]]
    return notices


def valid(xml: str) -> Any:
    root = parse_xml(xml.encode())
    errors = schema_problems(schema("cn_ceb", "ceb_import_business_node_202205.xsd"), root)
    assert errors == [], errors
    return root


def release(client: TestClient, services: Services, cid: str) -> None:
    """The parcel arrives, is held for its check, inspected and released by an officer."""
    officer = key(services, "关员", "officer")
    officer["Content-Type"] = "application/json"
    resp = client.post(
        "/v1/arrivals",
        json={"transport_documents": ["L201603081138007"], "office": "3700"},
        headers=officer,
    )
    assert resp.status_code == 200, resp.text
    for action in (
        {"action": "record_inspection", "found": False, "notes": "as declared"},
        {"action": "release", "reason": "inspected"},
    ):
        resp = client.post(f"/v1/consignments/{cid}/actions", json=action, headers=officer)
        assert resp.status_code == 200, resp.text


def test_status_receipts_follow_the_parcel_and_release_brings_the_tax_bill(
    client: TestClient, services: Services
) -> None:
    cid = file_matched_legs(client, services)
    platform = key(services, "东方物通科技", "platform")
    release(client, services, cid)
    mine = [n for n in feed(client, platform) if n["consignment_id"] == cid]
    codes = []
    for n in mine:
        if "ceb_receipt" not in n:
            continue
        root = valid(n["ceb_receipt"])
        assert root.tag == f"{C}CEB622Message"
        # the inventory's guid, agent and own number, every time
        assert field(root, "guid") == "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
        assert (field(root, "agentCode"), field(root, "copNo")) == (
            "1105910159",
            "NBBH20160308005",
        )
        codes.append(field(root, "returnStatus"))
    first = valid(next(n["ceb_receipt"] for n in mine if "ceb_receipt" in n))
    assert "within the transaction and annual limits" in (field(first, "returnInfo") or "")
    # decided for a check (the legs disagree) → held on arrival → inspected → released
    assert codes[0] == "300" and codes[-2:] == ["500", "800"], codes
    assert "599" in codes
    released = next(n for n in mine if n["status"] == "released")
    bill = valid(released["ceb_tax_bill"])
    c = services.store.load(cid)
    assert c is not None and c.assessment is not None
    assert "cbec_within_limits" in c.assessment.flags
    head_vat = Decimal(field(bill, "valueAddedTax") or "")
    assert Decimal(field(bill, "customsTax") or "") == 0  # duty 0 within the limits
    assert head_vat == c.assessment.total_of("vat") > 0
    lines = bill.findall(f".//{C}TaxListRd")
    assert [ln.findtext(f"{C}gcode") for ln in lines] == ["8528710000", "9619000000"]
    for ln in lines:
        price = Decimal(ln.findtext(f"{C}taxPrice"))
        vat = Decimal(ln.findtext(f"{C}valueAddedTax"))
        # VAT 13 % at 70 %: 9.1 % of the duty-paid price
        assert abs(vat - price * Decimal("0.091")) <= Decimal("0.01")
    assert sum(Decimal(ln.findtext(f"{C}valueAddedTax")) for ln in lines) == head_vat
    assert field(bill, "invtNo") == field(valid(released["ceb_receipt"]), "invtNo")


def test_a_cancellation_before_release_withdraws_the_inventory(
    client: TestClient, services: Services
) -> None:
    cid = file_matched_legs(client, services)
    platform = key(services, "东方物通科技", "platform")
    cancel = first_block("CEB623Message.xml", "InvtCancel").replace(
        "<ceb:copNo>NBBH20160308001", "<ceb:copNo>NBBH20160308005"
    )
    [receipt] = receipts(client, cancel.encode(), platform)
    assert receipt.tag == f"{C}CEB624Message"
    assert field(receipt, "guid") == "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"
    assert (field(receipt, "copNo"), field(receipt, "agentCode")) == (
        "NBBH20160308005",
        "1105910159",
    )
    assert field(receipt, "returnStatus") == "399"
    c = services.store.load(cid)
    assert c is not None and c.status == "invalidated"
    last = [n for n in feed(client, platform) if n["consignment_id"] == cid][-1]
    assert field(valid(last["ceb_receipt"]), "returnStatus") == "899"
    # another enterprise cannot cancel it: it filed no inventory under that number
    [again] = receipts(client, cancel.encode(), key(services, "测试物流", "carrier"))
    assert field(again, "returnStatus") == "100"


def return_request(copno: str = "RT20260001") -> bytes:
    body = first_block("CEB625Message.xml", "InvtRefund")
    for old, new in (
        ("<ceb:logisticsNo>L2016031000001", "<ceb:logisticsNo>L201603081138007"),
        ("<ceb:copNo>cop201604210001", f"<ceb:copNo>{copno}"),
    ):
        assert old in body
        body = body.replace(old, new, 1)
    return body.encode()


def test_a_return_request_after_release_opens_the_return_refunds_and_restores_the_quota(
    client: TestClient, services: Services
) -> None:
    cid = file_matched_legs(client, services)
    platform = key(services, "东方物通科技", "platform")
    # before release there is nothing to return
    [early] = receipts(client, return_request(), platform)
    assert early.tag == f"{C}CEB626Message" and field(early, "returnStatus") == "100"
    assert "released" in (field(early, "returnInfo") or "")
    release(client, services, cid)
    assert services.accounts is not None
    person = "id:130681136250023332"  # the orderer's ID number
    year = services.clock.now().year
    used_before, _ = services.accounts.accounts.quota(person, year)
    assert used_before > 0
    # a party that did not declare the parcel cannot return it
    [stranger] = receipts(client, return_request(), key(services, "测试物流", "carrier"))
    assert field(stranger, "returnStatus") == "100"
    assert "unknown_parcel" not in (field(stranger, "returnInfo") or "")
    [receipt] = receipts(client, return_request(), platform)
    assert field(receipt, "returnStatus") == "120"
    assert field(receipt, "guid") == "5923DGGB-9940-415B-B666-C09BOO7F40B2"  # echoed as sent
    info = field(receipt, "returnInfo") or ""
    assert "opened" in info and "quota restored" in info and "to be back by" in info, info
    assert "approved" not in info  # no refund before the goods are back
    used_after, _ = services.accounts.accounts.quota(person, year)
    assert used_after < used_before  # 12 of the 100 set-top boxes came back
    # the goods enter the supervised site: the refund is claimed for the declarant
    result = goods_back(client, services)
    assert result["refund_id"].startswith("rfd_")
    assert result.get("tax_status") is None  # part of the goods stays: the tax bill stands
    back = valid(result["receipt"])
    assert back.tag == f"{C}CEB712Message" and field(back, "returnStatus") == "120"
    assert "approved" in (field(back, "returnInfo") or "")
    # once claimed, the next entry of the same waybill claims nothing more
    assert goods_back(client, services).get("refund_id") is None
    # the same return twice is refused with the reason
    [twice] = receipts(client, return_request(), platform)
    assert field(twice, "returnStatus") == "100"


def test_waybill_status_and_warehouse_entry_are_checked_and_acknowledged(
    client: TestClient, services: Services
) -> None:
    file_matched_legs(client, services)
    carrier = key(services, "测试物流", "carrier")
    status = first_block("CEB513Message.xml", "LogisticsStatus").encode()
    [known] = receipts(client, status, carrier)
    assert known.tag == f"{C}CEB514Message" and field(known, "returnStatus") == "399"
    entry = sample("CEB711Message.xml")  # lists L201603081138001: not on file
    [unknown] = receipts(client, entry, carrier)
    assert unknown.tag == f"{C}CEB712Message" and field(unknown, "returnStatus") == "100"
    assert "L201603081138001" in (field(unknown, "returnInfo") or "")
    [entered] = receipts(
        client,
        sample("CEB711Message.xml", ("L201603081138001", "L201603081138007")),
        carrier,
    )
    assert field(entered, "returnStatus") == "120"


def goods_back(client: TestClient, services: Services) -> dict[str, Any]:
    """The site operator's CEB711 lists the parcel's waybill: its returned goods are back."""
    body = sample("CEB711Message.xml", ("L201603081138001", "L201603081138007"))
    resp = client.post("/v1/messages", content=body, headers=key(services, "测试物流", "carrier"))
    assert resp.status_code == 200, resp.text
    [result] = resp.json()["results"]
    out: dict[str, Any] = result
    return out


def test_the_same_return_document_twice_is_a_conflict_not_a_server_error(
    client: TestClient, services: Services
) -> None:
    cid = file_matched_legs(client, services)
    release(client, services, cid)
    platform = key(services, "东方物通科技", "platform")
    platform["Content-Type"] = "application/json"
    body = {
        "inbound": cid,
        "return_document": "RT-SAME-1",
        "items": [{"item": 1, "quantity": 1}],
    }
    first = client.post("/v1/returns", json=body, headers=platform)
    assert first.status_code == 201, first.text
    body["items"] = [{"item": 0, "quantity": 1}]
    again = client.post("/v1/returns", json=body, headers=platform)
    assert again.status_code == 409, again.text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("<ceb:gnum>1</ceb:gnum>", "<ceb:gnum>0</ceb:gnum>"),
        ("<ceb:gnum>1</ceb:gnum>", "<ceb:gnum>99</ceb:gnum>"),
        ("<ceb:qty>12</ceb:qty>", "<ceb:qty>0</ceb:qty>"),
        ("<ceb:qty>12</ceb:qty>", "<ceb:qty>-3</ceb:qty>"),
        ("<ceb:qty>12</ceb:qty>", "<ceb:qty>99999999</ceb:qty>"),
        ("<ceb:logisticsNo>L201603081138007", "<ceb:logisticsNo>"),
        ("<ceb:reason>1105910158", "<ceb:reason>" + "尺码不合适" * 400),
    ],
)
def test_odd_return_requests_are_answered_never_a_server_error(
    client: TestClient, services: Services, old: str, new: str
) -> None:
    cid = file_matched_legs(client, services)
    release(client, services, cid)
    body = return_request().decode()
    assert old in body
    resp = client.post(
        "/v1/messages",
        content=body.replace(old, new, 1).encode(),
        headers=key(services, "东方物通科技", "platform"),
    )
    assert resp.status_code == 200, resp.text
    [result] = resp.json()["results"]
    root = valid(result["receipt"])
    assert field(root, "returnStatus") in ("100", "-1"), result


def test_returning_the_whole_parcel_cancels_its_tax_bill(
    client: TestClient, services: Services
) -> None:
    cid = file_matched_legs(client, services)
    release(client, services, cid)
    body = return_request().decode().replace("<ceb:qty>12</ceb:qty>", "<ceb:qty>100</ceb:qty>", 1)
    second = (
        "<ceb:InvtRefundList><ceb:gnum>2</ceb:gnum><ceb:gcode>9619000000</ceb:gcode>"
        "<ceb:gname>花王纸尿裤</ceb:gname><ceb:qty>200</ceb:qty><ceb:unit>007</ceb:unit>"
        "</ceb:InvtRefundList>"
    )
    body = body.replace("</ceb:InvtRefundList>", "</ceb:InvtRefundList>" + second, 1)
    resp = client.post(
        "/v1/messages", content=body.encode(), headers=key(services, "东方物通科技", "platform")
    )
    assert resp.status_code == 200, resp.text
    [result] = resp.json()["results"]
    assert field(valid(result["receipt"]), "returnStatus") == "120"
    assert "tax_status" not in result  # nothing is refunded before the goods are back
    result = goods_back(client, services)
    assert result["refund_id"].startswith("rfd_")
    status = valid(result["tax_status"])
    assert status.tag == f"{C}CEB818Message" and field(status, "status") == "3"
    released = next(
        n
        for n in feed(client, key(services, "东方物通科技", "platform"))
        if n["status"] == "released"
    )
    assert field(status, "invtNo") == field(valid(released["ceb_tax_bill"]), "invtNo")


def first_status_info(client: TestClient, services: Services, cid: str) -> str:
    mine = feed(client, key(services, "东方物通科技", "platform"))
    receipt = next(
        n["ceb_receipt"] for n in mine if n["consignment_id"] == cid and "ceb_receipt" in n
    )
    return field(valid(receipt), "returnInfo") or ""


def test_above_the_transaction_limit_the_inventory_is_general_trade(
    client: TestClient, services: Services
) -> None:
    # two lines together above CNY 5,000: not the retail-import rates
    cid = file_matched_legs(
        client,
        services,
        edits=(("<ceb:totalPrice>20</ceb:totalPrice>", "<ceb:totalPrice>6000</ceb:totalPrice>"),),
    )
    c = services.store.load(cid)
    assert c is not None and c.assessment is not None
    assert "cbec_general_trade" in c.assessment.flags
    assert "general trade" in first_status_info(client, services, cid)


def test_the_orderers_annual_limit_counts(client: TestClient, services: Services) -> None:
    """The orderer (buyer ID number on the inventory) has used CNY 25,990 of 26,000 this year."""
    from clearway.accounts.model import QuotaEntry

    assert services.accounts is not None
    accounts = services.accounts.accounts

    def used_up(cid: str) -> None:
        now = services.clock.now()
        entry = QuotaEntry(
            "id:130681136250023332", "CN", now.year, cid, "release", Decimal("25990"), "CNY", now
        )
        services.accounts.store.add_quota_entries([entry])  # type: ignore[union-attr]
        accounts.quotas.invalidate()

    cid = file_matched_legs(client, services, after_order=used_up)
    c = services.store.load(cid)
    assert c is not None and c.assessment is not None
    assert "cbec_annual_limit_exceeded" in c.assessment.flags
    assert "annual limit" in first_status_info(client, services, cid)
