"""Render canonical filings as the messages real parties send, so demo traffic uses each format.

The China flow is three legs from three parties about one parcel, kept consistent: the
platform's CEB311 order, the payment provider's CEB411 payment and the logistics company's
CEB511 waybill, linked by order number. Parsing each leg back gives the filing of that role.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clearway.domain.filing import FilingDocument, Order, Party, Payment
from clearway.ingestion import ceb, csv_filing
from clearway.ingestion.dms import writer


@dataclass(frozen=True)
class CnLegs:
    order: bytes  # CEB311, role platform
    payment: bytes  # CEB411, role payment_provider
    waybill: bytes  # CEB511, role carrier


def cn_legs(
    doc: FilingDocument,
    *,
    pay_code: str = "1101110323",
    pay_name: str = "Payment provider",
    carrier: Party | None = None,
) -> CnLegs:
    """The three CN messages for one consignment (`doc` needs a transport document).

    Amounts agree by construction: the payment is the order total (goods + freight + tax);
    change `doc` before rendering to produce a mismatch on purpose.
    """
    order_id = doc.order.id if doc.order and doc.order.id else doc.filer_reference
    total = doc.order.total if doc.order and doc.order.total is not None else None
    if total is None:
        total = doc.intrinsic_value + (doc.transport_cost or 0)
    payment = doc.payment or Payment()
    order = Order(id=order_id, placed_at=doc.order.placed_at if doc.order else None, total=total)
    payment = Payment(
        id=payment.id or f"PAY{order_id}",
        amount=payment.amount if payment.amount is not None else total,
        currency=payment.currency or doc.currency,
        payer_name=payment.payer_name or (doc.buyer or doc.consignee or Party()).name,
    )
    with_links = _replace(doc, order=order, payment=payment)
    return CnLegs(
        # the order names the payment company (payCode/payName), as a real platform's does
        order=ceb.render_order(
            _replace(with_links, filer_reference=order_id), pay_code=pay_code, pay_name=pay_name
        ),
        payment=ceb.render_payment(with_links, pay_code=pay_code, pay_name=pay_name),
        waybill=ceb.render_waybill(_replace(with_links, carrier=carrier or doc.carrier)),
    )


def h7_declaration(doc: FilingDocument, *, declarant_eori: str = "DE000000000000001") -> bytes:
    """An EU DMS declaration (XML): H7 for a reduced-data-set filing, H1 for a full one."""
    return writer.render_declaration(doc, declarant_eori=declarant_eori)


def csv_file(docs: Iterable[FilingDocument], *, excel: bool = False) -> bytes:
    """A bulk CSV file; `excel=True` writes what a European Excel exports (BOM, `;`, commas)."""
    body = csv_filing.render_rows(docs, ";" if excel else ",")
    if not excel:
        return body
    text = body.decode("utf-8")
    lines = [
        ";".join(_decimal_comma(cell) for cell in line.split(";")) for line in text.split("\r\n")
    ]
    return ("\ufeff" + "\r\n".join(lines)).encode("utf-8")


def _decimal_comma(cell: str) -> str:
    head, dot, tail = cell.partition(".")
    if dot and head.lstrip("-").isdigit() and tail.isdigit():
        return f"{head},{tail}"
    return cell


def _replace(doc: FilingDocument, **changes: object) -> FilingDocument:
    fields = {name: getattr(doc, name) for name in doc.__struct_fields__}
    fields.update(changes)
    return FilingDocument(**fields)
