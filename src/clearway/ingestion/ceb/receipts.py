"""Receipts customs sends back (CEB312 … CEB712, CEB900), and the status codes they carry.

A receipt answers one block of one message: it echoes the block's guid, names the enterprise
that sent it (ebpCode/ebcCode for an order, payCode for a payment, logisticsCode for a waybill,
agentCode with the platform and e-commerce enterprise for an inventory, operatorCode for a
warehouse entry), and says in `returnInfo` what happened — with the CEB field path of every
problem. A message that fails the schema gets a CEB900 format-check receipt instead.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from clearway.domain.filing import FilingDocument
from clearway.ingestion.ceb.codes import NS, stamp_ms
from clearway.ingestion.ceb.numbers import inventory_number, pre_number

CEB_STATUS_TEXT = {
    "2": "电子口岸申报中 received",
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
FORMAT_ERROR = "-1"  # CEB900: a number below zero says the message failed the format check

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
# a decision that sends the parcel to an officer is a manual review (risk check) in CEB terms
_CHECKED_LANES = frozenset({"yellow", "red"})


def ceb_status(
    status: str, *, rejected: bool = False, detention: str = "other", lane: str | None = None
) -> str:
    """CEB receipt status code for one of our lifecycle statuses ("rejected" = refused).

    `held` maps to 501/502/503/599 by who the goods are passed to (`detention`); a parcel
    decided for a documentary check or an inspection (`lane` yellow or red) is in manual review.
    """
    if rejected or status == "rejected":
        return "100"
    if status == "held":
        return _DETENTION.get(detention, "599")
    if status == "decided" and lane in _CHECKED_LANES:
        return "300"
    try:
        return _STATUS_TO_CEB[status]
    except KeyError:
        raise ValueError(f"no CEB status for {status!r}") from None


@dataclass(frozen=True, slots=True)
class Shape:
    """One receipt's layout: root, block and the fields before returnStatus, in schema order."""

    root: str
    block: str
    fields: tuple[str, ...]
    required: frozenset[str]
    codes: frozenset[str]  # returnStatus values this receipt may carry besides 100


SHAPES: dict[str, Shape] = {
    "order": Shape(
        "CEB312Message",
        "OrderReturn",
        ("ebpCode", "ebcCode", "orderNo"),
        frozenset({"ebpCode", "ebcCode", "orderNo"}),
        frozenset({"2", "120", "399"}),
    ),
    "payment": Shape(
        "CEB412Message",
        "PaymentReturn",
        ("payCode", "payTransactionId"),
        frozenset({"payCode", "payTransactionId"}),
        frozenset({"2", "120", "399"}),
    ),
    "waybill": Shape(
        "CEB512Message",
        "LogisticsReturn",
        ("logisticsCode", "logisticsNo"),
        frozenset({"logisticsCode", "logisticsNo"}),
        frozenset({"2", "120", "399"}),
    ),
    "logistics_status": Shape(
        "CEB514Message",
        "LogisticsStatusReturn",
        ("logisticsCode", "logisticsNo", "logisticsStatus"),
        frozenset({"logisticsCode", "logisticsNo", "logisticsStatus"}),
        frozenset({"2", "399"}),
    ),
    "inventory": Shape(
        "CEB622Message",
        "InventoryReturn",
        ("customsCode", "ebpCode", "ebcCode", "agentCode", "copNo", "preNo", "invtNo"),
        frozenset({"copNo", "preNo"}),
        frozenset(CEB_STATUS_TEXT),
    ),
    "invalidation": Shape(
        "CEB624Message",
        "InvtCancelReturn",
        ("customsCode", "agentCode", "ebpCode", "ebcCode", "copNo", "preNo", "invtNo"),
        frozenset({"copNo", "preNo"}),
        frozenset({"2", "120", "399"}),
    ),
    "return_request": Shape(
        "CEB626Message",
        "InvtRefundReturn",
        ("customsCode", "agentCode", "ebpCode", "ebcCode", "copNo", "preNo", "invtNo"),
        frozenset({"copNo", "preNo"}),
        frozenset({"2", "120", "399"}),
    ),
    "warehouse_entry": Shape(
        "CEB712Message",
        "DeliveryReturn",
        ("customsCode", "operatorCode", "copNo", "preNo", "rkdNo"),
        frozenset(),
        frozenset({"2", "120", "399"}),
    ),
}
# fields whose schema type has a fixed length: a value of another length is left out
_EXACT = {"preNo": 18, "invtNo": 18, "customsCode": 4, "logisticsStatus": 1}
_LIMITS = {"copNo": 20, "rkdNo": 18}


