"""Foreign exchange: ECB euro reference rates, and the customs rate rule each pack names.

Rates are units of a currency per 1 EUR, one row per TARGET day (`data/ecb_rates.csv`, see
`data/SOURCES.md`, plus whatever `clearway rates load` put in the database). `FxTable.quote`
answers the latest publication on or before a day; `customs_quote` applies a pack's `fx.rule`:

- `monthly` with `fixing: penultimate_wednesday` (EU: UCC art. 53(1)(a), IA art. 146, VAT
  Directive art. 91(2)): the rates published on the penultimate Wednesday of the previous month
  (or, when nothing was published that day, the latest publication before it) apply for the
  whole month. `fixing: third_wednesday` is China's rule (the PBOC rate of the third Wednesday
  of the previous month).
- `daily`: the latest publication on or before the legal date, at most `MAX_STALENESS_DAYS` old.

A rule whose law names another publisher (HMRC, the Federal Reserve Bank of New York, the PBOC…)
carries `approximates`: the ECB cross rate stands in for it and the assessment says so.
A missing rate is an `FxUnavailable` naming the currency, the day and the command to load rates.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from clearway.kernel.errors import DomainError

ECB_REFERENCE = "https://www.ecb.europa.eu/stats/policy_and_exchange_rates/euro_reference_exchange_rates/html/index.en.html"
MAX_STALENESS_DAYS = 10  # older than this, a rate is no longer "the latest publication"
LOAD_HINT = "load rates with `clearway rates load FILE` (ECB eurofxref-hist CSV or XML)"


class FxUnavailable(DomainError):
    problem_type = "fx-rate-unavailable"

    def __init__(self, detail: str, currency: str = "", day: date | None = None) -> None:
        super().__init__(detail)
        self.currency = currency
        self.day = day


@dataclass(frozen=True, slots=True)
class FxQuote:
    rate: Decimal  # units of `to` per 1 unit of `source`
    source: str
    to: str
    published: date  # the ECB publication day used
    via_eur: tuple[Decimal, Decimal]  # (source per EUR, to per EUR)


@dataclass(frozen=True, slots=True)
class FxRule:
    """A pack's `fx.rule` value."""

    method: str  # monthly | daily
    fixing: str | None = None  # penultimate_wednesday | third_wednesday (monthly)
    approximates: str | None = None  # the publication the law names, when it is not the ECB's

    @classmethod
    def of(cls, value: dict[str, Any] | None) -> FxRule:
        if value is None:
            return DAILY
        return cls(str(value["method"]), value.get("fixing"), value.get("approximates"))


DAILY = FxRule("daily")
FIXINGS = ("penultimate_wednesday", "third_wednesday")


def check_rule(value: Any) -> dict[str, Any]:
    """Validate a pack's `fx.rule` mapping (used by the pack loader)."""
    if value["method"] not in ("monthly", "daily"):
        raise ValueError("fx.rule method is monthly or daily")
    if value["method"] == "monthly" and value.get("fixing") not in FIXINGS:
        raise ValueError(f"a monthly fx.rule names its fixing day: {', '.join(FIXINGS)}")
    unknown = set(value) - {"method", "fixing", "approximates"}
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    return dict(value)


@lru_cache(maxsize=4096)  # a handful of months in any batch; the walk over the month is not free
def fixing_day(when: date, fixing: str) -> date:
    """The Wednesday of the month before `when` whose rates apply during `when`'s month."""
    first = when.replace(day=1)
    last_prev = first - timedelta(days=1)
    start_prev = last_prev.replace(day=1)
    wednesdays = [
        start_prev + timedelta(days=d)
        for d in range(last_prev.day)
        if (start_prev + timedelta(days=d)).weekday() == 2
    ]
    return wednesdays[-2] if fixing == "penultimate_wednesday" else wednesdays[2]


class FxTable:
    def __init__(self, days: list[date], columns: dict[str, list[Decimal | None]]) -> None:
        self._days = days
        self._columns = columns
        self.first_day = days[0] if days else date.min
        self.last_day = days[-1] if days else date.min

    def currencies(self) -> frozenset[str]:
        return frozenset(self._columns) | {"EUR"}

    def rows(self) -> Iterable[tuple[date, str, Decimal]]:
        for currency, column in self._columns.items():
            for day, value in zip(self._days, column, strict=True):
                if value is not None:
                    yield day, currency, value

    def merged(self, rows: Iterable[tuple[date, str, Decimal]]) -> FxTable:
        """A table with `rows` (day, currency, units per EUR) added; new values win."""
        cells: dict[tuple[date, str], Decimal] = {(d, c): v for d, c, v in self.rows()}
        added = False
        for day, currency, value in rows:
            if cells.get((day, currency)) != value:
                cells[(day, currency)] = value
                added = True
        if not added:
            return self
        return table_of(cells)

    def last_publication(self, currency: str) -> date | None:
        column = self._columns.get(currency)
        if column is None:
            return None
        for i in range(len(column) - 1, -1, -1):
            if column[i] is not None:
                return self._days[i]
        return None

    def _per_eur(self, currency: str, when: date, max_age: int) -> tuple[Decimal, date]:
        if currency == "EUR":
            return Decimal(1), when
        column = self._columns.get(currency)
        if column is None:
            raise FxUnavailable(
                f"the ECB publishes no reference rate for {currency}", currency, when
            )
        i = bisect.bisect_right(self._days, when) - 1
        while i >= 0 and column[i] is None:
            i -= 1
        if i < 0 or (when - self._days[i]).days > max_age:
            last = self.last_publication(currency)
            raise FxUnavailable(
                f"no ECB reference rate for {currency} on or just before {when}"
                f" (rates held up to {last or 'never'}): {LOAD_HINT}",
                currency,
                when,
            )
        value = column[i]
        assert value is not None
        return value, self._days[i]

    def quote(self, source: str, to: str, when: date, max_age: int = MAX_STALENESS_DAYS) -> FxQuote:
        """The rate converting `source` into `to` on `when` (cross rate through EUR)."""
        return _cached_quote(self, source, to, when, max_age)

    def customs_quote(self, rule: FxRule, source: str, to: str, when: date) -> FxQuote:
        """The rate the pack's rule gives for a legal date `when`."""
        if rule.method == "monthly" and rule.fixing:
            fixing = fixing_day(when, rule.fixing)
            # the publication of the fixing day, or the latest before it (a TARGET holiday)
            return self.quote(source, to, fixing, MAX_STALENESS_DAYS)
        return self.quote(source, to, when)


@lru_cache(maxsize=65536)
def _cached_quote(table: FxTable, source: str, to: str, when: date, max_age: int) -> FxQuote:
    if source == to:
        return FxQuote(Decimal(1), source, to, when, (Decimal(1), Decimal(1)))
    a, day_a = table._per_eur(source, when, max_age)
    b, day_b = table._per_eur(to, when, max_age)
    published = (
        min(day_a, day_b)
        if source != "EUR" and to != "EUR"
        else (day_a if source != "EUR" else day_b)
    )
    return FxQuote(b / a, source, to, published, (a, b))


def table_of(cells: dict[tuple[date, str], Decimal]) -> FxTable:
    days = sorted({d for d, _ in cells})
    index = {d: i for i, d in enumerate(days)}
    columns: dict[str, list[Decimal | None]] = {}
    for (day, currency), value in cells.items():
        column = columns.setdefault(currency, [None] * len(days))
        column[index[day]] = value
    return FxTable(days, columns)


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
