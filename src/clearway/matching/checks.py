"""Cross-checks between the legs of one parcel (GACC's three-document comparison and its kin).

Each check compares what two documents say about the same fact and, where they disagree beyond
the tolerances of `rules.yaml`, returns a warning that names both documents and both fields:
- one order number and one e-commerce platform on every leg;
- the orderer is the payer: the payment record's payer name and ID number are the order's
  buyer (or the declaration's consignee where no order names a buyer);
- the consignee on the order is the consignee on the waybill; the inventory's orderer is the
  order's;
- goods value + freight + tax − discount = the order's amount paid = the payment's amount, and
  the declared goods value is the order's goods value;
- goods a waybill lists (when it lists any) are goods of the order.
"""

from __future__ import annotations

import re
from decimal import Decimal
from difflib import SequenceMatcher

from clearway.domain.filing import FilingDocument, Party
from clearway.kernel.errors import Problem
from clearway.matching.rules import MatchRules

ZERO = Decimal(0)
_NOT_ID = re.compile(r"[^0-9A-Za-z]")
# what each leg is called in a reason (China's message numbers in brackets)
LEG_NAMES = {
    "order": "order (CEB311)",
    "payment": "payment record (CEB411)",
    "waybill": "waybill (CEB511)",
    "inventory": "inventory (CEB621)",
    "declaration": "declaration",
}


def similar(a: str, b: str) -> Decimal:
    left, right = (" ".join(x.lower().split()) for x in (a, b))
    if left == right:
        return Decimal(1)
    return Decimal(str(round(SequenceMatcher(None, left, right).ratio(), 3)))


def _id(value: str | None) -> str:
    """An ID number compared without spaces, dashes or case; placeholders count as absent."""
    return _NOT_ID.sub("", value or "").upper()


def _warn(path: str, code: str, message: str) -> Problem:
    return Problem(path, code, message, "warning")


def cross_checks(
    doc: FilingDocument, by_kind: dict[str, FilingDocument], rules: MatchRules
) -> list[Problem]:
    """Every disagreement between the legs (as warnings); `doc` is the merged record."""
    out: list[Problem] = []
    _same_order(by_kind, out)
    _same_platform(by_kind, out)
    _payer_is_orderer(doc, by_kind, rules, out)
    _same_consignee(by_kind, rules, out)
    _amounts(doc, by_kind, rules, out)
    _waybill_goods(by_kind, rules, out)
    return out


def _same_order(by_kind: dict[str, FilingDocument], out: list[Problem]) -> None:
    ids = {k: d.order.id for k, d in by_kind.items() if d.order and d.order.id}
    if len(set(ids.values())) > 1:
        said = ", ".join(f"{LEG_NAMES.get(k, k)} {v!r}" for k, v in sorted(ids.items()))
        out.append(_warn("/order/id", "match_order_number", f"order numbers differ: {said}"))


def _same_platform(by_kind: dict[str, FilingDocument], out: list[Problem]) -> None:
    codes = {
        k: d.platform.identifier
        for k, d in by_kind.items()
        if d.platform and d.platform.identifier and _id(d.platform.identifier)
    }
    if len({_id(v) for v in codes.values()}) > 1:
        said = ", ".join(f"{LEG_NAMES.get(k, k)} {v!r}" for k, v in sorted(codes.items()))
        out.append(
            _warn(
                "/platform/identifier",
                "match_platform",
                f"e-commerce platform codes (ebpCode) differ: {said}",
            )
        )


def _orderer(doc: FilingDocument, by_kind: dict[str, FilingDocument]) -> tuple[str, Party] | None:
    """Who ordered: the order's buyer, else the declaration's buyer, else its consignee."""
    for kind in ("order", "inventory", "declaration"):
        leg = by_kind.get(kind)
        if leg is not None and leg.buyer is not None and (leg.buyer.name or leg.buyer.identifier):
            return f"{LEG_NAMES[kind]} buyer", leg.buyer
    if doc.consignee is not None and doc.consignee.name:
        return "consignee", doc.consignee
    return None


def _payer_is_orderer(
    doc: FilingDocument,
    by_kind: dict[str, FilingDocument],
    rules: MatchRules,
    out: list[Problem],
) -> None:
    payment = doc.payment
    orderer = _orderer(doc, by_kind)
    if payment is None or orderer is None:
        return
    who, person = orderer
    payer_leg = by_kind.get("payment")
    payer_id = payer_leg.buyer.identifier if payer_leg and payer_leg.buyer else None
    if payment.payer_name and person.name:
        score = similar(person.name, payment.payer_name)
        if score < rules.name_similarity:
            out.append(
                _warn(
                    "/payment/payer_name",
                    "match_payer",
                    f"payer {payment.payer_name!r} on the {LEG_NAMES['payment']} is not the "
                    f"orderer {person.name!r} ({who}; name similarity {score})",
                )
            )
    if _id(payer_id) and _id(person.identifier) and _id(payer_id) != _id(person.identifier):
        out.append(
            _warn(
                "/buyer/identifier",
                "match_payer_id",
                f"payer ID number {payer_id} on the {LEG_NAMES['payment']} is not the orderer's "
                f"{person.identifier} ({who})",
            )
        )


