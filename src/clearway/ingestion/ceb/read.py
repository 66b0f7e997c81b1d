"""CEB import business messages in: every block becomes a record (a canonical filing or a request).

CEB311 order (platform), CEB411 payment (payment provider), CEB511 waybill (logistics company),
CEB621 inventory list (the declaring agent: the declaration), CEB513 waybill signed-for status,
CEB623 inventory cancellation, CEB625 return request and CEB711 warehouse entry list. A leg
carries only what its message says: a waybill lists no goods (its `goodsInfo` is a note), a
payment record lists none either. Times are Beijing time. Receipts customs sends (312 … 900)
are refused as filings with that reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from clearway.domain.filing import (
    Collection,
    DeclarationReference,
    FilingDocument,
    Item,
    Mode,
    Order,
    Party,
    Payment,
)
from clearway.ingestion.ceb.codes import (
    N,
    beijing,
    child,
    country_from_gacc,
    currency_from_gacc,
    fields,
    import_schema,
)
from clearway.ingestion.records import Action, ParsedRecord, match_keys
from clearway.ingestion.values import Collector
from clearway.ingestion.xml_safety import local, schema_problems
from clearway.kernel.errors import Problem

# appType: 1 new, 2 change, 3 delete
_ACTIONS: dict[str, Action] = {"1": "new", "2": "amend", "3": "cancel"}
# trafMode (JGS-20 transport mode) -> canonical mode; 5 is air, which for parcels is express
_TRAF_MODES: dict[str, Mode] = {"2": "sea", "3": "rail", "4": "road", "5": "express", "6": "post"}
MODE_TRAF = {"sea": "2", "rail": "3", "road": "4", "express": "5", "air_cargo": "5", "post": "6"}
RECEIPT_MESSAGES = frozenset(
    {
        "CEB312Message",
        "CEB412Message",
        "CEB512Message",
        "CEB514Message",
        "CEB622Message",
        "CEB624Message",
        "CEB626Message",
        "CEB712Message",
        "CEB816Message",
        "CEB818Message",
        "CEB900Message",
    }
)


class _Reader:
    """Maps one block, collecting problems located by CEB element path."""

    def __init__(self, path: str, block: str | None = None) -> None:
        self.path = path  # the head element's path
        self.block = block or path  # the block's path: lines sit beside the head
        self.found = Collector()

    def at(self, name: str) -> str:
        return f"{self.path}/{name}"

    def country(self, node: etree._Element | None, name: str) -> str | None:
        raw = child(node, name)
        if raw is None:
            return None
        iso = country_from_gacc(raw)
        if iso is None:
            self.found.error(self.at(name), "ceb.country", f"unknown GACC country {raw!r}")
        return iso

    def currency(self, node: etree._Element | None, name: str = "currency") -> str | None:
        raw = child(node, name)
        if raw is None:
            return None
        iso = currency_from_gacc(raw)
        if iso is None:
            self.found.error(self.at(name), "ceb.currency", f"unknown GACC currency {raw!r}")
        return iso

    def amount(self, node: etree._Element | None, name: str) -> Decimal | None:
        return self.found.amount(child(node, name), self.at(name))

    def whole(self, node: etree._Element | None, name: str) -> int | None:
        return self.found.whole(child(node, name), self.at(name))

    def required(self, node: etree._Element | None, name: str) -> str:
        value = child(node, name)
        if value is None:
            self.found.error(self.at(name), "ceb.missing", f"{name} is required")
        return value or ""

    def time(self, node: etree._Element | None, name: str) -> datetime | None:
        raw = child(node, name)
        if raw is None:
            return None
        try:
            return beijing(raw)
        except ValueError:
            self.found.error(self.at(name), "ceb.time", f"not YYYYMMDDhhmmss: {raw[:20]!r}")
            return None

    def day(self, node: etree._Element | None, name: str) -> date | None:
        raw = child(node, name)
        if raw is None:
            return None
        try:
            return datetime.strptime(raw[:8], "%Y%m%d").date()
        except ValueError:
            self.found.error(self.at(name), "ceb.time", f"not YYYYMMDD: {raw[:20]!r}")
            return None


def _party(code: str | None, name: str | None) -> Party | None:
    return Party(name=name, identifier=code) if code or name else None


def _goods(r: _Reader, line: str, nodes: list[etree._Element], with_hs: bool) -> list[Item]:
    items: list[Item] = []
    for index, node in enumerate(nodes):
        sub = _Reader(f"{r.block}/{line}/{index}")
        name = "gname" if with_hs else "itemName"
        description = child(node, name)
        if not description:
            sub.found.error(sub.at(name), "ceb.missing", "a goods name is required")
        quantity = sub.whole(node, "qty")
        price = sub.amount(node, "price")
        total = sub.amount(node, "totalPrice")
        line_value = quantity * price if quantity is not None and price is not None else None
        if line_value is not None and total is not None and line_value != total:
            sub.found.warn(
                sub.at("totalPrice"),
                "ceb.line_total",
                f"qty {quantity} × price {price} is {line_value}, not {total}",
            )
        items.append(
            Item(
                description=description or "",
                quantity=quantity if quantity is not None else 1,
                value=total,
                hs_code=sub.found.hs(child(node, "gcode"), sub.at("gcode")) if with_hs else None,
                origin_country=sub.country(node, "country"),
            )
        )
        r.found.problems.extend(sub.found.problems)
    return items


_Mapped = tuple[FilingDocument | None, dict[str, str]]
_Mapper = Callable[[etree._Element, list[etree._Element], _Reader], _Mapped]


def _order(head: etree._Element, lines: list[etree._Element], r: _Reader) -> _Mapped:
    order_no = r.required(head, "orderNo")
    items = _goods(r, "OrderList", lines, with_hs=False)
    goods_value = r.amount(head, "goodsValue")
    freight = r.amount(head, "freight")
    discount = r.amount(head, "discount")
    tax = r.amount(head, "taxTotal")
    paid = r.amount(head, "acturalPaid")
    if goods_value is not None and sum((i.value or 0 for i in items), Decimal(0)) != goods_value:
        r.found.warn(r.at("goodsValue"), "ceb.goods_value", "goodsValue ≠ sum of totalPrice")
    if goods_value is not None and paid is not None:
        expected = goods_value + (freight or 0) + (tax or 0) - (discount or 0)
        if expected != paid:
            r.found.warn(
                r.at("acturalPaid"),
                "ceb.amount_paid",
                f"goodsValue {goods_value} + freight {freight or 0} + taxTotal {tax or 0} − "
                f"discount {discount or 0} is {expected}, not acturalPaid {paid}",
            )
    buyer = Party(name=child(head, "buyerName"), identifier=child(head, "buyerIdNumber"))
    transaction = child(head, "payTransactionId")
    doc = FilingDocument(
        filer_reference=order_no,
        transport_document="",
        destination_country="CN",
        items=items,
        mode="express",
        currency=r.currency(head) or "CNY",
        transport_cost=freight,
        consignee=Party(
            name=child(head, "consignee"), address=child(head, "consigneeAddress"), country="CN"
        ),
        buyer=buyer,
        seller=_party(child(head, "ebcCode"), child(head, "ebcName")),
        platform=_party(child(head, "ebpCode"), child(head, "ebpName")),
        order=Order(
            id=order_no,
            placed_at=r.time(head, "appTime"),
            total=paid,
            goods_value=goods_value,
            tax=tax,
            discount=discount,
        ),
        # the order names the payment; the payer is the payment record's to say
        # the order also names the payment company: its payment record may join the parcel
        payment=Payment(
            id=transaction, provider=_party(child(head, "payCode"), child(head, "payName"))
        )
        if transaction
        else None,
    )
    return doc, {"pay_code": child(head, "payCode") or ""}


def _payment(head: etree._Element, lines: list[etree._Element], r: _Reader) -> _Mapped:
    transaction = r.required(head, "payTransactionId")
    currency = r.currency(head) or "CNY"
    doc = FilingDocument(
        filer_reference=transaction,
        transport_document="",
        destination_country="CN",
        items=[],
        mode="express",
        currency=currency,
        platform=_party(child(head, "ebpCode"), None),
        order=Order(id=r.required(head, "orderNo")),
        payment=Payment(
            id=transaction,
            amount=r.amount(head, "amountPaid"),
            currency=currency,
            payer_name=child(head, "payerName"),
        ),
        # the payer, who must be the orderer (name and ID number)
        buyer=Party(name=child(head, "payerName"), identifier=child(head, "payerIdNumber")),
    )
    r.time(head, "payTime")
    return doc, {"pay_code": child(head, "payCode") or ""}


def _waybill(head: etree._Element, lines: list[etree._Element], r: _Reader) -> _Mapped:
    logistics_no = r.required(head, "logisticsNo")
    doc = FilingDocument(
        filer_reference=logistics_no,
        transport_document=logistics_no,
        master_document=child(head, "billNo"),
        destination_country="CN",
        items=[],  # goodsInfo is a free-text note, not goods lines: a waybill declares none
        mode="express",
        currency=r.currency(head) or "CNY",
        transport_cost=r.amount(head, "freight"),
        insurance_cost=r.amount(head, "insuredFee"),
        gross_mass_kg=r.amount(head, "weight"),
        packages=r.whole(head, "packNo"),
        consignee=Party(
            name=child(head, "consignee"), address=child(head, "consigneeAddress"), country="CN"
        ),
        carrier=_party(child(head, "logisticsCode"), child(head, "logisticsName")),
        order=Order(id=r.required(head, "orderNo")),
    )
    return doc, {"goods_info": child(head, "goodsInfo") or ""}


def _inventory(head: etree._Element, lines: list[etree._Element], r: _Reader) -> _Mapped:
    cop_no = r.required(head, "copNo")
    items = _goods(r, "InventoryList", lines, with_hs=True)
    buyer = Party(name=child(head, "buyerName"), identifier=child(head, "buyerIdNumber"))
    doc = FilingDocument(
        filer_reference=cop_no,
        transport_document=r.required(head, "logisticsNo"),
        master_document=child(head, "billNo"),
        destination_country="CN",
        items=items,
        mode=_TRAF_MODES.get(child(head, "trafMode") or "", "express"),
        legal_date=r.day(head, "declTime"),
        dispatch_country=r.country(head, "country"),
        currency=r.currency(head) or "CNY",
        transport_cost=r.amount(head, "freight"),
        insurance_cost=r.amount(head, "insuredFee"),
        gross_mass_kg=r.amount(head, "grossWeight"),
        packages=r.whole(head, "packNo"),
        # CEB621 names the orderer and the delivery address; the orderer is the consignee
        consignee=Party(name=buyer.name, address=child(head, "consigneeAddress"), country="CN"),
        buyer=buyer,
        seller=_party(child(head, "ebcCode"), child(head, "ebcName")),
        platform=_party(child(head, "ebpCode"), child(head, "ebpName")),
        carrier=_party(child(head, "logisticsCode"), child(head, "logisticsName")),
        order=Order(id=r.required(head, "orderNo")),
        office=child(head, "customsCode"),
        procedure_code=child(head, "tradeMode"),
        # the platform, e-commerce or logistics enterprise withholds the tax for the buyer
        # against the guarantee of the enterprise named in assureCode (代收代缴)
        collection=Collection(model="intermediary", registration_number=child(head, "assureCode")),
        # later status receipts (CEB622), the tax bill (CEB816) and the answers to a
        # cancellation or return name the agent and echo the inventory's guid
        declaration=DeclarationReference(
            lrn=cop_no,
            declarant=child(head, "agentCode"),
            office=child(head, "customsCode"),
            message_id=child(head, "guid"),
        ),
    )
    return doc, {"declarant": child(head, "agentCode") or ""}


def _no_document(required: tuple[str, ...]) -> _Mapper:
    """Messages that ask for something about a known parcel rather than describe one."""

    def mapper(head: etree._Element, lines: list[etree._Element], r: _Reader) -> _Mapped:
        for name in required:
            r.required(head, name)
        r.time(head, "appTime")
        return None, {}

    return mapper


@dataclass(frozen=True, slots=True)
class Spec:
    """How one business message is laid out and what it is."""

    block: str  # repeated block element under the root
    head: str | None  # head element inside the block (None: the block is the head)
    line: str | None  # line element inside the block
    kind: str
    role: str
    reference: str  # head field that is the sender's own reference (idempotency key)
    mapper: _Mapper


MESSAGES: dict[str, Spec] = {
    "CEB311Message": Spec(
        "Order", "OrderHead", "OrderList", "order", "platform", "orderNo", _order
    ),
    "CEB411Message": Spec(
        "Payment", "PaymentHead", None, "payment", "payment_provider", "payTransactionId", _payment
    ),
    "CEB511Message": Spec(
        "Logistics", "LogisticsHead", None, "waybill", "carrier", "logisticsNo", _waybill
    ),
    "CEB513Message": Spec(
        "LogisticsStatus",
        None,
        None,
        "logistics_status",
        "carrier",
        "logisticsNo",
        _no_document(("logisticsNo", "logisticsStatus")),
    ),
    "CEB621Message": Spec(
        "Inventory", "InventoryHead", "InventoryList", "inventory", "broker", "copNo", _inventory
    ),
    "CEB623Message": Spec(
        "InvtCancel",
        None,
        None,
        "invalidation",
        "broker",
        "copNo",
        _no_document(("invtNo", "logisticsNo", "reason")),
    ),
    "CEB625Message": Spec(
        "InvtRefund",
        "InvtRefundHead",
        "InvtRefundList",
        "return_request",
        "broker",
        "copNo",
        _no_document(("invtNo", "logisticsNo", "reason")),
    ),
    "CEB711Message": Spec(
        "Delivery",
        "DeliveryHead",
        "DeliveryList",
        "warehouse_entry",
        "carrier",
        "copNo",
        _no_document(("operatorCode",)),
    ),
}


@dataclass
class Block:
    """One business block of a CEB message: its fields as sent and the record it maps to."""

    message: str  # root element name, e.g. "CEB621Message"
    index: int
    head: dict[str, str]
    lines: list[dict[str, str]]
    record: ParsedRecord

    @property
    def spec(self) -> Spec:
        return MESSAGES[self.message]

    @property
    def guid(self) -> str:
        return self.head.get("guid", "")

    @property
    def reference(self) -> str:
        """The sender's own reference: orderNo, payTransactionId, logisticsNo, copNo…"""
        return self.head.get(self.spec.reference, "") or self.head.get("invtNo", "")


