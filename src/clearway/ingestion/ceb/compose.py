"""Canonical filings → the CEB messages enterprises send (the demo generator speaks CEB with these).

CEB311 order (platform), CEB411 payment (payment provider), CEB511 waybill (logistics company),
CEB621 inventory (declaring agent), CEB623 cancellation and CEB625 return request (the agent),
CEB711 warehouse entry list (the supervised site's operator). Every message is schema-valid and
parses back to the filing or request of its sender's role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from lxml import etree

from clearway.domain.filing import FilingDocument, Order, Party, Payment
from clearway.ingestion.ceb.codes import NS, gacc_country, gacc_currency, stamp
from clearway.ingestion.ceb.read import MODE_TRAF

_ID_CARD = "1"  # buyerIdType / payerIdType: resident identity card
_UNIT_PIECE = "007"  # JGS-20 unit of measure: piece (个)
_UNIT_KG = "035"  # kilogram


def _message(root_name: str, guid: str | None = None) -> tuple[etree._Element, str]:
    guid = (guid or str(uuid.uuid4())).upper()
    root = etree.Element(f"{{{NS}}}{root_name}", nsmap={"ceb": NS})
    root.set("guid", guid)
    root.set("version", "1.0")
    return root, guid


def _fill(parent: etree._Element, values: Sequence[tuple[str, object | None]]) -> None:
    for name, value in values:
        if value is not None and value != "":
            etree.SubElement(parent, f"{{{NS}}}{name}").text = str(value)


def _el(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS}}}{name}")


def _transfer(
    root: etree._Element, sender_code: str, sender_name: str, *, signed: bool = False
) -> bytes:
    _fill(
        _el(root, "BaseTransfer"),
        [
            ("copCode", sender_code),
            ("copName", sender_name),
            ("dxpMode", "DXP"),
            ("dxpId", "DXPENT0000000001"),
        ],
    )
    if signed:
        _sign(root, sender_code)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


DS = "http://www.w3.org/2000/09/xmldsig#"
# Declarations (621, 623, 625, 711) must carry an XML signature. Enterprises sign with the SM2
# key on their e-port card, which generated traffic cannot have: it signs with HMAC-SHA256
# under a published demo key instead, a real and verifiable enveloped XMLDSig. Clearway itself
# authenticates senders by API key and does not verify message signatures.
DEMO_SIGNING_KEY = b"clearway-demo-signing-key"


def _sign(root: etree._Element, key_name: str) -> None:
    digest = hashlib.sha256(etree.tostring(root, method="c14n")).digest()
    signature = etree.SubElement(root, f"{{{DS}}}Signature", nsmap={"ds": DS})
    info = etree.SubElement(signature, f"{{{DS}}}SignedInfo")
    for name, algorithm in (
        ("CanonicalizationMethod", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
        ("SignatureMethod", "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"),
    ):
        etree.SubElement(info, f"{{{DS}}}{name}").set("Algorithm", algorithm)
    reference = etree.SubElement(info, f"{{{DS}}}Reference")
    reference.set("URI", "")
    transforms = etree.SubElement(reference, f"{{{DS}}}Transforms")
    etree.SubElement(transforms, f"{{{DS}}}Transform").set(
        "Algorithm", "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    )
    etree.SubElement(reference, f"{{{DS}}}DigestMethod").set(
        "Algorithm", "http://www.w3.org/2001/04/xmlenc#sha256"
    )
    etree.SubElement(reference, f"{{{DS}}}DigestValue").text = base64.b64encode(digest).decode()
    mac = hmac.new(DEMO_SIGNING_KEY, etree.tostring(info, method="c14n"), hashlib.sha256)
    etree.SubElement(signature, f"{{{DS}}}SignatureValue").text = base64.b64encode(
        mac.digest()
    ).decode()
    key_info = etree.SubElement(signature, f"{{{DS}}}KeyInfo")
    etree.SubElement(key_info, f"{{{DS}}}KeyName").text = key_name or "demo"


def _party_or(party: Party | None, code: str = "0000000000", name: str = "-") -> tuple[str, str]:
    return (
        (party.identifier if party and party.identifier else code),
        (party.name if party and party.name else name),
    )


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(Decimal("0.01"))


def render_order(
    doc: FilingDocument,
    *,
    telephone: str = "00000000000",
    guid: str | None = None,
    pay_code: str | None = None,
    pay_name: str | None = None,
) -> bytes:
    """A CEB311 order for a platform filing (order id, items, totals, buyer, consignee).

    acturalPaid = goodsValue + freight + taxTotal − discount, taken from the order when it says,
    else the difference between the order total and goods + freight becomes tax or discount.
    """
    root, guid = _message("CEB311Message", guid)
    block = _el(root, "Order")
    head = _el(block, "OrderHead")
    order = doc.order or Order(id=doc.filer_reference)
    ebp_code, ebp_name = _party_or(doc.platform)
    ebc_code, ebc_name = _party_or(doc.seller, ebp_code, ebp_name)
    goods = doc.intrinsic_value
    freight = doc.transport_cost or Decimal(0)
    total = order.total if order.total is not None else goods + freight
    tax, discount = order.tax, order.discount
    if tax is None and discount is None:
        difference = total - goods - freight
        tax = difference if difference > 0 else Decimal(0)
        discount = -difference if difference < 0 else Decimal(0)
    buyer = doc.buyer or doc.consignee or Party()
    consignee = doc.consignee or Party()
    currency = gacc_currency(doc.currency)
    _fill(
        head,
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", stamp(order.placed_at)),
            ("appStatus", "2"),
            ("orderType", "I"),
            ("orderNo", order.id or doc.filer_reference),
            ("ebpCode", ebp_code),
            ("ebpName", ebp_name),
            ("ebcCode", ebc_code),
            ("ebcName", ebc_name),
            ("goodsValue", goods),
            ("freight", freight),
            ("discount", discount or 0),
            ("taxTotal", tax or 0),
            ("acturalPaid", total),
            ("currency", currency),
            ("buyerRegNo", buyer.identifier or buyer.name or "-"),
            ("buyerName", buyer.name or "-"),
            ("buyerTelephone", telephone),
            ("buyerIdType", _ID_CARD),
            ("buyerIdNumber", buyer.identifier or "-"),
            ("payCode", pay_code),
            ("payName", pay_name),
            ("payTransactionId", doc.payment.id if doc.payment else None),
            ("consignee", consignee.name or "-"),
            ("consigneeTelephone", telephone),
            ("consigneeAddress", consignee.address or "-"),
        ],
    )
    for number, item in enumerate(doc.items, start=1):
        value = item.value or Decimal(0)
        _fill(
            _el(block, "OrderList"),
            [
                ("gnum", number),
                ("itemName", item.description),
                ("gmodel", "-"),
                ("unit", _UNIT_PIECE),
                ("qty", item.quantity),
                ("price", (value / item.quantity).quantize(Decimal("0.00001"))),
                ("totalPrice", value),
                ("currency", currency),
                ("country", gacc_country(item.origin_country or "")),
            ],
        )
    return _transfer(root, ebp_code, ebp_name)


def render_payment(
    doc: FilingDocument,
    *,
    pay_code: str = "0000000000",
    pay_name: str = "-",
    at: datetime | None = None,
    guid: str | None = None,
) -> bytes:
    """A CEB411 payment record: transaction id, order id, amount, and the payer (name, ID)."""
    payment = doc.payment or Payment(id=doc.filer_reference)
    root, guid = _message("CEB411Message", guid)
    head = _el(_el(root, "Payment"), "PaymentHead")
    ebp_code, ebp_name = _party_or(doc.platform)
    payer = doc.buyer or Party(name=payment.payer_name)
    _fill(
        head,
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", stamp(at)),
            ("appStatus", "2"),
            ("payCode", pay_code),
            ("payName", pay_name),
            ("payTransactionId", payment.id or doc.filer_reference),
            ("orderNo", doc.order.id if doc.order and doc.order.id else "-"),
            ("ebpCode", ebp_code),
            ("ebpName", ebp_name),
            ("payerIdType", _ID_CARD),
            ("payerIdNumber", payer.identifier or "-"),
            ("payerName", payment.payer_name or payer.name or "-"),
            ("amountPaid", payment.amount if payment.amount is not None else 0),
            ("currency", gacc_currency(payment.currency or doc.currency)),
            ("payTime", stamp(at)),
        ],
    )
    return _transfer(root, pay_code, pay_name)


def render_waybill(
    doc: FilingDocument,
    *,
    telephone: str = "00000000000",
    at: datetime | None = None,
    guid: str | None = None,
) -> bytes:
    """A CEB511 waybill: waybill no., order id, weight, packages, consignee; goods as a note."""
    root, guid = _message("CEB511Message", guid)
    head = _el(_el(root, "Logistics"), "LogisticsHead")
    code, name = _party_or(doc.carrier)
    consignee = doc.consignee or Party()
    _fill(
        head,
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", stamp(at)),
            ("appStatus", "2"),
            ("logisticsCode", code),
            ("logisticsName", name),
            ("logisticsNo", doc.transport_document),
            ("billNo", doc.master_document),
            ("orderNo", doc.order.id if doc.order else "-"),
            ("freight", doc.transport_cost),
            ("insuredFee", doc.insurance_cost),
            ("currency", gacc_currency(doc.currency)),
            ("weight", doc.gross_mass_kg or 0),
            ("packNo", doc.packages or 1),
            ("goodsInfo", "; ".join(i.description for i in doc.items)[:200] or None),
            ("consignee", consignee.name or "-"),
            ("consigneeAddress", consignee.address or "-"),
            ("consigneeTelephone", telephone),
        ],
    )
    return _transfer(root, code, name)


def render_inventory(
    doc: FilingDocument,
    *,
    agent: Party,
    customs_code: str = "2244",
    assure_code: str | None = None,
    telephone: str = "00000000000",
    at: datetime | None = None,
    guid: str | None = None,
) -> bytes:
    """A CEB621 inventory list (9610 direct purchase) declared by `agent` for a filing.

    `doc.filer_reference` becomes copNo (at most 20 characters), the buyer the orderer.
    """
    root, guid = _message("CEB621Message", guid)
    block = _el(root, "Inventory")
    head = _el(block, "InventoryHead")
    ebp_code, ebp_name = _party_or(doc.platform)
    ebc_code, ebc_name = _party_or(doc.seller, ebp_code, ebp_name)
    log_code, log_name = _party_or(doc.carrier)
    agent_code, agent_name = _party_or(agent)
    buyer = doc.buyer or doc.consignee or Party()
    consignee = doc.consignee or Party()
    currency = gacc_currency(doc.currency)
    day = doc.legal_date.strftime("%Y%m%d") if doc.legal_date else stamp(at)[:8]
    mass = doc.gross_mass_kg or sum((i.net_mass_kg or Decimal(0) for i in doc.items), Decimal(0))
    net = sum((i.net_mass_kg or Decimal(0) for i in doc.items), Decimal(0)) or mass
    _fill(
        head,
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", stamp(at)),
            ("appStatus", "2"),
            ("orderNo", doc.order.id if doc.order and doc.order.id else doc.filer_reference),
            ("ebpCode", ebp_code),
            ("ebpName", ebp_name),
            ("ebcCode", ebc_code),
            ("ebcName", ebc_name),
            ("logisticsNo", doc.transport_document),
            ("logisticsCode", log_code),
            ("logisticsName", log_name),
            ("copNo", doc.filer_reference[:20]),
            ("assureCode", assure_code or ebc_code),
            ("ieFlag", "I"),
            ("declTime", day),
            ("customsCode", customs_code),
            ("portCode", customs_code),
            ("buyerIdType", _ID_CARD),
            ("buyerIdNumber", buyer.identifier or "-"),
            ("buyerName", buyer.name or "-"),
            ("buyerTelephone", telephone),
            ("consigneeAddress", consignee.address or "-"),
            ("agentCode", agent_code),
            ("agentName", agent_name),
            ("tradeMode", doc.procedure_code or "9610"),
            ("trafMode", MODE_TRAF.get(doc.mode, "5")),
            ("billNo", doc.master_document),
            ("country", gacc_country(doc.dispatch_country or "")),
            ("freight", _money(doc.transport_cost)),
            ("insuredFee", _money(doc.insurance_cost)),
            ("currency", currency),
            ("packNo", doc.packages or 1),
            ("grossWeight", mass),
            ("netWeight", net),
        ],
    )
    for number, item in enumerate(doc.items, start=1):
        value = item.value or Decimal(0)
        _fill(
            _el(block, "InventoryList"),
            [
                ("gnum", number),
                ("itemName", item.description),
                ("gcode", (item.hs_code or "").ljust(10, "0")[:10]),
                ("gname", item.description),
                ("gmodel", "-"),
                ("country", gacc_country(item.origin_country or "")),
                ("currency", currency),
                ("qty", item.quantity),
                ("unit", _UNIT_PIECE),
                ("qty1", item.net_mass_kg or item.quantity),
                ("unit1", _UNIT_KG if item.net_mass_kg else _UNIT_PIECE),
                ("price", (value / item.quantity).quantize(Decimal("0.00001"))),
                ("totalPrice", value),
            ],
        )
    return _transfer(root, agent_code, agent_name, signed=True)


def _inventory_refs(
    doc: FilingDocument, agent: Party, customs_code: str, invt_no: str, cop_no: str | None
) -> list[tuple[str, object | None]]:
    ebp_code, ebp_name = _party_or(doc.platform)
    ebc_code, ebc_name = _party_or(doc.seller, ebp_code, ebp_name)
    log_code, log_name = _party_or(doc.carrier)
    agent_code, agent_name = _party_or(agent)
    buyer = doc.buyer or doc.consignee or Party()
    return [
        ("customsCode", customs_code),
        ("orderNo", doc.order.id if doc.order and doc.order.id else doc.filer_reference),
        ("ebpCode", ebp_code),
        ("ebpName", ebp_name),
        ("ebcCode", ebc_code),
        ("ebcName", ebc_name),
        ("logisticsNo", doc.transport_document),
        ("logisticsCode", log_code),
        ("logisticsName", log_name),
        ("copNo", cop_no),
        ("invtNo", invt_no),
        ("buyerIdType", _ID_CARD),
        ("buyerIdNumber", buyer.identifier or "-"),
        ("buyerName", buyer.name or "-"),
        ("buyerTelephone", "00000000000"),
        ("agentCode", agent_code),
        ("agentName", agent_name),
    ]


def render_cancel(
    doc: FilingDocument,
    *,
    agent: Party,
    invt_no: str,
    reason: str,
    customs_code: str = "2244",
    at: datetime | None = None,
) -> bytes:
    """A CEB623 cancellation of the inventory `invt_no` declared for `doc` (copNo = its ref)."""
    root, guid = _message("CEB623Message")
    values: list[tuple[str, object | None]] = [
        ("guid", guid),
        ("appType", "1"),
        ("appTime", stamp(at)),
        ("appStatus", "2"),
        *_inventory_refs(doc, agent, customs_code, invt_no, doc.filer_reference[:20]),
        ("reason", reason),
    ]
    _fill(_el(root, "InvtCancel"), values)
    code, name = _party_or(agent)
    return _transfer(root, code, name, signed=True)


def render_refund(
    doc: FilingDocument,
    *,
    agent: Party,
    invt_no: str,
    reason: str,
    returned: Sequence[tuple[int, int]] | None = None,
    customs_code: str = "2244",
    at: datetime | None = None,
) -> bytes:
    """A CEB625 return request for inventory `invt_no`: `returned` lists (item index, quantity),
    every line in full when None. copNo is the request's own reference."""
    root, guid = _message("CEB625Message")
    block = _el(root, "InvtRefund")
    head = _el(block, "InvtRefundHead")
    values: list[tuple[str, object | None]] = [
        ("guid", guid),
        ("appType", "1"),
        ("appTime", stamp(at)),
        ("appStatus", "2"),
        *_inventory_refs(doc, agent, customs_code, invt_no, f"R{doc.filer_reference}"[:20]),
        ("reason", reason),
    ]
    _fill(head, values)
    lines = (
        returned if returned is not None else [(i, it.quantity) for i, it in enumerate(doc.items)]
    )
    for index, quantity in lines:
        item = doc.items[index]
        _fill(
            _el(block, "InvtRefundList"),
            [
                ("gnum", index + 1),
                ("gcode", (item.hs_code or "").ljust(10, "0")[:10]),
                ("gname", item.description),
                ("qty", quantity),
                ("unit", _UNIT_PIECE),
            ],
        )
    code, name = _party_or(agent)
    return _transfer(root, code, name, signed=True)