def _same_consignee(
    by_kind: dict[str, FilingDocument], rules: MatchRules, out: list[Problem]
) -> None:
    order, waybill, inventory = (by_kind.get(k) for k in ("order", "waybill", "inventory"))
    if order is not None and waybill is not None and order.consignee and waybill.consignee:
        differ = [
            f"{what} {getattr(waybill.consignee, attr)!r} is not {getattr(order.consignee, attr)!r}"
            for attr, what in (("name", "name"), ("address", "address"))
            if getattr(order.consignee, attr)
            and getattr(waybill.consignee, attr)
            and similar(getattr(order.consignee, attr), getattr(waybill.consignee, attr))
            < rules.name_similarity
        ]
        if differ:
            out.append(
                _warn(
                    "/consignee",
                    "match_consignee",
                    f"the consignee on the {LEG_NAMES['waybill']} is not the one on the "
                    f"{LEG_NAMES['order']}: {'; '.join(differ)}",
                )
            )
    if order is not None and inventory is not None and order.buyer and inventory.buyer:
        a, b = order.buyer, inventory.buyer
        names_differ = a.name and b.name and similar(a.name, b.name) < rules.name_similarity
        ids_differ = (
            _id(a.identifier) and _id(b.identifier) and _id(a.identifier) != _id(b.identifier)
        )
        if names_differ or ids_differ:
            out.append(
                _warn(
                    "/buyer",
                    "match_orderer",
                    f"orderer {b.name!r} ({b.identifier}) on the {LEG_NAMES['inventory']} is not "
                    f"{a.name!r} ({a.identifier}) on the {LEG_NAMES['order']}",
                )
            )


def _declared(doc: FilingDocument | None) -> Decimal | None:
    if doc is None or not doc.items or any(i.value is None for i in doc.items):
        return None
    return doc.intrinsic_value


def _amounts(
    doc: FilingDocument,
    by_kind: dict[str, FilingDocument],
    rules: MatchRules,
    out: list[Problem],
) -> None:
    order, payment = doc.order, doc.payment
    if (
        order is not None
        and order.total is not None
        and payment is not None
        and payment.amount is not None
        and payment.currency in (None, doc.currency)
        and not rules.amounts_agree(order.total, payment.amount)
    ):
        out.append(
            _warn(
                "/payment/amount",
                "match_amount",
                f"amount paid {payment.amount} on the {LEG_NAMES['payment']} is not the amount "
                f"paid {order.total} {doc.currency} on the order",
            )
        )
    if order is None or order.total is None:
        return
    order_leg = by_kind.get("order")
    declaring = next(
        (k for k in ("declaration", "inventory") if _declared(by_kind.get(k)) is not None), None
    )
    declared = _declared(by_kind[declaring]) if declaring else _declared(doc)
    goods = order.goods_value if order.goods_value is not None else _declared(order_leg)
    if declaring and declared is not None and goods is not None and order_leg is not None:
        if not rules.amounts_agree(declared, goods):
            out.append(
                _warn(
                    "/items",
                    "match_declared_value",
                    f"declared goods value {declared} on the {LEG_NAMES[declaring]} is not the "
                    f"goods value {goods} {doc.currency} on the order",
                )
            )
        return
    if declared is None:
        return
    # one document with the order block: its goods plus what the buyer paid on top must be
    # what the buyer paid (freight and insurance may or may not have been charged separately)
    tax, discount = order.tax or ZERO, order.discount or ZERO
    low = declared + tax - discount
    high = low + (doc.transport_cost or ZERO) + (doc.insurance_cost or ZERO)
    slack = max(abs(high), abs(order.total)) * rules.amount_tolerance
    slack = max(slack, rules.amount_absolute)
    if not low - slack <= order.total <= high + slack:
        out.append(
            _warn(
                "/order/total",
                "match_declared_value",
                f"declared goods value {declared} (+ freight and tax, − discount) does not "
                f"match the order's amount paid {order.total} {doc.currency}",
            )
        )


def _waybill_goods(
    by_kind: dict[str, FilingDocument], rules: MatchRules, out: list[Problem]
) -> None:
    waybill = by_kind.get("waybill")
    goods = next((by_kind[k] for k in ("declaration", "inventory", "order") if k in by_kind), None)
    if waybill is None or goods is None or not waybill.items or not goods.items:
        return
    # a waybill often lists all goods in one description, separated by semicolons
    listed = {
        " ".join(part.lower().split())
        for i in waybill.items
        for part in i.description.split(";")
        if part.strip()
    }
    known = {" ".join(i.description.lower().split()) for i in goods.items}
    unmatched = [
        d
        for d in listed
        if max((similar(d, x) for x in known), default=ZERO) < rules.name_similarity
    ]
    if unmatched:
        out.append(
            _warn(
                "/items",
                "match_goods",
                f"goods {sorted(unmatched)} on the waybill are not goods of the order",
            )
        )
