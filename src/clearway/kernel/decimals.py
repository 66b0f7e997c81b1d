"""The one grammar for numbers that people and machines send us: plain decimal strings.

`strict_decimal` is the only way text becomes a Decimal at the edges (JSON, CSV, XML, pages):
ASCII digits, at most one leading sign, at most one decimal point with digits on both sides,
no exponent, no underscores, no spaces, no other scripts' digits, no negative zero, and bounded
digits before and after the point. `decimal_problem` applies the same bounds to a Decimal that
a decoder has already built (a JSON number, an XML value), so every path refuses the same
values. Refusing early keeps absurd magnitudes (`1E+999999999`) out of arithmetic, where the
decimal context would overflow.
"""

from __future__ import annotations

import re
from decimal import Decimal

from clearway.kernel.errors import ClearwayError

MAX_INTEGER_DIGITS = 12  # below 10^12: amounts, masses and quantities beyond are typing errors
MAX_FRACTION_DIGITS = 8  # enough for grams in kg and for any currency's minor unit
MAX_TEXT = 1 + MAX_INTEGER_DIGITS + 1 + MAX_FRACTION_DIGITS
LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS

_GRAMMAR = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+))?", re.ASCII)


class DecimalRefused(ClearwayError):
    """A number outside the grammar or its bounds; `code` names the rule it broke."""

    problem_type = "invalid-input"
    status = 422

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code


def strict_decimal(text: str, *, negative: bool = False) -> Decimal:
    """The Decimal a plain decimal string stands for, or DecimalRefused saying why not."""
    if len(text) > MAX_TEXT * 2:
        raise DecimalRefused("number_too_long", f"a number has at most {MAX_TEXT} characters")
    match = _GRAMMAR.fullmatch(text)
    if match is None:
        raise DecimalRefused(
            "number_syntax",
            f'{text[:24]!r} is not a plain decimal number such as "12.50" '
            "(ASCII digits, one optional sign, one optional point, no exponent)",
        )
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    value = Decimal(text)
    _bounds(value, len(whole.lstrip("0")), len(fraction), negative, sign == "-")
    return value


def decimal_problem(value: Decimal, *, negative: bool = False) -> DecimalRefused | None:
    """Why an already decoded Decimal breaks the same bounds, or None."""
    if not value.is_finite():
        return DecimalRefused("not_a_number", "must be a finite decimal number")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if exponent > MAX_INTEGER_DIGITS or exponent < -MAX_FRACTION_DIGITS - len(digits):
        # reading the digits out would be as absurd as the number itself
        return DecimalRefused(
            "range", f"must be below {LIMIT:,} with at most {MAX_FRACTION_DIGITS} decimal places"
        )
    whole = max(0, len(digits) + exponent) if any(digits) else 0
    fraction = max(0, -exponent)
    try:
        _bounds(value, whole, fraction, negative, bool(sign))
    except DecimalRefused as refused:
        return refused
    return None


def _bounds(value: Decimal, whole: int, fraction: int, negative: bool, signed: bool) -> None:
    if whole > MAX_INTEGER_DIGITS:
        raise DecimalRefused("range", f"must be below {LIMIT:,}")
    if fraction > MAX_FRACTION_DIGITS:
        raise DecimalRefused(
            "precision", f"at most {MAX_FRACTION_DIGITS} digits after the decimal point"
        )
    if signed and value == 0:
        raise DecimalRefused("negative_zero", "zero has no sign; send 0")
    if value < 0 and not negative:
        raise DecimalRefused("negative", "must not be negative")
