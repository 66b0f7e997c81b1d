"""Reading typed values out of message text: decimals, whole numbers, codes. Never floats."""

from __future__ import annotations

from decimal import Decimal

from clearway.kernel.codes import is_country, is_currency, normalise_hs
from clearway.kernel.decimals import DecimalRefused, strict_decimal
from clearway.kernel.errors import Problem


class Collector:
    """Collects problems while a message is mapped; each reader returns None on a bad value."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, path: str, code: str, message: str) -> None:
        self.problems.append(Problem(path, code, message))

    def warn(self, path: str, code: str, message: str) -> None:
        self.problems.append(Problem(path, code, message, "warning"))

    @property
    def failed(self) -> bool:
        return any(p.severity == "error" for p in self.problems)

    def amount(self, raw: str | None, path: str, *, negative: bool = False) -> Decimal | None:
        if raw is None or raw.strip() == "":
            return None
        try:
            return strict_decimal(raw.strip(), negative=negative)
        except DecimalRefused as refused:
            code = "amount.negative" if refused.code == "negative" else "amount.invalid"
            self.error(path, code, refused.detail)
            return None

    def whole(self, raw: str | None, path: str) -> int | None:
        value = self.amount(raw, path)
        if value is None:
            return None
        if value != value.to_integral_value():
            self.error(path, "quantity.fraction", f"must be a whole number, got {raw}")
            return None
        if value > 10**9:
            self.error(path, "quantity.too_large", "must be below one billion")
            return None
        return int(value)

    def country(self, code: str | None, path: str) -> str | None:
        if code is None:
            return None
        code = code.strip().upper()
        if not is_country(code):
            self.error(path, "country.unknown", f"{code[:10]!r} is not an ISO 3166 country code")
            return None
        return code

    def currency(self, code: str | None, path: str) -> str | None:
        if code is None:
            return None
        code = code.strip().upper()
        if not is_currency(code):
            self.error(path, "currency.unknown", f"{code[:10]!r} is not an ISO 4217 currency")
            return None
        return code

    def hs(self, code: str | None, path: str) -> str | None:
        if code is None:
            return None
        code = normalise_hs(code)
        if not code.isdigit() or len(code) not in (6, 8, 10):
            self.error(path, "hs.shape", "an HS code has 6, 8 or 10 digits")
            return None
        return code
