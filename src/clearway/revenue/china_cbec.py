"""China's cross-border e-commerce retail import tax: within the transaction and yearly limits,
no duty and 70 % of VAT and consumption tax; above them, general trade."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clearway.domain.assessment import Charge
from clearway.revenue.calc_work import ONE, ZERO, Hooks, Line, Work, pct, rounded
from clearway.revenue.duty_lines import tariff_duty
from clearway.revenue.tariff import Tariff


def china_cbec(
    w: Work,
    lines: list[Line],
    cbec: dict[str, Any],
    customs_dest: Decimal,
    hooks: Hooks,
    tariffs: dict[str, Tariff],
) -> None:
    """Cross-border e-commerce retail import: limits per transaction and per person-year."""
    vat = w.rules.read("tax.standard_rate", w.trace) or ZERO
    ct_rates: dict[str, Decimal] = w.rules.read("consumption_tax.rates", w.trace) or {}
    limit, annual = cbec["transaction_limit"], cbec["annual_limit"]
    value = w.convert(customs_dest, w.dest, limit["currency"])
    # the person is the orderer (China: the buyer's ID number), else the consignee
    who = w.doc.buyer if w.doc.buyer and w.doc.buyer.identifier else w.doc.consignee
    person = who.identifier if who else None
    used = hooks.annual_usage(person, w.when) if hooks.annual_usage and person else None
    w.note("cbec.annual_used", f"{used}" if used is not None else "unknown: assumed 0")
    used = used or ZERO
    within_year = used + value <= annual["amount"]
    single = len(lines) == 1 and lines[0].quantity == 1
    if value <= limit["amount"] and within_year:
        factor, duty_rate = cbec["tax_factor"], cbec["duty_rate"]
        w.flag("cbec_within_limits")
    elif single and within_year:
        factor, duty_rate = ONE, None
        w.flag("cbec_single_item_above_transaction_limit")
    else:
        factor, duty_rate = ONE, None
        w.flag("cbec_annual_limit_exceeded" if not within_year else "cbec_general_trade")
    w.note("cbec.test", f"{value:.2f} {limit['currency']}; factor {factor}")
    for ln in lines:
        if duty_rate is None:
            tariff_duty(w, ln, tariffs)
        ct = _ct_rate(ct_rates, ln.hs)
        grossed = (ln.customs + ln.duty) / (ONE - ct)
        composite = (ct + vat) / (ONE - ct) * factor
        w.note(
            "cbec.composite_rate",
            f"({ct} + {vat}) / (1 - {ct}) × {factor} = {composite:.4f}",
            ln.index,
        )
        if ct > 0:
            w.charges.append(
                Charge(
                    "consumption_tax",
                    grossed * ct * factor,
                    rate=f"{pct(ct)} × {factor}",
                    base=rounded(grossed, w),
                    item=ln.index,
                )
            )
        if vat > 0:
            w.charges.append(
                Charge(
                    "vat",
                    grossed * vat * factor,
                    rate=f"VAT {pct(vat)} × {factor}",
                    base=rounded(grossed, w),
                    item=ln.index,
                )
            )


def _ct_rate(rates: dict[str, Decimal], hs: str | None) -> Decimal:
    if not hs:
        return ZERO
    for size in range(len(hs), 1, -1):
        rate = rates.get(hs[:size])
        if rate is not None:
            return rate
    return ZERO
