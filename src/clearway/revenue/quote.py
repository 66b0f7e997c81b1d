"""Landed-cost quotes: one canonical filing → what will be owed, as JSON-ready builtins.

Amounts are decimal strings in the destination currency. `payable_at_border` is what release
waits for (consumer collection); `payable_on_delivery` is what the consignee hands the post or
carrier (consumer or intermediary collection); vendor-collected amounts were paid at checkout.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from clearway.domain.assessment import Assessment, Charge
from clearway.domain.filing import FilingDocument
from clearway.kernel.clock import Clock, SystemClock
from clearway.kernel.errors import InvalidInput, Problem
from clearway.revenue.assessor import PackAssessor

TAX_KINDS = ("vat", "consumption_tax", "excise")


def quote_document(
    doc: FilingDocument,
    legal_date: date | None = None,
    assessor: PackAssessor | None = None,
    clock: Clock | None = None,
) -> dict[str, object]:
    """Assess `doc` at `legal_date` (else the filing's legal date, else today).

    A legal date the packs cannot answer for (before a pack's period, or beyond the horizon after
    today) is an `InvalidInput` problem, never a quote of today's law or of zero.
    """
    today = (clock or SystemClock()).now().date()
    when = legal_date or doc.legal_date or today
    assessor = assessor or PackAssessor.load_default()
    outside = assessor.law_problem(doc.destination_country.upper(), when, today)
    if outside is not None:
        raise InvalidInput(
            [Problem("/legal_date", "law_period_not_covered", outside)],
            "the document cannot be quoted",
        )
    return quote_of(doc, assessor.assess(doc, when))


def quote_of(doc: FilingDocument, a: Assessment) -> dict[str, object]:
    tax = sum((a.total_of(k) for k in TAX_KINDS), Decimal(0))
    on_delivery = a.total if a.payable_by in ("consumer", "intermediary") else Decimal(0)
    lines: list[dict[str, object]] = []
    for i, it in enumerate(doc.items):
        mine = [c for c in a.charges if c.item == i]
        lines.append(
            {
                "item": i,
                "description": it.description,
                "hs_code": it.hs_code,
                "quantity": it.quantity,
                "value": _s(it.value) if it.value is not None else None,
                "duty": _s(_sum(mine, ("duty",))),
                "tax": _s(_sum(mine, TAX_KINDS)),
                "fees": _s(_sum(mine, ("fee",))),
                "charges": [_charge(c) for c in mine],
            }
        )
    return {
        "jurisdiction": a.jurisdiction,
        "legal_date": a.legal_date,
        "currency": a.currency,
        "irg_category": a.irg_category,
        "intrinsic_value": _s(a.intrinsic_value),
        "customs_value": _s(a.customs_value),
        "duty": _s(a.total_of("duty")),
        "tax": _s(tax),
        "fees": _s(a.total_of("fee")),
        "total": _s(a.total),
        "collection_model": a.collection_model,
        "payable_by": a.payable_by,
        "payable_at_border": _s(a.due_at_border),
        "payable_on_delivery": _s(on_delivery),
        "lines": lines,
        "consignment_charges": [_charge(c) for c in a.charges if c.item is None],
        "flags": list(a.flags),
        "trace": [
            {
                k: v
                for k, v in (
                    ("name", t.name),
                    ("value", t.value),
                    ("at", t.at),
                    ("reference", t.reference),
                    ("item", t.item),
                )
                if v is not None
            }
            for t in a.trace
        ],
    }


def _sum(charges: list[Charge], kinds: tuple[str, ...]) -> Decimal:
    return sum((c.amount for c in charges if c.kind in kinds), Decimal(0))


def _charge(c: Charge) -> dict[str, object]:
    out: dict[str, object] = {"kind": c.kind, "amount": _s(c.amount)}
    if c.rate is not None:
        out["rate"] = c.rate
    if c.base is not None:
        out["base"] = _s(c.base)
    return out


def _s(amount: Decimal) -> str:
    return format(amount, "f")
