from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearway.kernel import codes
from clearway.kernel.money import Money, MoneyError, parse_amount, round_amount


@given(
    st.sampled_from(["LX", "RR", "CP", "UA"]),
    st.integers(0, 99_999_999),
    st.sampled_from(["CN", "DE", "US", "GB"]),
)
def test_built_s10_ids_are_valid_and_any_other_check_digit_is_not(
    prefix: str, serial: int, country: str
) -> None:
    s10 = codes.make_s10(prefix, serial, country)
    assert codes.s10_problem(s10) is None
    for wrong in set("0123456789") - {s10[10]}:
        assert codes.s10_problem(s10[:10] + wrong + s10[11:]) is not None


def test_s10_check_digit_matches_the_upu_worked_example() -> None:
    # UPU S10: serial 47312482 -> weighted sum 200, 11 - (200 mod 11) = 9
    assert codes.s10_check_digit("47312482") == 9
    assert codes.s10_problem("RR473124829GB") is None
    assert "check digit" in (codes.s10_problem("RR473124828GB") or "")


def test_hs_codes_are_checked_against_hs_2022() -> None:
    assert codes.hs_problem("851713") is None  # smartphones, new in HS 2022
    assert codes.hs_problem("85171300") is None
    assert "does not exist" in (codes.hs_problem("851712") or "")  # HS 2017 code, split in 2022
    assert codes.hs_problem("8517") is not None
    assert codes.normalise_hs("8517.13 00") == "85171300"


def test_country_and_currency_codes() -> None:
    assert codes.is_country("NA")  # Namibia survives CSV reading
    assert not codes.is_country("XX")
    assert codes.currency_minor_unit("JPY") == 0
    assert codes.currency_minor_unit("KWD") == 3
    assert codes.country_from_numeric("156") == "CN"
    assert codes.currency_from_numeric("978") == "EUR"


def test_money_refuses_floats_and_mixed_currencies() -> None:
    with pytest.raises(MoneyError):
        parse_amount(0.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        parse_amount("NaN")
    with pytest.raises(MoneyError):
        Money.of("1", "EUR") + Money.of("1", "USD")
    assert Money.of("0.10", "EUR") + Money.of("0.20", "EUR") == Money.of("0.30", "EUR")


def test_rounding_is_explicit_and_follows_the_currency() -> None:
    assert round_amount(Decimal("2.345"), "EUR", "half_up") == Decimal("2.35")
    assert round_amount(Decimal("2.345"), "EUR", "half_even") == Decimal("2.34")
    assert round_amount(Decimal("1234.5"), "JPY") == Decimal("1235")


def test_rounding_refuses_what_cannot_be_an_amount() -> None:
    for bad in ("NaN", "Infinity", "1e9999"):
        with pytest.raises(MoneyError):
            round_amount(Decimal(bad), "EUR")
