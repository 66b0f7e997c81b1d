"""The law of each destination as the public pages show it: every pack parameter in force on a
day, with its history and legal reference, read from the same packs the calculator uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from clearway.revenue.assessor import PackAssessor
from clearway.revenue.packs import RATE, SCHEMA, Pack
from clearway.revenue.rules import show

# Which parameters go in which section of a jurisdiction page, in reading order.
SECTIONS: dict[str, tuple[str, ...]] = {
    "thresholds": (
        "duty.de_minimis",
        "tax.de_minimis",
        "duty.gift_relief",
        "tax.gift_relief",
        "irg.low_value_threshold",
        "cbec",
        "duty.gift_flat_rate",
        "tax.waiver",
        "thresholds.by_dispatch",
    ),
    "rates": (
        "tax.label",
        "tax.standard_rate",
        "duty.default_rate",
        "duty.flat_per_subheading",
        "duty.postal_specific",
        "consumption_tax.rates",
        "excise.headings",
        "excise.rates",
        "duty.relief_exclusions",
        "tax.regional_rates",
        "fees",
    ),
    "collection": ("collection.vendor", "collection.intermediary"),
    "valuation": (
        "valuation.basis",
        "fx.rule",
        "rounding",
        "duty.tariff",
        "duty.tariff_edition",
        "relief.returned_goods",
    ),
}


@dataclass(frozen=True, slots=True)
class PeriodView:
    start: date
    until: date | None
    value: str
    reference: str


@dataclass(frozen=True, slots=True)
class ParamView:
    name: str
    current: str | None  # None: nothing in force on the day
    reference: str | None
    history: tuple[PeriodView, ...]


def assessor_of(candidate: object) -> PackAssessor:
    return candidate if isinstance(candidate, PackAssessor) else PackAssessor.load_default()


def countries(assessor: PackAssessor) -> dict[str, tuple[Pack, str]]:
    """Destination country -> (its pack, its currency), sorted by country code."""
    out = {c: (p, cur) for p in assessor.packs.values() for c, cur in p.countries.items()}
    return dict(sorted(out.items()))


def display(name: str, value: Any) -> str:
    if value is None:
        return show(None)
    if SCHEMA.get(name) == RATE and isinstance(value, Decimal):
        return f"{(value * 100).normalize():f}%"
    return show(value)


def parameters(pack: Pack, country: str, on: date) -> dict[str, list[ParamView]]:
    """Per section, the parameters the pack defines for `country`, read on `on`."""
    out: dict[str, list[ParamView]] = {}
    for section, names in SECTIONS.items():
        views = []
        for name in names:
            timeline = pack.timeline(name, country)
            if timeline is None:
                continue
            now = timeline.at(on)
            views.append(
                ParamView(
                    name,
                    display(name, now.value) if now is not None else None,
                    now.reference if now is not None else None,
                    tuple(
                        PeriodView(p.start, p.until, display(name, p.value), p.reference)
                        for p in timeline.periods
                    ),
                )
            )
        out[section] = views
    return out
