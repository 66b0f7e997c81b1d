"""National tariffs: duty expressions by tariff code, looked up by the longest known prefix.

A tariff written on HS 2017 (the EU CET 2020 and UK Global Tariff 2021 lines, Australia's 2019
Schedule 3) is carried onto the HS 2022 subheadings it lacks with the UN correlation table
(`data/hs2022_hs2017.csv`): the rate of the HS 2017 lines the new subheading came from; when
those lines carry different rates the highest is taken (it cannot under-collect) and the hit
says so, so the trace can explain the choice.

A tariff file is a CSV `code,duty` in the grammar written by `derive.py` (`6.5%`,
`0.026 USD/kg`, `0.5 USD/item`, compound with ` + `, `~` for expressions only partly modelled).
Lookups are precomputed at load time: a 6-digit HS code whose national sub-lines carry different
rates resolves to the highest of them (the answer that cannot under-collect), and says so.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from clearway.revenue.packs import PackError

SPECIFIC_UNITS = ("kg", "item")
CORRELATION_REFERENCE = "https://unstats.un.org/unsd/classifications/Econ"  # UNSD HS tables


@dataclass(frozen=True, slots=True)
class DutyRate:
    """One tariff line's duty: ad valorem part plus specific parts (per kg or per item)."""

    text: str
    ad_valorem: Decimal  # fraction of the customs value
    specific: tuple[tuple[Decimal, str, str], ...]  # (amount, currency, unit)
    approximate: bool  # the published expression has parts the calculator does not model

    @property
    def is_free(self) -> bool:
        return self.ad_valorem == 0 and not self.specific and not self.approximate


def parse_duty(text: str, where: str = "duty") -> DutyRate:
    """Read one duty expression of the shipped grammar."""
    raw = text.strip()
    approximate = raw.startswith("~")
    body = raw[1:] if approximate else raw
    ad_valorem = Decimal(0)
    specific: list[tuple[Decimal, str, str]] = []
    for term in (t.strip() for t in body.split("+") if t.strip()):
        if term.endswith("%"):
            ad_valorem += Decimal(term[:-1]) / 100
            continue
        amount, _, per = term.partition(" ")
        currency, _, unit = per.partition("/")
        if unit not in SPECIFIC_UNITS or len(currency) != 3:
            raise ValueError(f"{where}: cannot read duty term {term!r}")
        specific.append((Decimal(amount), currency, unit))
    return DutyRate(raw, ad_valorem, tuple(specific), approximate)


@dataclass(frozen=True, slots=True)
class TariffHit:
    code: str  # the tariff line the rate came from
    rate: DutyRate
    ambiguous: bool  # the declared code covers lines with different rates; the highest was taken
    carried_from: tuple[str, ...] = ()  # HS 2017 subheadings an HS 2022 subheading came from


class Tariff:
    """Duty rates of one tariff edition, indexed for prefix lookups."""

    def __init__(self, name: str, lines: dict[str, DutyRate]) -> None:
        self.name = name
        self._exact = lines
        self._prefix: dict[str, TariffHit] = {}
        self._carried: dict[str, TariffHit] = {}
        grouped: dict[str, list[tuple[str, DutyRate]]] = {}
        for code, rate in lines.items():
            for size in (4, 6, 8):
                if len(code) > size:
                    grouped.setdefault(code[:size], []).append((code, rate))
        for prefix, entries in grouped.items():
            texts = {r.text for _, r in entries}
            code, rate = max(entries, key=lambda e: _weight(e[1]))
            self._prefix[prefix] = TariffHit(code, rate, len(texts) > 1)
        self._grouped6 = {k: v for k, v in grouped.items() if len(k) == 6}

    def __len__(self) -> int:
        return len(self._exact)

    def has_subheading(self, hs6: str) -> bool:
        return hs6 in self._exact or hs6 in self._prefix

    def carry(self, correlation: dict[str, list[str]]) -> None:
        """Give each HS 2022 subheading this tariff lacks the rate of its HS 2017 sources."""
        for new, sources in correlation.items():
            if self.has_subheading(new):
                continue
            entries: list[tuple[str, DutyRate]] = []
            for old in sources:
                if old in self._exact:
                    entries.append((old, self._exact[old]))
                entries.extend(self._grouped6.get(old, []))
            if not entries:
                continue
            code, rate = max(entries, key=lambda e: _weight(e[1]))
            texts = {r.text for _, r in entries}
            self._carried[new] = TariffHit(code, rate, len(texts) > 1, tuple(sorted(sources)))

    def lookup(self, hs_code: str) -> TariffHit | None:
        """The rate for a declared code: exact line, else its parent lines, else sub-lines."""
        for size in (10, 8, 6):
            if len(hs_code) >= size:
                key = hs_code[:size]
                rate = self._exact.get(key)
                if rate is not None:
                    return TariffHit(key, rate, False)
        for size in (8, 6):
            if len(hs_code) >= size:
                hit = self._prefix.get(hs_code[:size])
                if hit is not None:
                    return hit
        return self._carried.get(hs_code[:6]) if len(hs_code) >= 6 else None


def _weight(rate: DutyRate) -> tuple[Decimal, int]:
    return (rate.ad_valorem, len(rate.specific))


def load_correlation(path: Path) -> dict[str, list[str]]:
    """HS 2022 subheading → the HS 2017 subheadings it came from."""
    out: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            out.setdefault(row["hs2022"], []).append(row["hs2017"])
    return out


def load_tariff(path: Path) -> Tariff:
    lines: dict[str, DutyRate] = {}
    with path.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != ["code", "duty"]:
            raise PackError(path, 1, "a tariff file has the columns code,duty")
        for row in reader:
            code = row["code"]
            if not code.isdigit() or len(code) not in (4, 6, 8, 10):
                raise PackError(path, reader.line_num, f"not a tariff code: {code!r}")
            try:
                lines[code] = parse_duty(row["duty"])
            except (ValueError, ArithmeticError) as exc:
                raise PackError(path, reader.line_num, str(exc)) from None
    return Tariff(path.name, lines)
