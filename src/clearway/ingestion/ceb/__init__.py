"""China cross-border e-commerce import messages (GACC "CEB", 202205 edition) ⇄ Clearway.

`read`/`parse` turn the business messages enterprises send (CEB311 order, 411 payment, 511
waybill, 513 waybill status, 621 inventory, 623 cancellation, 625 return request, 711 warehouse
entry) into records; `receipts` writes what customs answers (312 … 712, the CEB900 format-check
receipt), `tax` the electronic tax bill (CEB816) and its status (CEB818), `compose` the business
messages themselves for the demo generator. Every time is Beijing time.
"""

from __future__ import annotations

from datetime import datetime

from clearway.ingestion.ceb import receipts
from clearway.ingestion.ceb.codes import (
    BEIJING,
    NS,
    country_from_gacc,
    currency_from_gacc,
    gacc_country,
    gacc_currency,
)
from clearway.ingestion.ceb.compose import (
    render_cancel,
    render_delivery,
    render_inventory,
    render_order,
    render_payment,
    render_refund,
    render_waybill,
)
from clearway.ingestion.ceb.read import MESSAGES, Block, Message, parse, read
from clearway.ingestion.ceb.receipts import CEB_STATUS_TEXT, ceb_status

__all__ = [
    "BEIJING",
    "CEB_STATUS_TEXT",
    "MESSAGES",
    "NS",
    "Block",
    "Message",
    "ceb_status",
    "country_from_gacc",
    "currency_from_gacc",
    "gacc_country",
    "gacc_currency",
    "parse",
    "read",
    "render_cancel",
    "render_delivery",
    "render_inventory",
    "render_order",
    "render_payment",
    "render_receipt",
    "render_refund",
    "render_waybill",
]

_REFERENCE_FIELD = {
    "order": "orderNo",
    "payment": "payTransactionId",
    "waybill": "logisticsNo",
    "inventory": "copNo",
}
_PARTY_FIELD = {
    "order": "ebpCode",
    "payment": "payCode",
    "waybill": "logisticsCode",
    "inventory": "agentCode",
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
    """The receipt (CEB312/412/512/622) for a lifecycle status, from loose values.

    Order, payment and waybill receipts only say 100 (rejected) or 120 (on file); the inventory
    receipt carries the clearance status (`ceb_status`). `receipts.render` takes a block's own
    fields instead and is what the message gateway uses.
    """
    code = ceb_status(status, rejected=rejected, detention=detention)
    if kind != "inventory":
        code = "100" if code == "100" else "120"
    head = {
        "guid": guid or "",
        _REFERENCE_FIELD[kind]: reference,
        _PARTY_FIELD[kind]: party_code,
        "ebcCode": seller_code or party_code,
        "customsCode": customs_code or "",
        "preNo": pre_no or "",
        "invtNo": inventory_no or "",
    }
    return receipts.render(kind=kind, code=code, head=head, info=info, at=at)
