"""Money as Decimal with an explicit currency and explicit rounding.

Floats never carry amounts: every amount enters as a decimal string or a Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from clearway.kernel.codes import currency_minor_unit
from clearway.kernel.errors import DomainError

RoundingMode = Literal["half_up", "half_even"]
_ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
ZERO = Decimal(0)


class MoneyError(DomainError):
    """An amount or a currency is not usable."""

    problem_type = "invalid-amount"


def parse_amount(text: str | Decimal | int) -> Decimal:
    """Read an amount from a decimal string; refuse floats, NaN and infinities."""
    if isinstance(text, float):
        raise MoneyError("amounts must be decimal strings, not floats")
    try:
        value = text if isinstance(text, Decimal) else Decimal(str(text).strip())
    except InvalidOperation as exc:
        raise MoneyError(f"not a decimal amount: {text!r}") from exc
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {text!r}")
    return value


def quantum(currency: str, places: int | None = None) -> Decimal:
    """The smallest unit of a currency (or of `places` decimals when given)."""
    digits = currency_minor_unit(currency) if places is None else places
    return Decimal(1).scaleb(-digits)


def round_amount(
    amount: Decimal, currency: str, mode: RoundingMode = "half_up", places: int | None = None
) -> Decimal:
    """Round to the currency's minor unit with an explicit rounding mode."""
    if not amount.is_finite():
        raise MoneyError(f"{amount} {currency} is not an amount")
    try:
        return amount.quantize(quantum(currency, places), rounding=_ROUNDING[mode])
    except InvalidOperation as exc:  # NaN, infinity, or more digits than the context holds
        raise MoneyError(f"{amount} {currency} is not a roundable amount") from exc


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Arithmetic refuses to mix currencies."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: str | Decimal | int, currency: str) -> Money:
        return cls(parse_amount(amount), currency.upper())

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO, currency.upper())

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, float):
            raise MoneyError("multiply money by Decimal, not float")
        return Money(self.amount * factor, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    def rounded(self, mode: RoundingMode = "half_up", places: int | None = None) -> Money:
        return Money(round_amount(self.amount, self.currency, mode, places), self.currency)

    def convert(self, rate: Decimal, to_currency: str) -> Money:
        """Convert with `rate` units of `to_currency` per one unit of this currency (unrounded)."""
        return Money(self.amount * rate, to_currency.upper())

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