@dataclass
class Message:
    """A whole CEB document as received: its blocks, or why it was refused as a whole."""

    name: str
    guid: str
    sender: dict[str, str] = field(default_factory=dict)  # BaseTransfer
    blocks: list[Block] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # the message as a whole

    @property
    def schema_failed(self) -> bool:
        return any(p.code == "ceb.schema" for p in self.problems)

    @property
    def records(self) -> list[ParsedRecord]:
        if self.problems:
            # the whole message is refused: its guid and type go back in a CEB900
            refs = {"guid": self.guid, "message": self.name}
            return [
                ParsedRecord(None, None, "unknown", self.name, list(self.problems), references=refs)
            ]
        return [b.record for b in self.blocks]


def read(root: etree._Element, *, validate: bool = True) -> Message:
    """The blocks of one CEB message, each mapped (or the reason the message is refused)."""
    name = local(root)
    message = Message(name, root.get("guid", ""))
    if name not in MESSAGES:
        reason = (
            f"{name} is a receipt customs sends, not a filing"
            if name in RECEIPT_MESSAGES
            else f"{name} is not a CEB import business message "
            f"({', '.join(m[3:6] for m in MESSAGES)})"
        )
        message.problems.append(Problem("", "ceb.message", reason))
        return message
    if validate:
        errors = schema_problems(import_schema(), root)
        if errors:
            message.problems.extend(Problem("", "ceb.schema", e) for e in errors)
            return message
    spec = MESSAGES[name]
    message.sender = fields(root.find("c:BaseTransfer", N))
    for index, node in enumerate(root.findall(f"c:{spec.block}", N)):
        message.blocks.append(_block(name, spec, index, node, message.sender))
    return message


