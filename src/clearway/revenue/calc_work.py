"""The state of one assessment while the calculator's steps run: its lines, charges, flags and
trace, and the currency conversions it has made (each traced once with the rate used)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from clearway.domain.assessment import Charge, TraceEntry
from clearway.domain.filing import FilingDocument
from clearway.kernel.money import round_amount
from clearway.revenue.collection import RegistrationStatus
from clearway.revenue.fx import ECB_REFERENCE, FxRule, FxTable
from clearway.revenue.rules import Rules

ZERO = Decimal(0)
ONE = Decimal(1)

# What a person has already imported this year under a yearly quota (China): None = unknown.
AnnualUsage = Callable[[str, date], Decimal | None]


@dataclass(slots=True)
class Hooks:
    registration_status: RegistrationStatus | None = None
    annual_usage: AnnualUsage | None = None


@dataclass(slots=True)
class Line:
    index: int
    hs: str | None
    value: Decimal  # filing currency
    customs: Decimal  # destination currency, unrounded
    quantity: int
    mass: Decimal | None
    duty: Decimal = ZERO
    extra: Decimal = ZERO  # transport and insurance share, destination currency
    excise: Decimal = ZERO
    excise_good: bool = False


class Work:
    """Mutable state of one assessment while the steps run."""

    def __init__(self, doc: FilingDocument, rules: Rules, fx: FxTable) -> None:
        self.doc = doc
        self.rules = rules
        self.fx = fx
        self.trace: list[TraceEntry] = []
        self.flags: list[str] = []
        self.charges: list[Charge] = []
        self.when = rules.legal_date
        self.at = rules.legal_date.isoformat()
        self.dest = rules.currency
        self.fx_rule = FxRule.of(rules.value("fx.rule"))
        self._quotes: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
        self.category = doc.category  # a "gift" that is not one in law is assessed as a sale
        self.gift_allowed: set[int] = set()  # excise lines of a gift within its allowances
        self.gift_relieved = False  # the gift relief applied (duty); allowed lines owe nothing

    def flag(self, name: str) -> None:
        if name not in self.flags:
            self.flags.append(name)

    def note(self, name: str, value: str, item: int | None = None) -> None:
        self.trace.append(TraceEntry(name, value, at=self.at, item=item))

    def convert(self, amount: Decimal, source: str, to: str) -> Decimal:
        """`amount` of `source` in `to`: multiplied by `to` per EUR, divided by `source` per
        EUR (a division, so that USD 174.00 at 1.16 is exactly EUR 150.00)."""
        if source == to:
            return amount
        a, b = self.quote(source, to)
        return amount * b / a

    def quote(self, source: str, to: str) -> tuple[Decimal, Decimal]:
        """(source per EUR, to per EUR) for the legal date under the pack's rule, traced with
        the ECB publication used (and the rule, which the first conversion records)."""
        known = self._quotes.get((source, to))
        if known is not None:
            return known
        rule = self.fx_rule
        if not self._quotes:  # the first conversion records the rule
            self.rules.read("fx.rule", self.trace)
            if rule.approximates:
                self.flag("fx_rate_approximated")
                self.note("fx.approximation", f"ECB cross rate stands in for {rule.approximates}")
        q = self.fx.customs_quote(rule, source, to, self.when)
        name = f"fx.{source}.{to}"
        self._quotes[(source, to)] = q.via_eur
        if not any(t.name == name for t in self.trace):
            self.trace.append(
                TraceEntry(
                    name,
                    f"{q.rate:.6f} ({source}/EUR {q.via_eur[0]}, {to}/EUR {q.via_eur[1]})",
                    at=q.published.isoformat(),
                    reference=ECB_REFERENCE,
                )
            )
        return q.via_eur


def pct(rate: Decimal) -> str:
    """0.19 → "19%", 0.255 → "25.5%"."""
    return f"{format((rate * 100).normalize(), 'f')}%"


def rounded(amount: Decimal, w: Work) -> Decimal:
    return round_amount(amount, w.dest)
