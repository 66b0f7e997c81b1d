"""The calculator: one consignment + the law on its legal date → an assessment with its trace.

Steps (each reads pack parameters through `Rules.read`, which records them in the trace):
1. FX: the filing currency into the destination currency at the legal date (ECB).
2. Values: intrinsic value (goods only) and customs value (plus transport and insurance,
   apportioned to items by value, when the pack's valuation basis is CIF).
3. Reliefs: documents, returned goods, gifts — each on its own threshold.
4. Duty: de minimis on its basis, then flat per subheading, postal per-package duty, or the
   tariff (ad valorem, specific per kg / per item, compound) per item.
5. Tax: de minimis on its basis, base = customs value + duty, destination rate; or China's
   cross-border e-commerce rules (0 % duty, VAT and consumption tax at 70 % within the limits).
6. Fees, rounding per charge (pack rounding mode, currency minor unit), total = sum of charges.
7. Collection model and IRG category.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from clearway.domain.assessment import Assessment, Charge, PayableBy
from clearway.domain.filing import FilingDocument
from clearway.kernel.codes import normalise_hs
from clearway.kernel.money import RoundingMode, round_amount
from clearway.revenue.calc_work import ONE, ZERO, AnnualUsage, Hooks, Line, Work, pct, rounded
from clearway.revenue.china_cbec import china_cbec
from clearway.revenue.collection import choose_model
from clearway.revenue.duty_lines import flat_duty, gift_flat_rate, postal_duty, tariff_duty
from clearway.revenue.excise_steps import (
    excise_duty,
    gift_allowances,
    gift_in_law,
    mark_excise_goods,
)
from clearway.revenue.fx import FxTable
from clearway.revenue.irg import irg_category
from clearway.revenue.rules import Rules, show
from clearway.revenue.tariff import Tariff

# The calculator's entry point and the steps that choose between rules; the per-line duty,
# excise and China's rules live in their own modules (imported above).
__all__ = ["ONE", "ZERO", "AnnualUsage", "Hooks", "assess", "pct"]


def assess(
    doc: FilingDocument, rules: Rules, fx: FxTable, tariffs: dict[str, Tariff], hooks: Hooks
) -> Assessment:
    w = Work(doc, rules, fx)
    rounding = rules.read("rounding", w.trace) or {"mode": "half_up"}
    mode: RoundingMode = rounding["mode"]
    src = doc.currency.upper()

    def to_dest(amount: Decimal) -> Decimal:
        return w.convert(amount, src, w.dest)

    lines = _lines(w, to_dest)
    intrinsic = sum((ln.value for ln in lines), ZERO)
    extra = (doc.transport_cost or ZERO) + (doc.insurance_cost or ZERO)
    basis = rules.read("valuation.basis", w.trace) or "cif"
    if extra > 0:
        _apportion(lines, intrinsic, extra, to_dest, into_customs=basis == "cif")
    if extra > 0 and basis != "cif":
        w.note("valuation.transport_insurance", f"{extra} {src} not in the customs value ({basis})")
    customs_src = intrinsic + (extra if basis == "cif" else ZERO)

    def value_in(threshold: dict[str, Any]) -> Decimal:
        base = customs_src if threshold.get("basis") == "customs_value" else intrinsic
        return w.convert(base, src, threshold["currency"])

    excise = mark_excise_goods(w, lines)
    gift_in_law(w)
    gift_allowances(w, lines)
    relieved = _reliefs(w, value_in)
    cbec = rules.read("cbec", w.trace) if not relieved else None
    if relieved:
        pass
    elif cbec is not None:
        china_cbec(w, lines, cbec, to_dest(customs_src), hooks, tariffs)
    else:
        _duty(w, lines, value_in, tariffs)
        excise_duty(w, lines, value_in)
        _tax(w, lines, value_in)
        _fees(w, lines, value_in)

    for charge in w.charges:
        charge.amount = round_amount(charge.amount, w.dest, mode)
    total = sum((c.amount for c in w.charges), ZERO)

    choice = choose_model(
        doc,
        w.when,
        rules.read("collection.vendor", w.trace),
        rules.read("collection.intermediary", w.trace),
        value_in,
        excise,
        hooks.registration_status,
        w.category,
        lambda currency: [w.convert(ln.value, src, currency) for ln in lines],
    )
    w.flags.extend(f for f in choice.flags if f not in w.flags)
    w.trace.extend(choice.trace)
    if choice.model != doc.collection_model:
        w.note("collection.model", f"{choice.model} (declared {doc.collection_model})")
    payable_by: PayableBy = "none" if total == 0 else choice.model  # type: ignore[assignment]

    collected_at_import = total
    if choice.model == "vendor":
        collected_at_import = sum((c.amount for c in w.charges if c.kind in ("duty", "fee")), ZERO)
    low = rules.read("irg.low_value_threshold", w.trace)
    is_low = low is not None and value_in(low) <= low["amount"]
    category = irg_category(doc.category == "documents", is_low, collected_at_import)

    return Assessment(
        currency=w.dest,
        jurisdiction=rules.jurisdiction,
        legal_date=w.at,
        irg_category=category,
        collection_model=choice.model,
        payable_by=payable_by,
        customs_value=round_amount(to_dest(customs_src), w.dest, mode),
        intrinsic_value=round_amount(to_dest(intrinsic), w.dest, mode),
        charges=w.charges,
        total=total,
        flags=w.flags,
        trace=w.trace,
    )


def _lines(w: Work, to_dest: Callable[[Decimal], Decimal]) -> list[Line]:
    out: list[Line] = []
    for i, item in enumerate(w.doc.items):
        value = item.value
        if value is None:
            w.flag("value_missing")
            w.note("item.value", "missing: assessed as 0", item=i)
            value = ZERO
        elif value < 0:
            w.flag("value_negative")
            w.note("item.value", f"{value} is negative: assessed as 0", item=i)
            value = ZERO
        hs = normalise_hs(item.hs_code) if item.hs_code else None
        out.append(Line(i, hs, value, to_dest(value), max(item.quantity, 1), item.net_mass_kg))
    return out


def _apportion(
    lines: list[Line],
    intrinsic: Decimal,
    extra: Decimal,
    to_dest: Callable[[Decimal], Decimal],
    into_customs: bool,
) -> None:
    """Spread transport and insurance over items by value (equally when no item has a value)."""
    for ln in lines:
        share = ln.value / intrinsic if intrinsic > 0 else ONE / len(lines)
        ln.extra = to_dest(extra * share)
        if into_customs:
            ln.customs = to_dest(ln.value + extra * share)


def _reliefs(w: Work, value_in: Callable[[dict[str, Any]], Decimal]) -> bool:
    """Documents and returned goods owe nothing; True when the whole consignment is relieved."""
    category = w.doc.category
    if category == "documents":
        w.flag("documents")
        w.note("relief", "documents: no duty or tax")
        return True
    if category == "returned_goods" and w.rules.read("relief.returned_goods", w.trace):
        w.flag("returned_goods_relief")
        return True
    return False


def _below(w: Work, name: str, value_in: Callable[[dict[str, Any]], Decimal]) -> bool:
    """Whether the consignment is at or below the threshold parameter `name` (traced)."""
    threshold = w.rules.read(name, w.trace)
    if threshold is None:
        return False
    threshold = _override(w, name, threshold)
    value = value_in(threshold)
    # `strict`: the law says "less than" (Norway's NOK 350), not "not exceeding"
    at_or_below: bool = (
        value < threshold["amount"] if threshold.get("strict") else value <= threshold["amount"]
    )
    w.note(
        f"{name}.test",
        f"{value:.2f} {threshold['currency']} {'≤' if at_or_below else '>'} {show(threshold)}",
    )
    return at_or_below


def _override(w: Work, name: str, threshold: dict[str, Any]) -> dict[str, Any]:
    """Canada's CUSMA courier thresholds: a shipment dispatched from a listed country by a
    listed mode has its own duty and tax thresholds."""
    key = {"duty.de_minimis": "duty", "tax.de_minimis": "tax"}.get(name)
    for rule in w.rules.read("thresholds.by_dispatch", w.trace) or [] if key else []:
        if w.doc.dispatch_country in rule["from_countries"] and w.doc.mode in rule["modes"]:
            w.note(f"{name}.by_dispatch", f"{rule['name']}: {show(rule[key])}")
            return {**threshold, "amount": rule[key]["amount"], "currency": rule[key]["currency"]}
    return threshold


def _gift(w: Work, name: str, value_in: Callable[[dict[str, Any]], Decimal]) -> bool:
    return w.category == "gift" and _below(w, name, value_in)


def _excluded(w: Work, lines: list[Line]) -> list[Line]:
    """Lines a duty relief does not reach (EU: alcohol, perfumes, tobacco — Reg. 1186/2009
    art. 24; GB, AU: excise goods): they pay the tariff whatever the consignment's value."""
    prefixes = w.rules.read("duty.relief_exclusions", w.trace) or []
    out = [ln for ln in lines if ln.hs and any(ln.hs.startswith(p) for p in prefixes)]
    for ln in out:
        w.note("duty.relief_exclusions.line", f"HS {ln.hs} is outside the relief", ln.index)
    return out


