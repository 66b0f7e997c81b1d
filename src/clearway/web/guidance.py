"""Public guidance per destination (WCO Principle VII), written from the pack in force on a day:
what a shopper pays and to whom, and what a seller or platform must register and collect —
each statement with the legal source and the date from which it applies, so the page cannot
drift from the law the calculator applies.

A statement is a catalogue key (`guide_…`, translated on the page) and its values; amounts are
formatted by the page in its language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from clearway.revenue.packs import Pack
from clearway.web.formats import Formats


@dataclass(frozen=True, slots=True)
class Point:
    key: str  # catalogue key of the sentence (with %(name)s placeholders)
    values: dict[str, Any] = field(default_factory=dict)  # amounts as (Decimal, currency)
    reference: str | None = None
    since: date | None = None


@dataclass(frozen=True, slots=True)
class Guidance:
    shoppers: list[Point]
    sellers: list[Point]


TAX_NAMES = ("VAT", "GST")  # the packs' `tax.label` values, translated as `taxname_<label>`
KEYS = (
    *(f"taxname_{t}" for t in TAX_NAMES),
    "guide_duty_free_up_to",
    "guide_duty_from_first",
    "guide_tax_free_up_to",
    "guide_tax_from_first",
    "guide_tax_rate",
    "guide_gift_duty",
    "guide_gift_tax",
    "guide_vendor_optional",
    "guide_vendor_mandatory",
    "guide_intermediary",
    "guide_consumer_pays",
    "guide_cbec",
    "guide_returns",
    "guide_no_returns_relief",
    "guide_seller_register_optional",
    "guide_seller_register_mandatory",
    "guide_seller_excise",
    "guide_seller_number",
    "guide_intermediary_operators",
    "guide_valuation_cif",
    "guide_valuation_fob",
)


def _money(v: Any) -> tuple[Decimal, str] | None:
    if isinstance(v, dict) and "amount" in v and "currency" in v:
        return Decimal(str(v["amount"])), str(v["currency"])
    return None


def build(pack: Pack, country: str, on: date) -> Guidance:
    def read(name: str) -> tuple[bool, Any, str | None, date | None]:
        timeline = pack.timeline(name, country)
        if timeline is None:
            return False, None, None, None
        now = timeline.at(on)
        if now is None:
            return False, None, None, None
        return True, now.value, now.reference, now.start

    shop: list[Point] = []
    sell: list[Point] = []
    has_tax, tax_label, _, _ = read("tax.label")
    tax = str(tax_label) if has_tax and tax_label else ""

    known, value, ref, since = read("duty.de_minimis")
    if known:
        amount = _money(value)
        if amount:
            shop.append(Point("guide_duty_free_up_to", {"amount": amount}, ref, since))
        else:
            shop.append(Point("guide_duty_from_first", {}, ref, since))
    if tax:
        known, value, ref, since = read("tax.de_minimis")
        amount = _money(value)
        if known and amount:
            shop.append(Point("guide_tax_free_up_to", {"tax": tax, "amount": amount}, ref, since))
        elif known:
            shop.append(Point("guide_tax_from_first", {"tax": tax}, ref, since))
        known, value, ref, since = read("tax.standard_rate")
        if known and value is not None:
            shop.append(Point("guide_tax_rate", {"tax": tax, "rate": value}, ref, since))
    gifts = (("duty.gift_relief", "guide_gift_duty"), ("tax.gift_relief", "guide_gift_tax"))
    for name, key in gifts:
        known, value, ref, since = read(name)
        amount = _money(value)
        if known and amount:
            shop.append(Point(key, {"tax": tax, "amount": amount}, ref, since))

    vendor_known, vendor, vref, vsince = read("collection.vendor")
    inter_known, inter, iref, isince = read("collection.intermediary")
    if vendor_known and isinstance(vendor, dict):
        limit = _money(vendor.get("max_value"))
        values = {"tax": tax, "amount": limit}
        mandatory = bool(vendor.get("mandatory"))
        shop.append(
            Point(
                "guide_vendor_mandatory" if mandatory else "guide_vendor_optional",
                values,
                vref,
                vsince,
            )
        )
        sell.append(
            Point(
                "guide_seller_register_mandatory"
                if mandatory
                else "guide_seller_register_optional",
                values,
                vref,
                vsince,
            )
        )
        if vendor.get("number_pattern"):
            sell.append(
                Point("guide_seller_number", {"pattern": vendor["number_pattern"]}, vref, vsince)
            )
        if vendor.get("excludes_excise"):
            sell.append(Point("guide_seller_excise", {"tax": tax}, vref, vsince))
    if inter_known and isinstance(inter, dict):
        limit = _money(inter.get("max_value"))
        shop.append(Point("guide_intermediary", {"tax": tax, "amount": limit}, iref, isince))
        sell.append(
            Point("guide_intermediary_operators", {"tax": tax, "amount": limit}, iref, isince)
        )
    if not (vendor_known and isinstance(vendor, dict)) and not inter_known:
        shop.append(Point("guide_consumer_pays"))

    known, value, ref, since = read("cbec")
    if known and isinstance(value, dict):
        shop.append(
            Point(
                "guide_cbec",
                {
                    "amount": _money(value.get("transaction_limit")),
                    "annual": _money(value.get("annual_limit")),
                },
                ref,
                since,
            )
        )
    known, value, ref, since = read("relief.returned_goods")
    shop.append(
        Point("guide_returns", {}, ref, since)
        if known and value
        else Point("guide_no_returns_relief")
    )
    known, value, ref, since = read("valuation.basis")
    if known and value in ("cif", "fob"):
        sell.append(Point(f"guide_valuation_{value}", {}, ref, since))
    return Guidance(shop, sell)


def sentence(point: Point, gettext: Callable[[str], str], fmt: Formats) -> str:
    """The statement in the page's language, amounts and rates in its number format."""
    values: dict[str, str] = {}
    for name, value in point.values.items():
        if isinstance(value, tuple):
            values[name] = fmt.money(value[0], value[1])
        elif isinstance(value, Decimal) and name == "rate":
            values[name] = fmt.pct(value)
        elif name == "tax" and value in TAX_NAMES:
            values[name] = gettext(f"taxname_{value}")
        else:
            values[name] = "" if value is None else str(value)
    template = gettext(point.key)
    try:
        return template % values
    except (KeyError, ValueError, TypeError):
        return template
