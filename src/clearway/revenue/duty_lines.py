"""Duty per line: the tariff (with HS 2022 lines carried from HS 2017), a flat amount per
subheading, postal per-package duty and the gifts' flat rate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from clearway.domain.assessment import Charge, TraceEntry
from clearway.revenue.calc_work import Line, Work, pct, rounded
from clearway.revenue.rules import show
from clearway.revenue.tariff import CORRELATION_REFERENCE, Tariff


def gift_flat_rate(
    w: Work, lines: list[Line], gift_rate: dict[str, Any], tariffs: dict[str, Tariff]
) -> None:
    """Gifts between private persons above the relief and up to the limit pay a flat rate
    (EU: 2.5 % up to EUR 700, CN Annex I Part One Section II D; GB: 2.5 % up to GBP 630),
    except the goods the rule leaves out, which pay the tariff."""
    w.flag("gift_flat_rate")
    rate = gift_rate["rate"]
    for ln in lines:
        if ln.hs and any(ln.hs.startswith(p) for p in gift_rate["excluded"]):
            w.note("duty.gift_flat_rate.line", f"HS {ln.hs} is outside the flat rate", ln.index)
            tariff_duty(w, ln, tariffs)
            continue
        ln.duty = ln.customs * rate
        if ln.duty > 0:
            w.charges.append(
                Charge(
                    "duty",
                    ln.duty,
                    rate=f"{pct(rate)} flat (gift)",
                    base=rounded(ln.customs, w),
                    item=ln.index,
                )
            )


def flat_duty(w: Work, lines: list[Line], flat: dict[str, Any]) -> None:
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


def postal_duty(w: Work, lines: list[Line], postal: dict[str, Any]) -> None:
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


def tariff_duty(w: Work, ln: Line, tariffs: dict[str, Tariff]) -> None:
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
        w.charges.append(
            Charge("duty", duty, rate=text, base=rounded(ln.customs, w), item=ln.index)
        )


def _unlisted(w: Work, hs: str | None) -> str | None:
    """The pack's reason for goods it has no rate for (longest HS prefix), if any."""
    reasons: dict[str, str] = w.rules.read("duty.unlisted", w.trace) or {}
    for size in range(len(hs or ""), 1, -1):
        why = reasons.get((hs or "")[:size])
        if why:
            return why
    return None


def _carried(w: Work, ln: Line, sources: tuple[str, ...], differ: bool, code: str) -> None:
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
