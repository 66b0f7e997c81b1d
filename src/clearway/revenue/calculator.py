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
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from clearway.domain.assessment import Assessment, Charge, PayableBy, TraceEntry
from clearway.domain.filing import FilingDocument
from clearway.kernel.codes import normalise_hs
from clearway.kernel.money import RoundingMode, round_amount
from clearway.revenue.collection import RegistrationStatus, choose_model
from clearway.revenue.excise import (
    ExciseDue,
    excise_due,
    with_supplementary,
    within_allowances,
)
from clearway.revenue.fx import ECB_REFERENCE, FxRule, FxTable
from clearway.revenue.irg import irg_category
from clearway.revenue.rules import Rules, show
from clearway.revenue.tariff import CORRELATION_REFERENCE, Tariff

ZERO = Decimal(0)
ONE = Decimal(1)

# What a person has already imported this year under a yearly quota (China): None = unknown.
AnnualUsage = Callable[[str, date], Decimal | None]


@dataclass(slots=True)
class Hooks:
    registration_status: RegistrationStatus | None = None
    annual_usage: AnnualUsage | None = None


@dataclass(slots=True)
class _Line:
    index: int
    hs: str | None
    value: Decimal  # filing currency
    customs: Decimal  # destination currency, unrounded
    quantity: int
    mass: Decimal | None
    duty: Decimal = ZERO
    extra: Decimal = ZERO  # transport and insurance share, destination currency
    excise: Decimal = ZERO
    excise_good: bool = False


class _Work:
    """Mutable state of one assessment while the steps run."""

    def __init__(self, doc: FilingDocument, rules: Rules, fx: FxTable) -> None:
        self.doc = doc
        self.rules = rules
        self.fx = fx
        self.trace: list[TraceEntry] = []
        self.flags: list[str] = []
        self.charges: list[Charge] = []
        self.when = rules.legal_date
        self.at = rules.legal_date.isoformat()
        self.dest = rules.currency
        self.fx_rule = FxRule.of(rules.value("fx.rule"))
        self._quotes: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        self.category = doc.category  # a "gift" that is not one in law is assessed as a sale
        self.gift_allowed: set[int] = set()  # excise lines of a gift within its allowances
        self.gift_relieved = False  # the gift relief applied (duty); allowed lines owe nothing

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)

    def note(self, name: str, value: str, item: int | None = None) -> None:
        self.trace.append(TraceEntry(name, value, at=self.at, item=item))

    def convert(self, amount: Decimal, source: str, to: str) -> Decimal:
        """`amount` of `source` in `to`: multiplied by `to` per EUR, divided by `source` per
        EUR (a division, so that USD 174.00 at 1.16 is exactly EUR 150.00)."""
        if source == to:
            return amount
        a, b = self.quote(source, to)
        return amount * b / a

    def quote(self, source: str, to: str) -> tuple[Decimal, Decimal]:
        """(source per EUR, to per EUR) for the legal date under the pack's rule, traced with
        the ECB publication used (and the rule, which the first conversion records)."""
        known = self._quotes.get((source, to))
        if known is not None:
            return known
        rule = self.fx_rule
        if not self._quotes:  # the first conversion records the rule
            self.rules.read("fx.rule", self.trace)
            if rule.approximates:
                self.flag("fx_rate_approximated")
                self.note("fx.approximation", f"ECB cross rate stands in for {rule.approximates}")
        q = self.fx.customs_quote(rule, source, to, self.when)
        name = f"fx.{source}.{to}"
        self._quotes[(source, to)] = q.via_eur
        if not any(t.name == name for t in self.trace):
            self.trace.append(
                TraceEntry(
                    name,
                    f"{q.rate:.6f} ({source}/EUR {q.via_eur[0]}, {to}/EUR {q.via_eur[1]})",
                    at=q.published.isoformat(),
                    reference=ECB_REFERENCE,
                )
            )
        return q.via_eur


