"""The calculator's excise and gift steps: which lines are excise goods, whether a declared gift
is one in law and within its allowances, and the excise each excise good owes."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from clearway.domain.assessment import Charge
from clearway.revenue.calc_work import ZERO, Line, Work
from clearway.revenue.excise import (
    ExciseDue,
    excise_due,
    with_supplementary,
    within_allowances,
)


def mark_excise_goods(w: Work, lines: list[Line]) -> bool:
    headings = w.rules.read("excise.headings", w.trace) or []
    hits = [ln for ln in lines if ln.hs and any(ln.hs.startswith(h) for h in headings)]
    for ln in hits:
        ln.excise_good = True
    if hits:
        w.flag("excise_goods")
    return bool(hits)


def gift_allowances(w: Work, lines: list[Line]) -> None:
    """Excise goods in a gift keep the gift reliefs (duty, VAT, excise) only within the
    quantities the law allows (EU: Reg. 1186/2009 art. 27, Dir. 2006/79 art. 2)."""
    goods = [ln for ln in lines if ln.excise_good]
    if w.category != "gift" or not goods:
        return
    allowances = w.rules.read("gift.excise_allowances", w.trace)
    if allowances is None:
        return
    w.gift_allowed = within_allowances(
        [(ln.index, ln.hs or "", w.doc.items[ln.index]) for ln in goods], allowances
    )
    for ln in goods:
        inside = ln.index in w.gift_allowed
        w.note("gift.excise_allowance", "within" if inside else "beyond: no gift relief", ln.index)


def gift_in_law(w: Work) -> None:
    """A gift is a consignment from one private person to another, without payment of any kind
    (Reg. 1186/2009 art. 25, Dir. 2006/79 art. 1; the UK and others alike). A declared `gift`
    with an order, a payment, a seller or platform, or a vendor registration is a sale."""
    if w.doc.category != "gift":
        return
    doc = w.doc
    why = [
        what
        for what, present in (
            ("an order", doc.order is not None),
            ("a payment", doc.payment is not None),
            ("a seller", doc.seller is not None),
            ("a platform", doc.platform is not None),
        )
        if present
    ]
    if why:
        w.category = "sale_of_goods"
        w.flag("gift_conditions_not_met")
        w.note("gift.test", f"declared a gift but carries {', '.join(why)}: assessed as a sale")
    else:
        w.note("gift.test", "no order, payment, seller or platform: a gift between private persons")


def excise_duty(w: Work, lines: list[Line], value_in: Callable[[dict[str, Any]], Decimal]) -> None:
    """Excise on the excise goods of the consignment; what cannot be computed is said, flagged
    and left to an officer (never charged as zero)."""
    goods = [ln for ln in lines if ln.excise_good]
    # Dir. 2006/79 relieves excise on a gift within the allowances; the UK charges it on every
    # gift of alcohol or tobacco (`gift.excise_payable`), the allowances relieving duty and VAT
    if w.gift_relieved and not w.rules.read("gift.excise_payable", w.trace):
        goods = [ln for ln in goods if ln.index not in w.gift_allowed]
    if not goods:
        return
    rates = w.rules.read("excise.rates", w.trace)
    units = w.rules.read("excise.supplementary_units", w.trace) or {}
    for ln in goods:
        line_item, read = with_supplementary(w.doc.items[ln.index], ln.hs or "", units)
        if read:
            w.note("excise.quantity", read, ln.index)
        due: ExciseDue | str = (
            excise_due(line_item, ln.hs or "", rates)
            if rates is not None
            else "the pack has no excise rates for this date"
        )
        if isinstance(due, str):
            w.flag("excise_not_computed")
            w.flag("manual_assessment_required")
            w.note("excise", f"not computed: {due}", ln.index)
            continue
        amount = w.convert(due.specific, due.currency, w.dest) + ln.customs * due.ad_valorem
        floor = w.convert(due.minimum, due.currency, w.dest) if due.minimum > 0 else ZERO
        if due.minimum_less_vat and floor > 0:
            # DE: the minimum less the VAT the retail price contains (declared value for it)
            vat = w.rules.read("tax.standard_rate", w.trace) or ZERO
            floor = max(floor - ln.customs * vat / (1 + vat), ZERO)
        if floor > amount:
            # the law's minimum duty (e.g. UK minimum excise tax) is the higher of the two
            w.note(
                "excise.minimum",
                f"{floor:.2f} {w.dest} applies: the computed {amount:.2f} is lower",
                ln.index,
            )
            amount = floor
        if due.ad_valorem > 0:
            w.flag("excise_ad_valorem_on_declared_value")
            w.note(
                "excise.ad_valorem_base",
                "the declared value stands in for the retail price",
                ln.index,
            )
        w.note("excise", due.text, ln.index)
        ln.excise = amount
        if amount > 0:
            w.charges.append(Charge("excise", amount, rate=due.text, item=ln.index))
