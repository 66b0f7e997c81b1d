"""Foreign exchange at the legal date from ECB euro reference rates.

Rates are units of a currency per 1 EUR, one row per TARGET day (`data/ecb_rates.csv`, see
`data/SOURCES.md`). A date without a publication (weekend, holiday) uses the latest earlier
publication; the publication date used is returned so the calculator can trace it.
"""

from __future__ import annotations

import bisect
import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

from clearway.kernel.errors import DomainError

ECB_REFERENCE = "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html"
MAX_STALENESS_DAYS = 10  # older than this, a rate is no longer "the latest publication"


class FxUnavailable(DomainError):
    problem_type = "fx-rate-unavailable"


@dataclass(frozen=True, slots=True)
class FxQuote:
    rate: Decimal  # units of `to` per 1 unit of `source`
    source: str
    to: str
    published: date  # the ECB publication day used
    via_eur: tuple[Decimal, Decimal]  # (source per EUR, to per EUR)


class FxTable:
    def __init__(self, days: list[date], columns: dict[str, list[Decimal | None]]) -> None:
        self._days = days
        self._columns = columns
        self.first_day = days[0]
        self.last_day = days[-1]

    def currencies(self) -> frozenset[str]:
        return frozenset(self._columns) | {"EUR"}

    def _per_eur(self, currency: str, when: date) -> tuple[Decimal, date]:
        if currency == "EUR":
            return Decimal(1), when
        column = self._columns.get(currency)
        if column is None:
            raise FxUnavailable(f"no ECB reference rate for {currency}")
        i = bisect.bisect_right(self._days, when) - 1
        while i >= 0 and column[i] is None:
            i -= 1
        if i < 0 or (when - self._days[i]).days > MAX_STALENESS_DAYS:
            raise FxUnavailable(f"no ECB reference rate for {currency} on or just before {when}")
        value = column[i]
        assert value is not None
        return value, self._days[i]

    def quote(self, source: str, to: str, when: date) -> FxQuote:
        """The rate converting `source` into `to` on `when` (cross rate through EUR)."""
        return _cached_quote(self, source, to, when)


@lru_cache(maxsize=65536)
def _cached_quote(table: FxTable, source: str, to: str, when: date) -> FxQuote:
    if source == to:
        return FxQuote(Decimal(1), source, to, when, (Decimal(1), Decimal(1)))
    a, day_a = table._per_eur(source, when)
    b, day_b = table._per_eur(to, when)
    published = (
        min(day_a, day_b)
        if source != "EUR" and to != "EUR"
        else (day_a if source != "EUR" else day_b)
    )
    return FxQuote(b / a, source, to, published, (a, b))


def load_fx(path: Path | None = None) -> FxTable:
    if path is None:
        path = Path(str(resources.files("clearway.revenue").joinpath("data", "ecb_rates.csv")))
    with path.open(encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = sorted(reader, key=lambda r: r[0])
    days = [date.fromisoformat(r[0]) for r in rows]
    columns = {
        cur: [Decimal(r[i]) if r[i] else None for r in rows] for i, cur in enumerate(header) if i
    }
    return FxTable(days, columns)