def render_delivery(
    logistics_nos: Sequence[str],
    *,
    operator: Party,
    carrier: Party,
    reference: str,
    bill_no: str = "-",
    customs_code: str = "2244",
    traf_mode: str = "5",
    at: datetime | None = None,
) -> bytes:
    """A CEB711 warehouse entry list: the parcels (`logistics_nos`) that entered the site."""
    root, guid = _message("CEB711Message")
    block = _el(root, "Delivery")
    op_code, op_name = _party_or(operator)
    log_code, log_name = _party_or(carrier)
    _fill(
        _el(block, "DeliveryHead"),
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", stamp(at)),
            ("appStatus", "2"),
            ("customsCode", customs_code),
            ("copNo", reference[:20]),
            ("operatorCode", op_code),
            ("operatorName", op_name),
            ("ieFlag", "I"),
            ("trafMode", traf_mode),
            ("trafNo", "-"),
            ("voyageNo", "-"),
            ("billNo", bill_no[:37]),
            ("logisticsCode", log_code),
            ("logisticsName", log_name),
        ],
    )
    for number, logistics_no in enumerate(logistics_nos, start=1):
        _fill(_el(block, "DeliveryList"), [("gnum", number), ("logisticsNo", logistics_no)])
    return _transfer(root, op_code, op_name, signed=True)
