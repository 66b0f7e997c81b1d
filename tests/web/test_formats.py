"""Numbers, amounts, ages and country names in the page's language (Babel)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from clearway.web.formats import NotANumber, for_lang


def test_amounts_and_numbers_follow_the_language() -> None:
    en, fr = for_lang("en"), for_lang("fr")
    assert en.money(Decimal("36"), "EUR") == "€36.00"
    assert fr.money(Decimal("36"), "EUR") == "36,00\u00a0€"
    assert fr.num(Decimal("1859385.8100"), 2) == "1\u202f859\u202f385,81"
    assert en.num(Decimal("1859385.8100"), 2) == "1,859,385.81"
    assert fr.pct(0.125) == "12,5\u00a0%"


@pytest.mark.parametrize(
    ("lang", "text", "value"),
    [
        ("fr", "180,00", "180.00"),
        ("fr", "1 234,5", "1234.5"),
        ("fr", "1\u202f234,50", "1234.50"),
        ("fr", "180.00", "180.00"),
        ("en", "1,234.50", "1234.50"),
        ("en", "180", "180"),
    ],
)
def test_typed_numbers_are_read_in_the_page_language(lang: str, text: str, value: str) -> None:
    assert for_lang(lang).parse(text) == Decimal(value)


@pytest.mark.parametrize(("lang", "text"), [("fr", "1.234,5"), ("en", "12,34"), ("fr", "abc")])
def test_ambiguous_or_foreign_numbers_are_refused(lang: str, text: str) -> None:
    with pytest.raises(NotANumber):
        for_lang(lang).parse(text)


def test_ages_read_in_days_and_hours() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    assert for_lang("en").age(now - timedelta(hours=675.1), now) == "28 days 3 hours"
    assert for_lang("fr").age(now - timedelta(hours=5, minutes=10), now) == "5\u00a0heures"
    assert for_lang("en").age(now - timedelta(minutes=7), now) == "7 minutes"


def test_countries_sort_by_their_translated_name() -> None:
    names = [n for _, n in for_lang("fr").countries(["AT", "AU", "DE", "EE"])]
    assert names == ["Allemagne", "Australie", "Autriche", "Estonie"]