def assess(
    doc: FilingDocument, rules: Rules, fx: FxTable, tariffs: dict[str, Tariff], hooks: Hooks
) -> Assessment:
    w = _Work(doc, rules, fx)
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

    excise = _excise(w, lines)
    _gift_in_law(w)
    _gift_allowances(w, lines)
    relieved = _reliefs(w, value_in)
    cbec = rules.read("cbec", w.trace) if not relieved else None
    if relieved:
        pass
    elif cbec is not None:
        _china(w, lines, cbec, to_dest(customs_src), hooks, tariffs)
    else:
        _duty(w, lines, value_in, tariffs)
        _excise_duty(w, lines, value_in)
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


def _lines(w: _Work, to_dest: Callable[[Decimal], Decimal]) -> list[_Line]:
    out: list[_Line] = []
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
        out.append(_Line(i, hs, value, to_dest(value), max(item.quantity, 1), item.net_mass_kg))
    return out


def _apportion(
    lines: list[_Line],
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


def _excise(w: _Work, lines: list[_Line]) -> bool:
    headings = w.rules.read("excise.headings", w.trace) or []
    hits = [ln for ln in lines if ln.hs and any(ln.hs.startswith(h) for h in headings)]
    for ln in hits:
        ln.excise_good = True
    if hits:
        w.flag("excise_goods")
    return bool(hits)


def _gift_allowances(w: _Work, lines: list[_Line]) -> None:
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


def _gift_in_law(w: _Work) -> None:
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


def _reliefs(w: _Work, value_in: Callable[[dict[str, Any]], Decimal]) -> bool:
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


def _below(w: _Work, name: str, value_in: Callable[[dict[str, Any]], Decimal]) -> bool:
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


def _override(w: _Work, name: str, threshold: dict[str, Any]) -> dict[str, Any]:
    """Canada's CUSMA courier thresholds: a shipment dispatched from a listed country by a
    listed mode has its own duty and tax thresholds."""
    key = {"duty.de_minimis": "duty", "tax.de_minimis": "tax"}.get(name)
    for rule in w.rules.read("thresholds.by_dispatch", w.trace) or [] if key else []:
        if w.doc.dispatch_country in rule["from_countries"] and w.doc.mode in rule["modes"]:
            w.note(f"{name}.by_dispatch", f"{rule['name']}: {show(rule[key])}")
            return {**threshold, "amount": rule[key]["amount"], "currency": rule[key]["currency"]}
    return threshold


def _gift(w: _Work, name: str, value_in: Callable[[dict[str, Any]], Decimal]) -> bool:
    return w.category == "gift" and _below(w, name, value_in)


def _excluded(w: _Work, lines: list[_Line]) -> list[_Line]:
    """Lines a duty relief does not reach (EU: alcohol, perfumes, tobacco — Reg. 1186/2009
    art. 24; GB, AU: excise goods): they pay the tariff whatever the consignment's value."""
    prefixes = w.rules.read("duty.relief_exclusions", w.trace) or []
    out = [ln for ln in lines if ln.hs and any(ln.hs.startswith(p) for p in prefixes)]
    for ln in out:
        w.note("duty.relief_exclusions.line", f"HS {ln.hs} is outside the relief", ln.index)
    return out


def _duty(
    w: _Work,
    lines: list[_Line],
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
            _tariff_duty(w, ln, tariffs)
        return
    gift_rate = w.rules.read("duty.gift_flat_rate", w.trace) if w.category == "gift" else None
    if (
        gift_rate is not None
        and value_in(gift_rate["max_value"]) <= gift_rate["max_value"]["amount"]
    ):
        _gift_flat_rate(w, lines, gift_rate, tariffs)
        return
    flat = w.rules.read("duty.flat_per_subheading", w.trace)
    if (
        flat is not None
        and w.category in flat["categories"]
        and (value_in(flat["max_value"]) <= flat["max_value"]["amount"])
    ):
        _flat_duty(w, others, flat)
        for ln in excluded:
            _tariff_duty(w, ln, tariffs)
        return
    _additional_not_modelled(w)
    postal = w.rules.read("duty.postal_specific", w.trace)
    if postal is not None and w.doc.mode in postal["modes"]:
        _postal_duty(w, lines, postal)
        return
    for ln in lines:
        _tariff_duty(w, ln, tariffs)


def _additional_not_modelled(w: _Work) -> None:
    missing = w.rules.read("duty.additional_not_modelled", w.trace)
    if missing:
        # e.g. US IEEPA, Section 301/232 duties and fees: the figure may be too low, and says so
        w.flag("additional_duties_not_modelled")
        w.note("duty.additional_not_modelled", missing)


def _origin_barred(w: _Work, lines: list[_Line]) -> list[_Line]:
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


def _gift_flat_rate(
    w: _Work, lines: list[_Line], gift_rate: dict[str, Any], tariffs: dict[str, Tariff]
) -> None:
    """Gifts between private persons above the relief and up to the limit pay a flat rate
    (EU: 2.5 % up to EUR 700, CN Annex I Part One Section II D; GB: 2.5 % up to GBP 630),
    except the goods the rule leaves out, which pay the tariff."""
    w.flag("gift_flat_rate")
    rate = gift_rate["rate"]
    for ln in lines:
        if ln.hs and any(ln.hs.startswith(p) for p in gift_rate["excluded"]):
            w.note("duty.gift_flat_rate.line", f"HS {ln.hs} is outside the flat rate", ln.index)
            _tariff_duty(w, ln, tariffs)
            continue
        ln.duty = ln.customs * rate
        if ln.duty > 0:
            w.charges.append(
                Charge(
                    "duty",
                    ln.duty,
                    rate=f"{pct(rate)} flat (gift)",
                    base=_r(ln.customs, w),
                    item=ln.index,
                )
            )


def _excise_duty(
    w: _Work, lines: list[_Line], value_in: Callable[[dict[str, Any]], Decimal]
) -> None:
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


def _flat_duty(w: _Work, lines: list[_Line], flat: dict[str, Any]) -> None:
    amount = w.convert(flat["amount"], flat["currency"], w.dest)
    seen: set[str] = set()
    for ln in lines:
        key = ln.hs[:6] if ln.hs else f"unclassified-{ln.index}"
        if ln.hs is None:
            w.flag("hs_code_missing")
        if key in seen:
            w.note("duty.flat_per_subheading.line", f"subheading {key} already charged", ln.index)
            continue
        seen.add(key)
        ln.duty = amount
        w.charges.append(
            Charge(
                "duty",
                amount,
                rate=f"{flat['currency']} {show(flat['amount'])} per subheading",
                item=ln.index,
            )
        )
    w.note("duty.subheadings", str(len(seen)))


def _postal_duty(w: _Work, lines: list[_Line], postal: dict[str, Any]) -> None:
    origins = {
        self_origin
        for self_origin in (w.doc.items[ln.index].origin_country for ln in lines)
        if self_origin
    } or ({w.doc.dispatch_country} if w.doc.dispatch_country else set())
    rates = postal["origin_rates"]
    known = [rates[o] for o in origins if o in rates]
    if not known or len(known) < len(origins):
        w.flag("origin_rate_unknown")
        origin_rate = max(rates.values())  # the highest tier: cannot under-collect
    else:
        origin_rate = max(known)
    w.note("duty.postal_specific.origin_rate", f"{origin_rate} (origins {sorted(origins)})")
    for tier in postal["tiers"]:
        if (
            ("below" in tier and origin_rate < tier["below"])
            or ("at_most" in tier and origin_rate <= tier["at_most"])
            or ("below" not in tier and "at_most" not in tier)
        ):
            amount = w.convert(tier["amount"], postal["currency"], w.dest)
            w.charges.append(
                Charge("duty", amount, rate=f"{postal['currency']} {tier['amount']} per package")
            )
            return


def _tariff_duty(w: _Work, ln: _Line, tariffs: dict[str, Tariff]) -> None:
    name = w.rules.read("duty.tariff", w.trace)
    tariff = tariffs.get(name) if name else None
    hit = tariff.lookup(ln.hs) if tariff is not None and ln.hs else None
    specific: tuple[tuple[Decimal, str, str], ...] = ()
    if hit is None:
        if tariff is not None or ln.hs is None:
            w.flag("hs_code_missing" if ln.hs is None else "hs_code_unknown")
        unlisted = _unlisted(w, ln.hs)
        default = None if unlisted else w.rules.read("duty.default_rate", w.trace)
        if default is None:
            w.flag("manual_assessment_required")
            why = unlisted or w.rules.read("duty.no_tariff_reason", w.trace)
            w.note(
                "duty.rate",
                f"no tariff line and no default rate: duty not computed ({why})"
                if why
                else "no tariff line and no default rate: duty not computed",
                ln.index,
            )
            return
        w.flag("tariff_rate_default")
        w.note("duty.rate", f"default {show(default)} (no tariff line for {ln.hs})", ln.index)
        ad_valorem, text = default, pct(default)
    else:
        w.note("duty.rate", f"{hit.rate.text} (line {hit.code} of {name})", ln.index)
        if hit.carried_from:
            _carried(w, ln, hit.carried_from, hit.ambiguous, hit.code)
        elif hit.ambiguous:
            w.flag("tariff_line_ambiguous")
        caveat = w.rules.read("duty.tariff_caveat", w.trace)
        if caveat and not hit.rate.is_free:
            w.flag("tariff_snapshot_unverified")
        if hit.rate.approximate:
            w.flag("duty_expression_approximated")
        ad_valorem, specific, text = hit.rate.ad_valorem, hit.rate.specific, hit.rate.text
    duty = ln.customs * ad_valorem
    for amount, currency, unit in specific:
        if unit == "kg":
            if ln.mass is None:
                w.flag("net_mass_missing")
                w.note("duty.specific", f"{amount} {currency}/kg not applied: no mass", ln.index)
                continue
            duty += w.convert(amount * ln.mass, currency, w.dest)
        else:
            duty += w.convert(amount * ln.quantity, currency, w.dest)
    ln.duty = duty
    if duty > 0:
        w.charges.append(Charge("duty", duty, rate=text, base=_r(ln.customs, w), item=ln.index))


def _unlisted(w: _Work, hs: str | None) -> str | None:
    """The pack's reason for goods it has no rate for (longest HS prefix), if any."""
    reasons: dict[str, str] = w.rules.read("duty.unlisted", w.trace) or {}
    for size in range(len(hs or ""), 1, -1):
        why = reasons.get((hs or "")[:size])
        if why:
            return why
    return None


def _carried(w: _Work, ln: _Line, sources: tuple[str, ...], differ: bool, code: str) -> None:
    """An HS 2022 subheading the HS 2017 tariff lacks: say where its rate came from."""
    w.flag("tariff_line_carried_hs2022")
    how = (
        f"the source lines carry different rates: the highest, of line {code}, is applied"
        if differ
        else "all source lines carry this rate"
    )
    if differ:
        w.flag("tariff_line_ambiguous")
    w.trace.append(
        TraceEntry(
            "duty.hs2022_correlation",
            f"HS 2022 {(ln.hs or '')[:6]} ← HS 2017 {', '.join(sources)}; {how}",
            at=w.at,
            reference=CORRELATION_REFERENCE,
            item=ln.index,
        )
    )


def pct(rate: Decimal) -> str:
    """0.19 → "19%", 0.255 → "25.5%"."""
    return f"{format((rate * 100).normalize(), 'f')}%"


def _r(amount: Decimal, w: _Work) -> Decimal:
    return round_amount(amount, w.dest)


def _tax(w: _Work, lines: list[_Line], value_in: Callable[[dict[str, Any]], Decimal]) -> None:
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
            w.charges.append(Charge("vat", base * rate, rate=text, base=_r(base, w), item=ln.index))
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


def _regional(w: _Work, rate: Decimal, label: str) -> tuple[Decimal, str]:
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


def _fees(w: _Work, lines: list[_Line], value_in: Callable[[dict[str, Any]], Decimal]) -> None:
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


def _china(
    w: _Work,
    lines: list[_Line],
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
            _tariff_duty(w, ln, tariffs)
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
                    base=_r(grossed, w),
                    item=ln.index,
                )
            )
        if vat > 0:
            w.charges.append(
                Charge(
                    "vat",
                    grossed * vat * factor,
                    rate=f"VAT {pct(vat)} × {factor}",
                    base=_r(grossed, w),
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