def _duty(
    w: Work,
    lines: list[Line],
    value_in: Callable[[dict[str, Any]], Decimal],
    tariffs: dict[str, Tariff],
) -> None:
    excluded = _excluded(w, lines)
    others = [ln for ln in lines if ln not in excluded]
    relief = None
    if _gift(w, "duty.gift_relief", value_in):
        relief = "gift_relief_duty"
    elif _below(w, "duty.de_minimis", value_in):
        relief = "duty_de_minimis"
        barred = _origin_barred(w, others)
        excluded, others = excluded + barred, [ln for ln in others if ln not in barred]
    if relief == "gift_relief_duty":
        w.gift_relieved = True
        excluded = [ln for ln in excluded if ln.index not in w.gift_allowed]
        others = [ln for ln in lines if ln not in excluded]
    if relief is not None:
        if others:
            w.flag(relief)
        if excluded:
            w.flag("duty_relief_excluded_goods")
            _additional_not_modelled(w)
        for ln in excluded:
            tariff_duty(w, ln, tariffs)
        return
    gift_rate = w.rules.read("duty.gift_flat_rate", w.trace) if w.category == "gift" else None
    if (
        gift_rate is not None
        and value_in(gift_rate["max_value"]) <= gift_rate["max_value"]["amount"]
    ):
        gift_flat_rate(w, lines, gift_rate, tariffs)
        return
    flat = w.rules.read("duty.flat_per_subheading", w.trace)
    if (
        flat is not None
        and w.category in flat["categories"]
        and (value_in(flat["max_value"]) <= flat["max_value"]["amount"])
    ):
        flat_duty(w, others, flat)
        for ln in excluded:
            tariff_duty(w, ln, tariffs)
        return
    _additional_not_modelled(w)
    postal = w.rules.read("duty.postal_specific", w.trace)
    if postal is not None and w.doc.mode in postal["modes"]:
        postal_duty(w, lines, postal)
        return
    for ln in lines:
        tariff_duty(w, ln, tariffs)


