"""Accounts legislation as dated data: the return windows and whether returns restore quotas.

`rules/*.yaml` hold one timeline per parameter, each period with `from`, optional `until`
(inclusive), `value` (null ends a rule) and an http(s) `reference`, like the revenue packs. The
quota limits are not repeated here: they are the revenue pack's `cbec` parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any

import yaml

from clearway.kernel.errors import DomainError

# parameter -> expected value kind
SCHEMA: dict[str, str] = {
    "returns.window_days": "days",
    "returns.goods_back_days": "days",
    "returns.restores_quota": "bool",
}


class LegislationError(DomainError):
    """An accounts rules file is malformed; the message names the file and the parameter."""

    problem_type = "legislation-error"
    status = 500


@dataclass(frozen=True, slots=True)
class Dated:
    start: date
    end: date | None  # inclusive
    value: Any
    reference: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Reading:
    """One value read at a date, with where it came from (for reasons and traces)."""

    name: str
    value: Any
    at: date
    reference: str


@dataclass(frozen=True)
class Legislation:
    by_country: dict[str, dict[str, tuple[Dated, ...]]]

    def read(self, country: str, name: str, when: date) -> Reading | None:
        """The value in force for `country` on `when`, or None (no rule or `value: null`)."""
        if name not in SCHEMA:
            raise LegislationError(f"unknown accounts parameter {name!r}")
        for period in self.by_country.get(country.upper(), {}).get(name, ()):
            if period.start <= when and (period.end is None or when <= period.end):
                if period.value is None:
                    return None
                return Reading(name, period.value, when, period.reference)
        return None


def _parse_value(kind: str, raw: Any, where: str) -> Any:
    if raw is None:
        return None
    if kind == "days":
        if not isinstance(raw, int) or isinstance(raw, bool) or raw <= 0:
            raise LegislationError(f"{where}: a number of days (positive integer), got {raw!r}")
        return raw
    if kind == "bool":
        if not isinstance(raw, bool):
            raise LegislationError(f"{where}: true or false, got {raw!r}")
        return raw
    raise LegislationError(f"{where}: unknown kind {kind!r}")


def parse(data: dict[str, Any], source: str) -> dict[str, dict[str, tuple[Dated, ...]]]:
    countries = data.get("countries")
    if not isinstance(countries, list) or not countries:
        raise LegislationError(f"{source}: `countries` must list the countries it covers")
    timelines: dict[str, tuple[Dated, ...]] = {}
    for name, periods in (data.get("parameters") or {}).items():
        where = f"{source}: {name}"
        if name not in SCHEMA:
            raise LegislationError(f"{where}: unknown parameter (known: {sorted(SCHEMA)})")
        out: list[Dated] = []
        for i, p in enumerate(periods):
            at = f"{where}[{i}]"
            if not isinstance(p, dict) or "from" not in p or "value" not in p:
                raise LegislationError(f"{at}: a period needs `from` and `value`")
            ref = str(p.get("reference", ""))
            if not ref.startswith(("http://", "https://")):
                raise LegislationError(f"{at}: a period needs an http(s) `reference`")
            start, end = p["from"], p.get("until")
            if not isinstance(start, date) or (end is not None and not isinstance(end, date)):
                raise LegislationError(f"{at}: `from`/`until` must be ISO dates")
            if end is not None and end < start:
                raise LegislationError(f"{at}: `until` is before `from`")
            out.append(
                Dated(start, end, _parse_value(SCHEMA[name], p["value"], at), ref, p.get("note"))
            )
        out.sort(key=lambda d: d.start)
        for a, b in pairwise(out):
            if a.end is None or a.end >= b.start:
                raise LegislationError(f"{where}: periods from {a.start} and {b.start} overlap")
        timelines[name] = tuple(out)
    return {str(c).upper(): timelines for c in countries}


@lru_cache(maxsize=1)
def default_legislation() -> Legislation:
    """The shipped `clearway/accounts/rules/*.yaml`."""
    folder = resources.files("clearway.accounts").joinpath("rules")
    merged: dict[str, dict[str, tuple[Dated, ...]]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            parsed = parse(yaml.safe_load(entry.read_text("utf-8")) or {}, entry.name)
            for country, timelines in parsed.items():
                if country in merged:
                    raise LegislationError(f"{entry.name}: country {country} defined twice")
                merged[country] = timelines
    return Legislation(merged)
