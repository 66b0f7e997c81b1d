"""Matching rules per destination, read at the legal date from `rules.yaml`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True, slots=True)
class MatchRules:
    required_legs: tuple[str, ...]
    amount_tolerance: Decimal
    name_similarity: Decimal
    wait_hours: int
    reference: str
    valid_from: date
    assess_with: tuple[str, ...] = ()
    amount_absolute: Decimal = Decimal(0)

    def amounts_agree(self, a: Decimal, b: Decimal) -> bool:
        """Within the relative tolerance of the larger amount, or the absolute one."""
        slack = max(abs(a), abs(b)) * self.amount_tolerance
        return abs(a - b) <= max(slack, self.amount_absolute)


@cache
def _table() -> dict[str, list[MatchRules]]:
    text = resources.files("clearway.matching").joinpath("rules.yaml").read_text("utf-8")
    raw: dict[str, list[dict[str, Any]]] = yaml.safe_load(text)
    out: dict[str, list[MatchRules]] = {}
    for key, periods in raw.items():
        out[key] = sorted(
            (
                MatchRules(
                    tuple(p["required_legs"]),
                    Decimal(str(p["amount_tolerance"])),
                    Decimal(str(p["name_similarity"])),
                    int(p["wait_hours"]),
                    str(p["reference"]),
                    p["from"],
                    tuple(p.get("assess_with", ())),
                    Decimal(str(p.get("amount_absolute", "0"))),
                )
                for p in periods
            ),
            key=lambda r: r.valid_from,
        )
    return out


def destinations_requiring_legs(at: date) -> list[str]:
    """Destinations whose rules in force require legs beyond the filing itself."""
    return sorted(k for k in _table() if k != "default" and rules_for(k, at).required_legs)


@lru_cache(maxsize=4096)
def rules_for(destination: str, at: date) -> MatchRules:
    """The rules in force for a destination on a date (falling back to `default`)."""
    table = _table()
    for key in (destination, "default"):
        in_force = [r for r in table.get(key, []) if r.valid_from <= at]
        if in_force:
            return in_force[-1]
    raise LookupError("matching rules.yaml has no default in force")