def _additional_not_modelled(w: Work) -> None:
    missing = w.rules.read("duty.additional_not_modelled", w.trace)
    if missing:
        # e.g. US IEEPA, Section 301/232 duties and fees: the figure may be too low, and says so
        w.flag("additional_duties_not_modelled")
        w.note("duty.additional_not_modelled", missing)


def _origin_barred(w: Work, lines: list[Line]) -> list[Line]:
    """Lines the de minimis does not reach because of their origin (`excluded_origins` of the
    threshold; US: goods of China and Hong Kong from 2025-05-02, EO 14256). A line's origin is
    its item's `origin_country`, else the consignment's dispatch country."""
    threshold = w.rules.read("duty.de_minimis", w.trace) or {}
    barred = {str(c).upper() for c in threshold.get("excluded_origins") or ()}
    out = []
    for ln in lines if barred else ():
        origin = (w.doc.items[ln.index].origin_country or w.doc.dispatch_country or "").upper()
        if origin in barred:
            w.note("duty.de_minimis.excluded_origin", f"origin {origin}: no de minimis", ln.index)
            out.append(ln)
    return out


def _tax(w: Work, lines: list[Line], value_in: Callable[[dict[str, Any]], Decimal]) -> None:
    rate = w.rules.read("tax.standard_rate", w.trace)
    if rate is None:
        return
    taxed = lines
    if _gift(w, "tax.gift_relief", value_in):
        w.flag("gift_relief_tax")
        # excise goods beyond the gift allowances stay taxed
        taxed = [ln for ln in lines if ln.excise_good and ln.index not in w.gift_allowed]
        if not taxed:
            return
    elif _below(w, "tax.de_minimis", value_in):
        prefixes = w.rules.read("duty.relief_exclusions", w.trace) or []
        taxed = [ln for ln in lines if ln.hs and any(ln.hs.startswith(p) for p in prefixes)]
        if len(taxed) < len(lines):
            w.flag("tax_de_minimis")
        if not taxed:
            return
    rate, label = _regional(w, rate, w.rules.read("tax.label", w.trace) or "VAT")
    text = f"{label} {pct(rate)}"
    transport = bool(w.rules.read("tax.base_includes_transport", w.trace))
    first = len(w.charges)
    for ln in taxed:
        # VAT Directive art. 86(1)(a): duties, taxes and other charges due on import (excise
        # included) are part of the taxable amount; GST Act s.13-20(2) likewise
        base = ln.customs + ln.duty + ln.excise + (ln.extra if transport else ZERO)
        if base > 0:
            w.charges.append(
                Charge("vat", base * rate, rate=text, base=rounded(base, w), item=ln.index)
            )
    waiver = w.rules.read("tax.waiver", w.trace)
    if waiver is not None:
        due = sum((c.amount for c in w.charges[first:]), ZERO)
        limit = w.convert(waiver["amount"], waiver["currency"], w.dest)
        at_or_below = round_amount(due, w.dest) <= limit
        w.note(
            "tax.waiver.test", f"{due:.2f} {w.dest} {'≤' if at_or_below else '>'} {show(waiver)}"
        )
        if at_or_below:
            del w.charges[first:]
            w.flag("tax_waived_small_amount")