def _block(
    name: str, spec: Spec, index: int, node: etree._Element, sender: dict[str, str]
) -> Block:
    head_node = node.find(f"c:{spec.head}", N) if spec.head else node
    line_nodes = list(node.findall(f"c:{spec.line}", N)) if spec.line else []
    block = f"{spec.block}/{index}"
    reader = _Reader(f"{block}/{spec.head}" if spec.head else block, block)
    document, refs = spec.mapper(head_node if head_node is not None else node, line_nodes, reader)
    head = fields(head_node)
    action: Action = (
        "cancel" if spec.kind == "invalidation" else _ACTIONS.get(head.get("appType", ""), "new")
    )
    reference = head.get(spec.reference) or None
    record = ParsedRecord(
        None,
        spec.role,
        spec.kind,
        f"{name} {spec.block}[{index}] {reference or head.get('invtNo', '')}".rstrip(),
        reader.found.problems,
        action=action,
        filer_reference=reference,
        references=_references(head, sender, refs),
    )
    # where the block's fields sit, so an answer can name a field by its CEB path
    record.references["head_path"] = reader.path
    if spec.line:
        record.references["line_path"] = f"{block}/{spec.line}"
    if spec.kind == "return_request":
        # the goods lines coming back, by the inventory's line number: "gnum:qty,…"
        record.references["returned"] = ",".join(
            f"{ln.get('gnum', '')}:{ln.get('qty', '')}" for ln in (fields(n) for n in line_nodes)
        )
    if spec.kind == "warehouse_entry":
        # the waybills the warehouse entry list says arrived
        record.references["entered"] = ",".join(
            no for n in line_nodes if (no := child(n, "logisticsNo"))
        )
    if document is not None and not reader.found.failed:
        record.document = document
        record.references.update(match_keys(document))
    elif document is None:
        keys = {
            "order_id": head.get("orderNo", ""),
            "transport_document": head.get("logisticsNo", ""),
        }
        record.references.update({k: v for k, v in keys.items() if v})
    return Block(name, index, head, [fields(n) for n in line_nodes], record)