def receipt_kinds() -> tuple[str, ...]:
    return tuple(SHAPES)


def render(
    *,
    kind: str,
    code: str,
    head: dict[str, str],
    info: str = "",
    at: datetime | None = None,
) -> bytes:
    """The receipt for one block. `head` holds the block's fields as sent (guid, party codes,
    references) plus what customs assigned (preNo, invtNo, rkdNo); `code` a returnStatus."""
    shape = SHAPES[kind]
    if code != "100" and code not in shape.codes:
        raise ValueError(f"{shape.root} cannot carry returnStatus {code}")
    guid = _guid(head.get("guid"))
    root = etree.Element(f"{{{NS}}}{shape.root}", nsmap={None: NS})  # type: ignore[dict-item]
    root.set("guid", guid)
    root.set("version", "1.0")
    block = etree.SubElement(root, f"{{{NS}}}{shape.block}")
    etree.SubElement(block, f"{{{NS}}}guid").text = guid
    for name in shape.fields:
        value = _fit(name, head.get(name, ""))
        if not value and name == "preNo" and name in shape.required:
            value = f"B{stamp_ms(at)[:8]}000000000"  # not numbered yet: day and zero serial
        elif not value and name in shape.required:
            value = "-"  # the schema wants the element; the message did not give it
        if value:
            etree.SubElement(block, f"{{{NS}}}{name}").text = value
    etree.SubElement(block, f"{{{NS}}}returnStatus").text = code
    etree.SubElement(block, f"{{{NS}}}returnTime").text = stamp_ms(at)
    text = (info or CEB_STATUS_TEXT.get(code, code)).strip() or code
    etree.SubElement(block, f"{{{NS}}}returnInfo").text = text[:1000]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


# canonical filing fields → the CEB element that carried them, per business message kind
_ITEM_FIELDS = {
    "description": ("gname", "itemName"),  # inventory, order
    "hs_code": ("gcode", "gcode"),
    "quantity": ("qty", "qty"),
    "value": ("totalPrice", "totalPrice"),
    "origin_country": ("country", "country"),
}
_HEAD_FIELDS = {
    "/transport_document": "logisticsNo",
    "/master_document": "billNo",
    "/order/id": "orderNo",
    "/order/total": "acturalPaid",
    "/order/goods_value": "goodsValue",
    "/payment/id": "payTransactionId",
    "/payment/amount": "amountPaid",
    "/payment/payer_name": "payerName",
    "/buyer/name": "buyerName",
    "/buyer/identifier": "buyerIdNumber",
    "/consignee/address": "consigneeAddress",
    "/currency": "currency",
    "/transport_cost": "freight",
    "/insurance_cost": "insuredFee",
    "/gross_mass_kg": "weight",
    "/packages": "packNo",
    "/legal_date": "declTime",
    "/dispatch_country": "country",
    "/platform/identifier": "ebpCode",
    "/seller/identifier": "ebcCode",
}
_REFERENCE = {
    "order": "orderNo",
    "payment": "payTransactionId",
    "waybill": "logisticsNo",
    "inventory": "copNo",
    "invalidation": "copNo",
    "return_request": "copNo",
}


