"""The canonical filing's excise quantities: decoded, validated, and what the calculator needs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clearway.domain.filing import Item, decode_filing, encode
from clearway.domain.validation import check_quote
from clearway.revenue.excise import check_rates, excise_due

from .factories import filing, item


@pytest.mark.parametrize(
    ("extra", "path", "code"),
    [
        ({"volume_litres": "-0.7"}, "/items/0/volume_litres", "range"),
        ({"volume_litres": "0"}, "/items/0/volume_litres", "range"),
        ({"volume_litres": "0.7", "alcohol_percent": "140"}, "/items/0/alcohol_percent", "range"),
        ({"alcohol_percent": "40"}, "/items/0/volume_litres", "required"),
        ({"tobacco_sticks": 0}, "/items/0/tobacco_sticks", "range"),
        ({"tobacco_grams": "-5"}, "/items/0/tobacco_grams", "range"),
        ({"volume_litres": "NaN"}, "/items/0/volume_litres", "not_a_number"),
    ],
)
def test_bad_excise_quantities_are_refused(extra: dict[str, object], path: str, code: str) -> None:
    doc = decode_filing(encode(filing("DE", items=[item("40.00", hs="220830", **extra)])))
    assert (path, code) in {(p.path, p.code) for p in check_quote(doc)}


def test_good_excise_quantities_pass() -> None:
    extra = {"volume_litres": "0.7", "alcohol_percent": "40", "tobacco_sticks": 20}
    doc = decode_filing(encode(filing("DE", items=[item("40.00", hs="220830", **extra)])))
    assert check_quote(doc) == []
    assert doc.items[0].alcohol_percent is not None and doc.items[0].tobacco_sticks == 20


def test_a_band_taxed_at_an_assumed_strength_says_so() -> None:
    """The UK wine easement (2023-08-01 … 2025-01-31): 11.5-14.5 % vol taxed as 12.5 % vol; the
    computation in the line's excise charge names both strengths."""
    rates = check_rates(
        [
            {
                "name": "wine",
                "prefixes": ["2204"],
                "min_abv": "11.5",
                "max_abv": "14.5",
                "assumed_abv": "12.5",
                "unit": "litre_alcohol",
                "amount": "28.50",
                "currency": "GBP",
            }
        ]
    )
    line = Item(
        description="wine",
        value=Decimal("20"),
        volume_litres=Decimal("0.75"),
        alcohol_percent=Decimal("14"),
    )
    due = excise_due(line, "220421", rates)
    assert not isinstance(due, str)
    assert due.specific == Decimal("0.75") * Decimal("12.5") / 100 * Decimal("28.50")
    assert "taxed as 12.5 % vol, declared 14 % vol" in due.text
    outside = Item(
        description="wine",
        value=Decimal("20"),
        volume_litres=Decimal("0.75"),
        alcohol_percent=Decimal("14.6"),
    )
    assert isinstance(excise_due(outside, "220421", rates), str)  # no band: never a zero


def test_a_minimum_per_unit_is_carried_with_the_computation() -> None:
    """UK cigarettes: GBP 316.70 per 1,000 + 16.5 %, at least GBP 422.80 per 1,000 (the minimum
    excise tax); the floor is the quantity times the minimum, the calculator takes the higher."""
    rates = check_rates(
        [
            {
                "name": "cigarettes",
                "prefixes": ["240220"],
                "unit": "stick",
                "amount": "0.31670",
                "ad_valorem": "0.165",
                "minimum": "0.42280",
                "currency": "GBP",
            }
        ]
    )
    line = Item(description="cigarettes", value=Decimal("50"), tobacco_sticks=200)
    due = excise_due(line, "24022090", rates)
    assert not isinstance(due, str)
    assert due.specific == Decimal("63.34000") and due.minimum == Decimal("84.56000")
    assert "at least GBP 0.42280 per stick" in due.text
    with pytest.raises(ValueError):
        check_rates([{**rates[0], "minimum": "-1"}])


def test_a_minimum_less_the_vat_of_the_retail_price_is_marked() -> None:
    """DE Mindeststeuer (TabStG s.2(1) no. 1 (d)): at least 24.163 cent per stick less the VAT the
    retail price contains; the entry carries the minimum and says the VAT comes off it (the
    calculator subtracts it, with the declared value for the retail price)."""
    entry = {
        "name": "cigarettes",
        "prefixes": ["240220"],
        "unit": "stick",
        "amount": "0.1171",
        "ad_valorem": "0.1984",
        "minimum": "0.24163",
        "minimum_less_vat": True,
        "currency": "EUR",
    }
    rates = check_rates([entry])
    line = Item(description="cigarettes", value=Decimal("50"), tobacco_sticks=200)
    due = excise_due(line, "24022090", rates)
    assert not isinstance(due, str)
    assert due.minimum == Decimal("48.32600") and due.minimum_less_vat
    assert due.text.endswith("less the VAT of the retail price")
    # a minimum to reduce must be there
    with pytest.raises(ValueError):
        check_rates([{**entry, "minimum": "0"}])