def _references(
    head: dict[str, str], sender: dict[str, str], refs: dict[str, str]
) -> dict[str, str]:
    keep = (
        "guid",
        "orderNo",
        "payTransactionId",
        "logisticsNo",
        "appType",
        "appStatus",
        "ebpCode",
        "ebcCode",
        "payCode",
        "logisticsCode",
        "agentCode",
        "operatorCode",
        "customsCode",
        "copNo",
        "preNo",
        "invtNo",
        "assureCode",
        "reason",
        "logisticsStatus",
    )
    out = {name: head[name] for name in keep if head.get(name)}
    if head.get("agentCode"):
        out["declarant"] = head["agentCode"]
    if sender.get("copCode"):
        out["sender_code"] = sender["copCode"]
    out.update({k: v for k, v in refs.items() if v})
    return out


# Read here, but not yet acted on by the filing path: they need the message gateway.
_GATEWAY_ONLY = frozenset({"CEB513Message", "CEB625Message", "CEB711Message"})


def parse(
    root: etree._Element, *, validate: bool = True, requests: bool = False
) -> list[ParsedRecord]:
    """One record per business block (or one refusal for the whole message).

    Without `requests`, the messages only the message gateway acts on (waybill status, return
    request, warehouse entry) are refused as filings; with it, they are read like the others
    (records without a document) for the gateway to answer."""
    name = local(root)
    if name in _GATEWAY_ONLY and not requests:
        reason = f"{name} is not accepted as a filing (CEB311, 411, 511, 621, 623)"
        return [ParsedRecord(None, None, "unknown", name, [Problem("", "ceb.message", reason)])]
    return read(root, validate=validate).records
