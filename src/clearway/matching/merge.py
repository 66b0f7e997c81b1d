"""Merge the legs filed about one consignment and cross-check them.

Legs are the filings of different parties: a platform's order, a payment provider's payment
record, a carrier's or post's waybill, a broker's declaration. The merged record takes goods
lines from the most authoritative leg (declaration, then inventory, then order, then waybill),
the transport document from whichever leg knows it, and the order and payment blocks from their
own legs. Every disagreement is a reason on the decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from difflib import SequenceMatcher

import msgspec

from clearway.domain.filing import FilingDocument, Order, Payment
from clearway.kernel.errors import Problem
from clearway.matching.rules import MatchRules

_GOODS_PRIORITY = ("declaration", "inventory", "order", "waybill", "payment")
_DATA_SET_RANK = {"full": 0, "reduced": 1, "pre_loading": 2}


@dataclass(frozen=True, slots=True)
class Leg:
    kind: str
    role: str
    document: FilingDocument
    reference: str = ""  # "<operator id>/<filer reference>": one leg per filer reference

    @property
    def rank(self) -> tuple[int, int]:
        """Authority for goods data: declaration first; within a kind, complete data sets."""
        kind = _GOODS_PRIORITY.index(self.kind) if self.kind in _GOODS_PRIORITY else 0
        return kind, _DATA_SET_RANK.get(self.document.data_set, 0)


@dataclass
class MergeResult:
    document: FilingDocument
    legs: list[str]
    missing: list[str]
    problems: list[Problem] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def mismatched(self) -> bool:
        return any(
            p.code.startswith("match_") and p.code != "match_leg_missing" for p in self.problems
        )


def _similar(a: str, b: str) -> Decimal:
    left, right = (" ".join(x.lower().split()) for x in (a, b))
    if left == right:
        return Decimal(1)
    return Decimal(str(round(SequenceMatcher(None, left, right).ratio(), 3)))


def merge(legs: list[Leg], rules: MatchRules) -> MergeResult:
    """One merged document plus the cross-check problems (as warnings)."""
    if not legs:
        raise ValueError("nothing to merge")
    ordered = sorted(legs, key=lambda leg: leg.rank)
    base = ordered[0].document
    by_kind = {leg.kind: leg.document for leg in legs}
    changes: dict[str, object] = {}
    if not base.transport_document:
        td = next(
            (leg.document.transport_document for leg in ordered if leg.document.transport_document),
            "",
        )
        if td:
            changes["transport_document"] = td
    for name in (
        "consignee",
        "consignor",
        "seller",
        "platform",
        "dispatch_country",
        "transport_cost",
        "insurance_cost",
        "master_document",
        "office",
        "legal_date",
    ):
        if getattr(base, name) is None:
            value = next(
                (
                    getattr(leg.document, name)
                    for leg in ordered
                    if getattr(leg.document, name) is not None
                ),
                None,
            )
            if value is not None:
                changes[name] = value
    order = by_kind["order"].order if "order" in by_kind else base.order
    payment = by_kind["payment"].payment if "payment" in by_kind else base.payment
    if order is not None:
        changes["order"] = order
    if payment is not None:
        changes["payment"] = payment
    merged = msgspec.structs.replace(base, **changes) if changes else base
    present = sorted({leg.kind for leg in legs})
    missing = [
        k
        for k in rules.required_legs
        if k not in present and not (k == "order" and "declaration" in present and merged.order)
    ]
    problems = _cross_checks(merged, by_kind, rules)
    problems += [
        Problem("/legs", "match_leg_missing", f"no {k} record on file yet", "warning")
        for k in missing
    ]
    return MergeResult(merged, present, missing, problems)


def _cross_checks(
    doc: FilingDocument, by_kind: dict[str, FilingDocument], rules: MatchRules
) -> list[Problem]:
    out: list[Problem] = []
    order: Order | None = doc.order
    payment: Payment | None = doc.payment
    declared = (
        doc.intrinsic_value if doc.items and all(i.value is not None for i in doc.items) else None
    )
    tol = rules.amount_tolerance
    if (
        order
        and order.total is not None
        and payment
        and payment.amount is not None
        and (payment.currency in (None, doc.currency))
    ) and abs(order.total - payment.amount) > abs(order.total) * tol:
        out.append(
            Problem(
                "/payment/amount",
                "match_amount",
                f"payment {payment.amount} does not match order total {order.total} {doc.currency}",
                "warning",
            )
        )
    if declared is not None and order and order.total is not None:
        extra = (doc.transport_cost or Decimal(0)) + (doc.insurance_cost or Decimal(0))
        if not (declared * (1 - tol) <= order.total <= (declared + extra) * (1 + tol)):
            out.append(
                Problem(
                    "/order/total",
                    "match_declared_value",
                    f"declared goods value {declared} does not match order total "
                    f"{order.total} {doc.currency}",
                    "warning",
                )
            )
    names = [p.name for p in (doc.consignee,) if p and p.name]
    if payment and payment.payer_name and names:
        score = _similar(names[0], payment.payer_name)
        if score < rules.name_similarity:
            out.append(
                Problem(
                    "/payment/payer_name",
                    "match_payer",
                    f"payer {payment.payer_name!r} is not the consignee "
                    f"{names[0]!r} (similarity {score})",
                    "warning",
                )
            )
    waybill = by_kind.get("waybill")
    goods = next((by_kind[k] for k in ("declaration", "inventory", "order") if k in by_kind), None)
    if waybill is not None and goods is not None and waybill.items and goods.items:
        # a waybill often lists all goods in one description, separated by semicolons
        w = {
            " ".join(part.lower().split())
            for i in waybill.items
            for part in i.description.split(";")
            if part.strip()
        }
        g = {" ".join(i.description.lower().split()) for i in goods.items}
        unmatched = [
            d
            for d in w
            if max((_similar(d, x) for x in g), default=Decimal(0)) < rules.name_similarity
        ]
        if unmatched:
            out.append(
                Problem(
                    "/items",
                    "match_goods",
                    f"waybill goods {sorted(unmatched)} are not in the order",
                    "warning",
                )
            )
    return out


def overdue(first_leg_at: date, today: date, rules: MatchRules) -> bool:
    """Is a missing leg past the wait? (Day resolution: the wait is counted in whole days.)"""
    return (today - first_leg_at).days * 24 >= rules.wait_hours