def _regional(w: Work, rate: Decimal, label: str) -> tuple[Decimal, str]:
    """A federal tax with regional rates (Canada's GST/HST by province): the region of the
    consignee from the postcode's first letter; unknown → the federal rate, flagged."""
    regional = w.rules.read("tax.regional_rates", w.trace)
    if regional is None:
        return rate, label
    postcode = (w.doc.consignee.postcode if w.doc.consignee else None) or ""
    region = regional["postcode_prefixes"].get(postcode.strip()[:1].upper())
    if region is None:
        w.flag("tax_region_unknown")
        w.note("tax.region", f"no region for postcode {postcode!r}: federal rate only")
        return rate, label
    entry = regional["regions"].get(region)
    w.note("tax.region", f"{region} (postcode {postcode})")
    if entry is None:
        return rate, label
    return entry["rate"], entry["label"]


def _fees(w: Work, lines: list[Line], value_in: Callable[[dict[str, Any]], Decimal]) -> None:
    for fee in w.rules.read("fees", w.trace) or []:
        if value_in(fee["max_value"]) > fee["max_value"]["amount"]:
            continue
        amount = w.convert(fee["amount"], fee["currency"], w.dest)
        rate = f"{fee['name']}: {fee['currency']} {show(fee['amount'])} per {fee['per']}"
        if fee["per"] == "consignment":
            w.charges.append(Charge("fee", amount, rate=rate))
            continue
        seen: set[str] = set()
        for ln in lines:
            key = (
                (ln.hs[:6] if ln.hs else f"-{ln.index}")
                if fee["per"] == "subheading"
                else str(ln.index)
            )
            if key not in seen:
                seen.add(key)
                w.charges.append(Charge("fee", amount, rate=rate, item=ln.index))
