"""Numbers, amounts, dates, ages and country names as a person reading the page writes them.

One `Formats` per page language (Babel's CLDR data): `36,00 €` and `1 859 385,81` in French,
`€36.00` in English; a typed `180,00` on the French page is 180.00. Amounts stay Decimal from
the calculator to the page; nothing here rounds through floats.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Literal

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    format_percent,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)

from clearway.kernel.decimals import decimal_problem

_SPACES = re.compile(r"[\s\u00a0\u202f']")


class NotANumber(ValueError):
    """The text is not a number in the page's language; the message says what was expected."""


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


@dataclass(frozen=True, slots=True)
class Formats:
    lang: str

    # ------------------------------------------------------------ output
    def money(self, amount: Decimal | str | None, currency: str) -> str:
        if amount is None or amount == "":
            return ""
        return str(format_currency(Decimal(str(amount)), currency, locale=self.lang))

    def num(self, value: Decimal | float | int | str | None, places: int | None = None) -> str:
        """A number with the language's separators; `places` fixes the decimals shown."""
        if value is None or value == "":
            return ""
        number = Decimal(str(value))
        if places is not None:
            number = number.quantize(Decimal(1).scaleb(-places))
            pattern = "#,##0" + ("." + "0" * places if places else "")
            return str(format_decimal(number, format=pattern, locale=self.lang))
        return str(format_decimal(number.normalize(), locale=self.lang))

    def pct(self, share: float | Decimal | None, places: int = 1) -> str:
        """A share (0.125) as a percentage (12.5 %)."""
        if share is None:
            return "—"
        shown = (Decimal(str(share)) * 100).quantize(Decimal(1).scaleb(-places)) / 100
        return str(format_percent(shown, locale=self.lang, decimal_quantization=False))

    def day(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        d = date.fromisoformat(value[:10]) if isinstance(value, str) else value
        return str(format_date(d, format="medium", locale=self.lang))

    def moment(self, value: datetime | str | None) -> str:
        """A time as UTC in the page's language (the browser shows it in local time)."""
        if value is None or value == "":
            return ""
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        return str(format_datetime(at.astimezone(UTC), format="medium", locale=self.lang)) + " UTC"

    def age(self, since: datetime | None, now: datetime) -> str:
        """How long ago, in days and hours ("28 days 3 hours"), never "675.1 hours"."""
        if since is None:
            return ""
        since = since if since.tzinfo else since.replace(tzinfo=UTC)
        seconds = max(0, int((now - since).total_seconds()))
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes = rest // 60

        def part(n: int, unit: Literal["day", "hour", "minute"]) -> str:
            return str(
                format_timedelta(
                    timedelta(seconds=n * {"day": 86400, "hour": 3600, "minute": 60}[unit]),
                    granularity=unit,
                    threshold=10**9,
                    locale=self.lang,
                )
            )

        if days:
            return part(days, "day") + (f" {part(hours, 'hour')}" if hours else "")
        if hours:
            return part(hours, "hour")
        return part(minutes, "minute")

    def country(self, code: str) -> str:
        return str(_locale(self.lang).territories.get(code, code))

    def countries(self, codes: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
        """(code, name) sorted by the name in this language (Australie before Autriche)."""
        named = [(c, self.country(c)) for c in codes]
        return sorted(named, key=lambda x: _collation_key(x[1]))

    # ------------------------------------------------------------ input
    def parse(self, text: str) -> Decimal:
        """A number typed on the page: `180,00` in French, `1,234.50` in English; spaces as
        group separators are fine in both; a dot is a decimal point in French too."""
        raw = _SPACES.sub("", text.strip())
        if not raw:
            raise NotANumber("empty")
        decimal_sign = get_decimal_symbol(self.lang)
        group = get_group_symbol(self.lang)
        if decimal_sign == "," and "," not in raw and raw.count(".") == 1:
            raw = raw.replace(".", ",")  # 180.00 on a French page is still 180 euros
        if _SPACES.fullmatch(group) or group not in raw:
            ok = re.fullmatch(r"[+-]?[0-9]+(" + re.escape(decimal_sign) + r"[0-9]+)?", raw)
            if not ok:
                raise NotANumber(raw)
            value = Decimal(raw.replace(decimal_sign, "."))
        else:
            try:
                value = Decimal(str(parse_decimal(raw, locale=self.lang, strict=True)))
            except (NumberFormatError, InvalidOperation):
                raise NotANumber(raw) from None
        if decimal_problem(value, negative=True) is not None:  # the one grammar's bounds
            raise NotANumber(raw)
        return value

    def example(self) -> str:
        """How to write 1234.50 in this language, for hints next to number fields."""
        return self.num(Decimal("1234.50"), 2)


def _collation_key(name: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", name.casefold()) if not unicodedata.combining(ch)
    )


@cache
def for_lang(lang: str) -> Formats:
    return Formats(lang)
