"""The law of one destination on one day: every pack parameter read at the legal date.

A `Rules` snapshot is built once per (pack, country, date) and cached, so assessing a parcel only
does dictionary reads. Each read the calculator makes is recorded in the trace with its date and
legal reference.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from clearway.domain.assessment import TraceEntry
from clearway.revenue.packs import SCHEMA, Pack, Period


def show(value: Any) -> str:
    """A parameter value as short text for the trace."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        if {"amount", "currency"} <= value.keys() and len(value) <= 3:
            basis = f" ({value['basis']})" if "basis" in value else ""
            return f"{show(value['amount'])} {value['currency']}{basis}"
        return ", ".join(f"{k}={show(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if value is None:
        return "not in force"
    return str(value)


@dataclass(slots=True)
class Rules:
    pack: Pack
    country: str
    legal_date: date
    currency: str
    periods: dict[str, Period | None]
    _trace: dict[str, TraceEntry] = field(default_factory=dict)

    @property
    def jurisdiction(self) -> str:
        return self.pack.jurisdiction(self.country)

    def value(self, name: str) -> Any:
        """The parameter's value in force, or None (not defined, or `value: null`)."""
        period = self.periods[name]
        return None if period is None else period.value

    def read(self, name: str, trace: list[TraceEntry]) -> Any:
        """The value in force, recording the read in `trace` (once per assessment)."""
        period = self.periods[name]
        if period is None:
            return None
        entry = self._trace.get(name)
        if entry is None:
            entry = TraceEntry(
                name=name,
                value=show(period.value),
                at=self.legal_date.isoformat(),
                reference=period.reference,
            )
            self._trace[name] = entry
        if entry not in trace:
            trace.append(entry)
        return period.value


def snapshot(pack: Pack, country: str, when: date) -> Rules:
    periods: dict[str, Period | None] = {}
    for name in SCHEMA:
        timeline = pack.timeline(name, country)
        periods[name] = timeline.at(when) if timeline is not None else None
    return Rules(pack, country, when, pack.countries[country], periods)
