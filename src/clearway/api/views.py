"""Least privilege per leg: what a party that attached a leg may read about the parcel.

Declarants (the owner, any operator that filed a declaration or inventory), officers and admins
read the whole consignment. A party that attached a partial leg reads what its role needs:
- a payment provider (payment leg): the amount due, its currency and the payment status;
- a carrier or post (waybill leg): release or hold and the transport data;
- a platform (order leg): the status and the amount due.
Never the consignee's contact details, the goods, the assessment, the decision's reasons, the
other legs or their parties. Notices are cut to the same view when they are read.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

import msgspec

from clearway.domain.consignment import Consignment
from clearway.storage.parties import Party

Capacity = Literal["full", "payment", "transport", "order"]


class TransportOut(msgspec.Struct, omit_defaults=True):
    mode: str
    destination_country: str
    dispatch_country: str | None = None
    master_document: str | None = None
    office: str | None = None
    gross_mass_kg: Decimal | None = None
    packages: int | None = None


class PartyViewOut(msgspec.Struct, omit_defaults=True):
    """A consignment as a party that attached a partial leg sees it."""

    id: str
    transport_document: str
    view: Literal["payment", "transport", "order"]
    status: str
    payment_status: str
    answer: Literal["release", "hold", "pending", "closed"] = "pending"
    amount_due: Decimal | None = None
    currency: str | None = None
    transport: TransportOut | None = None
    your_filings: list[str] = []  # your own filer references on this parcel


def capacity(party: Party | None, role: str) -> Capacity | None:
    """What a caller may read of a parcel: everything, one leg's view, or nothing (None)."""
    if role in ("officer", "admin"):
        return "full"
    if party is None:
        return None
    if party.declarant:
        return "full"
    if "payment" in party.kinds:
        return "payment"
    if "waybill" in party.kinds:
        return "transport"
    if "order" in party.kinds:
        return "order"
    return None


def _answer(status: str) -> Literal["release", "hold", "pending", "closed"]:
    if status == "released":
        return "release"
    if status in ("arrived", "held", "inspected"):
        return "hold"
    if status in ("seized", "returned_to_sender", "abandoned", "invalidated"):
        return "closed"
    return "pending"


def party_view(c: Consignment, view: Capacity, own_references: list[str]) -> PartyViewOut:
    assert view != "full"
    a = c.assessment
    money = view in ("payment", "order") and a is not None
    doc = c.document
    transport = (
        TransportOut(
            doc.mode,
            doc.destination_country,
            doc.dispatch_country,
            doc.master_document,
            doc.office,
            doc.gross_mass_kg,
            doc.packages,
        )
        if view == "transport"
        else None
    )
    return PartyViewOut(
        c.id,
        c.transport_document,
        view,
        c.status,
        c.payment_status,
        _answer(c.status),
        a.due_at_border if money and a is not None else None,
        a.currency if money and a is not None else None,
        transport,
        sorted(own_references),
    )


_NOTICE_FIELDS: dict[str, tuple[str, ...]] = {
    "payment": ("amount_due", "currency", "ceb_tax_bill"),
    # the platform is named on the CEB622 status receipt and the tax bill
    "order": ("amount_due", "currency", "ceb_receipt", "ceb_tax_bill"),
    "transport": (),
}
_ALWAYS = ("consignment_id", "transport_document", "kind", "status", "payment_status", "created_at")


def cut_notice(body: dict[str, Any], view: Capacity | None) -> dict[str, Any] | None:
    """A stored notice as this reader may see it (None: not at all)."""
    if view == "full":
        return body
    if view is None:
        return None
    keep = (*_ALWAYS, *_NOTICE_FIELDS[view])
    return {k: body[k] for k in keep if k in body}
