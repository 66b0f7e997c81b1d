"""Excise duties on alcohol and tobacco, from a pack's dated `excise.rates` entries.

An entry names the goods (HS prefixes, optionally an alcoholic-strength band) and how the duty is
measured: `litre_alcohol` (volume × strength, e.g. Germany's spirits duty of EUR 1,303 per
hectolitre of pure alcohol, the UK's alcohol duty since 2023-08-01; `assumed_abv` taxes a whole
band at one strength, as the UK's wine easement did), `litre` (volume of product,
e.g. sparkling wine), `stick` (cigarettes) or `kg` (tobacco by weight); `ad_valorem` adds a share
of the value (tobacco duties take it of the retail selling price, which a parcel does not carry:
the declared value stands in for it, and the charge says so).

`excise_due` answers the amount in the entry's currency, or why it cannot be computed (no entry
for the goods, or the filing lacks the quantity the duty is measured in) — never a zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from clearway.domain.filing import Item

UNITS = ("litre_alcohol", "litre", "stick", "kg")
UNIT_NAMES = {"litre_alcohol": "litre of alcohol", "litre": "litre", "stick": "stick", "kg": "kg"}
# strength band keys: at least, more than, less than, at most (% vol), as the laws word them
BANDS = ("min_abv", "above_abv", "below_abv", "max_abv")
HUNDRED = Decimal(100)
ZERO = Decimal(0)


def check_rates(value: Any) -> list[dict[str, Any]]:
    """Validate a pack's `excise.rates` list (used by the pack loader)."""
    out = []
    for entry in value:
        if entry["unit"] not in UNITS:
            raise ValueError(f"excise unit is one of {', '.join(UNITS)}")
        prefixes = [str(p) for p in entry["prefixes"]]
        if not prefixes or any(not p.isdigit() for p in prefixes):
            raise ValueError("excise prefixes are HS digits")
        row: dict[str, Any] = {
            "name": str(entry["name"]),
            "prefixes": prefixes,
            "unit": str(entry["unit"]),
            "amount": Decimal(str(entry["amount"])),
            "currency": str(entry["currency"]),
            "ad_valorem": Decimal(str(entry.get("ad_valorem", "0"))),
        }
        for key in BANDS:  # strength band, % vol
            if key in entry:
                row[key] = Decimal(str(entry[key]))
        # percentage points of strength the duty does not reach (Australia's beer: 1.15 % vol)
        row["abv_free"] = Decimal(str(entry.get("abv_free", "0")))
        if "assumed_abv" in entry:  # a strength the law taxes the band at (the UK wine easement)
            row["assumed_abv"] = Decimal(str(entry["assumed_abv"]))
        # a floor per unit the duty never falls below (UK minimum excise tax, Irish minimum on
        # cigarettes): the higher of the computed duty and this amount × quantity is due
        row["minimum"] = Decimal(str(entry.get("minimum", "0")))
        # the minimum less the VAT contained in the retail price (DE Mindeststeuer, TabStG s.2(1))
        row["minimum_less_vat"] = bool(entry.get("minimum_less_vat", False))
        if row["minimum_less_vat"] and row["minimum"] == 0:
            raise ValueError("minimum_less_vat needs a minimum")
        if row["amount"] < 0 or row["minimum"] < 0 or not 0 <= row["ad_valorem"] < 1:
            raise ValueError("excise amounts are non-negative, ad_valorem a fraction below 1")
        out.append(row)
    return out


@dataclass(frozen=True, slots=True)
class ExciseDue:
    name: str
    specific: Decimal  # in `currency`
    currency: str
    ad_valorem: Decimal  # fraction of the value
    text: str  # how it was computed, for the charge and the trace
    minimum: Decimal = Decimal(0)  # in `currency`: the duty is at least this
    minimum_less_vat: bool = False  # the minimum is reduced by the VAT of the retail price


def _entry(rates: list[dict[str, Any]], hs: str, abv: Decimal | None) -> dict[str, Any] | None:
    best: tuple[int, dict[str, Any]] | None = None
    for e in rates:
        for prefix in e["prefixes"]:
            if not hs.startswith(prefix):
                continue
            if any(k in e for k in BANDS) and (abv is None or not _in_band(e, abv)):
                continue
            if best is None or len(prefix) > best[0]:
                best = (len(prefix), e)
    return best[1] if best else None


def _in_band(e: dict[str, Any], abv: Decimal) -> bool:
    return (
        ("min_abv" not in e or abv >= e["min_abv"])
        and ("above_abv" not in e or abv > e["above_abv"])
        and ("below_abv" not in e or abv < e["below_abv"])
        and ("max_abv" not in e or abv <= e["max_abv"])
    )


