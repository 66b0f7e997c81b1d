"""China cross-border e-commerce import messages (GACC "CEB", 202205 edition) ⇄ canonical filings.

Three legs and a declaration, each from a different party: CEB311 order (platform), CEB411
payment (payment provider), CEB511 waybill (logistics company → carrier) and CEB621 inventory
list (the declaring broker). CEB623 cancels an inventory list. Messages are validated against the
shipped GACC schema; GACC numeric country and currency codes are mapped to ISO.
`render_receipt` writes the customs receipt (CEB312/412/512/622) for a lifecycle status.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from importlib import resources

from lxml import etree

from clearway.domain.filing import FilingDocument, Item, Mode, Order, Party, Payment
from clearway.ingestion.records import Action, ParsedRecord, match_keys
from clearway.ingestion.values import Collector
from clearway.ingestion.xml_safety import local, schema, schema_problems, text
from clearway.kernel.errors import Problem

NS = "http://www.chinaport.gov.cn/ceb"
_N = {"c": NS}

# appType: 1 new, 2 change, 3 delete
_ACTIONS: dict[str, Action] = {"1": "new", "2": "amend", "3": "cancel"}
# trafMode (customs transport mode) -> canonical mode
_TRAF_MODES: dict[str, Mode] = {"2": "sea", "3": "rail", "4": "road", "5": "express", "6": "post"}
_MODE_TRAF = {"sea": "2", "rail": "3", "road": "4", "express": "5", "air_cargo": "5", "post": "6"}


@cache
def _gacc() -> dict[tuple[str, str], str]:
    node = resources.files("clearway.ingestion").joinpath("data", "gacc_codes.csv")
    with node.open(encoding="utf-8") as f:
        return {(r["list"], r["gacc_code"]): r["iso_code"] for r in csv.DictReader(f)}


@cache
def _gacc_reverse() -> dict[tuple[str, str], str]:
    return {(kind, iso): code for (kind, code), iso in _gacc().items()}


def country_from_gacc(code: str) -> str | None:
    """ISO alpha-2 for a GACC country/region code ("142" → "CN", "116" → "JP")."""
    return _gacc().get(("country", code.strip()))


def currency_from_gacc(code: str) -> str | None:
    """ISO 4217 alpha code for a GACC currency code ("142" → "CNY", "502" → "USD")."""
    return _gacc().get(("currency", code.strip()))


def gacc_country(iso: str) -> str:
    return _gacc_reverse().get(("country", iso), "701")  # 701: country unknown


def gacc_currency(iso: str) -> str:
    try:
        return _gacc_reverse()[("currency", iso)]
    except KeyError:
        raise ValueError(f"no GACC currency code for {iso}") from None


def _t(node: etree._Element | None, name: str) -> str | None:
    return None if node is None else text(node.find(f"c:{name}", _N))


class _Reader:
    """Maps one message block, collecting problems located by block and field."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.found = Collector()

    def country(self, node: etree._Element | None, name: str) -> str | None:
        raw = _t(node, name)
        if raw is None:
            return None
        iso = country_from_gacc(raw)
        if iso is None:
            self.found.error(f"{self.path}/{name}", "ceb.country", f"unknown GACC country {raw!r}")
        return iso

    def currency(self, node: etree._Element | None, name: str = "currency") -> str | None:
        raw = _t(node, name)
        if raw is None:
            return None
        iso = currency_from_gacc(raw)
        if iso is None:
            self.found.error(
                f"{self.path}/{name}", "ceb.currency", f"unknown GACC currency {raw!r}"
            )
        return iso

    def amount(self, node: etree._Element | None, name: str) -> Decimal | None:
        return self.found.amount(_t(node, name), f"{self.path}/{name}")

    def whole(self, node: etree._Element | None, name: str) -> int | None:
        return self.found.whole(_t(node, name), f"{self.path}/{name}")

    def required(self, node: etree._Element | None, name: str) -> str:
        value = _t(node, name)
        if value is None:
            self.found.error(f"{self.path}/{name}", "ceb.missing", f"{name} is required")
        return value or ""

    def at(self, node: etree._Element | None, name: str) -> datetime | None:
        raw = _t(node, name)
        if raw is None:
            return None
        try:
            return datetime.strptime(raw[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        except ValueError:
            self.found.error(f"{self.path}/{name}", "ceb.time", f"not YYYYMMDDhhmmss: {raw[:20]!r}")
            return None


def _party(code: str | None, name: str | None) -> Party | None:
    return Party(name=name, identifier=code) if code or name else None


def _goods(r: _Reader, lists: list[etree._Element], with_hs: bool) -> list[Item]:
    items: list[Item] = []
    for index, node in enumerate(lists):
        sub = _Reader(f"{r.path}/items/{index}")
        description = _t(node, "gname") or _t(node, "itemName")
        if not description:
            sub.found.error(f"{sub.path}/itemName", "ceb.missing", "a goods name is required")
        quantity = sub.whole(node, "qty")
        price = sub.amount(node, "price")
        total = sub.amount(node, "totalPrice")
        line = quantity * price if quantity is not None and price is not None else None
        if line is not None and total is not None and line != total:
            sub.found.warn(
                f"{sub.path}/totalPrice",
                "ceb.line_total",
                f"qty {quantity} × price {price} is {line}, not {total}",
            )
        items.append(
            Item(
                description=description or "",
                quantity=quantity if quantity is not None else 1,
                value=total,
                hs_code=sub.found.hs(_t(node, "gcode"), f"{sub.path}/gcode") if with_hs else None,
                origin_country=sub.country(node, "country"),
            )
        )
        r.found.problems.extend(sub.found.problems)
    return items


def _order(block: etree._Element, r: _Reader) -> tuple[FilingDocument, dict[str, str]]:
    head = block.find("c:OrderHead", _N)
    order_no = r.required(head, "orderNo")
    items = _goods(r, list(block.findall("c:OrderList", _N)), with_hs=False)
    goods_value = r.amount(head, "goodsValue")
    if goods_value is not None and sum((i.value or 0 for i in items), Decimal(0)) != goods_value:
        r.found.warn(f"{r.path}/goodsValue", "ceb.goods_value", "goodsValue ≠ sum of totalPrice")
    doc = FilingDocument(
        filer_reference=order_no,
        transport_document="",
        destination_country="CN",
        items=items,
        mode="express",
        currency=r.currency(head) or "CNY",
        transport_cost=r.amount(head, "freight"),
        consignee=Party(
            name=_t(head, "consignee"), address=_t(head, "consigneeAddress"), country="CN"
        ),
        buyer=Party(name=_t(head, "buyerName"), identifier=_t(head, "buyerIdNumber")),
        seller=_party(_t(head, "ebcCode"), _t(head, "ebcName")),
        platform=_party(_t(head, "ebpCode"), _t(head, "ebpName")),
        order=Order(
            id=order_no, placed_at=r.at(head, "appTime"), total=r.amount(head, "acturalPaid")
        ),
        payment=Payment(id=_t(head, "payTransactionId"), payer_name=_t(head, "buyerName"))
        if _t(head, "payTransactionId")
        else None,
    )
    return doc, {"app_type": _t(head, "appType") or "", "guid": _t(head, "guid") or ""}


def _payment(block: etree._Element, r: _Reader) -> tuple[FilingDocument, dict[str, str]]:
    head = block.find("c:PaymentHead", _N)
    transaction = r.required(head, "payTransactionId")
    currency = r.currency(head) or "CNY"
    doc = FilingDocument(
        filer_reference=transaction,
        transport_document="",
        destination_country="CN",
        items=[],
        mode="express",
        currency=currency,
        platform=_party(_t(head, "ebpCode"), _t(head, "ebpName")),
        order=Order(id=r.required(head, "orderNo")),
        payment=Payment(
            id=transaction,
            amount=r.amount(head, "amountPaid"),
            currency=currency,
            payer_name=_t(head, "payerName"),
        ),
        buyer=Party(name=_t(head, "payerName"), identifier=_t(head, "payerIdNumber")),
    )
    refs = {"app_type": _t(head, "appType") or "", "guid": _t(head, "guid") or ""}
    refs["pay_code"] = _t(head, "payCode") or ""
    return doc, refs


def _waybill(block: etree._Element, r: _Reader) -> tuple[FilingDocument, dict[str, str]]:
    head = block.find("c:LogisticsHead", _N)
    logistics_no = r.required(head, "logisticsNo")
    goods = _t(head, "goodsInfo")
    doc = FilingDocument(
        filer_reference=logistics_no,
        transport_document=logistics_no,
        master_document=_t(head, "billNo"),
        destination_country="CN",
        items=[Item(description=goods)] if goods else [],
        mode="express",
        currency=r.currency(head) or "CNY",
        transport_cost=r.amount(head, "freight"),
        insurance_cost=r.amount(head, "insuredFee"),
        gross_mass_kg=r.amount(head, "weight"),
        packages=r.whole(head, "packNo"),
        consignee=Party(
            name=_t(head, "consignee"), address=_t(head, "consigneeAddress"), country="CN"
        ),
        carrier=_party(_t(head, "logisticsCode"), _t(head, "logisticsName")),
        order=Order(id=r.required(head, "orderNo")),
    )
    return doc, {"app_type": _t(head, "appType") or "", "guid": _t(head, "guid") or ""}


def _inventory(block: etree._Element, r: _Reader) -> tuple[FilingDocument, dict[str, str]]:
    head = block.find("c:InventoryHead", _N)
    cop_no = r.required(head, "copNo")
    items = _goods(r, list(block.findall("c:InventoryList", _N)), with_hs=True)
    legal: datetime | None = None
    decl = _t(head, "declTime")
    if decl:
        try:
            legal = datetime.strptime(decl[:8], "%Y%m%d")
        except ValueError:
            r.found.error(f"{r.path}/declTime", "ceb.time", f"not YYYYMMDD: {decl[:20]!r}")
    doc = FilingDocument(
        filer_reference=cop_no,
        transport_document=r.required(head, "logisticsNo"),
        master_document=_t(head, "billNo"),
        destination_country="CN",
        items=items,
        mode=_TRAF_MODES.get(_t(head, "trafMode") or "", "express"),
        legal_date=legal.date() if legal else None,
        dispatch_country=r.country(head, "country"),
        currency=r.currency(head) or "CNY",
        transport_cost=r.amount(head, "freight"),
        insurance_cost=r.amount(head, "insuredFee"),
        gross_mass_kg=r.amount(head, "grossWeight"),
        packages=r.whole(head, "packNo"),
        consignee=Party(
            name=_t(head, "buyerName"), address=_t(head, "consigneeAddress"), country="CN"
        ),
        buyer=Party(name=_t(head, "buyerName"), identifier=_t(head, "buyerIdNumber")),
        seller=_party(_t(head, "ebcCode"), _t(head, "ebcName")),
        platform=_party(_t(head, "ebpCode"), _t(head, "ebpName")),
        carrier=_party(_t(head, "logisticsCode"), _t(head, "logisticsName")),
        order=Order(id=r.required(head, "orderNo")),
        office=_t(head, "customsCode"),
        procedure_code=_t(head, "tradeMode"),
    )
    refs = {
        "app_type": _t(head, "appType") or "",
        "guid": _t(head, "guid") or "",
        "declarant": _t(head, "agentCode") or "",
        "inventory_no": _t(head, "invtNo") or "",
        "pre_no": _t(head, "preNo") or "",
        "assure_code": _t(head, "assureCode") or "",
    }
    return doc, refs


_Mapper = Callable[[etree._Element, _Reader], tuple[FilingDocument, dict[str, str]]]
# root -> (block element, kind, role, mapper)
_MESSAGES: dict[str, tuple[str, str, str, _Mapper]] = {
    "CEB311Message": ("Order", "order", "platform", _order),
    "CEB411Message": ("Payment", "payment", "payment_provider", _payment),
    "CEB511Message": ("Logistics", "waybill", "carrier", _waybill),
    "CEB621Message": ("Inventory", "inventory", "broker", _inventory),
}
_RECEIPTS = {"CEB312Message", "CEB412Message", "CEB512Message", "CEB622Message", "CEB624Message"}


def parse(root: etree._Element, *, validate: bool = True) -> list[ParsedRecord]:
    """One record per Order / Payment / Logistics / Inventory / InvtCancel block."""
    name = local(root)
    if name not in _MESSAGES and name != "CEB623Message":
        reason = (
            f"{name} is a receipt customs sends, not a filing"
            if name in _RECEIPTS
            else f"{name} is not a message accepted here (CEB311, 411, 511, 621, 623)"
        )
        return [ParsedRecord(None, None, "unknown", name, [Problem("", "ceb.message", reason)])]
    if validate:
        errors = schema_problems(schema("cn_ceb", "ceb_import_business_node_202205.xsd"), root)
        if errors:
            return [
                ParsedRecord(
                    None, None, "unknown", name, [Problem("", "ceb.schema", e) for e in errors]
                )
            ]
    if name == "CEB623Message":
        return [_cancel(block, i) for i, block in enumerate(root.findall("c:InvtCancel", _N))]
    block_name, kind, role, mapper = _MESSAGES[name]
    records: list[ParsedRecord] = []
    for index, block in enumerate(root.findall(f"c:{block_name}", _N)):
        reader = _Reader(f"{block_name}/{index}")
        document, refs = mapper(block, reader)
        record = ParsedRecord(
            None,
            role,
            kind,
            f"{name} {block_name}[{index}] {document.filer_reference}",
            reader.found.problems,
            action=_ACTIONS.get(refs.get("app_type", ""), "new"),
            filer_reference=document.filer_reference or None,
            references={k: v for k, v in refs.items() if v},
        )
        sender = root.find("c:BaseTransfer", _N)
        if sender is not None and _t(sender, "copCode"):
            record.references["sender_code"] = _t(sender, "copCode") or ""
        if not reader.found.failed:
            record.document = document
            record.references.update(match_keys(document))
        records.append(record)
    return records


def _cancel(block: etree._Element, index: int) -> ParsedRecord:
    cop_no = _t(block, "copNo")
    refs = {
        "order_id": _t(block, "orderNo"),
        "transport_document": _t(block, "logisticsNo"),
        "inventory_no": _t(block, "invtNo"),
        "reason": _t(block, "reason"),
        "declarant": _t(block, "agentCode"),
    }
    return ParsedRecord(
        None,
        "broker",
        "invalidation",
        f"CEB623Message InvtCancel[{index}] {cop_no}",
        action="cancel",
        filer_reference=cop_no,
        references={k: v for k, v in refs.items() if v},
    )


# --- receipts --------------------------------------------------------------------------------

CEB_STATUS_TEXT = {
    "100": "海关退单 rejected",
    "120": "海关入库 accepted",
    "300": "人工审核 manual review",
    "399": "海关审结 adjudicated",
    "500": "查验 inspection",
    "501": "扣留移送通关 detained, passed to clearance",
    "502": "扣留移送缉私 detained, passed to anti-smuggling",
    "503": "扣留移送法规 detained, passed to legal affairs",
    "599": "其它扣留 detained, other",
    "700": "退运 returned",
    "800": "放行 released",
    "899": "结关 closed",
}

_STATUS_TO_CEB = {
    "filed": "120",
    "referred": "300",
    "assessed": "120",
    "decided": "399",
    "arrived": "399",
    "inspected": "500",
    "released": "800",
    "seized": "502",
    "returned_to_sender": "700",
    "abandoned": "899",
    "invalidated": "899",  # withdrawn by the filer before arrival (CEB623 cancellation)
}
_DETENTION = {"clearance": "501", "anti_smuggling": "502", "legal": "503", "other": "599"}


def ceb_status(status: str, *, rejected: bool = False, detention: str = "other") -> str:
    """CEB receipt status code for one of our lifecycle statuses ("rejected" = failed validation).

    `held` maps to 501/502/503/599 by who the goods are passed to (`detention`).
    """
    if rejected or status == "rejected":
        return "100"
    if status == "held":
        return _DETENTION.get(detention, "599")
    try:
        return _STATUS_TO_CEB[status]
    except KeyError:
        raise ValueError(f"no CEB status for {status!r}") from None


_RECEIPT_SHAPES = {
    # message -> (root, block, reference field, sender code field)
    "order": ("CEB312Message", "OrderReturn", "orderNo", "ebpCode"),
    "payment": ("CEB412Message", "PaymentReturn", "payTransactionId", "payCode"),
    "waybill": ("CEB512Message", "LogisticsReturn", "logisticsNo", "logisticsCode"),
    "inventory": ("CEB622Message", "InventoryReturn", "copNo", "agentCode"),
}


def render_receipt(
    *,
    kind: str,
    status: str,
    reference: str,
    party_code: str,
    seller_code: str | None = None,
    info: str = "",
    rejected: bool = False,
    detention: str = "other",
    pre_no: str | None = None,
    inventory_no: str | None = None,
    customs_code: str | None = None,
    at: datetime | None = None,
    guid: str | None = None,
) -> bytes:
    """The customs receipt for one CEB message.

    kind: "order" | "payment" | "waybill" | "inventory" (→ CEB312/412/512/622);
    status: a lifecycle status (or "rejected"); reference: orderNo / payTransactionId /
    logisticsNo / copNo; party_code: the sender's customs code (ebpCode / payCode /
    logisticsCode / agentCode). Order, payment and waybill receipts only know 100 (rejected) and
    120 (accepted); the inventory receipt carries the full status (`ceb_status`).
    """
    root_name, block_name, ref_field, party_field = _RECEIPT_SHAPES[kind]
    code = ceb_status(status, rejected=rejected, detention=detention)
    if kind != "inventory":
        code = "100" if code == "100" else "120"
    when = (at or datetime.now(UTC)).astimezone(UTC)
    message_guid = (guid or str(uuid.uuid4())).upper()
    root = etree.Element(f"{{{NS}}}{root_name}", nsmap={None: NS})  # type: ignore[dict-item]
    root.set("guid", message_guid)
    root.set("version", "1.0")
    block = etree.SubElement(root, f"{{{NS}}}{block_name}")

    def el(name: str, value: str | None) -> None:
        if value:
            etree.SubElement(block, f"{{{NS}}}{name}").text = value

    el("guid", message_guid)
    if kind == "inventory":
        el("customsCode", customs_code)
        el("agentCode", party_code)
        el("copNo", reference)
        el("preNo", pre_no or ("B" + when.strftime("%Y%m%d") + "000000000")[:18])
        el("invtNo", inventory_no)
    else:
        el(party_field, party_code)
        if kind == "order":
            el("ebcCode", seller_code or party_code)
        el(ref_field, reference)
    el("returnStatus", code)
    el("returnTime", when.strftime("%Y%m%d%H%M%S") + f"{when.microsecond // 1000:03d}")
    el("returnInfo", info or CEB_STATUS_TEXT[code])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# --- rendering (the demo generator emits CN traffic with these) -----------------------------

_ID_TYPE_ID_CARD = "1"


def _message(root_name: str) -> tuple[etree._Element, str]:
    guid = str(uuid.uuid4()).upper()
    root = etree.Element(f"{{{NS}}}{root_name}", nsmap={"ceb": NS})
    root.set("guid", guid)
    root.set("version", "1.0")
    return root, guid


def _fill(parent: etree._Element, values: list[tuple[str, object | None]]) -> None:
    for name, value in values:
        if value is not None and value != "":
            etree.SubElement(parent, f"{{{NS}}}{name}").text = str(value)


def _transfer(root: etree._Element, sender_code: str, sender_name: str) -> bytes:
    transfer = etree.SubElement(root, f"{{{NS}}}BaseTransfer")
    _fill(
        transfer,
        [
            ("copCode", sender_code),
            ("copName", sender_name),
            ("dxpMode", "DXP"),
            ("dxpId", "DXPENT0000000001"),
        ],
    )
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _stamp(at: datetime | None) -> str:
    return (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _party_or(party: Party | None, code: str = "0000000000", name: str = "-") -> tuple[str, str]:
    return (
        (party.identifier if party and party.identifier else code),
        (party.name if party and party.name else name),
    )


def render_order(doc: FilingDocument, *, telephone: str = "00000000000") -> bytes:
    """A CEB311 order for a platform filing (order id, items, totals, buyer, consignee)."""
    root, guid = _message("CEB311Message")
    block = etree.SubElement(root, f"{{{NS}}}Order")
    head = etree.SubElement(block, f"{{{NS}}}OrderHead")
    order = doc.order or Order(id=doc.filer_reference)
    ebp_code, ebp_name = _party_or(doc.platform)
    ebc_code, ebc_name = _party_or(doc.seller, ebp_code, ebp_name)
    goods = doc.intrinsic_value
    freight = doc.transport_cost or Decimal(0)
    total = order.total if order.total is not None else goods + freight
    difference = total - goods - freight
    buyer = doc.buyer or doc.consignee or Party()
    consignee = doc.consignee or Party()
    currency = gacc_currency(doc.currency)
    _fill(
        head,
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", _stamp(order.placed_at)),
            ("appStatus", "2"),
            ("orderType", "I"),
            ("orderNo", order.id or doc.filer_reference),
            ("ebpCode", ebp_code),
            ("ebpName", ebp_name),
            ("ebcCode", ebc_code),
            ("ebcName", ebc_name),
            ("goodsValue", goods),
            ("freight", freight),
            ("discount", -difference if difference < 0 else 0),
            ("taxTotal", difference if difference > 0 else 0),
            ("acturalPaid", total),
            ("currency", currency),
            ("buyerRegNo", buyer.identifier or buyer.name or "-"),
            ("buyerName", buyer.name or "-"),
            ("buyerTelephone", telephone),
            ("buyerIdType", _ID_TYPE_ID_CARD),
            ("buyerIdNumber", buyer.identifier or "-"),
            ("payTransactionId", doc.payment.id if doc.payment else None),
            ("consignee", consignee.name or "-"),
            ("consigneeTelephone", telephone),
            ("consigneeAddress", consignee.address or "-"),
        ],
    )
    for number, item in enumerate(doc.items, start=1):
        line = etree.SubElement(block, f"{{{NS}}}OrderList")
        value = item.value or Decimal(0)
        _fill(
            line,
            [
                ("gnum", number),
                ("itemName", item.description),
                ("gmodel", "-"),
                ("unit", "007"),
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
) -> bytes:
    """A CEB411 payment record for a payment-provider filing (transaction id, order id, amount)."""
    payment = doc.payment or Payment(id=doc.filer_reference)
    root, guid = _message("CEB411Message")
    head = etree.SubElement(etree.SubElement(root, f"{{{NS}}}Payment"), f"{{{NS}}}PaymentHead")
    ebp_code, ebp_name = _party_or(doc.platform)
    payer = doc.buyer or Party(name=payment.payer_name)
    _fill(
        head,
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", _stamp(at)),
            ("appStatus", "2"),
            ("payCode", pay_code),
            ("payName", pay_name),
            ("payTransactionId", payment.id or doc.filer_reference),
            ("orderNo", doc.order.id if doc.order and doc.order.id else "-"),
            ("ebpCode", ebp_code),
            ("ebpName", ebp_name),
            ("payerIdType", _ID_TYPE_ID_CARD),
            ("payerIdNumber", payer.identifier or "-"),
            ("payerName", payment.payer_name or "-"),
            ("amountPaid", payment.amount if payment.amount is not None else 0),
            ("currency", gacc_currency(payment.currency or doc.currency)),
            ("payTime", _stamp(at)),
        ],
    )
    return _transfer(root, pay_code, pay_name)


def render_waybill(
    doc: FilingDocument, *, telephone: str = "00000000000", at: datetime | None = None
) -> bytes:
    """A CEB511 logistics waybill for a carrier filing (waybill no., order id, weight, packages)."""
    root, guid = _message("CEB511Message")
    head = etree.SubElement(etree.SubElement(root, f"{{{NS}}}Logistics"), f"{{{NS}}}LogisticsHead")
    code, name = _party_or(doc.carrier)
    consignee = doc.consignee or Party()
    _fill(
        head,
        [
            ("guid", guid),
            ("appType", "1"),
            ("appTime", _stamp(at)),
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