def field_path(kind: str, path: str, refs: dict[str, str]) -> str:
    """A problem's path as a CEB element path (`Inventory/0/InventoryList/1/gcode`).

    Problems the reader found already carry CEB paths; problems found on the canonical filing
    (`/items/1/hs_code`) are mapped back to the element that carried the value, under the
    block's head (`head_path`) and lines (`line_path`). A path with no CEB element (a
    cross-check over several documents, say) is kept as it is."""
    if not path.startswith("/"):
        return path
    head = refs.get("head_path", "")
    parts = path.strip("/").split("/")
    if len(parts) == 3 and parts[0] == "items" and parts[2] in _ITEM_FIELDS:
        names = _ITEM_FIELDS[parts[2]]
        lines = refs.get("line_path")
        if lines:
            return f"{lines}/{parts[1]}/{names[0] if kind != 'order' else names[1]}"
    name = _HEAD_FIELDS.get(path)
    if path == "/consignee/name":
        name = "buyerName" if kind == "inventory" else "consignee"
    if path == "/filer_reference":
        name = _REFERENCE.get(kind)
    if name and head:
        return f"{head}/{name}"
    return path


def problem_info(kind: str, refs: dict[str, str], problems: list[tuple[str, str]]) -> str:
    """`returnInfo` text: each problem as `<CEB path>: <message>`, the most serious first."""
    return "; ".join(
        f"{field_path(kind, path, refs)}: {message}" if path and path != "/" else message
        for path, message in problems
    )


# statuses at which customs has adjudicated the inventory and given it its number
_NUMBERED = frozenset({"399", "500", "501", "502", "503", "599", "700", "800", "899"})


def status_receipt(
    doc: FilingDocument,
    *,
    consignment_id: str,
    status: str,
    lane: str | None = None,
    info: str = "",
    at: datetime,
) -> bytes | None:
    """CEB622 for an inventory whose clearance status changed (accepted, risk check,
    inspection, released, returned…), echoing the inventory's guid and naming its agent,
    platform and e-commerce enterprise. None when the status has no CEB code."""
    try:
        code = ceb_status(status, lane=lane)
    except ValueError:
        return None
    ref = doc.declaration
    year = (doc.legal_date or at).year
    head = {
        "guid": (ref.message_id if ref else None) or "",
        "customsCode": doc.office or "",
        "ebpCode": (doc.platform.identifier or "") if doc.platform else "",
        "ebcCode": (doc.seller.identifier or "") if doc.seller else "",
        "agentCode": (ref.declarant if ref else None) or "",
        "copNo": (ref.lrn if ref else None) or doc.filer_reference,
        "preNo": pre_number(year, consignment_id),
    }
    if code in _NUMBERED:
        head["invtNo"] = inventory_number(doc.office, year, consignment_id)
    text = CEB_STATUS_TEXT.get(code, code)
    return render(
        kind="inventory", code=code, head=head, info=f"{text}: {info}" if info else text, at=at
    )


def render_format_error(
    *,
    message_type: str,
    original_guid: str,
    problems: list[str],
    original: bytes,
    at: datetime | None = None,
) -> bytes:
    """CEB900: the message failed the format check; `oriBizMessage` carries it back (base64)."""
    root = etree.Element(f"{{{NS}}}CEB900Message", nsmap={None: NS})  # type: ignore[dict-item]
    guid = _guid(original_guid)
    root.set("guid", guid)
    root.set("version", "1.0")
    block = etree.SubElement(root, f"{{{NS}}}MessageReturn")
    info = "; ".join(problems) or "the message does not follow the CEB 202205 schema"
    values = (
        ("guid", guid),
        ("returnStatus", FORMAT_ERROR),
        ("returnInfo", info[:5000]),
        ("returnTime", stamp_ms(at)),
        ("oriCopMsgId", original_guid[:255]),
        ("oriMessageType", (message_type or "Unknown")[:15]),
        ("oriBizMessage", base64.b64encode(original).decode("ascii")),
    )
    for name, value in values:
        etree.SubElement(block, f"{{{NS}}}{name}").text = value
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _guid(raw: str | None) -> str:
    """Echo the sender's guid (upper case, as the schema asks); a new one only when it has none
    that fits the 36-character field."""
    value = (raw or "").strip().upper()
    return value if len(value) == 36 else str(uuid.uuid4()).upper()


def _fit(name: str, value: str) -> str:
    value = value.strip()
    if name in _EXACT:
        return value if len(value) == _EXACT[name] else ""
    limit = _LIMITS.get(name, 18 if name.endswith("Code") else 60)
    return value[:limit]