def excise_due(item: Item, hs: str, rates: list[dict[str, Any]]) -> ExciseDue | str:
    """The excise of one line, or the reason it cannot be computed."""
    abv = item.alcohol_percent
    entry = _entry(rates, hs, abv)
    if entry is None:
        band = f" at {abv} % vol" if abv is not None else ""
        return f"no excise rate in the pack for HS {hs}{band}"
    unit, amount = entry["unit"], entry["amount"]
    if unit in ("litre_alcohol", "litre") and item.volume_litres is None:
        return f"{entry['name']}: the excise is per litre and the line has no volume_litres"
    if unit == "litre_alcohol" and abv is None:
        return f"{entry['name']}: the excise is per litre of alcohol and the line has no strength"
    if unit == "stick" and item.tobacco_sticks is None:
        return f"{entry['name']}: the excise is per stick and the line has no tobacco_sticks"
    if unit == "kg" and item.tobacco_grams is None:
        return f"{entry['name']}: the excise is per kg and the line has no tobacco_grams"
    cur = entry["currency"]
    if unit == "litre_alcohol":
        assert item.volume_litres is not None and abv is not None
        strength = entry.get("assumed_abv", abv)
        taxed_abv = max(strength - entry["abv_free"], Decimal(0))
        pure = item.volume_litres * taxed_abv / HUNDRED
        measured = pure
        specific = pure * amount
        over = f" ({strength} − {entry['abv_free']})" if entry["abv_free"] else ""
        if "assumed_abv" in entry:
            over += f" (taxed as {strength} % vol, declared {abv} % vol)"
        text = (
            f"{entry['name']}: {item.volume_litres} l × {taxed_abv} %{over} = {pure} l alcohol"
            f" × {cur} {amount}"
        )
    elif unit == "litre":
        assert item.volume_litres is not None
        measured = item.volume_litres
        specific = item.volume_litres * amount
        text = f"{entry['name']}: {item.volume_litres} l × {cur} {amount}"
    elif unit == "stick":
        assert item.tobacco_sticks is not None
        measured = Decimal(item.tobacco_sticks)
        specific = item.tobacco_sticks * amount
        text = f"{entry['name']}: {item.tobacco_sticks} sticks × {cur} {amount}"
    else:
        assert item.tobacco_grams is not None
        kg = item.tobacco_grams / 1000
        measured = kg
        specific = kg * amount
        text = f"{entry['name']}: {kg} kg × {cur} {amount}"
    if entry["ad_valorem"] > 0:
        text += f" + {format((entry['ad_valorem'] * 100).normalize(), 'f')} % of the value"
    minimum = ZERO
    if entry["minimum"] > 0:
        minimum = measured * entry["minimum"]
        text += f", at least {cur} {entry['minimum']} per {UNIT_NAMES[unit]}"
        if entry["minimum_less_vat"]:
            text += " less the VAT of the retail price"
    return ExciseDue(
        entry["name"], specific, cur, entry["ad_valorem"], text, minimum, entry["minimum_less_vat"]
    )


def check_allowances(value: Any) -> list[dict[str, Any]]:
    """Validate `gift.excise_allowances`: [{name, prefixes, unit, quantity, abv band}]."""
    out = []
    for entry in value:
        row = check_rates([{**entry, "amount": "0", "currency": "EUR"}])[0]
        row["quantity"] = Decimal(str(entry["quantity"]))
        out.append(row)
    return out


def _quantity(item: Item, unit: str) -> Decimal | None:
    if unit in ("litre", "litre_alcohol"):
        return item.volume_litres
    if unit == "stick":
        return Decimal(item.tobacco_sticks) if item.tobacco_sticks is not None else None
    return item.tobacco_grams / 1000 if item.tobacco_grams is not None else None


def within_allowances(
    lines: list[tuple[int, str, Item]], allowances: list[dict[str, Any]]
) -> set[int]:
    """The excise lines of a gift that stay within the allowances (per consignment, by entry;
    an entry whose quantity is exceeded, or a line without its quantity, is outside)."""
    used: dict[str, Decimal] = {}
    members: dict[str, list[int]] = {}
    outside: set[int] = set()
    for index, hs, item in lines:
        entry = _entry(allowances, hs, item.alcohol_percent)
        quantity = _quantity(item, entry["unit"]) if entry is not None else None
        if entry is None or quantity is None:
            outside.add(index)
            continue
        used[entry["name"]] = used.get(entry["name"], Decimal(0)) + quantity
        members.setdefault(entry["name"], []).append(index)
    for entry in allowances:
        if used.get(entry["name"], Decimal(0)) > entry["quantity"]:
            outside.update(members.get(entry["name"], []))
    return {index for index, _, _ in lines} - outside


SUPPLEMENTARY = ("litre_pure_alcohol", "litre", "thousand_items", "kg")


def check_supplementary(value: Any) -> dict[str, str]:
    """Validate `excise.supplementary_units`: {HS prefix: what the tariff's unit measures}."""
    out = {str(k): str(v) for k, v in value.items()}
    if any(not k.isdigit() or v not in SUPPLEMENTARY for k, v in out.items()):
        raise ValueError(f"keys are HS prefixes, values one of {', '.join(SUPPLEMENTARY)}")
    return out


def with_supplementary(item: Item, hs: str, units: dict[str, str]) -> tuple[Item, str | None]:
    """The item with the excise quantity its tariff's supplementary units give, when the
    filing carries no quantity of its own (EU DE 18 02: spirits in litres of pure alcohol, wine
    and beer in litres, cigarettes in thousands); and what was read, for the trace."""
    if item.supplementary_units is None:
        return item, None
    kind = next((units[hs[:n]] for n in range(len(hs), 1, -1) if hs[:n] in units), None)
    q = item.supplementary_units
    if kind == "litre_pure_alcohol" and item.volume_litres is None:
        # the pure alcohol is the volume at 100 % vol
        out = msgspec.structs.replace(item, volume_litres=q, alcohol_percent=HUNDRED)
        return out, f"{q} l alc. 100 % (supplementary units)"
    if kind == "litre" and item.volume_litres is None:
        return msgspec.structs.replace(item, volume_litres=q), f"{q} l (supplementary units)"
    if kind == "thousand_items" and item.tobacco_sticks is None and (q * 1000) % 1 == 0:
        sticks = int(q * 1000)
        out = msgspec.structs.replace(item, tobacco_sticks=sticks)
        return out, f"{sticks} sticks ({q} × 1,000, supplementary units)"
    if kind == "kg" and item.tobacco_grams is None:
        out = msgspec.structs.replace(item, tobacco_grams=q * 1000)
        return out, f"{q} kg (supplementary units)"
    return item, None
